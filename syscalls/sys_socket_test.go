package syscalls

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
	"ringbox/guestkernel/kernel"
)

// Addresses of the socket tests, in the wait tests' memory.
const (
	msgAt  = bufA          // struct msghdr (or mmsghdr[])
	iovAt  = bufA + 0x400  // struct iovec[]
	ctlAt  = bufA + 0x600  // control buffer
	nameAt = bufA + 0x800  // sockaddr
	lenAt  = bufA + 0x900  // socklen_t
	dataAt = bufA + 0x1000 // data
)

func newSocketpair(tb testing.TB, t *kernel.Task, typ int) (uintptr, uintptr) {
	tb.Helper()
	mustCall(tb, sysSocketpair, t, Args{unix.AF_UNIX, uintptr(typ), 0, fdsAt})
	b := getBytes(tb, t, fdsAt, 8)
	return uintptr(binary.LittleEndian.Uint32(b)), uintptr(binary.LittleEndian.Uint32(b[4:]))
}

// putMsghdr writes a msghdr at msgAt with one iovec of n bytes at dataAt
// and a control buffer of ctlLen bytes at ctlAt (none if 0).
func putMsghdr(tb testing.TB, t *kernel.Task, at uintptr, n, ctlLen int) {
	tb.Helper()
	putMsghdrIov(tb, t, at, iovAt, n, ctlLen)
}

// putMsghdrIov is putMsghdr with its iovec at iovAddr.
func putMsghdrIov(tb testing.TB, t *kernel.Task, at, iovAddr uintptr, n, ctlLen int) {
	tb.Helper()
	le := binary.LittleEndian
	var iov [16]byte
	le.PutUint64(iov[0:], uint64(dataAt))
	le.PutUint64(iov[8:], uint64(n))
	putBytes(tb, t, iovAddr, iov[:])
	var m [msghdrSize]byte
	le.PutUint64(m[16:], uint64(iovAddr))
	le.PutUint64(m[24:], 1)
	if ctlLen > 0 {
		le.PutUint64(m[32:], uint64(ctlAt))
		le.PutUint64(m[40:], uint64(ctlLen))
	}
	putBytes(tb, t, at, m[:])
}

// putRights writes an SCM_RIGHTS control message with fds at ctlAt and
// returns its length.
func putRights(tb testing.TB, t *kernel.Task, fds ...int) int {
	tb.Helper()
	le := binary.LittleEndian
	n := cmsgHdrSize + 4*len(fds)
	b := make([]byte, (n+7)&^7)
	le.PutUint64(b[0:], uint64(n))
	le.PutUint32(b[8:], unix.SOL_SOCKET)
	le.PutUint32(b[12:], unix.SCM_RIGHTS)
	for i, fd := range fds {
		le.PutUint32(b[cmsgHdrSize+4*i:], uint32(fd))
	}
	putBytes(tb, t, ctlAt, b)
	return len(b)
}

func TestSocketCalls(t *testing.T) {
	a, _ := waitTasks(t)
	_, err := sysSocket(a, Args{unix.AF_APPLETALK, unix.SOCK_STREAM, 0})
	assert.Equal(t, unix.EAFNOSUPPORT, err)
	_, err = sysSocket(a, Args{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP})
	assert.Equal(t, unix.EPROTONOSUPPORT, err)
	_, err = sysSocket(a, Args{unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_TCP})
	assert.Equal(t, unix.EPERM, err)
	_, err = sysSocketpair(a, Args{unix.AF_INET, unix.SOCK_STREAM, 0, 16})
	assert.Equal(t, unix.EOPNOTSUPP, err)
	fd, err := sysSocket(a, Args{unix.AF_INET6, unix.SOCK_DGRAM, 0})
	require.NoError(t, err)
	require.NoError(t, a.TG.FDs.Remove(int(fd)))
	_, err = sysSocket(a, Args{unix.AF_UNIX, 99, 0})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysSocket(a, Args{unix.AF_UNIX, unix.SOCK_STREAM | 0x100000, 0})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysSocket(a, Args{unix.AF_UNIX, unix.SOCK_RDM, 0})
	assert.Equal(t, unix.ESOCKTNOSUPPORT, err)
	_, err = sysSocket(a, Args{unix.AF_UNIX, unix.SOCK_STREAM, 7})
	assert.Equal(t, unix.EPROTONOSUPPORT, err)
	_, err = sysSocketpair(a, Args{unix.AF_UNIX, unix.SOCK_STREAM, 0, 16})
	assert.Equal(t, unix.EFAULT, err)

	x, y := newSocketpair(t, a, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	ce, err := a.TG.FDs.CloseOnExec(int(x))
	require.NoError(t, err)
	assert.True(t, ce)
	putBytes(t, a, dataAt, []byte("hello"))
	assert.Equal(t, uintptr(5), mustCall(t, sysWrite, a, Args{x, dataAt, 5}))
	mustCall(t, sysIoctl, a, Args{y, unix.SIOCINQ, lenAt})
	assert.Equal(t, uint32(5), binary.LittleEndian.Uint32(getBytes(t, a, lenAt, 4)))
	assert.Equal(t, uintptr(5), mustCall(t, sysRead, a, Args{y, bufB, 100}))
	assert.Equal(t, "hello", string(getBytes(t, a, bufB, 5)))
	_, err = sysRead(a, Args{y, bufB, 100})
	assert.Equal(t, unix.EAGAIN, err)

	mustCall(t, sysFstat, a, Args{x, bufB})
	mode := binary.LittleEndian.Uint32(getBytes(t, a, bufB+24, 4))
	assert.Equal(t, uint32(unix.S_IFSOCK|0o777), mode)

	binary.LittleEndian.PutUint32(getBytes(t, a, lenAt, 4), 4)
	putBytes(t, a, lenAt, []byte{4, 0, 0, 0})
	mustCall(t, sysGetsockopt, a, Args{x, unix.SOL_SOCKET, unix.SO_TYPE, nameAt, lenAt})
	assert.Equal(t, uint32(unix.SOCK_STREAM), binary.LittleEndian.Uint32(getBytes(t, a, nameAt, 4)))

	r, w := newPipeFDs(t, a, 0)
	_, err = sysBind(a, Args{r, nameAt, 2})
	assert.Equal(t, unix.ENOTSOCK, err)
	_, err = sysListen(a, Args{99, 1})
	assert.Equal(t, unix.EBADF, err)
	_, err = sysShutdown(a, Args{x, 7})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysBind(a, Args{x, nameAt, 200})
	assert.Equal(t, unix.EINVAL, err)
	_ = w
}

func TestSCMRights(t *testing.T) {
	a, _ := waitTasks(t)
	x, y := newSocketpair(t, a, unix.SOCK_STREAM)
	r, w := newPipeFDs(t, a, 0)

	putBytes(t, a, dataAt, []byte("fd"))
	putMsghdr(t, a, msgAt, 2, putRights(t, a, int(r)))
	assert.Equal(t, uintptr(2), mustCall(t, sysSendmsg, a, Args{x, msgAt, 0}))
	mustCall(t, sysClose, a, Args{r})

	putMsghdr(t, a, msgAt, 10, 64)
	assert.Equal(t, uintptr(2), mustCall(t, sysRecvmsg, a, Args{y, msgAt, unix.MSG_CMSG_CLOEXEC}))
	le := binary.LittleEndian
	m := getBytes(t, a, msgAt, msghdrSize)
	assert.Equal(t, uint64(24), le.Uint64(m[40:]), "controllen: CMSG_SPACE(4)")
	assert.Equal(t, uint32(unix.MSG_CMSG_CLOEXEC), le.Uint32(m[48:]), "msg_flags")
	c := getBytes(t, a, ctlAt, 24)
	assert.Equal(t, uint64(20), le.Uint64(c))
	assert.Equal(t, uint32(unix.SCM_RIGHTS), le.Uint32(c[12:]))
	nfd := uintptr(le.Uint32(c[16:]))
	ce, err := a.TG.FDs.CloseOnExec(int(nfd))
	require.NoError(t, err)
	assert.True(t, ce)
	putBytes(t, a, bufB, []byte("through"))
	mustCall(t, sysWrite, a, Args{w, bufB, 7})
	assert.Equal(t, uintptr(7), mustCall(t, sysRead, a, Args{nfd, bufB + 0x100, 100}), "the passed pipe end works")

	// Three descriptors, room for one: MSG_CTRUNC, the rest closed.
	putMsghdr(t, a, msgAt, 2, putRights(t, a, int(w), int(w), int(w)))
	mustCall(t, sysSendmsg, a, Args{x, msgAt, 0})
	putMsghdr(t, a, msgAt, 10, 20)
	mustCall(t, sysRecvmsg, a, Args{y, msgAt, 0})
	m = getBytes(t, a, msgAt, msghdrSize)
	assert.Equal(t, uint64(20), le.Uint64(m[40:]))
	assert.Equal(t, uint32(unix.MSG_CTRUNC), le.Uint32(m[48:]))

	// Bad descriptors and too many.
	putMsghdr(t, a, msgAt, 2, putRights(t, a, 999))
	_, err = sysSendmsg(a, Args{x, msgAt, 0})
	assert.Equal(t, unix.EBADF, err)
	many := make([]int, 254)
	for i := range many {
		many[i] = int(w)
	}
	putMsghdr(t, a, msgAt, 2, putRights(t, a, many...))
	_, err = sysSendmsg(a, Args{x, msgAt, 0})
	assert.Equal(t, unix.EINVAL, err)
	putMsghdr(t, a, msgAt, 2, 8)
	_, err = sysSendmsg(a, Args{x, msgAt, 0})
	assert.NoError(t, err, "a control buffer too short for a header is ignored")
}

func TestSocketPathsAndWaits(t *testing.T) {
	a, b := waitTasks(t)
	tfs := tmpfs.New(1 << 20)
	a.K.VFS = fs.NewVFS(tfs, false)
	a.TG.SetCwd(a.K.VFS.Root())

	srv := mustCall(t, sysSocket, a, Args{unix.AF_UNIX, unix.SOCK_STREAM, 0})
	sa := binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX)
	sa = append(sa, "srv\x00"...)
	putBytes(t, a, nameAt, sa)
	mustCall(t, sysBind, a, Args{srv, nameAt, uintptr(len(sa))})
	node, err := tfs.Root().Lookup("srv")
	require.NoError(t, err)
	st, err := node.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFSOCK), st.Mode&unix.S_IFMT, "bind made a socket node")
	other := mustCall(t, sysSocket, a, Args{unix.AF_UNIX, unix.SOCK_STREAM, 0})
	_, err = sysBind(a, Args{other, nameAt, uintptr(len(sa))})
	assert.Equal(t, unix.EADDRINUSE, err)
	_, err = sysConnect(a, Args{other, nameAt, uintptr(len(sa))})
	assert.Equal(t, unix.ECONNREFUSED, err)
	mustCall(t, sysListen, a, Args{srv, 0})

	res := background(func(t *kernel.Task, _ Args) (uintptr, error) {
		return doAccept(t, srv, 0, 0, unix.SOCK_CLOEXEC)
	}, a, Args{})
	notYet(t, res)
	mustCall(t, sysConnect, b, Args{other, nameAt, uintptr(len(sa))})
	got := await(t, res)
	require.NoError(t, got.err)
	acc := got.r

	// A blocked receive is woken by the other task's send.
	rres := background(sysRecvfrom, a, Args{acc, bufB, 100, 0, 0, 0})
	notYet(t, rres)
	putBytes(t, b, dataAt, []byte("ping"))
	mustCall(t, sysSendto, b, Args{other, dataAt, 4, 0, 0, 0})
	got = await(t, rres)
	require.NoError(t, got.err)
	assert.Equal(t, uintptr(4), got.r)

	// SO_RCVTIMEO ends a receive with EAGAIN.
	var tv [16]byte
	binary.LittleEndian.PutUint64(tv[8:], 40000)
	putBytes(t, a, bufB, tv[:])
	mustCall(t, sysSetsockopt, a, Args{acc, unix.SOL_SOCKET, unix.SO_RCVTIMEO, bufB, 16})
	start := time.Now()
	_, err = sysRead(a, Args{acc, bufB, 100})
	assert.Equal(t, unix.EAGAIN, err)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)

	// A second connect waits for the backlog (0: one pending connection).
	c2 := mustCall(t, sysSocket, b, Args{unix.AF_UNIX, unix.SOCK_STREAM, 0})
	mustCall(t, sysConnect, b, Args{c2, nameAt, uintptr(len(sa))})
	c3 := mustCall(t, sysSocket, b, Args{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_NONBLOCK, 0})
	_, err = sysConnect(b, Args{c3, nameAt, uintptr(len(sa))})
	assert.Equal(t, unix.EAGAIN, err, "backlog full, nonblocking")
	c4 := mustCall(t, sysSocket, b, Args{unix.AF_UNIX, unix.SOCK_STREAM, 0})
	cres := background(sysConnect, b, Args{c4, nameAt, uintptr(len(sa))})
	notYet(t, cres)
	mustCall(t, func(t *kernel.Task, _ Args) (uintptr, error) { return doAccept(t, srv, 0, 0, 0) }, a, Args{})
	got = await(t, cres)
	assert.NoError(t, got.err, "accept made room")

	// getsockname of the accepted socket: the listener's path.
	putBytes(t, a, lenAt, []byte{110, 0, 0, 0})
	mustCall(t, func(t *kernel.Task, a Args) (uintptr, error) { return sockName(t, a, false) }, a, Args{acc, bufB, lenAt})
	assert.Equal(t, uint32(len(sa)), binary.LittleEndian.Uint32(getBytes(t, a, lenAt, 4)))
	assert.Equal(t, sa, getBytes(t, a, bufB, len(sa)))
}

func TestMmsg(t *testing.T) {
	a, _ := waitTasks(t)
	x, y := newSocketpair(t, a, unix.SOCK_DGRAM)
	putBytes(t, a, dataAt, []byte("abcdef"))
	for i := 0; i < 3; i++ {
		putMsghdrIov(t, a, msgAt+uintptr(i)*mmsghdrSize, iovAt+uintptr(i)*16, 2*(i+1), 0)
	}
	assert.Equal(t, uintptr(3), mustCall(t, sysSendmmsg, a, Args{x, msgAt, 3, 0}))
	assert.Equal(t, uintptr(3), mustCall(t, sysRecvmmsg, a, Args{y, msgAt, 8, unix.MSG_DONTWAIT, 0}))
	for i := 0; i < 3; i++ {
		l := binary.LittleEndian.Uint32(getBytes(t, a, msgAt+uintptr(i)*mmsghdrSize+msghdrSize, 4))
		assert.Equal(t, uint32(2*(i+1)), l)
	}
	_, err := sysRecvmmsg(a, Args{y, msgAt, 8, unix.MSG_DONTWAIT, 0})
	assert.Equal(t, unix.EAGAIN, err)
}
