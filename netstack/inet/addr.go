package inet

import (
	"encoding/binary"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Sizes of the socket addresses.
const (
	sockaddrInSize  = 16 // struct sockaddr_in
	sockaddrIn6Size = 28 // struct sockaddr_in6
	// sin6LenRFC2133 is the shortest sockaddr_in6 Linux takes (no
	// sin6_scope_id).
	sin6LenRFC2133 = 24
)

// addrFamily is the sa_family of b (-1 when b is too short to have one).
func addrFamily(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	return int(binary.LittleEndian.Uint16(b))
}

// parseAddr reads a struct sockaddr for a socket of family fam. An all-zero
// address is the empty (any) address, as tcpip wants it. v4 is true for a
// sockaddr_in (AF_INET; Linux's AF_INET sockets also take AF_UNSPEC with
// INADDR_ANY for bind).
func parseAddr(fam int, b []byte) (tcpip.FullAddress, error) {
	switch fam {
	case sys.AF_INET:
		if len(b) < sockaddrInSize {
			return tcpip.FullAddress{}, sys.EINVAL
		}
		f := addrFamily(b)
		if f != sys.AF_INET && f != sys.AF_UNSPEC {
			return tcpip.FullAddress{}, sys.EAFNOSUPPORT
		}
		a := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if ip := [4]byte(b[4:8]); ip != [4]byte{} {
			a.Addr = tcpip.AddrFrom4(ip)
		}
		if f == sys.AF_UNSPEC && a.Addr.Len() != 0 {
			return tcpip.FullAddress{}, sys.EAFNOSUPPORT
		}
		return a, nil
	case sys.AF_INET6:
		if len(b) < sin6LenRFC2133 {
			return tcpip.FullAddress{}, sys.EINVAL
		}
		if addrFamily(b) != sys.AF_INET6 {
			return tcpip.FullAddress{}, sys.EAFNOSUPPORT
		}
		a := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if ip := [16]byte(b[8:24]); ip != [16]byte{} {
			a.Addr = tcpip.AddrFrom16(ip)
			if ip[0] == 0xfe && ip[1]&0xc0 == 0x80 && len(b) >= sockaddrIn6Size {
				a.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[24:]))
			}
		}
		return a, nil
	}
	return tcpip.FullAddress{}, sys.EAFNOSUPPORT
}

// formatAddr makes the struct sockaddr of a for a socket of family fam:
// an IPv4 address of an AF_INET6 socket is v4-mapped (::ffff:a.b.c.d).
func formatAddr(fam int, a tcpip.FullAddress) []byte {
	if fam == sys.AF_INET {
		b := make([]byte, sockaddrInSize)
		binary.LittleEndian.PutUint16(b, sys.AF_INET)
		binary.BigEndian.PutUint16(b[2:], a.Port)
		if a.Addr.Len() == 4 {
			ip := a.Addr.As4()
			copy(b[4:], ip[:])
		} else if a.Addr.Len() == 16 {
			ip := a.Addr.As16()
			copy(b[4:], ip[12:])
		}
		return b
	}
	b := make([]byte, sockaddrIn6Size)
	binary.LittleEndian.PutUint16(b, sys.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], a.Port)
	switch a.Addr.Len() {
	case 4:
		ip := a.Addr.As4()
		b[18], b[19] = 0xff, 0xff
		copy(b[20:], ip[:])
	case 16:
		ip := a.Addr.As16()
		copy(b[8:], ip[:])
		if ip[0] == 0xfe && ip[1]&0xc0 == 0x80 {
			binary.LittleEndian.PutUint32(b[24:], uint32(a.NIC))
		}
	}
	return b
}
