package nat

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// echoFilter is the gateway's end of the link, less the ICMP echo
// requests to addresses other than the gateway's: the gateway takes every
// destination, and its stack would answer a ping to any of them itself,
// so a ping of an outside host would seem to work without ever leaving
// the sandbox. Dropped, it times out instead, as with a network that
// carries no ICMP. Pings of the gateway are answered.
type echoFilter struct {
	stack.LinkEndpoint
}

func (e echoFilter) Attach(d stack.NetworkDispatcher) {
	if d == nil {
		e.LinkEndpoint.Attach(nil)
		return
	}
	e.LinkEndpoint.Attach(echoDispatcher{d})
}

type echoDispatcher struct {
	stack.NetworkDispatcher
}

func (d echoDispatcher) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if outsideEcho(proto, pkt.Data().AsRange().Capped(header.IPv6MinimumSize+1).ToSlice()) {
		return
	}
	d.NetworkDispatcher.DeliverNetworkPacket(proto, pkt)
}

// outsideEcho reports whether head (the first bytes of an IP packet) is an
// ICMP or ICMPv6 echo request to an address that is not the gateway's.
func outsideEcho(proto tcpip.NetworkProtocolNumber, head []byte) bool {
	switch proto {
	case header.IPv4ProtocolNumber:
		if len(head) < header.IPv4MinimumSize {
			return false
		}
		ihl := int(head[0]&0xf) * 4
		if head[9] != uint8(header.ICMPv4ProtocolNumber) || len(head) <= ihl {
			return false
		}
		dst := [4]byte(head[16:20])
		return head[ihl] == uint8(header.ICMPv4Echo) && dst != Gateway4.As4()
	case header.IPv6ProtocolNumber:
		if len(head) <= header.IPv6MinimumSize {
			return false
		}
		dst := [16]byte(head[24:40])
		// An echo request right after the fixed header (extension
		// headers are not looked into).
		return head[6] == uint8(header.ICMPv6ProtocolNumber) && head[40] == uint8(header.ICMPv6EchoRequest) && dst != Gateway6.As16()
	}
	return false
}
