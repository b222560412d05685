package inet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
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

	mu    sync.Mutex
	socks map[*Socket]struct{} // live sockets, for /proc/net
	// listenHook hears of listeners eth0 reaches (SetListenHook).
	listenHook ListenHook
}

// ListenHook hears of a socket of the program that starts serving: a TCP
// socket that listens (network "tcp"), a UDP socket bound to a port it
// named ("udp"). addr is the address it is bound to (invalid: the
// unspecified address), port its port. The function it returns, if any,
// is called once the socket is closed.
type ListenHook func(network string, addr netip.Addr, port uint16) (closed func())

// SetListenHook sets the hook for the listeners made from now on. The OCI
// runtime uses it to mirror them in the container's network namespace.
func (st *Stack) SetListenHook(h ListenHook) {
	st.mu.Lock()
	st.listenHook = h
	st.mu.Unlock()
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

// EthNIC is the interface index of eth0 (--net=sandbox).
const EthNIC tcpip.NICID = 2

// Eth is eth0's configuration: its link (the NAT's end), its addresses
// and the gateway's.
type Eth struct {
	Link               stack.LinkEndpoint
	Addr4, Addr6       netip.Prefix
	Gateway4, Gateway6 netip.Addr
}

// NewSandbox makes the stack of --net=sandbox: lo as NewLoopback's, and
// eth0 on e.Link with e's addresses, its subnets on eth0 and the default
// routes through the gateways.
func NewSandbox(e Eth) (*Stack, error) {
	st, err := NewLoopback()
	if err != nil {
		return nil, err
	}
	s := st.s
	if err := s.CreateNICWithOptions(EthNIC, e.Link, stack.NICOptions{Name: "eth0"}); err != nil {
		st.Close()
		return nil, fmt.Errorf("netstack: create eth0: %s", err)
	}
	routes := s.GetRouteTable()
	for _, a := range []struct {
		p   netip.Prefix
		gw  netip.Addr
		num tcpip.NetworkProtocolNumber
	}{{e.Addr4, e.Gateway4, ipv4.ProtocolNumber}, {e.Addr6, e.Gateway6, ipv6.ProtocolNumber}} {
		if !a.p.IsValid() {
			continue
		}
		pa := tcpip.ProtocolAddress{Protocol: a.num, AddressWithPrefix: tcpip.AddressWithPrefix{
			Address: tcpip.AddrFromSlice(a.p.Addr().AsSlice()), PrefixLen: a.p.Bits()}}
		if err := s.AddProtocolAddress(EthNIC, pa, stack.AddressProperties{}); err != nil {
			st.Close()
			return nil, fmt.Errorf("netstack: add %s to eth0: %s", a.p, err)
		}
		any := tcpip.AddrFromSlice(make([]byte, a.p.Addr().BitLen()/8))
		def, _ := tcpip.NewSubnet(any, tcpip.MaskFromBytes(make([]byte, a.p.Addr().BitLen()/8)))
		routes = append(routes,
			tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: EthNIC},
			tcpip.Route{Destination: def, Gateway: tcpip.AddrFromSlice(a.gw.AsSlice()), NIC: EthNIC})
	}
	s.SetRouteTable(routes)
	return st, nil
}

// Dial connects from inside the stack to dst: how a published port
// reaches the program with --net=none (dst on 127.0.0.1), and tests.
func (st *Stack) Dial(ctx context.Context, network string, dst netip.AddrPort) (net.Conn, error) {
	a := dst.Addr().Unmap()
	addr := tcpip.FullAddress{Addr: tcpip.AddrFromSlice(a.AsSlice()), Port: dst.Port()}
	proto := ipv4.ProtocolNumber
	if a.Is6() {
		proto = ipv6.ProtocolNumber
	}
	if network == "udp" {
		return gonet.DialUDP(st.s, nil, &addr, proto)
	}
	return gonet.DialContextTCP(ctx, st.s, addr, proto)
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
	// Gateways are the default routes' next hops through the interface.
	Gateways [][]byte
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
		} else {
			ifc.Flags |= 0x2 | 0x1000 // IFF_BROADCAST, IFF_MULTICAST
		}
		if ifc.MTU == 0 {
			ifc.MTU = loopbackMTU
		}
		for _, a := range info.ProtocolAddresses {
			ifc.Addrs = append(ifc.Addrs, Prefix{Addr: append([]byte(nil), a.AddressWithPrefix.Address.AsSlice()...), Len: a.AddressWithPrefix.PrefixLen})
		}
		for _, r := range st.s.GetRouteTable() {
			if r.NIC == id && r.Gateway.Len() > 0 && r.Destination.Prefix() == 0 {
				ifc.Gateways = append(ifc.Gateways, append([]byte(nil), r.Gateway.AsSlice()...))
			}
		}
		out = append(out, ifc)
	}
	slices.SortFunc(out, func(a, b Interface) int { return a.Index - b.Index })
	return out
}

// Listen listens, inside the stack, on port of every IPv4 address (tests,
// and servers ringbox itself runs in the sandbox's network).
func (st *Stack) Listen(network string, port uint16) (net.Listener, error) {
	if network != "tcp" {
		return nil, fmt.Errorf("netstack: listen on %s: only tcp", network)
	}
	return gonet.ListenTCP(st.s, tcpip.FullAddress{Port: port}, ipv4.ProtocolNumber)
}
