package netlink

import (
	"encoding/binary"

	sys "golang.org/x/sys/unix"

	"ringbox/netstack/inet"
)

// Netlink and rtnetlink numbers.
const (
	nlmsgHdrLen = 16
	nlmNoop     = 1
	nlmError    = 2
	nlmDone     = 3

	nlmFRequest = 0x1
	nlmFMulti   = 0x2
	nlmFAck     = 0x4
	nlmFDump    = 0x300

	rtmNewLink  = 16
	rtmGetLink  = 18
	rtmNewAddr  = 20
	rtmGetAddr  = 22
	rtmNewRoute = 24
	rtmGetRoute = 26

	arphrdLoopback = 772
	iffLowerUp     = 0x10000

	rtScopeHost     = 254
	rtScopeUniverse = 0
	rtTableMain     = 254
	rtTableLocal    = 255
	rtProtoKernel   = 2
	rtProtoBoot     = 3
	rtnUnicast      = 1
	rtnLocal        = 2
)

// Attributes.
const (
	iflaAddress   = 1
	iflaBroadcast = 2
	iflaIfname    = 3
	iflaMTU       = 4
	iflaTxqlen    = 13
	iflaOperstate = 16
	iflaLinkmode  = 17

	ifaAddress = 1
	ifaLocal   = 2
	ifaLabel   = 3

	rtaDst      = 1
	rtaOif      = 4
	rtaGateway  = 5
	rtaPrefsrc  = 7
	rtaTable    = 15
	rtaPriority = 6
)

func align4(n int) int { return (n + 3) &^ 3 }

// msg builds one netlink message.
type msg struct{ b []byte }

func newMsg(typ, flags uint16, seq, port uint32) *msg {
	m := &msg{b: make([]byte, nlmsgHdrLen, 128)}
	le := binary.LittleEndian
	le.PutUint16(m.b[4:], typ)
	le.PutUint16(m.b[6:], flags)
	le.PutUint32(m.b[8:], seq)
	le.PutUint32(m.b[12:], port)
	return m
}

func (m *msg) put(p []byte) {
	m.b = append(m.b, p...)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *msg) attr(typ uint16, p []byte) {
	var h [4]byte
	binary.LittleEndian.PutUint16(h[:], uint16(4+len(p)))
	binary.LittleEndian.PutUint16(h[2:], typ)
	m.b = append(m.b, h[:]...)
	m.put(p)
}

func (m *msg) attr32(typ uint16, v uint32) {
	m.attr(typ, binary.LittleEndian.AppendUint32(nil, v))
}

func (m *msg) done() []byte {
	binary.LittleEndian.PutUint32(m.b, uint32(len(m.b)))
	return m.b
}

// answer handles the requests in data and returns the replies, packed
// (nil: none).
func answer(src Source, data []byte, port uint32) []byte {
	le := binary.LittleEndian
	var out []byte
	for len(data) >= nlmsgHdrLen {
		n := int(le.Uint32(data))
		if n < nlmsgHdrLen || n > len(data) {
			break
		}
		req := data[:n]
		data = data[min(align4(n), len(data)):]
		typ, flags, seq := le.Uint16(req[4:]), le.Uint16(req[6:]), le.Uint32(req[8:])
		if flags&nlmFRequest == 0 {
			continue
		}
		body := req[nlmsgHdrLen:]
		var replies [][]byte
		var errno sys.Errno
		switch typ {
		case rtmGetLink:
			replies, errno = links(src, body, flags&nlmFDump == nlmFDump, seq, port)
		case rtmGetAddr:
			replies = addrs(src, body, seq, port)
		case rtmGetRoute:
			replies = routes(src, body, seq, port)
		case nlmNoop:
		default:
			errno = sys.EOPNOTSUPP
		}
		dump := flags&nlmFDump == nlmFDump && errno == 0
		for _, r := range replies {
			out = append(out, r...)
		}
		switch {
		case dump:
			m := newMsg(nlmDone, nlmFMulti, seq, port)
			m.put(make([]byte, 4))
			out = append(out, m.done()...)
		case errno != 0 || flags&nlmFAck != 0:
			m := newMsg(nlmError, 0, seq, port)
			m.put(le.AppendUint32(nil, uint32(-int32(errno))))
			m.put(req[:nlmsgHdrLen])
			out = append(out, m.done()...)
		}
	}
	return out
}

// links answers RTM_GETLINK: every interface (dump), or the one the
// request's ifinfomsg names by index.
func links(src Source, body []byte, dump bool, seq, port uint32) ([][]byte, sys.Errno) {
	want := int32(0)
	if !dump && len(body) >= 16 {
		want = int32(binary.LittleEndian.Uint32(body[4:]))
	}
	var out [][]byte
	for _, ifc := range src.Interfaces() {
		if want != 0 && int32(ifc.Index) != want {
			continue
		}
		flags := uint16(0)
		if dump {
			flags = nlmFMulti
		}
		m := newMsg(rtmNewLink, flags, seq, port)
		var h [16]byte
		le := binary.LittleEndian
		le.PutUint16(h[2:], arphrdLoopback)
		le.PutUint32(h[4:], uint32(ifc.Index))
		fl := ifc.Flags
		if fl&0x1 != 0 {
			fl |= iffLowerUp
		}
		le.PutUint32(h[8:], fl)
		m.put(h[:])
		m.attr(iflaIfname, append([]byte(ifc.Name), 0))
		m.attr32(iflaTxqlen, 1000)
		m.attr(iflaOperstate, []byte{0}) // IF_OPER_UNKNOWN, as lo's
		m.attr(iflaLinkmode, []byte{0})
		m.attr32(iflaMTU, ifc.MTU)
		m.attr(iflaAddress, make([]byte, 6))
		m.attr(iflaBroadcast, make([]byte, 6))
		out = append(out, m.done())
	}
	if !dump && len(out) == 0 {
		return nil, sys.ENODEV
	}
	return out, 0
}

// addrs answers RTM_GETADDR: every address, of the family the request
// asks for (AF_UNSPEC: all).
func addrs(src Source, body []byte, seq, port uint32) [][]byte {
	fam := byte(0)
	if len(body) >= 1 {
		fam = body[0]
	}
	var out [][]byte
	for _, ifc := range src.Interfaces() {
		for _, p := range ifc.Addrs {
			af := byte(sys.AF_INET)
			if len(p.Addr) == 16 {
				af = sys.AF_INET6
			}
			if fam != 0 && fam != af {
				continue
			}
			m := newMsg(rtmNewAddr, nlmFMulti, seq, port)
			var h [8]byte
			h[0], h[1], h[2], h[3] = af, byte(p.Len), 0x80, rtScopeHost // IFA_F_PERMANENT
			binary.LittleEndian.PutUint32(h[4:], uint32(ifc.Index))
			m.put(h[:])
			m.attr(ifaAddress, p.Addr)
			if af == sys.AF_INET {
				m.attr(ifaLocal, p.Addr)
				m.attr(ifaLabel, append([]byte(ifc.Name), 0))
			}
			out = append(out, m.done())
		}
	}
	return out
}

// routes answers RTM_GETROUTE: each address's subnet route on its
// interface (the main table), and the address itself (the local table).
func routes(src Source, body []byte, seq, port uint32) [][]byte {
	fam := byte(0)
	if len(body) >= 1 {
		fam = body[0]
	}
	var out [][]byte
	for _, ifc := range src.Interfaces() {
		for _, p := range ifc.Addrs {
			af := byte(sys.AF_INET)
			if len(p.Addr) == 16 {
				af = sys.AF_INET6
			}
			if fam != 0 && fam != af {
				continue
			}
			out = append(out, route(af, subnet(p), p.Len, rtTableMain, rtnUnicast, ifc, p.Addr, seq, port))
			out = append(out, route(af, p.Addr, len(p.Addr)*8, rtTableLocal, rtnLocal, ifc, p.Addr, seq, port))
		}
		for _, gw := range ifc.Gateways {
			af := byte(sys.AF_INET)
			if len(gw) == 16 {
				af = sys.AF_INET6
			}
			if fam != 0 && fam != af {
				continue
			}
			out = append(out, defaultRoute(af, gw, ifc, seq, port))
		}
	}
	return out
}

// defaultRoute is "default via gw dev ifc" in the main table.
func defaultRoute(af byte, gw []byte, ifc inet.Interface, seq, port uint32) []byte {
	m := newMsg(rtmNewRoute, nlmFMulti, seq, port)
	h := [12]byte{af, 0, 0, 0, rtTableMain, rtProtoBoot, rtScopeUniverse, rtnUnicast}
	m.put(h[:])
	m.attr32(rtaTable, rtTableMain)
	m.attr(rtaGateway, gw)
	m.attr32(rtaOif, uint32(ifc.Index))
	return m.done()
}

func subnet(p inet.Prefix) []byte {
	s := append([]byte(nil), p.Addr...)
	for i := range s {
		bits := p.Len - 8*i
		switch {
		case bits <= 0:
			s[i] = 0
		case bits < 8:
			s[i] &= byte(0xff << (8 - bits))
		}
	}
	return s
}

func route(af byte, dst []byte, dstLen int, table, typ byte, ifc inet.Interface, srcAddr []byte, seq, port uint32) []byte {
	m := newMsg(rtmNewRoute, nlmFMulti, seq, port)
	scope := byte(rtScopeHost)
	if typ == rtnUnicast && af == sys.AF_INET6 {
		scope = rtScopeUniverse
	}
	h := [12]byte{af, byte(dstLen), 0, 0, table, rtProtoKernel, scope, typ}
	m.put(h[:])
	m.attr32(rtaTable, uint32(table))
	m.attr(rtaDst, dst)
	if af == sys.AF_INET {
		m.attr(rtaPrefsrc, srcAddr)
	} else {
		m.attr32(rtaPriority, 256)
	}
	m.attr32(rtaOif, uint32(ifc.Index))
	return m.done()
}
