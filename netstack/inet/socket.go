package inet

import (
	"bytes"
	"net/netip"
	"strconv"
	"sync"
	"time"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	gwaiter "gvisor.dev/gvisor/pkg/waiter"

	"ringbox/fs/waiter"
	"ringbox/netstack"
)

// somaxconn is net.core.somaxconn: the largest listen backlog.
const somaxconn = 4096

// Socket is an AF_INET or AF_INET6 socket: a tcpip endpoint.
type Socket struct {
	st      *Stack
	family  int
	typ     int
	proto   int
	ep      tcpip.Endpoint
	wq      *gwaiter.Queue // the endpoint's queue
	bridge  gwaiter.Entry  // forwards wq's events to q
	q       waiter.Queue   // the file's waiters
	ino     uint64
	created sys.Timespec
	uid     uint32
	gid     uint32

	mu       sync.Mutex
	rcvtimeo time.Duration
	sndtimeo time.Duration
	// Options Linux keeps that the endpoint has no use for.
	priority  int
	rcvlowat  int
	oobinline bool
	// unlisten ends what the stack's listen hook did for this listener.
	unlisten func()
}

// ValidArgs checks socket(2)'s type and protocol for an internet socket
// of family fam and returns the protocol as Linux reports it
// (SO_PROTOCOL).
func ValidArgs(fam, typ, protocol int) (int, error) {
	switch typ {
	case sys.SOCK_STREAM:
		if protocol == 0 || protocol == sys.IPPROTO_TCP {
			return sys.IPPROTO_TCP, nil
		}
	case sys.SOCK_DGRAM:
		switch {
		case protocol == 0 || protocol == sys.IPPROTO_UDP:
			return sys.IPPROTO_UDP, nil
		case fam == sys.AF_INET && protocol == sys.IPPROTO_ICMP,
			fam == sys.AF_INET6 && protocol == sys.IPPROTO_ICMPV6:
			return protocol, nil
		}
	case sys.SOCK_RAW, sys.SOCK_PACKET:
		return 0, sys.EPERM
	default:
		return 0, sys.ESOCKTNOSUPPORT
	}
	return 0, sys.EPROTONOSUPPORT
}

// New makes a socket of family fam (AF_INET or AF_INET6), type typ and
// protocol proto (as ValidArgs returned it), owned by cred.
func (st *Stack) New(fam, typ, proto int, cred netstack.Cred) (*Socket, error) {
	netProto := ipv4.ProtocolNumber
	if fam == sys.AF_INET6 {
		netProto = ipv6.ProtocolNumber
	}
	var trans tcpip.TransportProtocolNumber
	switch proto {
	case sys.IPPROTO_TCP:
		trans = tcp.ProtocolNumber
	case sys.IPPROTO_UDP:
		trans = udp.ProtocolNumber
	case sys.IPPROTO_ICMP:
		trans = icmp.ProtocolNumber4
	case sys.IPPROTO_ICMPV6:
		trans = icmp.ProtocolNumber6
	default:
		return nil, sys.EPROTONOSUPPORT
	}
	wq := &gwaiter.Queue{}
	ep, err := st.s.NewEndpoint(trans, netProto, wq)
	if err != nil {
		return nil, errno(err)
	}
	return st.wrap(fam, typ, proto, ep, wq, cred.EUID, cred.EGID), nil
}

// wrap makes the Socket of an endpoint.
func (st *Stack) wrap(fam, typ, proto int, ep tcpip.Endpoint, wq *gwaiter.Queue, uid, gid uint32) *Socket {
	s := &Socket{st: st, family: fam, typ: typ, proto: proto, ep: ep, wq: wq,
		ino: netstack.NewIno(), created: sys.NsecToTimespec(time.Now().UnixNano()), uid: uid, gid: gid}
	if typ == sys.SOCK_STREAM {
		// Linux's TCP sockets wait for the full close; tcpip's default
		// linger state is fine, but keep-alive timers follow Linux's
		// defaults (7200 s idle, 75 s interval, 9 probes).
		idle := tcpip.KeepaliveIdleOption(7200 * time.Second)
		ep.SetSockOpt(&idle)
		intvl := tcpip.KeepaliveIntervalOption(75 * time.Second)
		ep.SetSockOpt(&intvl)
		ep.SetSockOptInt(tcpip.KeepaliveCountOption, 9)
	}
	s.bridge = gwaiter.NewFunctionEntry(gwaiter.AllEvents, func(m gwaiter.EventMask) {
		s.q.Notify(waiter.EventMask(m) & waiter.AllEvents)
	})
	wq.EventRegister(&s.bridge)
	st.register(s)
	return s
}

// Family implements netstack.Socket.
func (s *Socket) Family() int { return s.family }

// Type implements netstack.Socket.
func (s *Socket) Type() int { return s.typ }

// Protocol implements netstack.Socket.
func (s *Socket) Protocol() int { return s.proto }

// Ino is the socket's inode number.
func (s *Socket) Ino() uint64 { return s.ino }

// stream says whether s is a TCP socket.
func (s *Socket) stream() bool { return s.typ == sys.SOCK_STREAM }

// Bind implements netstack.Socket.
func (s *Socket) Bind(_ netstack.Context, b []byte) error {
	a, err := parseAddr(s.family, b)
	if err != nil {
		return err
	}
	if err := s.ep.Bind(a); err != nil {
		return errno(err)
	}
	if s.proto == sys.IPPROTO_UDP && a.Port != 0 {
		s.announce("udp") // a server's port, not a client's
	}
	// As Linux's, a socket bound to a specific IPv6 address (not a
	// v4-mapped one) takes IPv6 only.
	if s.family == sys.AF_INET6 && a.Addr.Len() == 16 {
		if ip := a.Addr.As16(); [12]byte(ip[:12]) != [12]byte{10: 0xff, 11: 0xff} {
			s.ep.SocketOptions().SetV6Only(true)
		}
	}
	return nil
}

// loopbackFor is the address a connect to the unspecified address goes
// to, as Linux's: the loopback address of the destination's family.
func loopbackFor(fam int) tcpip.Address {
	if fam == sys.AF_INET {
		return tcpip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return tcpip.AddrFrom16([16]byte{15: 1})
}

// Connect implements netstack.Socket. A TCP connect that has started is
// EINPROGRESS; asked again, it is EALREADY until it is done, then nil
// (once) or its error.
func (s *Socket) Connect(_ netstack.Context, b []byte) error {
	if addrFamily(b) == sys.AF_UNSPEC && len(b) >= 2 && (s.family == sys.AF_INET6 || len(b) < sockaddrInSize || !s.stream()) {
		// connect(AF_UNSPEC) dissolves a datagram socket's association.
		if s.stream() {
			return errno(s.ep.Disconnect())
		}
		_ = s.ep.Disconnect()
		return nil
	}
	a, err := parseAddr(s.family, b)
	if err != nil {
		return err
	}
	if a.Addr.Len() == 0 {
		a.Addr = loopbackFor(s.family)
	}
	return errno(s.ep.Connect(a))
}

// Listen implements netstack.Socket.
func (s *Socket) Listen(_ netstack.Context, backlog int) error {
	if !s.stream() {
		return sys.EOPNOTSUPP
	}
	if backlog < 0 || backlog > somaxconn {
		backlog = somaxconn
	}
	if err := s.ep.Listen(backlog); err != nil {
		return errno(err)
	}
	s.announce("tcp")
	return nil
}

// announce tells the stack's listen hook of a listener.
func (s *Socket) announce(network string) {
	s.st.mu.Lock()
	h := s.st.listenHook
	s.st.mu.Unlock()
	if h == nil {
		return
	}
	a, err := s.ep.GetLocalAddress()
	if err != nil {
		return
	}
	ip, _ := netip.AddrFromSlice(a.Addr.AsSlice())
	if ip.IsUnspecified() {
		ip = netip.Addr{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlisten == nil { // listen again: the backlog only
		s.unlisten = h(network, ip.Unmap(), a.Port)
	}
}

// Accept implements netstack.Socket.
func (s *Socket) Accept(netstack.Context) (netstack.Socket, []byte, error) {
	if !s.stream() {
		return nil, nil, sys.EOPNOTSUPP
	}
	var peer tcpip.FullAddress
	nep, nwq, err := s.ep.Accept(&peer)
	if err != nil {
		return nil, nil, errno(err)
	}
	ns := s.st.wrap(s.family, s.typ, s.proto, nep, nwq, s.uid, s.gid)
	return ns, formatAddr(s.family, peer), nil
}

// Shutdown implements netstack.Socket.
func (s *Socket) Shutdown(_ netstack.Context, how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case sys.SHUT_RD:
		f = tcpip.ShutdownRead
	case sys.SHUT_WR:
		f = tcpip.ShutdownWrite
	case sys.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return sys.EINVAL
	}
	return errno(s.ep.Shutdown(f))
}

// SockName implements netstack.Socket.
func (s *Socket) SockName() []byte {
	a, _ := s.ep.GetLocalAddress()
	return formatAddr(s.family, a)
}

// PeerName implements netstack.Socket.
func (s *Socket) PeerName() ([]byte, error) {
	a, err := s.ep.GetRemoteAddress()
	if err != nil {
		return nil, errno(err)
	}
	return formatAddr(s.family, a), nil
}

// SendMsg implements netstack.Socket.
func (s *Socket) SendMsg(_ netstack.Context, data []byte, to []byte, ctl *netstack.Control, flags int) (int, error) {
	if flags&sys.MSG_OOB != 0 {
		return 0, sys.EOPNOTSUPP
	}
	var opts tcpip.WriteOptions
	if to != nil && !s.stream() {
		a, err := parseAddr(s.family, to)
		if err != nil {
			return 0, err
		}
		if a.Addr.Len() == 0 {
			a.Addr = loopbackFor(s.family)
		}
		opts.To = &a
	}
	n, err := s.ep.Write(bytes.NewReader(data), opts)
	if err != nil {
		if n > 0 {
			return int(n), nil
		}
		e := errno(err)
		if e == sys.EPIPE && !s.stream() {
			return 0, netstack.ErrPipeNoSignal
		}
		return 0, e
	}
	return int(n), nil
}

// truncWriter takes a datagram: it copies what fits in buf and drops
// the rest (MSG_TRUNC).
type truncWriter struct {
	buf []byte
	n   int
}

func (w *truncWriter) Write(p []byte) (int, error) {
	w.n += copy(w.buf[w.n:], p)
	return len(p), nil
}

// RecvMsg implements netstack.Socket.
func (s *Socket) RecvMsg(_ netstack.Context, dst []byte, flags int, _ *netstack.RecvResult) (netstack.RecvResult, error) {
	if flags&sys.MSG_OOB != 0 {
		return netstack.RecvResult{}, sys.EINVAL
	}
	opts := tcpip.ReadOptions{Peek: flags&sys.MSG_PEEK != 0, NeedRemoteAddr: !s.stream()}
	if s.stream() {
		w := tcpip.SliceWriter(dst)
		r, err := s.ep.Read(&w, opts)
		if err != nil {
			if _, eof := err.(*tcpip.ErrClosedForReceive); eof {
				return netstack.RecvResult{}, nil
			}
			return netstack.RecvResult{}, errno(err)
		}
		return netstack.RecvResult{N: r.Count, Len: r.Count}, nil
	}
	w := &truncWriter{buf: dst}
	r, err := s.ep.Read(w, opts)
	if err != nil {
		if _, eof := err.(*tcpip.ErrClosedForReceive); eof {
			return netstack.RecvResult{}, nil
		}
		return netstack.RecvResult{}, errno(err)
	}
	res := netstack.RecvResult{N: w.n, Len: r.Total, From: formatAddr(s.family, r.RemoteAddr)}
	if r.Total > w.n {
		res.Flags |= sys.MSG_TRUNC
	}
	return res, nil
}

// Read implements fs.Impl (a receive that does not wait).
func (s *Socket) Read(p []byte) (int, error) {
	r, err := s.RecvMsg(nil, p, 0, nil)
	return r.N, err
}

// Write implements fs.Impl (a send that does not wait).
func (s *Socket) Write(p []byte) (int, error) {
	return s.SendMsg(nil, p, nil, nil, 0)
}

// Ioctl implements netstack.Socket: SIOCINQ (FIONREAD) and SIOCOUTQ.
func (s *Socket) Ioctl(req uint) (int, error) {
	var opt tcpip.SockOptInt
	switch req {
	case sys.SIOCINQ:
		opt = tcpip.ReceiveQueueSizeOption
	case sys.SIOCOUTQ:
		opt = tcpip.SendQueueSizeOption
	default:
		return 0, sys.ENOTTY
	}
	if s.stream() && s.ep.SocketOptions().GetAcceptConn() {
		return 0, sys.EINVAL
	}
	v, err := s.ep.GetSockOptInt(opt)
	if err != nil {
		return 0, nil
	}
	return v, nil
}

// Readiness implements fs.Waitable.
func (s *Socket) Readiness(mask waiter.EventMask) waiter.EventMask {
	return waiter.EventMask(s.ep.Readiness(gwaiter.EventMask(mask))) & mask
}

// EventRegister implements fs.Waitable.
func (s *Socket) EventRegister(e *waiter.Entry) { s.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (s *Socket) EventUnregister(e *waiter.Entry) { s.q.Unregister(e) }

// Poll implements fs.Impl.
func (s *Socket) Poll(mask int16, _ int) (int16, error) {
	return int16(s.Readiness(waiter.EventMask(uint16(mask)) | waiter.EventErr | waiter.EventHup)), nil
}

// Release implements fs.Impl: the endpoint closes (a TCP connection
// finishes in the background, as Linux's).
func (s *Socket) Release() {
	s.mu.Lock()
	unlisten := s.unlisten
	s.unlisten = nil
	s.mu.Unlock()
	if unlisten != nil {
		unlisten()
	}
	s.st.forget(s)
	s.wq.EventUnregister(&s.bridge)
	s.ep.Close()
}

// Name implements fs.Namer.
func (s *Socket) Name() string { return "socket:[" + strconv.FormatUint(s.ino, 10) + "]" }

// Stat implements fs.Impl.
func (s *Socket) Stat() (sys.Stat_t, error) {
	return netstack.Stat(s.ino, s.uid, s.gid, s.created), nil
}

// Pread implements fs.Impl: sockets are not seekable.
func (s *Socket) Pread([]byte, int64) (int, error) { return 0, sys.ESPIPE }

// Pwrite implements fs.Impl: sockets are not seekable.
func (s *Socket) Pwrite([]byte, int64) (int, error) { return 0, sys.ESPIPE }

// Seek implements fs.Impl: sockets are not seekable.
func (s *Socket) Seek(int64, int) (int64, error) { return 0, sys.ESPIPE }

// IsTerminal implements fs.Impl.
func (s *Socket) IsTerminal() bool { return false }

// Timeouts implements netstack.Socket.
func (s *Socket) Timeouts() (recv, send time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvtimeo, s.sndtimeo
}
