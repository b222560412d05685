package syscalls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// waitPlatform makes address spaces without KVM; it cannot run user code.
type waitPlatform struct{ mem *memfile.File }

func (p waitPlatform) NewAddressSpace() (platform.AddressSpace, error) {
	t, err := pagetables.New(p.mem)
	if err != nil {
		return nil, err
	}
	return waitAS{t}, nil
}
func (p waitPlatform) NewContext() (platform.Context, error) { return nil, errors.New("no contexts") }
func (p waitPlatform) Name() string                          { return "test" }
func (p waitPlatform) FPLayout() platform.FPLayout           { return platform.FPLayout{} }
func (p waitPlatform) Stats() map[string]uint64              { return nil }

type waitAS struct{ t *pagetables.Tables }

func (a waitAS) Tables() *pagetables.Tables { return a.t }
func (a waitAS) Invalidate()                {}
func (a waitAS) Release()                   { a.t.Release() }

// Memory of the wait tests: one region of waitLen bytes.
const (
	waitMem = 0x20000000
	waitLen = 64 * 4096
)

// waitTasks makes two tasks (not runnable) of one process, with memory
// at waitMem and a descriptor table: the two sides of a cross-task wait.
func waitTasks(tb testing.TB) (a, b *kernel.Task) {
	tb.Helper()
	mem, err := memfile.New(memfile.ChunkSize, nil)
	require.NoError(tb, err)
	p := waitPlatform{mem}
	m, err := mm.New(p, mem)
	require.NoError(tb, err)
	tg := &kernel.ThreadGroup{FDs: fs.NewFDTable(0)}
	tb.Cleanup(func() {
		tg.FDs.Release()
		m.Release()
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
		unix.Close(mem.FD())
	})
	_, err = m.Mmap(mm.MmapOpts{Addr: waitMem, Len: waitLen, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
	require.NoError(tb, err)
	k := kernel.New(p, mem, nil)
	return &kernel.Task{K: k, TG: tg, MM: m, TID: 42}, &kernel.Task{K: k, TG: tg, MM: m, TID: 43}
}

// Addresses in the test memory.
const (
	fdsAt   = waitMem         // int[2]
	pollAt  = waitMem + 0x100 // struct pollfd / fd_set / epoll_event
	outAt   = waitMem + 0x200 // epoll events out
	bufA    = waitMem + 0x1000
	bufB    = waitMem + 0x20000
	bufSize = 0x1f000
)

func mustCall(tb testing.TB, h Handler, t *kernel.Task, a Args) uintptr {
	tb.Helper()
	r, err := h(t, a)
	require.NoError(tb, err)
	return r
}

func newPipeFDs(tb testing.TB, t *kernel.Task, flags int) (r, w uintptr) {
	tb.Helper()
	mustCall(tb, sysPipe2, t, Args{fdsAt, uintptr(flags)})
	var b [8]byte
	_, err := t.MM.CopyIn(fdsAt, b[:])
	require.NoError(tb, err)
	return uintptr(binary.LittleEndian.Uint32(b[0:])), uintptr(binary.LittleEndian.Uint32(b[4:]))
}

func putBytes(tb testing.TB, t *kernel.Task, addr uintptr, b []byte) {
	tb.Helper()
	_, err := t.MM.CopyOut(addr, b)
	require.NoError(tb, err)
}

func getBytes(tb testing.TB, t *kernel.Task, addr uintptr, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	_, err := t.MM.CopyIn(addr, b)
	require.NoError(tb, err)
	return b
}

type callResult struct {
	r   uintptr
	err error
}

// background runs a handler in a goroutine (another task's syscall).
func background(h Handler, t *kernel.Task, a Args) <-chan callResult {
	ch := make(chan callResult, 1)
	go func() {
		r, err := h(t, a)
		ch <- callResult{r, err}
	}()
	return ch
}

func await(tb testing.TB, ch <-chan callResult) callResult {
	tb.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		tb.Fatal("the waiting task was never woken")
		return callResult{}
	}
}

func notYet(tb testing.TB, ch <-chan callResult) {
	tb.Helper()
	select {
	case r := <-ch:
		tb.Fatalf("returned before the other task acted: %v %v", r.r, r.err)
	case <-time.After(30 * time.Millisecond):
	}
}

func TestPollWokenByOtherTask(t *testing.T) {
	a, b := waitTasks(t)
	r, w := newPipeFDs(t, a, 0)
	var pfd [8]byte
	binary.LittleEndian.PutUint32(pfd[0:], uint32(r))
	binary.LittleEndian.PutUint16(pfd[4:], unix.POLLIN)
	putBytes(t, a, pollAt, pfd[:])
	res := background(sysPoll, a, Args{pollAt, 1, ^uintptr(0)}) // timeout -1
	notYet(t, res)
	putBytes(t, b, bufB, []byte("x"))
	mustCall(t, sysWrite, b, Args{w, bufB, 1})
	got := await(t, res)
	require.NoError(t, got.err)
	assert.Equal(t, uintptr(1), got.r)
	rev := binary.LittleEndian.Uint16(getBytes(t, a, pollAt+6, 2))
	assert.Equal(t, uint16(unix.POLLIN), rev)
}

func TestPollTimesOut(t *testing.T) {
	a, _ := waitTasks(t)
	r, _ := newPipeFDs(t, a, 0)
	var pfd [8]byte
	binary.LittleEndian.PutUint32(pfd[0:], uint32(r))
	binary.LittleEndian.PutUint16(pfd[4:], unix.POLLIN)
	putBytes(t, a, pollAt, pfd[:])
	start := time.Now()
	n := mustCall(t, sysPoll, a, Args{pollAt, 1, 30})
	assert.Zero(t, n)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
}

func TestSelectWokenByOtherTask(t *testing.T) {
	a, b := waitTasks(t)
	r, w := newPipeFDs(t, a, 0)
	var set [8]byte
	set[r/8] |= 1 << (r % 8)
	putBytes(t, a, pollAt, set[:])
	res := background(sysSelect, a, Args{r + 1, pollAt, 0, 0, 0})
	notYet(t, res)
	putBytes(t, b, bufB, []byte("x"))
	mustCall(t, sysWrite, b, Args{w, bufB, 1})
	got := await(t, res)
	require.NoError(t, got.err)
	assert.Equal(t, uintptr(1), got.r)
	assert.Equal(t, set[:], getBytes(t, a, pollAt, 8))
}

func TestBlockingReadWokenByWrite(t *testing.T) {
	a, b := waitTasks(t)
	r, w := newPipeFDs(t, a, 0)
	res := background(sysRead, a, Args{r, bufA, 100})
	notYet(t, res)
	putBytes(t, b, bufB, []byte("hi"))
	mustCall(t, sysWrite, b, Args{w, bufB, 2})
	got := await(t, res)
	require.NoError(t, got.err)
	assert.Equal(t, uintptr(2), got.r)
	assert.Equal(t, []byte("hi"), getBytes(t, a, bufA, 2))
}

func TestBlockingReadEndsAtWriterClose(t *testing.T) {
	a, b := waitTasks(t)
	r, w := newPipeFDs(t, a, 0)
	res := background(sysRead, a, Args{r, bufA, 100})
	notYet(t, res)
	mustCall(t, sysClose, b, Args{w})
	got := await(t, res)
	require.NoError(t, got.err)
	assert.Zero(t, got.r, "end of file")
}

func TestBlockingWriteWokenByReads(t *testing.T) {
	a, b := waitTasks(t)
	r, w := newPipeFDs(t, a, 0)
	data := bytes.Repeat([]byte("0123456789abcdef"), 100000/16)
	putBytes(t, a, bufA, data)
	res := background(sysWrite, a, Args{w, bufA, uintptr(len(data))})
	notYet(t, res)
	var got []byte
	for len(got) < len(data) {
		n := mustCall(t, sysRead, b, Args{r, bufB, 7000})
		got = append(got, getBytes(t, b, bufB, int(n))...)
	}
	done := await(t, res)
	require.NoError(t, done.err)
	assert.Equal(t, uintptr(len(data)), done.r, "all of it, after waiting for room")
	assert.True(t, bytes.Equal(data, got))
}

func TestEpollWaitWokenByEventfd(t *testing.T) {
	a, b := waitTasks(t)
	ep := mustCall(t, sysEpollCreate1, a, Args{0})
	efd := mustCall(t, sysEventfd2, a, Args{0, 0})
	var ev [12]byte
	binary.LittleEndian.PutUint32(ev[0:], unix.EPOLLIN|1<<31) // EPOLLET
	binary.LittleEndian.PutUint64(ev[4:], 0xfeedface12345678)
	putBytes(t, a, pollAt, ev[:])
	mustCall(t, sysEpollCtl, a, Args{ep, unix.EPOLL_CTL_ADD, efd, pollAt})
	res := background(sysEpollWait, a, Args{ep, outAt, 4, ^uintptr(0)})
	notYet(t, res)
	var one [8]byte
	one[0] = 1
	putBytes(t, b, bufB, one[:])
	mustCall(t, sysWrite, b, Args{efd, bufB, 8})
	got := await(t, res)
	require.NoError(t, got.err)
	assert.Equal(t, uintptr(1), got.r)
	out := getBytes(t, a, outAt, 12)
	assert.Equal(t, uint32(unix.EPOLLIN), binary.LittleEndian.Uint32(out[0:]))
	assert.Equal(t, uint64(0xfeedface12345678), binary.LittleEndian.Uint64(out[4:]))

	// Edge-triggered: nothing new, so a short wait times out.
	n := mustCall(t, sysEpollWait, a, Args{ep, outAt, 4, 20})
	assert.Zero(t, n)
}

func TestNestedEpollWokenByPipe(t *testing.T) {
	a, b := waitTasks(t)
	inner := mustCall(t, sysEpollCreate1, a, Args{0})
	outer := mustCall(t, sysEpollCreate1, a, Args{0})
	r, w := newPipeFDs(t, a, 0)
	var ev [12]byte
	binary.LittleEndian.PutUint32(ev[0:], unix.EPOLLIN)
	binary.LittleEndian.PutUint64(ev[4:], 7)
	putBytes(t, a, pollAt, ev[:])
	mustCall(t, sysEpollCtl, a, Args{inner, unix.EPOLL_CTL_ADD, r, pollAt})
	binary.LittleEndian.PutUint64(ev[4:], 8)
	putBytes(t, a, pollAt, ev[:])
	mustCall(t, sysEpollCtl, a, Args{outer, unix.EPOLL_CTL_ADD, inner, pollAt})
	res := background(sysEpollWait, a, Args{outer, outAt, 4, ^uintptr(0)})
	notYet(t, res)
	putBytes(t, b, bufB, []byte("x"))
	mustCall(t, sysWrite, b, Args{w, bufB, 1})
	got := await(t, res)
	require.NoError(t, got.err)
	assert.Equal(t, uintptr(1), got.r)
	assert.Equal(t, uint64(8), binary.LittleEndian.Uint64(getBytes(t, a, outAt+4, 8)))
}

func TestEpollCtlBadInput(t *testing.T) {
	a, _ := waitTasks(t)
	ep := mustCall(t, sysEpollCreate1, a, Args{0})
	r, _ := newPipeFDs(t, a, 0)
	for _, c := range []struct {
		a    Args
		want error
	}{
		{Args{ep, unix.EPOLL_CTL_ADD, r, 8}, unix.EFAULT},
		{Args{ep, unix.EPOLL_CTL_ADD, 999, pollAt}, unix.EBADF},
		{Args{999, unix.EPOLL_CTL_ADD, r, pollAt}, unix.EBADF},
		{Args{r, unix.EPOLL_CTL_ADD, r, pollAt}, unix.EINVAL},
		{Args{ep, unix.EPOLL_CTL_ADD, ep, pollAt}, unix.EINVAL},
		{Args{ep, 42, r, pollAt}, unix.EINVAL},
		{Args{ep, unix.EPOLL_CTL_DEL, r, 0}, unix.ENOENT},
	} {
		_, err := sysEpollCtl(a, c.a)
		assert.Equal(t, c.want, err, "epoll_ctl%v", c.a[:4])
	}
	for _, args := range []Args{{ep, outAt, 0, 0}, {ep, outAt, ^uintptr(0), 0}, {ep, outAt, maxEpollEvents + 1, 0}} {
		_, err := sysEpollWait(a, args)
		assert.Equal(t, unix.EINVAL, err, "maxevents %d", int32(args[2]))
	}
	_, err := sysEpollWait(a, Args{r, outAt, 1, 0})
	assert.Equal(t, unix.EINVAL, err, "not an epoll fd")
	_, err = sysEpollCreate(a, Args{0})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysEventfd2(a, Args{0, 0x4})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysPipe2(a, Args{fdsAt, unix.O_APPEND})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysPipe2(a, Args{8, 0})
	assert.Equal(t, unix.EFAULT, err)
}

func TestPipeSizeAndFionread(t *testing.T) {
	a, _ := waitTasks(t)
	r, w := newPipeFDs(t, a, unix.O_NONBLOCK)
	assert.Equal(t, uintptr(65536), mustCall(t, sysFcntl, a, Args{r, unix.F_GETPIPE_SZ}))
	assert.Equal(t, uintptr(8192), mustCall(t, sysFcntl, a, Args{w, unix.F_SETPIPE_SZ, 5000}))
	putBytes(t, a, bufA, bytes.Repeat([]byte{'z'}, 20000))
	assert.Equal(t, uintptr(8192), mustCall(t, sysWrite, a, Args{w, bufA, 20000}), "partial, non-blocking")
	_, err := sysWrite(a, Args{w, bufA, 1})
	assert.Equal(t, unix.EAGAIN, err)
	mustCall(t, sysIoctl, a, Args{r, fionread, pollAt})
	assert.Equal(t, uint32(8192), binary.LittleEndian.Uint32(getBytes(t, a, pollAt, 4)))
	_, err = sysFcntl(a, Args{r, unix.F_SETPIPE_SZ, 4096})
	assert.Equal(t, unix.EBUSY, err)
}
