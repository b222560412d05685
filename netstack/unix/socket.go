package unix

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sys "golang.org/x/sys/unix"

	"ringbox/fs/waiter"
	"ringbox/netstack"
)

// state is where a socket is in its life.
type state int

const (
	stateUnconnected state = iota
	stateListening
	stateConnected
	stateClosed // released
)

// Shutdown bits (Linux's RCV_SHUTDOWN and SEND_SHUTDOWN).
const (
	shutRcv  = 1
	shutSend = 2
	shutBoth = shutRcv | shutSend
)

// Buffer sizes, as Linux's defaults (net.core.wmem_default, wmem_max,
// rmem_default, rmem_max) and minimums.
const (
	DefaultBuf = 212992
	MaxBuf     = 212992
	minSndBuf  = 4608
	minRcvBuf  = 2304
	// maxForcedBuf bounds SO_SNDBUFFORCE and SO_RCVBUFFORCE.
	maxForcedBuf = 8 << 20
)

// Socket is an AF_UNIX socket: the fs.Impl of its open file and a
// netstack.Socket.
type Socket struct {
	ns      *Namespace
	typ     int
	ino     uint64
	created sys.Timespec
	owner   netstack.Cred // whoever made the socket (read and write without a caller)

	q        waiter.Queue // the file's waiters
	peerWait waiter.Queue // senders waiting for room here, connects for the backlog

	addr    atomic.Pointer[address] // set once, by bind or autobind
	pathKey netstack.NodeKey        // under ns.mu: the node a path name is bound to
	wmem    atomic.Int64            // charge of sent messages not yet read

	mu         sync.Mutex
	state      state
	peer       *Socket
	shut       int
	err        sys.Errno // pending error (SO_ERROR)
	queue      msgQueue
	backlog    []*Socket // listener: connections not yet accepted
	maxBacklog int
	uid, gid   uint32 // the file's owner
	peerCred   netstack.UCred
	passcred   bool
	sndbuf     int
	rcvbuf     int
	rcvtimeo   time.Duration
	sndtimeo   time.Duration
	linger     sys.Linger
	opts       map[int]int32 // the other SOL_SOCKET integer options
	peerWake   *waiter.Entry // datagram: on peer.peerWait, wakes q
	released   bool
}

var _ netstack.Socket = (*Socket)(nil)

// ValidType reports whether typ is a type AF_UNIX has, after Linux's
// mapping of SOCK_RAW to SOCK_DGRAM; ESOCKTNOSUPPORT otherwise.
func ValidType(typ int) (int, error) {
	switch typ {
	case sys.SOCK_STREAM, sys.SOCK_DGRAM, sys.SOCK_SEQPACKET:
		return typ, nil
	case sys.SOCK_RAW:
		return sys.SOCK_DGRAM, nil
	}
	return 0, sys.ESOCKTNOSUPPORT
}

// New makes an unnamed, unconnected socket of type typ (a type that
// ValidType accepted) for the process cred.
func New(ns *Namespace, typ int, cred netstack.Cred) *Socket {
	s := &Socket{ns: ns, typ: typ, ino: netstack.NewIno(), owner: cred,
		created: sys.NsecToTimespec(time.Now().UnixNano()),
		uid:     cred.EUID, gid: cred.EGID, sndbuf: DefaultBuf, rcvbuf: DefaultBuf,
		peerCred: netstack.NoUCred}
	ns.mu.Lock()
	ns.sockets[s] = struct{}{}
	ns.mu.Unlock()
	return s
}

// Pair makes two sockets connected to each other (socketpair).
func Pair(ns *Namespace, typ int, cred netstack.Cred) (*Socket, *Socket) {
	a, b := New(ns, typ, cred), New(ns, typ, cred)
	uc := ucredOf(cred)
	a.state, a.peer, a.peerCred = stateConnected, b, uc
	b.state, b.peer, b.peerCred = stateConnected, a, uc
	if typ == sys.SOCK_DGRAM {
		a.watchPeerLocked(b)
		b.watchPeerLocked(a)
	}
	return a, b
}

// ucredOf is the struct ucred SO_PEERCRED reports for a process: its
// effective IDs.
func ucredOf(c netstack.Cred) netstack.UCred {
	return netstack.UCred{PID: c.PID, UID: c.EUID, GID: c.EGID}
}

// Family implements netstack.Socket.
func (s *Socket) Family() int { return sys.AF_UNIX }

// Type implements netstack.Socket.
func (s *Socket) Type() int { return s.typ }

// Protocol implements netstack.Socket.
func (s *Socket) Protocol() int { return 0 }

// Ino returns the socket's inode number ("socket:[N]").
func (s *Socket) Ino() uint64 { return s.ino }

// connOriented reports whether the socket has connections (stream,
// seqpacket).
func (s *Socket) connOriented() bool { return s.typ != sys.SOCK_DGRAM }

// watchPeerLocked registers the entry that wakes s's writers when p's
// receive queue has room (datagrams). s.mu is held (or s is new).
func (s *Socket) watchPeerLocked(p *Socket) {
	e := waiter.NewEntry(waiter.AllEvents, func(waiter.EventMask) { s.q.Notify(waiter.WritableEvents) })
	s.peerWake = e
	p.peerWait.Register(e)
}

// Bind implements netstack.Socket.
func (s *Socket) Bind(ctx netstack.Context, b []byte) error {
	a, err := parseAddr(b)
	if err != nil {
		return err
	}
	ns := s.ns
	if a == nil {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		if s.addr.Load() != nil {
			return nil // as Linux: already named
		}
		return ns.autobindLocked(s)
	}
	if a.abstract {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		if s.addr.Load() != nil {
			return sys.EINVAL
		}
		if _, taken := ns.abstract[a.name()]; taken {
			return sys.EADDRINUSE
		}
		ns.abstract[a.name()] = s
		s.addr.Store(a)
		return nil
	}
	key, undo, err := ctx.BindPath(a.path)
	if err != nil {
		return err
	}
	ns.mu.Lock()
	if s.addr.Load() != nil {
		ns.mu.Unlock()
		undo()
		return sys.EINVAL
	}
	ns.paths[key] = s
	s.pathKey = key
	s.addr.Store(a)
	ns.mu.Unlock()
	return nil
}

// autobindIfPasscred names s when it has SO_PASSCRED and no name (what
// Linux does before connect and unconnected sends).
func (s *Socket) autobindIfPasscred() error {
	s.mu.Lock()
	pass := s.passcred
	s.mu.Unlock()
	if !pass || s.addr.Load() != nil {
		return nil
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.addr.Load() != nil {
		return nil
	}
	return s.ns.autobindLocked(s)
}

// Listen implements netstack.Socket.
func (s *Socket) Listen(ctx netstack.Context, backlog int) error {
	if !s.connOriented() {
		return sys.EOPNOTSUPP
	}
	if uint(backlog) > Somaxconn {
		backlog = Somaxconn
	}
	if s.addr.Load() == nil {
		return sys.EINVAL
	}
	s.ns.mu.Lock()
	s.mu.Lock()
	if s.state != stateUnconnected && s.state != stateListening {
		s.mu.Unlock()
		s.ns.mu.Unlock()
		return sys.EINVAL
	}
	grew := backlog > s.maxBacklog
	s.maxBacklog = backlog
	s.state = stateListening
	s.peerCred = ucredOf(ctx.Cred())
	s.mu.Unlock()
	s.ns.mu.Unlock()
	if grew {
		s.peerWait.Notify(waiter.WritableEvents)
	}
	return nil
}

// connectable reports whether a connect to listener l can go on (room in
// its backlog) or must find out why not.
func (l *Socket) connectable() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state != stateListening || l.shut&shutRcv != 0 || len(l.backlog) <= l.maxBacklog
}

// Connect implements netstack.Socket.
func (s *Socket) Connect(ctx netstack.Context, b []byte) error {
	if s.typ == sys.SOCK_DGRAM {
		return s.connectDgram(ctx, b)
	}
	a, err := parseAddr(b)
	if err != nil {
		return err
	}
	if a == nil {
		return sys.EINVAL
	}
	if err := s.autobindIfPasscred(); err != nil {
		return err
	}
	l, err := s.ns.find(ctx, a)
	if err != nil {
		return err
	}
	if l.typ != s.typ {
		return sys.EPROTOTYPE
	}
	ns := s.ns
	ns.mu.Lock()
	l.mu.Lock()
	switch {
	case l.state != stateListening || l.shut&shutRcv != 0:
		l.mu.Unlock()
		ns.mu.Unlock()
		return sys.ECONNREFUSED
	case len(l.backlog) > l.maxBacklog:
		l.mu.Unlock()
		ns.mu.Unlock()
		return &netstack.Blocked{Queue: &l.peerWait, Mask: waiter.WritableEvents, Ready: l.connectable}
	}
	l.mu.Unlock()
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	switch st {
	case stateConnected:
		ns.mu.Unlock()
		return sys.EISCONN
	case stateUnconnected:
	default:
		ns.mu.Unlock()
		return sys.EINVAL
	}
	// The server's end, queued on the listener until accepted.
	cred := ctx.Cred()
	e := &Socket{ns: ns, typ: s.typ, ino: netstack.NewIno(), owner: cred,
		created: sys.NsecToTimespec(time.Now().UnixNano()), sndbuf: DefaultBuf, rcvbuf: DefaultBuf,
		state: stateConnected, peer: s, peerCred: ucredOf(cred)}
	ns.sockets[e] = struct{}{}
	l.mu.Lock()
	e.addr.Store(l.addr.Load())
	e.passcred = l.passcred
	e.uid, e.gid = l.uid, l.gid
	lcred := l.peerCred
	l.backlog = append(l.backlog, e)
	l.mu.Unlock()
	s.mu.Lock()
	s.state, s.peer, s.peerCred = stateConnected, e, lcred
	s.mu.Unlock()
	ns.mu.Unlock()
	l.q.Notify(waiter.ReadableEvents)
	s.q.Notify(waiter.AllEvents)
	return nil
}

// connectDgram sets or clears (AF_UNSPEC) a datagram socket's peer.
func (s *Socket) connectDgram(ctx netstack.Context, b []byte) error {
	var target *Socket
	if len(b) >= pathOffset && b[0] == sys.AF_UNSPEC && b[1] == 0 {
		// Disconnect.
	} else {
		a, err := parseAddr(b)
		if err != nil {
			return err
		}
		if a == nil {
			return sys.EINVAL
		}
		if err := s.autobindIfPasscred(); err != nil {
			return err
		}
		if target, err = s.ns.find(ctx, a); err != nil {
			return err
		}
		if target.typ != s.typ {
			return sys.EPROTOTYPE
		}
	}
	ns := s.ns
	ns.mu.Lock()
	if target != nil {
		target.mu.Lock()
		other := target.peer
		dead := target.released
		target.mu.Unlock()
		if dead {
			ns.mu.Unlock()
			return sys.ECONNREFUSED
		}
		if other != nil && other != s {
			ns.mu.Unlock()
			return sys.EPERM
		}
	}
	s.mu.Lock()
	old, oldWake := s.peer, s.peerWake
	s.peer, s.peerWake = nil, nil
	var dropped []*message
	if old != nil && old != target {
		// Linux drops what was queued when a datagram socket leaves its
		// peer.
		dropped = s.queue.drain()
	}
	if target != nil {
		s.peer = target
		s.state = stateConnected
		s.watchPeerLocked(target)
	} else {
		s.state = stateUnconnected
	}
	s.mu.Unlock()
	var reset *Socket
	if len(dropped) > 0 {
		old.mu.Lock()
		if old.peer == s && !old.released {
			old.err = sys.ECONNRESET
			reset = old
		}
		old.mu.Unlock()
	}
	ns.mu.Unlock()
	if old != nil && oldWake != nil {
		old.peerWait.Unregister(oldWake)
	}
	ns.drop(dropped)
	if reset != nil {
		reset.q.Notify(waiter.EventErr)
	}
	s.q.Notify(waiter.AllEvents)
	return nil
}

// Accept implements netstack.Socket.
func (s *Socket) Accept(ctx netstack.Context) (netstack.Socket, []byte, error) {
	if !s.connOriented() {
		return nil, nil, sys.EOPNOTSUPP
	}
	s.ns.mu.Lock()
	s.mu.Lock()
	if s.state != stateListening {
		s.mu.Unlock()
		s.ns.mu.Unlock()
		return nil, nil, sys.EINVAL
	}
	if len(s.backlog) == 0 {
		s.mu.Unlock()
		s.ns.mu.Unlock()
		return nil, nil, sys.EAGAIN
	}
	e := s.backlog[0]
	n := copy(s.backlog, s.backlog[1:])
	s.backlog[n] = nil
	s.backlog = s.backlog[:n]
	s.mu.Unlock()
	cred := ctx.Cred()
	e.mu.Lock()
	e.uid, e.gid = cred.EUID, cred.EGID
	peer := e.peer
	e.mu.Unlock()
	s.ns.mu.Unlock()
	s.peerWait.Notify(waiter.WritableEvents)
	var pa []byte
	if a := peer.addr.Load(); a != nil {
		pa = a.raw
	} else {
		pa = familyOnly()
	}
	return e, pa, nil
}

// Shutdown implements netstack.Socket.
func (s *Socket) Shutdown(ctx netstack.Context, how int) error {
	if how < sys.SHUT_RD || how > sys.SHUT_RDWR {
		return sys.EINVAL
	}
	mode := how + 1 // SHUT_RD -> shutRcv, SHUT_WR -> shutSend
	s.ns.mu.Lock()
	s.mu.Lock()
	s.shut |= mode
	peer := s.peer
	s.mu.Unlock()
	if peer != nil && s.connOriented() {
		pm := 0
		if mode&shutRcv != 0 {
			pm |= shutSend
		}
		if mode&shutSend != 0 {
			pm |= shutRcv
		}
		peer.mu.Lock()
		peer.shut |= pm
		peer.mu.Unlock()
	} else {
		peer = nil
	}
	s.ns.mu.Unlock()
	s.q.Notify(waiter.AllEvents)
	s.peerWait.Notify(waiter.AllEvents)
	if peer != nil {
		peer.q.Notify(waiter.AllEvents)
		peer.peerWait.Notify(waiter.AllEvents)
	}
	return nil
}

// SockName implements netstack.Socket.
func (s *Socket) SockName() []byte {
	if a := s.addr.Load(); a != nil {
		return a.raw
	}
	return familyOnly()
}

// PeerName implements netstack.Socket.
func (s *Socket) PeerName() ([]byte, error) {
	s.mu.Lock()
	p := s.peer
	s.mu.Unlock()
	if p == nil {
		return nil, sys.ENOTCONN
	}
	return p.SockName(), nil
}

// Release implements fs.Impl: the socket's file is closed.
func (s *Socket) Release() { s.release(false) }

// release ends the socket: its name goes, its peer sees the end (reset
// when data was left unread or it was never accepted: embryo), the
// connections it never accepted are reset, and its queued messages are
// dropped.
func (s *Socket) release(embryo bool) {
	ns := s.ns
	ns.mu.Lock()
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		ns.mu.Unlock()
		return
	}
	s.released = true
	s.state = stateClosed
	peer, wake := s.peer, s.peerWake
	s.peerWake = nil
	backlog := s.backlog
	s.backlog = nil
	msgs := s.queue.drain()
	s.mu.Unlock()
	ns.unbindLocked(s)
	delete(ns.sockets, s)
	if peer != nil && s.connOriented() {
		peer.mu.Lock()
		peer.shut = shutBoth
		if len(msgs) > 0 || embryo {
			peer.err = sys.ECONNRESET
		}
		peer.mu.Unlock()
	}
	ns.mu.Unlock()
	if peer != nil && wake != nil {
		peer.peerWait.Unregister(wake)
	}
	for _, e := range backlog {
		e.release(true)
	}
	ns.drop(msgs)
	s.q.Notify(waiter.AllEvents)
	s.peerWait.Notify(waiter.AllEvents)
	if peer != nil {
		peer.q.Notify(waiter.AllEvents)
		peer.peerWait.Notify(waiter.AllEvents)
	}
}

// recvqFullFor reports whether a datagram from s to r must wait: r holds
// more than MaxDgramQlen messages and is not connected to s.
func (r *Socket) recvqFullFor(s *Socket) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.released && r.peer != s && r.queue.len() > MaxDgramQlen
}

// Readiness implements fs.Waitable, with Linux's events for AF_UNIX.
func (s *Socket) Readiness(mask waiter.EventMask) waiter.EventMask {
	s.mu.Lock()
	var m waiter.EventMask
	if s.err != 0 {
		m |= waiter.EventErr
	}
	if s.shut == shutBoth {
		m |= waiter.EventHup
	}
	if s.shut&shutRcv != 0 {
		m |= waiter.EventRdHup | waiter.ReadableEvents
	}
	if s.queue.len() > 0 || len(s.backlog) > 0 {
		m |= waiter.ReadableEvents
	}
	if s.connOriented() && (s.state == stateUnconnected || s.state == stateClosed) {
		m |= waiter.EventHup
	}
	writable := s.state != stateListening && s.wmem.Load()*4 <= int64(s.sndbuf)
	peer := s.peer
	s.mu.Unlock()
	if writable && s.typ == sys.SOCK_DGRAM && peer != nil && peer.recvqFullFor(s) {
		writable = false
	}
	if writable {
		m |= waiter.WritableEvents | waiter.EventWrBand
	}
	return m & (mask | waiter.EventErr | waiter.EventHup)
}

// EventRegister implements fs.Waitable.
func (s *Socket) EventRegister(e *waiter.Entry) { s.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (s *Socket) EventUnregister(e *waiter.Entry) { s.q.Unregister(e) }

// Poll implements fs.Impl without waiting (waiters use the queue).
func (s *Socket) Poll(mask int16, _ int) (int16, error) {
	return int16(s.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Name implements fs.Namer.
func (s *Socket) Name() string { return "socket:[" + strconv.FormatUint(s.ino, 10) + "]" }

// Stat implements fs.Impl.
func (s *Socket) Stat() (sys.Stat_t, error) {
	s.mu.Lock()
	uid, gid := s.uid, s.gid
	s.mu.Unlock()
	return netstack.Stat(s.ino, uid, gid, s.created), nil
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
