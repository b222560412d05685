package netlink

import (
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sys "golang.org/x/sys/unix"

	"ringbox/fs/waiter"
	"ringbox/netstack"
	"ringbox/netstack/inet"
)

// Limits.
const (
	// queueMax bounds the bytes waiting on a socket's receive queue
	// (more requests are dropped with ENOBUFS, as a full Linux socket).
	queueMax = 1 << 20
	// defaultBuf is SO_RCVBUF and SO_SNDBUF.
	defaultBuf = 212992
	// solNetlink is SOL_NETLINK.
	solNetlink = 270
	// soRcvtimeoNew and soSndtimeoNew are SO_RCVTIMEO_NEW and
	// SO_SNDTIMEO_NEW (the same struct timeval on x86-64).
	soRcvtimeoNew = 66
	soSndtimeoNew = 67
)

// Source gives the interfaces and routes a socket reports.
type Source interface {
	Interfaces() []inet.Interface
}

var nextPort atomic.Uint32

// Socket is a NETLINK_ROUTE socket.
type Socket struct {
	src     Source
	typ     int
	ino     uint64
	created sys.Timespec
	uid     uint32
	gid     uint32
	pid     int32
	q       waiter.Queue

	mu       sync.Mutex
	port     uint32
	groups   uint64 // multicast groups 1..64 (bit g-1): bind's and NETLINK_ADD_MEMBERSHIP's
	nlFlags  uint32 // the SOL_NETLINK flags set, bit by option number (NETLINK_EXT_ACK ...)
	queue    [][]byte
	queued   int
	rcvbuf   int
	sndbuf   int
	rcvtimeo time.Duration
	sndtimeo time.Duration
	shutRd   bool
}

// ValidArgs checks socket(2)'s type and protocol of a netlink socket.
func ValidArgs(typ, protocol int) error {
	if typ != sys.SOCK_RAW && typ != sys.SOCK_DGRAM {
		return sys.ESOCKTNOSUPPORT
	}
	if protocol != sys.NETLINK_ROUTE {
		return sys.EPROTONOSUPPORT
	}
	return nil
}

// New makes a NETLINK_ROUTE socket of type typ for the process cred.
func New(src Source, typ int, cred netstack.Cred) *Socket {
	return &Socket{src: src, typ: typ, ino: netstack.NewIno(),
		created: sys.NsecToTimespec(time.Now().UnixNano()), uid: cred.EUID, gid: cred.EGID, pid: cred.PID,
		rcvbuf: defaultBuf, sndbuf: defaultBuf}
}

// Family implements netstack.Socket.
func (s *Socket) Family() int { return sys.AF_NETLINK }

// Type implements netstack.Socket.
func (s *Socket) Type() int { return s.typ }

// Protocol implements netstack.Socket.
func (s *Socket) Protocol() int { return sys.NETLINK_ROUTE }

// autobindLocked gives the socket a port ID: the process's PID for its
// first socket, as Linux's, then numbers no process has.
func (s *Socket) autobindLocked() {
	if s.port != 0 {
		return
	}
	s.port = uint32(0x80000000) + nextPort.Add(1)
	if s.pid > 0 && ports.claim(uint32(s.pid)) {
		s.port = uint32(s.pid)
	}
}

// ports are the port IDs taken by PID.
var ports = portSet{m: map[uint32]bool{}}

type portSet struct {
	mu sync.Mutex
	m  map[uint32]bool
}

func (p *portSet) claim(id uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[id] {
		return false
	}
	p.m[id] = true
	return true
}

func (p *portSet) drop(id uint32) {
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}

func sockaddr(port, groups uint32) []byte {
	b := make([]byte, sys.SizeofSockaddrNetlink)
	binary.LittleEndian.PutUint16(b, sys.AF_NETLINK)
	binary.LittleEndian.PutUint32(b[4:], port)
	binary.LittleEndian.PutUint32(b[8:], groups)
	return b
}

// Bind implements netstack.Socket: port 0 picks one; multicast groups are
// kept (no notifications are ever sent).
func (s *Socket) Bind(_ netstack.Context, b []byte) error {
	if len(b) < sys.SizeofSockaddrNetlink {
		return sys.EINVAL
	}
	if binary.LittleEndian.Uint16(b) != sys.AF_NETLINK {
		return sys.EINVAL
	}
	port := binary.LittleEndian.Uint32(b[4:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = s.groups&^0xffffffff | uint64(binary.LittleEndian.Uint32(b[8:]))
	if port == 0 {
		s.autobindLocked()
		return nil
	}
	if s.port != 0 {
		if s.port == port {
			return nil
		}
		return sys.EINVAL
	}
	if !ports.claim(port) {
		return sys.EADDRINUSE
	}
	s.port = port
	return nil
}

// Connect implements netstack.Socket: only the kernel (port 0) can be
// the peer.
func (s *Socket) Connect(_ netstack.Context, b []byte) error {
	if len(b) < 2 {
		return sys.EINVAL
	}
	if binary.LittleEndian.Uint16(b) == sys.AF_UNSPEC {
		return nil
	}
	if len(b) < sys.SizeofSockaddrNetlink || binary.LittleEndian.Uint16(b) != sys.AF_NETLINK {
		return sys.EINVAL
	}
	s.mu.Lock()
	s.autobindLocked()
	s.mu.Unlock()
	return nil
}

// Listen implements netstack.Socket.
func (s *Socket) Listen(netstack.Context, int) error { return sys.EOPNOTSUPP }

// Accept implements netstack.Socket.
func (s *Socket) Accept(netstack.Context) (netstack.Socket, []byte, error) {
	return nil, nil, sys.EOPNOTSUPP
}

// Shutdown implements netstack.Socket.
func (s *Socket) Shutdown(_ netstack.Context, how int) error {
	if how < sys.SHUT_RD || how > sys.SHUT_RDWR {
		return sys.EINVAL
	}
	if how != sys.SHUT_WR {
		s.mu.Lock()
		s.shutRd = true
		s.mu.Unlock()
		s.q.Notify(waiter.ReadableEvents)
	}
	return nil
}

// SockName implements netstack.Socket.
func (s *Socket) SockName() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sockaddr(s.port, uint32(s.groups))
}

// PeerName implements netstack.Socket: the kernel.
func (s *Socket) PeerName() ([]byte, error) { return sockaddr(0, 0), nil }

// SendMsg implements netstack.Socket: the requests in data are answered
// onto the receive queue.
func (s *Socket) SendMsg(_ netstack.Context, data []byte, to []byte, _ *netstack.Control, _ int) (int, error) {
	if to != nil {
		// As Linux's netlink_sendmsg: a whole sockaddr_nl of
		// AF_NETLINK, or EINVAL.
		if len(to) < sys.SizeofSockaddrNetlink || binary.LittleEndian.Uint16(to) != sys.AF_NETLINK {
			return 0, sys.EINVAL
		}
		if binary.LittleEndian.Uint32(to[4:]) != 0 {
			return 0, sys.ECONNREFUSED // only the kernel answers
		}
	}
	s.mu.Lock()
	s.autobindLocked()
	port := s.port
	s.mu.Unlock()
	reply := answer(s.src, data, port)
	if len(reply) == 0 {
		return len(data), nil
	}
	s.mu.Lock()
	if s.queued+len(reply) > queueMax {
		s.mu.Unlock()
		return 0, sys.ENOBUFS
	}
	s.queue = append(s.queue, reply)
	s.queued += len(reply)
	s.mu.Unlock()
	s.q.Notify(waiter.ReadableEvents)
	return len(data), nil
}

// RecvMsg implements netstack.Socket: one datagram, from the kernel.
func (s *Socket) RecvMsg(_ netstack.Context, dst []byte, flags int, _ *netstack.RecvResult) (netstack.RecvResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		if s.shutRd {
			return netstack.RecvResult{From: sockaddr(0, 0)}, nil
		}
		return netstack.RecvResult{}, sys.EAGAIN
	}
	m := s.queue[0]
	n := copy(dst, m)
	res := netstack.RecvResult{N: n, Len: len(m), From: sockaddr(0, 0)}
	if n < len(m) {
		res.Flags |= sys.MSG_TRUNC
	}
	if flags&sys.MSG_PEEK == 0 {
		s.queue = s.queue[1:]
		s.queued -= len(m)
	}
	return res, nil
}

// GetSockOpt implements netstack.Socket.
func (s *Socket) GetSockOpt(_ netstack.Context, level, name int) ([]byte, error) {
	le := binary.LittleEndian
	s.mu.Lock()
	defer s.mu.Unlock()
	if level == solNetlink {
		switch name {
		case nlListMemberships:
			return le.AppendUint64(nil, s.groups), nil
		case nlPktinfo, nlBroadcastError, nlNoENOBUFS, nlCapAck, nlExtAck, nlGetStrictChk:
			return le.AppendUint32(nil, s.nlFlags>>name&1), nil
		}
		return nil, sys.ENOPROTOOPT
	}
	if level != sys.SOL_SOCKET {
		return nil, sys.ENOPROTOOPT
	}
	switch name {
	case sys.SO_TYPE:
		return le.AppendUint32(nil, uint32(s.typ)), nil
	case sys.SO_DOMAIN:
		return le.AppendUint32(nil, sys.AF_NETLINK), nil
	case sys.SO_PROTOCOL:
		return le.AppendUint32(nil, sys.NETLINK_ROUTE), nil
	case sys.SO_RCVBUF:
		return le.AppendUint32(nil, uint32(s.rcvbuf)), nil
	case sys.SO_SNDBUF:
		return le.AppendUint32(nil, uint32(s.sndbuf)), nil
	case sys.SO_ERROR, sys.SO_PASSCRED:
		return le.AppendUint32(nil, 0), nil
	case sys.SO_RCVTIMEO, soRcvtimeoNew:
		return netstack.TimevalBytes(s.rcvtimeo), nil
	case sys.SO_SNDTIMEO, soSndtimeoNew:
		return netstack.TimevalBytes(s.sndtimeo), nil
	}
	return nil, sys.ENOPROTOOPT
}

// SOL_NETLINK options (linux/netlink.h).
const (
	nlAddMembership   = 1
	nlDropMembership  = 2
	nlPktinfo         = 3
	nlBroadcastError  = 4
	nlNoENOBUFS       = 5
	nlListenAllNSID   = 8
	nlListMemberships = 9
	nlCapAck          = 10
	nlExtAck          = 11
	nlGetStrictChk    = 12
	// nlGroupsMax bounds the multicast groups a socket joins.
	nlGroupsMax = 64
)

// SetSockOpt implements netstack.Socket: buffer sizes and timeouts are
// kept; SOL_NETLINK flags (NETLINK_EXT_ACK, GET_STRICT_CHK ...) and
// memberships are kept for getsockopt and change nothing else (no
// notifications are ever sent); other names are ENOPROTOOPT, as Linux's.
func (s *Socket) SetSockOpt(_ netstack.Context, level, name int, val []byte) error {
	if level == solNetlink {
		return s.setNetlinkOpt(name, val)
	}
	if level != sys.SOL_SOCKET {
		return sys.ENOPROTOOPT
	}
	if name == sys.SO_RCVTIMEO || name == sys.SO_SNDTIMEO || name == soRcvtimeoNew || name == soSndtimeoNew {
		// The struct timeval as Linux's sock_set_timeout reads it:
		// EDOM for microseconds out of range, a negative time is
		// no waiting, a huge one no timeout.
		d, err := netstack.ParseTimeval(val)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if name == sys.SO_RCVTIMEO || name == soRcvtimeoNew {
			s.rcvtimeo = d
		} else {
			s.sndtimeo = d
		}
		s.mu.Unlock()
		return nil
	}
	if len(val) < 4 {
		return sys.EINVAL
	}
	v := int(int32(binary.LittleEndian.Uint32(val)))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case sys.SO_RCVBUF, sys.SO_RCVBUFFORCE:
		s.rcvbuf = min(max(v, 1152)*2, 2*defaultBuf*16)
	case sys.SO_SNDBUF, sys.SO_SNDBUFFORCE:
		s.sndbuf = min(max(v, 2304)*2, 2*defaultBuf*16)
	case sys.SO_PASSCRED, sys.SO_TIMESTAMP:
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

// Ioctl implements netstack.Socket.
func (s *Socket) Ioctl(req uint) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req {
	case sys.SIOCINQ:
		if len(s.queue) > 0 {
			return len(s.queue[0]), nil
		}
		return 0, nil
	case sys.SIOCOUTQ:
		return 0, nil
	}
	return 0, sys.ENOTTY
}

// Timeouts implements netstack.Socket.
func (s *Socket) Timeouts() (recv, send time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvtimeo, s.sndtimeo
}

// Readiness implements fs.Waitable.
func (s *Socket) Readiness(mask waiter.EventMask) waiter.EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := waiter.WritableEvents
	if len(s.queue) > 0 || s.shutRd {
		ev |= waiter.ReadableEvents
	}
	return ev & mask
}

// EventRegister implements fs.Waitable.
func (s *Socket) EventRegister(e *waiter.Entry) { s.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (s *Socket) EventUnregister(e *waiter.Entry) { s.q.Unregister(e) }

// Poll implements fs.Impl.
func (s *Socket) Poll(mask int16, _ int) (int16, error) {
	return int16(s.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Read implements fs.Impl.
func (s *Socket) Read(p []byte) (int, error) {
	r, err := s.RecvMsg(nil, p, 0, nil)
	return r.N, err
}

// Write implements fs.Impl.
func (s *Socket) Write(p []byte) (int, error) { return s.SendMsg(nil, p, nil, nil, 0) }

// Release implements fs.Impl.
func (s *Socket) Release() {
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	if port != 0 && port < 0x80000000 {
		ports.drop(port)
	}
}

// Name implements fs.Namer.
func (s *Socket) Name() string { return "socket:[" + strconv.FormatUint(s.ino, 10) + "]" }

// Stat implements fs.Impl.
func (s *Socket) Stat() (sys.Stat_t, error) {
	return netstack.Stat(s.ino, s.uid, s.gid, s.created), nil
}

// Pread implements fs.Impl.
func (s *Socket) Pread([]byte, int64) (int, error) { return 0, sys.ESPIPE }

// Pwrite implements fs.Impl.
func (s *Socket) Pwrite([]byte, int64) (int, error) { return 0, sys.ESPIPE }

// Seek implements fs.Impl.
func (s *Socket) Seek(int64, int) (int64, error) { return 0, sys.ESPIPE }

// IsTerminal implements fs.Impl.
func (s *Socket) IsTerminal() bool { return false }

// setNetlinkOpt sets a SOL_NETLINK option. As Linux's netlink_setsockopt,
// a value shorter than an int reads as 0.
func (s *Socket) setNetlinkOpt(name int, val []byte) error {
	var v uint32
	if len(val) >= 4 {
		v = binary.LittleEndian.Uint32(val)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case nlAddMembership, nlDropMembership:
		if v == 0 || v > nlGroupsMax {
			return sys.EINVAL
		}
		if name == nlAddMembership {
			s.groups |= 1 << (v - 1)
		} else {
			s.groups &^= 1 << (v - 1)
		}
	case nlPktinfo, nlBroadcastError, nlNoENOBUFS, nlCapAck, nlExtAck, nlGetStrictChk:
		s.nlFlags &^= 1 << name
		if v != 0 {
			s.nlFlags |= 1 << name
		}
	case nlListenAllNSID:
		// One network namespace: nothing to listen to.
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}
