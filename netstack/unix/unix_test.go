package unix

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sys "golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/netstack"
)

// fakeTree stands for the file tree: socket nodes by path.
type fakeTree struct {
	mu      sync.Mutex
	nodes   map[string]netstack.NodeKey
	regular map[string]bool
	next    uint64
}

func newTree() *fakeTree {
	return &fakeTree{nodes: map[string]netstack.NodeKey{}, regular: map[string]bool{}}
}

type fakeCtx struct {
	cred  netstack.Cred
	tree  *fakeTree
	limit int
}

func (c *fakeCtx) Cred() netstack.Cred { return c.cred }
func (c *fakeCtx) FileLimit() int {
	if c.limit == 0 {
		return 1024
	}
	return c.limit
}

func (c *fakeCtx) BindPath(p string) (netstack.NodeKey, func(), error) {
	t := c.tree
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.nodes[p]; ok || t.regular[p] {
		return netstack.NodeKey{}, nil, sys.EADDRINUSE
	}
	t.next++
	k := netstack.NodeKey{Dev: 1, Ino: t.next}
	t.nodes[p] = k
	return k, func() { t.unlink(p) }, nil
}

func (c *fakeCtx) LookupPath(p string) (netstack.NodeKey, error) {
	t := c.tree
	t.mu.Lock()
	defer t.mu.Unlock()
	if k, ok := t.nodes[p]; ok {
		return k, nil
	}
	if t.regular[p] {
		return netstack.NodeKey{}, sys.ECONNREFUSED
	}
	return netstack.NodeKey{}, sys.ENOENT
}

func (t *fakeTree) unlink(p string) {
	t.mu.Lock()
	delete(t.nodes, p)
	t.mu.Unlock()
}

func newCtx() *fakeCtx {
	return &fakeCtx{cred: netstack.Cred{PID: 7, UID: 1000, EUID: 1000, SUID: 1000, GID: 100, EGID: 100, SGID: 100},
		tree: newTree()}
}

func sockaddr(path string) []byte {
	b := binary.LittleEndian.AppendUint16(nil, sys.AF_UNIX)
	b = append(b, path...)
	return append(b, 0)
}

func abstractAddr(name string) []byte {
	b := binary.LittleEndian.AppendUint16(nil, sys.AF_UNIX)
	return append(append(b, 0), name...)
}

func send(t *testing.T, ctx netstack.Context, s *Socket, data string) {
	t.Helper()
	n, err := s.SendMsg(ctx, []byte(data), nil, nil, 0)
	require.NoError(t, err)
	require.Equal(t, len(data), n)
}

func recv(t *testing.T, s *Socket, size, flags int) (string, netstack.RecvResult) {
	t.Helper()
	buf := make([]byte, size)
	r, err := s.RecvMsg(nil, buf, flags, nil)
	require.NoError(t, err)
	return string(buf[:r.N]), r
}

func TestStreamPair(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	send(t, ctx, a, "hello ")
	send(t, ctx, a, "world")
	got, r := recv(t, b, 3, 0)
	assert.Equal(t, "hel", got)
	assert.Equal(t, 3, r.Len)
	got, _ = recv(t, b, 100, sys.MSG_PEEK)
	assert.Equal(t, "lo world", got, "a stream read crosses sends")
	got, _ = recv(t, b, 100, 0)
	assert.Equal(t, "lo world", got)
	_, err := b.RecvMsg(nil, make([]byte, 10), 0, nil)
	assert.Equal(t, sys.EAGAIN, err)
	assert.Equal(t, int64(0), a.wmem.Load(), "everything read: nothing charged")

	require.NoError(t, a.Shutdown(ctx, sys.SHUT_WR))
	_, err = a.SendMsg(ctx, []byte("x"), nil, nil, 0)
	assert.Equal(t, sys.EPIPE, err)
	r, err = b.RecvMsg(nil, make([]byte, 10), 0, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, r.N, "end of file after the peer's SHUT_WR")
	send(t, ctx, b, "back")
	got, _ = recv(t, a, 10, 0)
	assert.Equal(t, "back", got, "the other direction still works")

	a.Release()
	_, err = b.SendMsg(ctx, []byte("x"), nil, nil, 0)
	assert.Equal(t, sys.EPIPE, err)
	b.Release()
}

func TestStreamResetOnUnread(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	send(t, ctx, a, "unread")
	b.Release() // with data unread: a is reset
	_, err := a.RecvMsg(nil, make([]byte, 10), 0, nil)
	assert.Equal(t, sys.ECONNRESET, err)
	r, err := a.RecvMsg(nil, make([]byte, 10), 0, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, r.N, "then end of file")
	assert.Equal(t, int64(0), a.wmem.Load(), "dropped data is uncharged")
	a.Release()
}

func TestReadiness(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	all := waiter.ReadableEvents | waiter.WritableEvents | waiter.EventRdHup
	const in, out, hup, rdhup = waiter.EventIn, waiter.EventOut, waiter.EventHup, waiter.EventRdHup
	ev := func(s *Socket) waiter.EventMask {
		return s.Readiness(all) & (in | out | hup | rdhup | waiter.EventErr)
	}
	fresh := New(ns, sys.SOCK_STREAM, ctx.cred)
	assert.Equal(t, out|hup, ev(fresh), "a fresh stream socket")
	d := New(ns, sys.SOCK_DGRAM, ctx.cred)
	assert.Equal(t, out, ev(d), "a fresh datagram socket")
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	assert.Equal(t, out, ev(a))
	send(t, ctx, a, "x")
	assert.Equal(t, in|out, ev(b))
	require.NoError(t, a.Shutdown(ctx, sys.SHUT_WR))
	assert.Equal(t, out, ev(a), "own SHUT_WR")
	assert.Equal(t, in|out|rdhup, ev(b), "peer's SHUT_WR")
	a.Release()
	assert.Equal(t, in|out|hup|rdhup, ev(b), "closed peer")
	for _, s := range []*Socket{fresh, d, b} {
		s.Release()
	}
}

func TestDatagramBoundaries(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	for _, typ := range []int{sys.SOCK_DGRAM, sys.SOCK_SEQPACKET} {
		a, b := Pair(ns, typ, ctx.cred)
		send(t, ctx, a, "0123456789")
		send(t, ctx, a, "")
		send(t, ctx, a, "ab")
		got, r := recv(t, b, 4, sys.MSG_PEEK)
		assert.Equal(t, "0123", got)
		assert.Equal(t, 10, r.Len)
		assert.Equal(t, sys.MSG_TRUNC, r.Flags)
		got, r = recv(t, b, 4, 0)
		assert.Equal(t, "0123", got, "the rest of a truncated datagram is gone")
		assert.Equal(t, sys.MSG_TRUNC, r.Flags)
		got, r = recv(t, b, 4, 0)
		assert.Equal(t, "", got)
		assert.Equal(t, 0, r.Flags, "an empty datagram")
		got, _ = recv(t, b, 4, 0)
		assert.Equal(t, "ab", got)
		a.Release()
		_, err := b.SendMsg(ctx, []byte("x"), nil, nil, 0)
		if typ == sys.SOCK_SEQPACKET {
			assert.ErrorIs(t, err, sys.EPIPE)
			assert.NotEqual(t, sys.EPIPE, err, "no SIGPIPE for seqpacket")
			r, err := b.RecvMsg(nil, make([]byte, 1), 0, nil)
			require.NoError(t, err)
			assert.Equal(t, 0, r.N, "end of file")
		} else {
			assert.Equal(t, sys.ECONNREFUSED, err)
			_, err = b.SendMsg(ctx, []byte("x"), nil, nil, 0)
			assert.Equal(t, sys.ENOTCONN, err, "the dead peer is forgotten")
		}
		b.Release()
	}
}

func TestBindConnectAccept(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	l := New(ns, sys.SOCK_STREAM, ctx.cred)
	assert.Equal(t, sys.EINVAL, l.Listen(ctx, 5), "listen unbound")
	require.NoError(t, l.Bind(ctx, sockaddr("/tmp/s")))
	assert.Equal(t, sockaddr("/tmp/s"), l.SockName())
	assert.Equal(t, sys.EADDRINUSE, l.Bind(ctx, sockaddr("/tmp/s")), "bind again")
	assert.Equal(t, sys.EINVAL, l.Bind(ctx, sockaddr("/tmp/other")), "bound already")
	_, ok := ctx.tree.nodes["/tmp/other"]
	assert.False(t, ok, "the node of a failed bind is removed")

	c := New(ns, sys.SOCK_STREAM, ctx.cred)
	assert.Equal(t, sys.ECONNREFUSED, c.Connect(ctx, sockaddr("/tmp/s")), "not listening")
	assert.Equal(t, sys.ENOENT, c.Connect(ctx, sockaddr("/tmp/none")))
	ctx.tree.regular["/tmp/file"] = true
	assert.Equal(t, sys.ECONNREFUSED, c.Connect(ctx, sockaddr("/tmp/file")))
	assert.Equal(t, sys.ECONNREFUSED, c.Connect(ctx, abstractAddr("nobody")))
	assert.Equal(t, sys.EINVAL, c.Connect(ctx, []byte{1}))
	require.NoError(t, l.Listen(ctx, 0))
	d := New(ns, sys.SOCK_DGRAM, ctx.cred)
	assert.Equal(t, sys.EPROTOTYPE, d.Connect(ctx, sockaddr("/tmp/s")))

	client := ctx.cred
	client.PID = 8
	cctx := &fakeCtx{cred: client, tree: ctx.tree}
	require.NoError(t, c.Connect(cctx, sockaddr("/tmp/s")))
	send(t, cctx, c, "early") // before accept
	c2 := New(ns, sys.SOCK_STREAM, ctx.cred)
	err := c2.Connect(cctx, sockaddr("/tmp/s"))
	var blocked *netstack.Blocked
	require.True(t, errors.As(err, &blocked), "backlog 0 holds one connection: %v", err)
	assert.False(t, blocked.Ready())

	e, peerAddr, err := l.Accept(ctx)
	require.NoError(t, err)
	assert.True(t, blocked.Ready(), "accept made room")
	assert.Equal(t, sys.EISCONN, c.Connect(cctx, sockaddr("/tmp/s")))
	assert.Equal(t, familyOnly(), peerAddr, "the client has no name")
	es := e.(*Socket)
	assert.Equal(t, sockaddr("/tmp/s"), es.SockName())
	pn, err := c.PeerName()
	require.NoError(t, err)
	assert.Equal(t, sockaddr("/tmp/s"), pn)
	got, _ := recv(t, es, 10, 0)
	assert.Equal(t, "early", got)
	cred, err := es.GetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_PEERCRED)
	require.NoError(t, err)
	assert.Equal(t, uint32(8), binary.LittleEndian.Uint32(cred), "the server sees the client's pid")
	cred, err = c.GetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_PEERCRED)
	require.NoError(t, err)
	assert.Equal(t, uint32(7), binary.LittleEndian.Uint32(cred), "the client sees the listener's pid")

	_, _, err = l.Accept(ctx)
	assert.Equal(t, sys.EAGAIN, err)
	require.NoError(t, c2.Connect(cctx, sockaddr("/tmp/s")))
	l.Release() // c2 was never accepted: reset
	_, err = c2.RecvMsg(nil, make([]byte, 1), 0, nil)
	assert.Equal(t, sys.ECONNRESET, err)
	assert.Equal(t, sys.ECONNREFUSED, New(ns, sys.SOCK_STREAM, ctx.cred).Connect(ctx, sockaddr("/tmp/s")),
		"the node stays but nobody listens")
	for _, s := range []*Socket{c, c2, es, d} {
		s.Release()
	}
}

func TestAbstractAndAutobind(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	s := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, s.Bind(ctx, abstractAddr("name")))
	assert.Equal(t, abstractAddr("name"), s.SockName())
	o := New(ns, sys.SOCK_DGRAM, ctx.cred)
	assert.Equal(t, sys.EADDRINUSE, o.Bind(ctx, abstractAddr("name")))
	require.NoError(t, o.Bind(ctx, abstractAddr("")[:2]))
	name := o.SockName()
	require.Len(t, name, 8)
	assert.Equal(t, byte(0), name[2])
	require.NoError(t, o.Bind(ctx, abstractAddr("")[:2]), "autobind of a named socket does nothing")
	assert.Equal(t, name, o.SockName())

	n, err := o.SendMsg(ctx, []byte("hi"), abstractAddr("name"), nil, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, r := recv(t, s, 10, 0)
	assert.Equal(t, name, r.From, "the sender's name")

	// SO_PASSCRED autobinds a sender.
	u := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, u.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_PASSCRED, intBytes(1)))
	_, err = u.SendMsg(ctx, []byte("x"), abstractAddr("name"), nil, 0)
	require.NoError(t, err)
	assert.Len(t, u.SockName(), 8)
	s.Release()
	o.Release()
	u.Release()
	again := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, again.Bind(ctx, abstractAddr("name")), "a closed socket's name is free")
	again.Release()
}

// countImpl is a file that counts its releases.
type countImpl struct {
	fs.PathImpl
	released *atomic.Int32
}

func (c countImpl) Release() { c.released.Add(1) }

func TestRights(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	var released atomic.Int32
	f := fs.NewFile(countImpl{released: &released}, sys.O_RDONLY)
	ctl := &netstack.Control{Rights: []*fs.File{f, f}}
	send(t, ctx, a, "ab")
	n, err := a.SendMsg(ctx, []byte("cd"), nil, ctl, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	send(t, ctx, a, "ef")
	f.DecRef() // the sender closes it: in flight, it lives on
	assert.Equal(t, int32(0), released.Load())
	assert.Equal(t, int64(2), ns.InFlight())

	got, r := recv(t, b, 100, sys.MSG_PEEK)
	assert.Equal(t, "abcd", got, "a read stops after the data that carried files")
	assert.Len(t, r.Control.Rights, 2)
	r.Control.Release()
	got, r = recv(t, b, 100, 0)
	assert.Equal(t, "abcd", got)
	assert.True(t, r.Boundary)
	require.Len(t, r.Control.Rights, 2)
	assert.Equal(t, int64(0), ns.InFlight())
	r.Control.Release()
	assert.Equal(t, int32(1), released.Load(), "the last reference went with the message")
	got, _ = recv(t, b, 100, 0)
	assert.Equal(t, "ef", got)

	// Too many, and files left in a closed socket's queue.
	g := fs.NewFile(countImpl{released: &released}, sys.O_RDONLY)
	many := make([]*fs.File, ScmMaxFD+1)
	for i := range many {
		many[i] = g
	}
	_, err = a.SendMsg(ctx, []byte("x"), nil, &netstack.Control{Rights: many}, 0)
	assert.Equal(t, sys.EINVAL, err)
	_, err = a.SendMsg(&fakeCtx{cred: ctx.cred, limit: -1}, []byte("x"), nil, &netstack.Control{Rights: many[:1]}, 0)
	assert.Equal(t, sys.ETOOMANYREFS, err)
	_, err = a.SendMsg(ctx, []byte("x"), nil, &netstack.Control{Rights: many[:ScmMaxFD]}, 0)
	require.NoError(t, err)
	g.DecRef()
	assert.Equal(t, int32(1), released.Load())
	b.Release()
	assert.Equal(t, int32(2), released.Load(), "dropped with the queue")
	assert.Equal(t, int64(0), ns.InFlight())
	a.Release()
}

func TestPasscredGlue(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	require.NoError(t, b.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_PASSCRED, intBytes(1)))
	send(t, ctx, a, "one")
	other := &fakeCtx{cred: ctx.cred, tree: ctx.tree}
	other.cred.PID = 9
	send(t, other, a, "two")
	got, r := recv(t, b, 100, 0)
	assert.Equal(t, "one", got, "data of different senders is not glued")
	require.NotNil(t, r.Control.Cred)
	assert.Equal(t, netstack.UCred{PID: 7, UID: 1000, GID: 100}, *r.Control.Cred)
	got, r = recv(t, b, 100, 0)
	assert.Equal(t, "two", got)
	assert.Equal(t, int32(9), r.Control.Cred.PID)

	bad := &netstack.Control{Cred: &netstack.UCred{PID: 1, UID: 1000, GID: 100}}
	_, err := a.SendMsg(ctx, []byte("x"), nil, bad, 0)
	assert.Equal(t, sys.EPERM, err, "another pid")
	a.Release()
	b.Release()
}

func TestSendBuffer(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	require.NoError(t, a.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_SNDBUF, intBytes(8192)))
	v, _ := a.GetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_SNDBUF)
	assert.Equal(t, int32(16384), int32(binary.LittleEndian.Uint32(v)))
	data := make([]byte, 100000)
	total := 0
	for {
		n, err := a.SendMsg(ctx, data, nil, nil, 0)
		total += n
		if err == sys.EAGAIN {
			break
		}
		require.NoError(t, err)
	}
	assert.Less(t, total, 16384+streamSeg(16384), "the send buffer bounds what is queued")
	assert.Greater(t, total, 8192)
	assert.Zero(t, a.Readiness(waiter.WritableEvents))
	inq, err := b.Ioctl(sys.SIOCINQ)
	require.NoError(t, err)
	assert.Equal(t, total, inq)
	outq, _ := a.Ioctl(sys.SIOCOUTQ)
	assert.GreaterOrEqual(t, outq, total)

	// A writer waiting on the queue is woken by the reader.
	e, ch := waiter.NewChannelEntry(waiter.WritableEvents)
	a.EventRegister(e)
	defer a.EventUnregister(e)
	go func() {
		buf := make([]byte, 4096)
		for {
			r, err := b.RecvMsg(nil, buf, 0, nil)
			if err != nil || r.N == 0 {
				return
			}
		}
	}()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer was not woken")
	}
	assert.NotZero(t, a.Readiness(waiter.WritableEvents))
	a.Release()
	b.Release()

	p, q := Pair(ns, sys.SOCK_DGRAM, ctx.cred)
	_, err = p.SendMsg(ctx, make([]byte, DefaultBuf-31), nil, nil, 0)
	assert.Equal(t, sys.EMSGSIZE, err)
	_, err = p.SendMsg(ctx, make([]byte, DefaultBuf-32), nil, nil, 0)
	assert.NoError(t, err)
	p.Release()
	q.Release()
}

func TestDgramQueueLimit(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	r := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, r.Bind(ctx, abstractAddr("r")))
	s := New(ns, sys.SOCK_DGRAM, ctx.cred)
	for i := 0; i <= MaxDgramQlen; i++ {
		_, err := s.SendMsg(ctx, []byte("x"), abstractAddr("r"), nil, 0)
		require.NoError(t, err)
	}
	_, err := s.SendMsg(ctx, []byte("x"), abstractAddr("r"), nil, 0)
	var blocked *netstack.Blocked
	require.True(t, errors.As(err, &blocked), "%v", err)
	assert.True(t, errors.Is(err, sys.EAGAIN))
	e, ch := waiter.NewChannelEntry(blocked.Mask)
	blocked.Queue.Register(e)
	recv(t, r, 1, 0)
	select {
	case <-ch:
	default:
		t.Fatal("a receive did not wake the blocked sender")
	}
	blocked.Queue.Unregister(e)
	assert.True(t, blocked.Ready())

	// A connected sender's own readiness follows the receiver's queue.
	require.NoError(t, s.Connect(ctx, abstractAddr("r")))
	_, err = s.SendMsg(ctx, []byte("x"), nil, nil, 0)
	require.NoError(t, err)
	_, err = s.SendMsg(ctx, []byte("x"), nil, nil, 0)
	assert.Equal(t, sys.EAGAIN, err)
	assert.Zero(t, s.Readiness(waiter.WritableEvents))
	e2, ch2 := waiter.NewChannelEntry(waiter.WritableEvents)
	s.EventRegister(e2)
	recv(t, r, 1, 0)
	select {
	case <-ch2:
	default:
		t.Fatal("the connected sender was not woken")
	}
	s.EventUnregister(e2)
	assert.NotZero(t, s.Readiness(waiter.WritableEvents))

	s.Release()
	r.Release()
}

func TestDgramConnectedElsewhere(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	r := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, r.Bind(ctx, abstractAddr("r")))
	p := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, p.Bind(ctx, abstractAddr("p")))
	require.NoError(t, r.Connect(ctx, abstractAddr("p")))
	o := New(ns, sys.SOCK_DGRAM, ctx.cred)
	_, err := o.SendMsg(ctx, []byte("x"), abstractAddr("r"), nil, 0)
	assert.Equal(t, sys.EPERM, err, "r takes datagrams from p only")
	assert.Equal(t, sys.EPERM, o.Connect(ctx, abstractAddr("r")))
	_, err = p.SendMsg(ctx, []byte("x"), abstractAddr("r"), nil, 0)
	assert.NoError(t, err)
	unspec := binary.LittleEndian.AppendUint16(nil, sys.AF_UNSPEC)
	require.NoError(t, r.Connect(ctx, unspec))
	_, err = o.SendMsg(ctx, []byte("x"), abstractAddr("r"), nil, 0)
	assert.NoError(t, err, "disconnected")
	for _, s := range []*Socket{r, p, o} {
		s.Release()
	}
}

func TestSockOpts(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	s := New(ns, sys.SOCK_SEQPACKET, ctx.cred)
	get := func(name int) int32 {
		v, err := s.GetSockOpt(ctx, sys.SOL_SOCKET, name)
		require.NoError(t, err)
		return int32(binary.LittleEndian.Uint32(v))
	}
	assert.Equal(t, int32(sys.SOCK_SEQPACKET), get(sys.SO_TYPE))
	assert.Equal(t, int32(sys.AF_UNIX), get(sys.SO_DOMAIN))
	assert.Equal(t, int32(0), get(sys.SO_PROTOCOL))
	require.NoError(t, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_SNDBUF, intBytes(1000)))
	assert.Equal(t, int32(minSndBuf), get(sys.SO_SNDBUF))
	require.NoError(t, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_RCVBUF, intBytes(1000)))
	assert.Equal(t, int32(minRcvBuf), get(sys.SO_RCVBUF))
	require.NoError(t, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_REUSEADDR, intBytes(5)))
	assert.Equal(t, int32(1), get(sys.SO_REUSEADDR))
	assert.Equal(t, sys.EINVAL, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_REUSEADDR, []byte{1}))
	assert.Equal(t, sys.ENOPROTOOPT, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_TYPE, intBytes(1)))
	assert.Equal(t, sys.EOPNOTSUPP, s.SetSockOpt(ctx, sys.SOL_TCP, 1, intBytes(1)))
	_, err := s.GetSockOpt(ctx, sys.SOL_SOCKET, 9999)
	assert.Equal(t, sys.ENOPROTOOPT, err)

	tv := func(sec, usec int64) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(sec))
		return binary.LittleEndian.AppendUint64(b, uint64(usec))
	}
	require.NoError(t, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_RCVTIMEO, tv(1, 3)))
	v, _ := s.GetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_RCVTIMEO)
	assert.Equal(t, tv(1, 4000), v, "rounded up to a jiffy")
	rt, _ := s.Timeouts()
	assert.Equal(t, time.Second+4*time.Millisecond, rt)
	assert.Equal(t, sys.EDOM, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_RCVTIMEO, tv(0, 1000000)))
	require.NoError(t, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_RCVTIMEO, tv(-1, 0)))
	rt, _ = s.Timeouts()
	assert.Less(t, rt, time.Duration(0), "negative: do not wait")
	require.NoError(t, s.SetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_LINGER, tv(1|5<<32, 0)[:8]))
	v, _ = s.GetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_LINGER)
	assert.Equal(t, []byte{1, 0, 0, 0, 5, 0, 0, 0}, v)
	v, _ = s.GetSockOpt(ctx, sys.SOL_SOCKET, sys.SO_PEERCRED)
	assert.Equal(t, []byte{0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255}, v, "nobody")
	s.Release()
}

func TestConcurrentStream(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	a, b := Pair(ns, sys.SOCK_STREAM, ctx.cred)
	const total = 4 << 20
	done := make(chan int)
	go func() {
		buf := make([]byte, 65536)
		got := 0
		e, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
		b.EventRegister(e)
		defer b.EventUnregister(e)
		for got < total {
			r, err := b.RecvMsg(nil, buf, 0, nil)
			if err == sys.EAGAIN {
				<-ch
				continue
			}
			if err != nil || r.N == 0 {
				break
			}
			for i := 0; i < r.N; i++ {
				if buf[i] != byte(got+i) {
					done <- -1
					return
				}
			}
			got += r.N
		}
		done <- got
	}()
	data := make([]byte, total)
	for i := range data {
		data[i] = byte(i)
	}
	e, ch := waiter.NewChannelEntry(waiter.WritableEvents)
	a.EventRegister(e)
	for off := 0; off < total; {
		n, err := a.SendMsg(ctx, data[off:min(off+50000, total)], nil, nil, 0)
		off += n
		if err == sys.EAGAIN {
			select {
			case <-ch:
			case <-time.After(100 * time.Millisecond): // a notification is a hint
			}
			continue
		}
		require.NoError(t, err)
	}
	a.EventUnregister(e)
	assert.Equal(t, total, <-done)
	a.Release()
	b.Release()
}

func TestProcNet(t *testing.T) {
	ns, ctx := NewNamespace(), newCtx()
	l := New(ns, sys.SOCK_STREAM, ctx.cred)
	require.NoError(t, l.Bind(ctx, sockaddr("/tmp/s")))
	require.NoError(t, l.Listen(ctx, 5))
	d := New(ns, sys.SOCK_DGRAM, ctx.cred)
	require.NoError(t, d.Bind(ctx, abstractAddr("name")))
	q := New(ns, sys.SOCK_SEQPACKET, ctx.cred)
	lines := strings.Split(strings.TrimSpace(ns.ProcNet()), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "Num       RefCount Protocol Flags    Type St Inode Path", lines[0])
	require.Equal(t, fmt.Sprintf("0000000000000000: 00000002 00000000 00010000 0001 01 %5d /tmp/s", l.ino), lines[1])
	require.Equal(t, fmt.Sprintf("0000000000000000: 00000002 00000000 00000000 0002 01 %5d @name", d.ino), lines[2])
	require.Equal(t, fmt.Sprintf("0000000000000000: 00000002 00000000 00000000 0005 01 %5d", q.ino), lines[3])
	for _, s := range []*Socket{l, d, q} {
		s.Release()
	}
	require.Equal(t, 1, strings.Count(ns.ProcNet(), "\n"), "released sockets are gone")
}
