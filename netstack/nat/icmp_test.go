package nat

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

func TestOutsideEcho(t *testing.T) {
	v4 := func(proto, icmpType byte, dst [4]byte) []byte {
		b := make([]byte, 21)
		b[0], b[9] = 0x45, proto
		copy(b[16:], dst[:])
		b[20] = icmpType
		return b
	}
	v6 := func(next, icmpType byte, dst [16]byte) []byte {
		b := make([]byte, 41)
		b[0], b[6] = 0x60, next
		copy(b[24:], dst[:])
		b[40] = icmpType
		return b
	}
	outside4, outside6 := [4]byte{8, 8, 8, 8}, [16]byte{0: 0x20, 1: 0x01, 15: 1}
	for _, c := range []struct {
		name  string
		proto uint16
		head  []byte
		want  bool
	}{
		{"v4 echo outside", uint16(header.IPv4ProtocolNumber), v4(1, 8, outside4), true},
		{"v4 echo to the gateway", uint16(header.IPv4ProtocolNumber), v4(1, 8, Gateway4.As4()), false},
		{"v4 echo reply", uint16(header.IPv4ProtocolNumber), v4(1, 0, outside4), false},
		{"v4 tcp", uint16(header.IPv4ProtocolNumber), v4(6, 8, outside4), false},
		{"v4 short", uint16(header.IPv4ProtocolNumber), []byte{0x45, 0, 1}, false},
		{"v6 echo outside", uint16(header.IPv6ProtocolNumber), v6(58, 128, outside6), true},
		{"v6 echo to the gateway", uint16(header.IPv6ProtocolNumber), v6(58, 128, Gateway6.As16()), false},
		{"v6 neighbour solicitation", uint16(header.IPv6ProtocolNumber), v6(58, 135, outside6), false},
		{"v6 udp", uint16(header.IPv6ProtocolNumber), v6(17, 128, outside6), false},
	} {
		if got := outsideEcho(tcpip.NetworkProtocolNumber(c.proto), c.head); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
