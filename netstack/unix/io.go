package unix

import (
	"bytes"
	"errors"

	sys "golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/netstack"
)

// Sizes of the pieces a message is made of, as Linux's: a stream send is
// cut into pieces of at most streamMaxHead bytes plus 32 KiB of pages;
// the charge of a datagram counts pages past dgramMaxHead.
const (
	streamMaxHead = 3776
	streamMaxSeg  = streamMaxHead + 32768
	dgramMaxHead  = 16064
	// dgramOverhead is what a datagram's size may not exceed SO_SNDBUF by
	// (Linux: EMSGSIZE above sk_sndbuf - 32).
	dgramOverhead = 32
)

var (
	errDead = errors.New("peer closed")
	errFull = errors.New("receive queue full")
)

// streamSeg is the size of the stream pieces for a send buffer of sndbuf.
func streamSeg(sndbuf int) int { return max(min(sndbuf/2-64, streamMaxSeg), 1) }

// checkCred allows the SCM_CREDENTIALS a process may send: its own PID
// and one of its user and group IDs, anything for root.
func checkCred(c netstack.Cred, u netstack.UCred) error {
	root := c.EUID == 0
	if (u.PID == c.PID || root) &&
		(u.UID == c.UID || u.UID == c.EUID || u.UID == c.SUID || root) &&
		(u.GID == c.GID || u.GID == c.EGID || u.GID == c.SGID || root) {
		return nil
	}
	return sys.EPERM
}

// attach gives m the files of ctl, taking a reference on each:
// ETOOMANYREFS when the sandbox has more files in flight than the
// sender's descriptor limit.
func (s *Socket) attach(ctx netstack.Context, m *message, ctl *netstack.Control) error {
	if ctl == nil || len(ctl.Rights) == 0 {
		return nil
	}
	if len(ctl.Rights) > ScmMaxFD {
		return sys.EINVAL
	}
	if s.ns.inflight.Load() > int64(ctx.FileLimit()) {
		return sys.ETOOMANYREFS
	}
	m.rights = append([]*fs.File(nil), ctl.Rights...)
	for _, f := range m.rights {
		f.IncRef()
	}
	s.ns.inflight.Add(int64(len(m.rights)))
	return nil
}

// enqueue puts m, from sender, on r's receive queue and charges it to
// the sender. errDead if r is closed, EPIPE if it shut its receiving
// side; for datagrams (dgram set) EPERM if r is connected to another
// socket and errFull if its queue is full.
func (r *Socket) enqueue(m *message, sender *Socket, dgram bool) error {
	r.mu.Lock()
	switch {
	case r.released:
		r.mu.Unlock()
		return errDead
	case dgram && r.peer != nil && r.peer != sender:
		r.mu.Unlock()
		return sys.EPERM
	case r.shut&shutRcv != 0:
		r.mu.Unlock()
		return sys.EPIPE
	case dgram && r.peer != sender && r.queue.len() > MaxDgramQlen:
		r.mu.Unlock()
		return errFull
	}
	sender.wmem.Add(m.charge)
	r.queue.push(m)
	r.mu.Unlock()
	r.q.Notify(waiter.ReadableEvents)
	return nil
}

// SendMsg implements netstack.Socket.
func (s *Socket) SendMsg(ctx netstack.Context, data []byte, to []byte, ctl *netstack.Control, flags int) (int, error) {
	if flags&sys.MSG_OOB != 0 {
		return 0, sys.EOPNOTSUPP
	}
	c := ctx.Cred()
	cred := netstack.UCred{PID: c.PID, UID: c.UID, GID: c.GID}
	if ctl != nil && ctl.Cred != nil {
		if err := checkCred(c, *ctl.Cred); err != nil {
			return 0, err
		}
		cred = *ctl.Cred
	}
	switch s.typ {
	case sys.SOCK_STREAM:
		return s.sendStream(ctx, data, to, ctl, cred)
	case sys.SOCK_SEQPACKET:
		return s.sendSeqpacket(ctx, data, ctl, cred)
	}
	return s.sendDgram(ctx, data, to, ctl, cred)
}

func (s *Socket) sendStream(ctx netstack.Context, data, to []byte, ctl *netstack.Control, cred netstack.UCred) (int, error) {
	s.mu.Lock()
	st, peer, shut, sndbuf := s.state, s.peer, s.shut, s.sndbuf
	s.mu.Unlock()
	if to != nil {
		if st == stateConnected {
			return 0, sys.EISCONN
		}
		return 0, sys.EOPNOTSUPP
	}
	if st != stateConnected || peer == nil {
		return 0, sys.ENOTCONN
	}
	if shut&shutSend != 0 {
		return 0, sys.EPIPE
	}
	sent := 0
	for sent < len(data) {
		if s.wmem.Load() >= int64(sndbuf) {
			break
		}
		n := min(len(data)-sent, streamSeg(sndbuf))
		m := &message{data: bytes.Clone(data[sent : sent+n]), cred: cred, sender: s,
			charge: truesize(n, streamMaxHead)}
		if sent == 0 {
			if err := s.attach(ctx, m, ctl); err != nil {
				return 0, err
			}
		}
		if err := peer.enqueue(m, s, false); err != nil {
			m.charge = 0
			s.ns.drop([]*message{m})
			if sent > 0 {
				return sent, nil
			}
			return 0, sys.EPIPE
		}
		sent += n
	}
	if sent == 0 && len(data) > 0 {
		return 0, sys.EAGAIN
	}
	return sent, nil
}

func (s *Socket) sendSeqpacket(ctx netstack.Context, data []byte, ctl *netstack.Control, cred netstack.UCred) (int, error) {
	s.mu.Lock()
	if e := s.err; e != 0 {
		s.err = 0
		s.mu.Unlock()
		return 0, e
	}
	st, peer, shut, sndbuf := s.state, s.peer, s.shut, s.sndbuf
	s.mu.Unlock()
	if st != stateConnected || peer == nil {
		return 0, sys.ENOTCONN
	}
	if shut&shutSend != 0 {
		return 0, netstack.ErrPipeNoSignal
	}
	if len(data) > sndbuf-dgramOverhead {
		return 0, sys.EMSGSIZE
	}
	if s.wmem.Load() >= int64(sndbuf) {
		return 0, sys.EAGAIN
	}
	m := &message{data: bytes.Clone(data), cred: cred, sender: s, charge: truesize(len(data), dgramMaxHead)}
	if err := s.attach(ctx, m, ctl); err != nil {
		return 0, err
	}
	if err := peer.enqueue(m, s, false); err != nil {
		m.charge = 0
		s.ns.drop([]*message{m})
		return 0, netstack.ErrPipeNoSignal
	}
	return len(data), nil
}

func (s *Socket) sendDgram(ctx netstack.Context, data, to []byte, ctl *netstack.Control, cred netstack.UCred) (int, error) {
	s.mu.Lock()
	peer, shut, sndbuf := s.peer, s.shut, s.sndbuf
	s.mu.Unlock()
	var a *address
	if to != nil {
		var err error
		if a, err = parseAddr(to); err != nil {
			return 0, err
		}
		if a == nil {
			return 0, sys.EINVAL
		}
	} else if peer == nil {
		return 0, sys.ENOTCONN
	}
	if shut&shutSend != 0 {
		return 0, netstack.ErrPipeNoSignal
	}
	if err := s.autobindIfPasscred(); err != nil {
		return 0, err
	}
	if len(data) > sndbuf-dgramOverhead {
		return 0, sys.EMSGSIZE
	}
	if s.wmem.Load() >= int64(sndbuf) {
		return 0, s.pendingErr(sys.EAGAIN)
	}
	target := peer
	if a != nil {
		var err error
		if target, err = s.ns.find(ctx, a); err != nil {
			return 0, err
		}
		if target.typ != s.typ {
			return 0, sys.EPROTOTYPE
		}
	}
	m := &message{data: bytes.Clone(data), cred: cred, sender: s, charge: truesize(len(data), dgramMaxHead)}
	if err := s.attach(ctx, m, ctl); err != nil {
		return 0, err
	}
	err := target.enqueue(m, s, true)
	if err == nil {
		return len(data), nil
	}
	m.charge = 0
	s.ns.drop([]*message{m})
	switch err {
	case errDead:
		if target == peer {
			s.disconnectDead(peer)
		}
		return 0, sys.ECONNREFUSED
	case errFull:
		if a == nil {
			// The socket's own readiness follows its peer's queue.
			return 0, s.pendingErr(sys.EAGAIN)
		}
		return 0, &netstack.Blocked{Queue: &target.peerWait, Mask: waiter.WritableEvents,
			Ready: func() bool { return !target.recvqFullFor(s) }}
	case sys.EPIPE:
		return 0, netstack.ErrPipeNoSignal
	}
	return 0, err
}

// pendingErr returns and clears the socket's pending error, or err when
// there is none (a send that would wait reports an error first, as
// Linux's sock_alloc_send_pskb).
func (s *Socket) pendingErr(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.err; e != 0 {
		s.err = 0
		return e
	}
	return err
}

// disconnectDead forgets a datagram socket's closed peer (later sends are
// ENOTCONN).
func (s *Socket) disconnectDead(peer *Socket) {
	s.ns.mu.Lock()
	s.mu.Lock()
	var wake *waiter.Entry
	if s.peer == peer {
		s.peer, wake = nil, s.peerWake
		s.peerWake = nil
		s.state = stateUnconnected
	}
	s.mu.Unlock()
	s.ns.mu.Unlock()
	if wake != nil {
		peer.peerWait.Unregister(wake)
	}
}

// takeRights moves m's files to the receiver.
func (s *Socket) takeRights(m *message) []*fs.File {
	r := m.rights
	m.rights = nil
	s.ns.inflight.Add(-int64(len(r)))
	return r
}

// dupRights returns m's files with a new reference each (MSG_PEEK).
func dupRights(m *message) []*fs.File {
	r := append([]*fs.File(nil), m.rights...)
	for _, f := range r {
		f.IncRef()
	}
	return r
}

// from returns the address of m's sender (nil when it has none).
func (m *message) from() []byte {
	if a := m.sender.addr.Load(); a != nil {
		return a.raw
	}
	return nil
}

// RecvMsg implements netstack.Socket. Flags: MSG_PEEK; the caller handles
// MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC and MSG_CMSG_CLOEXEC.
func (s *Socket) RecvMsg(ctx netstack.Context, dst []byte, flags int, prev *netstack.RecvResult) (netstack.RecvResult, error) {
	if s.typ == sys.SOCK_STREAM {
		return s.recvStream(dst, flags, prev)
	}
	return s.recvDgram(dst, flags)
}

// emptyLocked is a receive's answer to an empty queue: a pending error,
// end of file once the receiving side is shut, EAGAIN otherwise.
func (s *Socket) emptyLocked() error {
	if e := s.err; e != 0 {
		s.err = 0
		return e
	}
	if s.shut&shutRcv != 0 {
		return nil
	}
	return sys.EAGAIN
}

func (s *Socket) recvDgram(dst []byte, flags int) (netstack.RecvResult, error) {
	var res netstack.RecvResult
	if flags&sys.MSG_OOB != 0 {
		return res, sys.EOPNOTSUPP
	}
	peek := flags&sys.MSG_PEEK != 0
	s.mu.Lock()
	if s.typ == sys.SOCK_SEQPACKET && s.state != stateConnected {
		s.mu.Unlock()
		return res, sys.ENOTCONN
	}
	if s.queue.len() == 0 {
		err := s.emptyLocked()
		s.mu.Unlock()
		return res, err
	}
	m := s.queue.at(0)
	res.N = copy(dst, m.data)
	res.Len = len(m.data)
	if res.Len > len(dst) {
		res.Flags |= sys.MSG_TRUNC
	}
	if s.passcred {
		c := m.cred
		res.Control.Cred = &c
	}
	if peek {
		res.Control.Rights = dupRights(m)
	} else {
		s.queue.pop()
		s.queue.bytes -= len(m.data)
		res.Control.Rights = s.takeRights(m)
	}
	s.mu.Unlock()
	res.From = m.from()
	if !peek {
		m.uncharge()
		s.peerWait.Notify(waiter.WritableEvents)
	}
	return res, nil
}

func (s *Socket) recvStream(dst []byte, flags int, prev *netstack.RecvResult) (netstack.RecvResult, error) {
	var res netstack.RecvResult
	if flags&sys.MSG_OOB != 0 {
		return res, sys.EINVAL
	}
	peek := flags&sys.MSG_PEEK != 0
	s.mu.Lock()
	if s.state != stateConnected {
		s.mu.Unlock()
		return res, sys.EINVAL
	}
	if prev != nil && prev.Boundary {
		s.mu.Unlock()
		res.Boundary = true
		return res, nil
	}
	if s.queue.len() == 0 {
		err := s.emptyLocked()
		s.mu.Unlock()
		return res, err
	}
	var glue *netstack.UCred
	if prev != nil {
		glue = prev.Control.Cred
	}
	var done []*message
	for i := 0; res.N < len(dst) && i < s.queue.len(); {
		m := s.queue.at(i)
		if s.passcred {
			if glue != nil && *glue != m.cred {
				res.Boundary = true // never glue data of different senders
				break
			}
			if glue == nil {
				c := m.cred
				glue, res.Control.Cred = &c, &c
			}
		}
		if res.From == nil {
			res.From = m.from()
		}
		chunk := copy(dst[res.N:], m.unread())
		res.N += chunk
		if peek {
			if len(m.rights) > 0 {
				res.Control.Rights = dupRights(m)
				res.Boundary = true
				break
			}
			i++
			continue
		}
		m.off += chunk
		s.queue.bytes -= chunk
		if len(m.rights) > 0 {
			res.Control.Rights = s.takeRights(m)
			res.Boundary = true
		}
		if len(m.unread()) == 0 {
			s.queue.pop()
			done = append(done, m)
		}
		if len(m.unread()) > 0 || res.Boundary {
			break
		}
	}
	s.mu.Unlock()
	for _, m := range done {
		m.uncharge()
	}
	res.Len = res.N
	return res, nil
}

// ownerCtx is the caller of reads and writes that come without one
// (sendfile, splice): the socket's maker.
type ownerCtx struct{ s *Socket }

func (c ownerCtx) Cred() netstack.Cred { return c.s.owner }
func (c ownerCtx) FileLimit() int      { return 1024 }
func (c ownerCtx) BindPath(string) (netstack.NodeKey, func(), error) {
	return netstack.NodeKey{}, nil, sys.EOPNOTSUPP
}
func (c ownerCtx) LookupPath(string) (netstack.NodeKey, error) {
	return netstack.NodeKey{}, sys.EOPNOTSUPP
}

// Read implements fs.Impl: a receive without flags; descriptors that come
// with the data are closed, as Linux's read(2) does.
func (s *Socket) Read(p []byte) (int, error) {
	res, err := s.RecvMsg(ownerCtx{s}, p, 0, nil)
	res.Control.Release()
	return res.N, err
}

// Write implements fs.Impl: a send without flags; a stream's short send
// is EAGAIN with the count, as the syscall layer's write loop expects.
func (s *Socket) Write(p []byte) (int, error) {
	n, err := s.SendMsg(ownerCtx{s}, p, nil, nil, 0)
	if err == nil && n < len(p) {
		err = sys.EAGAIN
	}
	return n, err
}

// Ioctl implements netstack.Socket: SIOCINQ (FIONREAD) and SIOCOUTQ.
func (s *Socket) Ioctl(req uint) (int, error) {
	switch req {
	case sys.SIOCINQ:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.state == stateListening {
			return 0, sys.EINVAL
		}
		return s.inqLocked(), nil
	case sys.SIOCOUTQ:
		return int(max(s.wmem.Load(), 0)), nil
	}
	return 0, sys.ENOTTY
}

// inqLocked is SIOCINQ: the unread bytes, or a datagram socket's next
// datagram's size.
func (s *Socket) inqLocked() int {
	if s.typ == sys.SOCK_DGRAM {
		if s.queue.len() == 0 {
			return 0
		}
		return len(s.queue.at(0).data)
	}
	return s.queue.bytes
}

// ReadAvailable implements fs.ReadAvailabler.
func (s *Socket) ReadAvailable() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inqLocked()
}
