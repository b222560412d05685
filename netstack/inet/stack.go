package inet

import (
	"fmt"
	"slices"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// LoopbackNIC is the interface index of lo.
const LoopbackNIC tcpip.NICID = 1

// loopbackMTU is lo's MTU, as Linux's.
const loopbackMTU = 65536

// Stack is one sandbox's network stack.
type Stack struct {
	s *stack.Stack
}

// NewLoopback makes the stack of --net=none: lo with 127.0.0.1/8 and
// ::1/128, routes for both, and no other interface.
func NewLoopback() (*Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	// SACK as Linux has it on by default.
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	if err := s.CreateNICWithOptions(LoopbackNIC, loopback.New(), stack.NICOptions{Name: "lo"}); err != nil {
		return nil, fmt.Errorf("netstack: create lo: %s", err)
	}
	v4 := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8}}
	v6 := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16([16]byte{15: 1}), PrefixLen: 128}}
	for _, a := range []tcpip.ProtocolAddress{v4, v6} {
		if err := s.AddProtocolAddress(LoopbackNIC, a, stack.AddressProperties{}); err != nil {
			return nil, fmt.Errorf("netstack: add %s to lo: %s", a.AddressWithPrefix, err)
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: v4.AddressWithPrefix.Subnet(), NIC: LoopbackNIC},
		{Destination: v6.AddressWithPrefix.Subnet(), NIC: LoopbackNIC},
	})
	return &Stack{s: s}, nil
}

// Close stops the stack's endpoints and goroutines.
func (st *Stack) Close() { st.s.Close() }

// Interface is what SIOCGIF* ioctls and netlink tell of an interface.
type Interface struct {
	Index int
	Name  string
	Flags uint32 // IFF_*
	MTU   uint32
	// Addrs are the interface's addresses (4 or 16 bytes) with their
	// prefix lengths.
	Addrs []Prefix
}

// Prefix is an address with its prefix length.
type Prefix struct {
	Addr []byte
	Len  int
}

// Interfaces lists the stack's interfaces by index.
func (st *Stack) Interfaces() []Interface {
	var out []Interface
	for id, info := range st.s.NICInfo() {
		ifc := Interface{Index: int(id), Name: info.Name, MTU: info.MTU}
		if info.Flags.Up {
			ifc.Flags |= 0x1 | 0x40 // IFF_UP, IFF_RUNNING
		}
		if info.Flags.Loopback {
			ifc.Flags |= 0x8 // IFF_LOOPBACK
		}
		if ifc.MTU == 0 {
			ifc.MTU = loopbackMTU
		}
		for _, a := range info.ProtocolAddresses {
			ifc.Addrs = append(ifc.Addrs, Prefix{Addr: append([]byte(nil), a.AddressWithPrefix.Address.AsSlice()...), Len: a.AddressWithPrefix.PrefixLen})
		}
		out = append(out, ifc)
	}
	slices.SortFunc(out, func(a, b Interface) int { return a.Index - b.Index })
	return out
}
