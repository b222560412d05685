package kernel

import (
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// ---- a kernel-less environment: address spaces on a fake platform ----

type testPlatform struct{ mem *memfile.File }

func (p *testPlatform) NewAddressSpace() (platform.AddressSpace, error) {
	t, err := pagetables.New(p.mem)
	if err != nil {
		return nil, err
	}
	t.AlwaysUser = true
	return &testAS{t}, nil
}
func (p *testPlatform) NewContext() (platform.Context, error) {
	return nil, errors.New("test platform: no contexts")
}
func (p *testPlatform) Name() string                { return "test" }
func (p *testPlatform) FPLayout() platform.FPLayout { return platform.FPLayout{} }
func (p *testPlatform) Stats() map[string]uint64    { return nil }

type testAS struct{ t *pagetables.Tables }

func (a *testAS) Tables() *pagetables.Tables { return a.t }
func (a *testAS) Invalidate()                {}
func (a *testAS) Release()                   { a.t.Release() }

// testPager is a shared memory object (a memfd) of preallocated pages.
type testPager struct {
	mem   *memfile.File
	pages []uintptr
}

func (p *testPager) PageAddr(idx int64) (uintptr, error) {
	if idx < 0 || idx >= int64(len(p.pages)) {
		return 0, unix.ENXIO
	}
	return p.pages[idx], nil
}

const (
	privBase   = 0x10000000 // private anonymous, 16 pages
	sharedBase = 0x20000000 // MAP_SHARED of the test pager, 2 pages
	pageSz     = 4096
)

type futexEnv struct {
	mem   *memfile.File
	f     *FutexTable
	pager *testPager
	live  sync.Map // tid -> *Task: the tasks taskByTID finds
}

func newFutexEnv(tb testing.TB) *futexEnv {
	tb.Helper()
	mem, err := memfile.New(memfile.ChunkSize, nil)
	require.NoError(tb, err)
	e := &futexEnv{mem: mem, f: &FutexTable{}}
	e.f.taskByTID = func(tid int32) *Task {
		if t, ok := e.live.Load(tid); ok {
			return t.(*Task)
		}
		return nil
	}
	e.pager = &testPager{mem: mem}
	for i := 0; i < 2; i++ {
		pa, err := mem.Alloc()
		require.NoError(tb, err)
		e.pager.pages = append(e.pager.pages, pa)
	}
	tb.Cleanup(func() {
		for _, pa := range e.pager.pages {
			mem.Free(pa)
		}
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
		unix.Close(mem.FD())
	})
	return e
}

// newMM makes an address space with the private and shared test mappings.
func (e *futexEnv) newMM(tb testing.TB) *mm.MM {
	tb.Helper()
	m, err := mm.New(&testPlatform{e.mem}, e.mem)
	require.NoError(tb, err)
	tb.Cleanup(m.Release)
	_, err = m.Mmap(mm.MmapOpts{Addr: privBase, Len: 16 * pageSz, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
	require.NoError(tb, err)
	_, err = m.Mmap(mm.MmapOpts{Addr: sharedBase, Len: 2 * pageSz, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true,
		Shared: true, Pager: e.pager})
	require.NoError(tb, err)
	return m
}

// addTask makes tid a live task for LOCK_PI's owner checks.
func (e *futexEnv) addTask(tid int32) *Task {
	t := &Task{}
	e.live.Store(tid, t)
	return t
}

func set(tb testing.TB, m *mm.MM, addr uintptr, v uint32) {
	tb.Helper()
	_, err := m.FutexUpdate(addr, func(uint32) uint32 { return v })
	require.NoError(tb, err)
}

func get(tb testing.TB, m *mm.MM, addr uintptr) uint32 {
	tb.Helper()
	v, err := m.FutexLoad(addr)
	require.NoError(tb, err)
	return v
}

// fakeSig is an Interruptible a test can signal.
type fakeSig struct {
	ch      chan struct{}
	pending atomic.Bool
}

func newSig() *fakeSig { return &fakeSig{ch: make(chan struct{}, 1)} }

func (s *fakeSig) Interrupted() <-chan struct{} { return s.ch }
func (s *fakeSig) SignalPending() bool          { return s.pending.Load() }
func (s *fakeSig) signal() {
	s.pending.Store(true)
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// queued counts the waiters queued on key.
func (f *FutexTable) queued(key mm.FutexKey) int {
	b := f.bucketOf(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for w := b.head; w != nil; w = w.next {
		if w.key == key {
			n++
		}
	}
	return n
}

// waitQueued waits until n waiters are queued on the futex at addr.
func waitQueued(tb testing.TB, f *FutexTable, m *mm.MM, addr uintptr, private bool, n int) {
	tb.Helper()
	key, err := m.FutexKey(addr, private)
	require.NoError(tb, err)
	deadline := time.Now().Add(10 * time.Second)
	for f.queued(key) != n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d waiters queued at %#x, want %d", f.queued(key), addr, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// async runs fn in a goroutine; the result arrives on the channel.
func async(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

func result(tb testing.TB, ch <-chan error) error {
	tb.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		tb.Fatal("the waiter did not return")
		return nil
	}
}

func noResult(tb testing.TB, ch <-chan error) {
	tb.Helper()
	select {
	case err := <-ch:
		tb.Fatalf("the waiter returned %v", err)
	case <-time.After(20 * time.Millisecond):
	}
}

var never time.Time

// ---- WAIT / WAKE ----

func TestFutexWaitChecks(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	s := newSig()
	set(t, m, privBase, 5)
	assert.Equal(t, unix.EAGAIN, e.f.Wait(s, m, privBase, true, 4, FutexBitsetAny, never))
	assert.Equal(t, unix.EAGAIN, e.f.Wait(s, m, privBase, false, 4, FutexBitsetAny, never))
	assert.Equal(t, unix.EINVAL, e.f.Wait(s, m, privBase+2, true, 5, FutexBitsetAny, never))
	assert.Equal(t, unix.EINVAL, e.f.Wait(s, m, privBase, true, 5, 0, never), "bitset 0")
	assert.Equal(t, unix.EFAULT, e.f.Wait(s, m, 0x1000, true, 0, FutexBitsetAny, never))
	assert.Equal(t, unix.EFAULT, e.f.Wait(s, m, mm.UserEnd, true, 0, FutexBitsetAny, never))

	_, err := e.f.Wake(m, privBase+1, true, 1, FutexBitsetAny)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.f.Wake(m, privBase, true, 1, 0)
	assert.Equal(t, unix.EINVAL, err, "bitset 0")
	n, err := e.f.Wake(m, 0x1000, true, 1, FutexBitsetAny)
	assert.NoError(t, err, "a private wake does not touch memory")
	assert.Equal(t, 0, n)
	_, err = e.f.Wake(m, 0x1000, false, 1, FutexBitsetAny)
	assert.Equal(t, unix.EFAULT, err, "a shared wake needs the page")
}

func TestFutexWakeCounts(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	const n = 10
	var done atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, e.f.Wait(newSig(), m, privBase, true, 0, FutexBitsetAny, never))
			done.Add(1)
		}()
	}
	waitQueued(t, e.f, m, privBase, true, n)
	woken, err := e.f.Wake(m, privBase, true, 3, FutexBitsetAny)
	require.NoError(t, err)
	assert.Equal(t, 3, woken)
	waitQueued(t, e.f, m, privBase, true, n-3)

	// As Linux: a count of 0 or below still wakes one.
	woken, _ = e.f.Wake(m, privBase, true, 0, FutexBitsetAny)
	assert.Equal(t, 1, woken)
	woken, _ = e.f.Wake(m, privBase, true, -1, FutexBitsetAny)
	assert.Equal(t, 1, woken)

	// Another address, and the shared key of the same word, wake nobody.
	woken, _ = e.f.Wake(m, privBase+4, true, n, FutexBitsetAny)
	assert.Equal(t, 0, woken)
	woken, _ = e.f.Wake(m, privBase, false, n, FutexBitsetAny)
	assert.Equal(t, 0, woken, "a shared wake does not wake a private waiter")

	woken, _ = e.f.Wake(m, privBase, true, math.MaxInt32, FutexBitsetAny)
	assert.Equal(t, n-5, woken)
	wg.Wait()
	assert.Equal(t, int32(n), done.Load())
	woken, _ = e.f.Wake(m, privBase, true, 1, FutexBitsetAny)
	assert.Equal(t, 0, woken)
}

func TestFutexWaitTimeoutAndSignals(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	s := newSig()
	start := time.Now()
	assert.Equal(t, unix.ETIMEDOUT, e.f.Wait(s, m, privBase, true, 0, FutexBitsetAny, time.Now().Add(30*time.Millisecond)))
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.Equal(t, unix.ETIMEDOUT, e.f.Wait(s, m, privBase, true, 0, FutexBitsetAny, time.Now().Add(-time.Second)),
		"a deadline in the past")
	assert.Equal(t, unix.EAGAIN, e.f.Wait(s, m, privBase, true, 1, FutexBitsetAny, time.Now().Add(-time.Second)),
		"the value is compared first")

	// A wake-up of the task without a signal to act on keeps it waiting.
	ch := async(func() error { return e.f.Wait(s, m, privBase, true, 0, FutexBitsetAny, never) })
	waitQueued(t, e.f, m, privBase, true, 1)
	s.ch <- struct{}{}
	noResult(t, ch)
	s.signal()
	assert.Equal(t, unix.EINTR, result(t, ch))
	waitQueued(t, e.f, m, privBase, true, 0)

	// A signal already pending interrupts at once.
	assert.Equal(t, unix.EINTR, e.f.Wait(s, m, privBase, true, 0, FutexBitsetAny, never))
	waitQueued(t, e.f, m, privBase, true, 0)
}

func TestFutexBitset(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	bitsets := []uint32{1, 2, 3, 4, FutexBitsetAny}
	chans := make([]<-chan error, len(bitsets))
	for i, bs := range bitsets {
		chans[i] = async(func() error { return e.f.Wait(newSig(), m, privBase, true, 0, bs, never) })
		waitQueued(t, e.f, m, privBase, true, i+1)
	}
	woken, err := e.f.Wake(m, privBase, true, 100, 2)
	require.NoError(t, err)
	assert.Equal(t, 3, woken, "bitsets 2, 3 and any share bit 1")
	for _, i := range []int{1, 2, 4} {
		assert.NoError(t, result(t, chans[i]))
	}
	woken, _ = e.f.Wake(m, privBase, true, 100, 8)
	assert.Equal(t, 0, woken)
	woken, _ = e.f.Wake(m, privBase, true, 100, 5)
	assert.Equal(t, 2, woken)
	assert.NoError(t, result(t, chans[0]))
	assert.NoError(t, result(t, chans[3]))
}

// ---- shared futexes across address spaces ----

func TestFutexSharedAcrossAddressSpaces(t *testing.T) {
	e := newFutexEnv(t)
	m1 := e.newMM(t)
	m2, err := mm.New(&testPlatform{e.mem}, e.mem)
	require.NoError(t, err)
	t.Cleanup(m2.Release)
	// The same memfd page, at another address in the second process.
	const other = 0x30000000
	_, err = m2.Mmap(mm.MmapOpts{Addr: other, Len: pageSz, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true,
		Shared: true, Pager: e.pager, PagerOff: 1})
	require.NoError(t, err)
	_, err = m2.Mmap(mm.MmapOpts{Addr: privBase, Len: pageSz, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
	require.NoError(t, err)

	addr1 := uintptr(sharedBase + pageSz + 64)
	addr2 := uintptr(other + 64)
	k1, err := m1.FutexKey(addr1, false)
	require.NoError(t, err)
	k2, err := m2.FutexKey(addr2, false)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "one key for one page")

	set(t, m2, addr2, 7)
	assert.Equal(t, uint32(7), get(t, m1, addr1), "the same word")
	ch := async(func() error { return e.f.Wait(newSig(), m1, addr1, false, 7, FutexBitsetAny, never) })
	waitQueued(t, e.f, m1, addr1, false, 1)
	woken, err := e.f.Wake(m2, addr2+4, false, 1, FutexBitsetAny)
	require.NoError(t, err)
	assert.Equal(t, 0, woken, "another word")
	woken, err = e.f.Wake(m2, addr2, true, 1, FutexBitsetAny)
	require.NoError(t, err)
	assert.Equal(t, 0, woken, "a private wake in another process")
	woken, err = e.f.Wake(m2, addr2, false, 1, FutexBitsetAny)
	require.NoError(t, err)
	assert.Equal(t, 1, woken)
	assert.NoError(t, result(t, ch))

	// Private mappings at the same address in two processes do not meet,
	// with or without FUTEX_PRIVATE_FLAG.
	for _, private := range []bool{true, false} {
		ch = async(func() error { return e.f.Wait(newSig(), m1, privBase, private, 0, FutexBitsetAny, never) })
		waitQueued(t, e.f, m1, privBase, private, 1)
		woken, err = e.f.Wake(m2, privBase, private, 1, FutexBitsetAny)
		require.NoError(t, err)
		assert.Equal(t, 0, woken)
		woken, err = e.f.Wake(m1, privBase, private, 1, FutexBitsetAny)
		require.NoError(t, err)
		assert.Equal(t, 1, woken)
		assert.NoError(t, result(t, ch))
	}

	// A requeue from one process moves waiters of another.
	ch = async(func() error { return e.f.Wait(newSig(), m1, addr1, false, 7, FutexBitsetAny, never) })
	waitQueued(t, e.f, m1, addr1, false, 1)
	n, err := e.f.Requeue(m2, addr2, privBase, false, 0, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	woken, _ = e.f.Wake(m2, privBase, false, 1, FutexBitsetAny)
	assert.Equal(t, 1, woken)
	assert.NoError(t, result(t, ch))
}

// ---- REQUEUE ----

func startWaiters(t *testing.T, e *futexEnv, m *mm.MM, addr uintptr, n int) []<-chan error {
	t.Helper()
	var chans []<-chan error
	for i := 0; i < n; i++ {
		chans = append(chans, async(func() error { return e.f.Wait(newSig(), m, addr, true, 0, FutexBitsetAny, never) }))
		waitQueued(t, e.f, m, addr, true, i+1)
	}
	return chans
}

func TestFutexRequeue(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a, b := uintptr(privBase), uintptr(privBase+pageSz)
	chans := startWaiters(t, e, m, a, 10)

	cmp := uint32(1)
	_, err := e.f.Requeue(m, a, b, true, 1, 1, &cmp)
	assert.Equal(t, unix.EAGAIN, err, "CMP_REQUEUE with the wrong value")
	_, err = e.f.Requeue(m, a, b, true, -1, 1, nil)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.f.Requeue(m, a, b, true, 1, -1, nil)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.f.Requeue(m, a, b+1, true, 1, 1, nil)
	assert.Equal(t, unix.EINVAL, err)

	cmp = 0
	n, err := e.f.Requeue(m, a, b, true, 2, 3, &cmp)
	require.NoError(t, err)
	assert.Equal(t, 5, n, "2 woken + 3 requeued")
	// FIFO: the first two woke.
	assert.NoError(t, result(t, chans[0]))
	assert.NoError(t, result(t, chans[1]))
	waitQueued(t, e.f, m, a, true, 5)
	waitQueued(t, e.f, m, b, true, 3)

	// Requeue onto the same futex: counted, nobody lost, no loop.
	n, err = e.f.Requeue(m, a, a, true, 0, 100, nil)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	waitQueued(t, e.f, m, a, true, 5)

	n, err = e.f.Requeue(m, a, b, true, 0, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	woken, _ := e.f.Wake(m, b, true, 100, FutexBitsetAny)
	assert.Equal(t, 3, woken)
	woken, _ = e.f.Wake(m, a, true, 100, FutexBitsetAny)
	assert.Equal(t, 5, woken)
	for _, ch := range chans[2:] {
		assert.NoError(t, result(t, ch))
	}
}

func TestFutexRequeuedWaiterTimesOut(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a, b := uintptr(privBase), uintptr(privBase+pageSz)
	s := newSig()
	ch := async(func() error { return e.f.Wait(s, m, a, true, 0, FutexBitsetAny, never) })
	waitQueued(t, e.f, m, a, true, 1)
	n, err := e.f.Requeue(m, a, b, true, 0, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	s.signal()
	assert.Equal(t, unix.EINTR, result(t, ch), "a requeued waiter leaves the queue it moved to")
	waitQueued(t, e.f, m, b, true, 0)
	waitQueued(t, e.f, m, a, true, 0)
}

// ---- WAKE_OP ----

// futexOp builds a FUTEX_WAKE_OP operation as the man page's FUTEX_OP macro.
func futexOp(op, oparg, cmp, cmparg uint32) uint32 {
	return (op&0xf)<<28 | (cmp&0xf)<<24 | (oparg&0xfff)<<12 | cmparg&0xfff
}

const opArgShift = 8 // FUTEX_OP_OPARG_SHIFT

func TestFutexWakeOpEncodings(t *testing.T) {
	neg := func(v int32) uint32 { return uint32(v) & 0xfff }
	tests := []struct {
		name     string
		old      uint32
		op       uint32
		want     uint32 // the word afterwards
		hit      bool   // the comparison of the old value
		errNoSys bool
	}{
		{"SET", 9, futexOp(futexOpSet, 5, futexOpCmpEq, 9), 5, true, false},
		{"ADD", 10, futexOp(futexOpAdd, 3, futexOpCmpNe, 10), 13, false, false},
		{"ADD negative", 10, futexOp(futexOpAdd, neg(-1), futexOpCmpGt, 9), 9, true, false},
		{"OR", 0x101, futexOp(futexOpOr, 0x10, futexOpCmpGe, 0x101), 0x111, true, false},
		{"ANDN", 0xff, futexOp(futexOpAndN, 0x0f, futexOpCmpLt, 0xff), 0xf0, false, false},
		{"XOR", 0xff, futexOp(futexOpXor, 0x0f, futexOpCmpLe, 0xff), 0xf0, true, false},
		{"OR shifted", 1, futexOp(opArgShift|futexOpOr, 4, futexOpCmpEq, 1), 17, true, false},
		{"SET shifted 31", 0, futexOp(opArgShift|futexOpSet, 31, futexOpCmpEq, 0), 1 << 31, true, false},
		{"shift past 31 is masked", 0, futexOp(opArgShift|futexOpOr, 33, futexOpCmpNe, 0), 2, false, false},
		{"signed comparison", 0xffffffff, futexOp(futexOpSet, 0, futexOpCmpLt, 0), 0, true, false},
		{"negative cmparg", 0xffffffff, futexOp(futexOpSet, 0, futexOpCmpEq, neg(-1)), 0, true, false},
		{"cmparg is 12 bits", 0x801, futexOp(futexOpSet, 0, futexOpCmpEq, 0x801), 0, false, false},
		// glibc's pthread_cond_signal of old: FUTEX_OP_CLEAR_WAKE_IF_GT_ONE.
		{"clear wake if gt one", 2, futexOp(futexOpSet, 0, futexOpCmpGt, 1), 0, true, false},
		{"clear wake if gt one (1)", 1, futexOp(futexOpSet, 0, futexOpCmpGt, 1), 0, false, false},
		{"unknown op", 7, futexOp(5, 1, futexOpCmpEq, 0), 7, false, true},
		{"unknown op 7", 7, futexOp(7, 1, futexOpCmpEq, 0), 7, false, true},
		{"unknown cmp: the op is done", 0, futexOp(futexOpAdd, 5, 6, 0), 5, false, true},
		{"unknown cmp 15", 0, futexOp(futexOpAdd, 5, 15, 0), 5, false, true},
	}
	e := newFutexEnv(t)
	m := e.newMM(t)
	a, b := uintptr(privBase), uintptr(privBase+4)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set(t, m, b, tc.old)
			ca := async(func() error { return e.f.Wait(newSig(), m, a, true, 0, FutexBitsetAny, never) })
			waitQueued(t, e.f, m, a, true, 1)
			cb := async(func() error { return e.f.Wait(newSig(), m, b, true, tc.old, FutexBitsetAny, never) })
			waitQueued(t, e.f, m, b, true, 1)
			n, err := e.f.WakeOp(m, a, b, true, 1, 1, tc.op)
			assert.Equal(t, tc.want, get(t, m, b), "the word")
			if tc.errNoSys {
				assert.Equal(t, unix.ENOSYS, err)
			} else {
				require.NoError(t, err)
				want := 1
				if tc.hit {
					want = 2
				}
				assert.Equal(t, want, n)
			}
			// Clean up whoever is left.
			e.f.Wake(m, a, true, 1, FutexBitsetAny)
			e.f.Wake(m, b, true, 1, FutexBitsetAny)
			assert.NoError(t, result(t, ca))
			assert.NoError(t, result(t, cb))
		})
	}
}

func TestFutexWakeOpCounts(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a, b := uintptr(privBase), uintptr(privBase+8)
	ca := startWaiters(t, e, m, a, 3)
	cb := startWaiters(t, e, m, b, 3)
	n, err := e.f.WakeOp(m, a, b, true, 2, 1, futexOp(futexOpAdd, 1, futexOpCmpEq, 0))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "2 of the first, 1 of the second")
	assert.Equal(t, uint32(1), get(t, m, b))
	n, err = e.f.WakeOp(m, a, b, true, 5, 5, futexOp(futexOpAdd, 1, futexOpCmpEq, 0))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the comparison fails: the second is not woken")
	n, _ = e.f.Wake(m, b, true, 10, FutexBitsetAny)
	assert.Equal(t, 2, n)
	for _, ch := range append(ca, cb...) {
		assert.NoError(t, result(t, ch))
	}
	_, err = e.f.WakeOp(m, a, 0x1000, true, 1, 1, futexOp(futexOpAdd, 1, futexOpCmpEq, 0))
	assert.Equal(t, unix.EFAULT, err)
	_, err = e.f.WakeOp(m, a, b+1, true, 1, 1, 0)
	assert.Equal(t, unix.EINVAL, err)
}

// ---- futex_waitv ----

func TestFutexWaitv(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	s := newSig()
	vs := []FutexWaitv{
		{Addr: privBase, Val: 0, Private: true},
		{Addr: privBase + 4, Val: 0, Private: true},
		{Addr: sharedBase, Val: 0},
	}
	type res struct {
		idx int
		err error
	}
	run := func() <-chan res {
		ch := make(chan res, 1)
		go func() {
			idx, err := e.f.WaitV(s, m, vs, never)
			ch <- res{idx, err}
		}()
		for _, v := range vs {
			waitQueued(t, e.f, m, v.Addr, v.Private, 1)
		}
		return ch
	}
	ch := run()
	n, _ := e.f.Wake(m, sharedBase, false, 1, FutexBitsetAny)
	assert.Equal(t, 1, n)
	r := <-ch
	assert.Equal(t, res{2, nil}, r)
	for _, v := range vs {
		waitQueued(t, e.f, m, v.Addr, v.Private, 0)
	}

	ch = run()
	n, _ = e.f.Wake(m, privBase+4, true, 1, FutexBitsetAny)
	assert.Equal(t, 1, n)
	assert.Equal(t, res{1, nil}, <-ch)

	ch = run()
	s.signal()
	r = <-ch
	assert.Equal(t, unix.EINTR, r.err)
	s.pending.Store(false)
	select {
	case <-s.ch:
	default:
	}

	set(t, m, privBase+4, 3)
	_, err := e.f.WaitV(s, m, vs, never)
	assert.Equal(t, unix.EAGAIN, err)
	for _, v := range vs {
		waitQueued(t, e.f, m, v.Addr, v.Private, 0)
	}
	set(t, m, privBase+4, 0)

	_, err = e.f.WaitV(s, m, vs, time.Now().Add(20*time.Millisecond))
	assert.Equal(t, unix.ETIMEDOUT, err)
	_, err = e.f.WaitV(s, m, nil, never)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.f.WaitV(s, m, make([]FutexWaitv, FutexWaitvMax+1), never)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.f.WaitV(s, m, []FutexWaitv{{Addr: privBase + 2}}, never)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.f.WaitV(s, m, []FutexWaitv{{Addr: privBase}, {Addr: 0x1000, Private: true}}, never)
	assert.Equal(t, unix.EFAULT, err)
	waitQueued(t, e.f, m, privBase, false, 0)

	// 128 entries on one word: a wake of all returns the highest index.
	many := make([]FutexWaitv, FutexWaitvMax)
	for i := range many {
		many[i] = FutexWaitv{Addr: privBase + 8, Private: true}
	}
	done := make(chan res, 1)
	go func() {
		idx, err := e.f.WaitV(s, m, many, never)
		done <- res{idx, err}
	}()
	waitQueued(t, e.f, m, privBase+8, true, FutexWaitvMax)
	n, _ = e.f.Wake(m, privBase+8, true, math.MaxInt32, FutexBitsetAny)
	assert.Equal(t, FutexWaitvMax, n)
	assert.Equal(t, res{FutexWaitvMax - 1, nil}, <-done)
}

// ---- PI ----

func TestFutexPIProtocol(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	s := newSig()
	a := uintptr(privBase)
	e.addTask(100)
	e.addTask(200)

	require.NoError(t, e.f.LockPI(s, m, a, true, 100, never, true), "TRYLOCK_PI of a free lock")
	assert.Equal(t, uint32(100), get(t, m, a))
	assert.Equal(t, unix.EDEADLK, e.f.LockPI(s, m, a, true, 100, never, true))
	assert.Equal(t, unix.EDEADLK, e.f.LockPI(s, m, a, true, 100, never, false))
	assert.Equal(t, unix.EAGAIN, e.f.LockPI(s, m, a, true, 200, never, true), "TRYLOCK_PI of a held lock")
	assert.Equal(t, uint32(FutexWaiters|100), get(t, m, a), "TRYLOCK_PI sets FUTEX_WAITERS, as Linux")
	assert.Equal(t, unix.EPERM, e.f.UnlockPI(m, a, true, 200), "unlock by a non-owner")
	require.NoError(t, e.f.UnlockPI(m, a, true, 100))
	assert.Equal(t, uint32(0), get(t, m, a), "no waiters: the word is 0")
	assert.Equal(t, unix.EPERM, e.f.UnlockPI(m, a, true, 100))

	// FUTEX_OWNER_DIED stays with the next owner; FUTEX_WAITERS without
	// waiters goes.
	set(t, m, a, FutexOwnerDied|FutexWaiters)
	require.NoError(t, e.f.LockPI(s, m, a, true, 200, never, false))
	assert.Equal(t, uint32(FutexOwnerDied|200), get(t, m, a))
	require.NoError(t, e.f.UnlockPI(m, a, true, 200))
	assert.Equal(t, uint32(0), get(t, m, a), "unlock clears FUTEX_OWNER_DIED")

	// An owner that does not exist.
	set(t, m, a, 12345)
	assert.Equal(t, unix.ESRCH, e.f.LockPI(s, m, a, true, 200, never, true))
	assert.Equal(t, unix.ESRCH, e.f.LockPI(s, m, a, true, 200, never, false))
	assert.Equal(t, uint32(FutexWaiters|12345), get(t, m, a))

	assert.Equal(t, unix.EFAULT, e.f.LockPI(s, m, 0x1000, true, 200, never, false))
	assert.Equal(t, unix.EINVAL, e.f.LockPI(s, m, a+1, true, 200, never, false))
	assert.Equal(t, unix.EFAULT, e.f.UnlockPI(m, 0x1000, true, 200))
	assert.Zero(t, e.f.piStates.Load())
}

func TestFutexPIHandOver(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a := uintptr(sharedBase)
	for _, tid := range []int32{100, 201, 202, 203} {
		e.addTask(tid)
	}
	set(t, m, a, 100)
	var chans []<-chan error
	for i, tid := range []int32{201, 202, 203} {
		chans = append(chans, async(func() error { return e.f.LockPI(newSig(), m, a, false, tid, never, false) }))
		waitQueued(t, e.f, m, a, false, i+1)
	}
	assert.Equal(t, uint32(FutexWaiters|100), get(t, m, a))
	n, err := e.f.Wake(m, a, false, 1, FutexBitsetAny)
	assert.Equal(t, unix.EINVAL, err, "FUTEX_WAKE on a PI futex")
	assert.Zero(t, n)
	_, err = e.f.Requeue(m, a, a+4, false, 1, 1, nil)
	assert.Equal(t, unix.EINVAL, err, "FUTEX_REQUEUE of PI waiters")

	for i, tid := range []int32{100, 201, 202} {
		require.NoError(t, e.f.UnlockPI(m, a, false, tid))
		next := tid + 101
		if i > 0 {
			next = tid + 1
		}
		assert.NoError(t, result(t, chans[i]))
		assert.Equal(t, FutexWaiters|uint32(next), get(t, m, a), "handed to %d", next)
		assert.Equal(t, unix.EPERM, e.f.UnlockPI(m, a, false, tid), "the old owner no longer owns it")
	}
	require.NoError(t, e.f.UnlockPI(m, a, false, 203))
	assert.Equal(t, uint32(0), get(t, m, a))
	assert.Zero(t, e.f.piStates.Load())
}

func TestFutexPITimeoutAndSignal(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a := uintptr(privBase)
	e.addTask(100)
	set(t, m, a, 100)
	s := newSig()
	assert.Equal(t, unix.ETIMEDOUT, e.f.LockPI(s, m, a, true, 200, time.Now().Add(20*time.Millisecond), false))
	assert.Zero(t, e.f.piStates.Load(), "the last waiter gone, the contended state goes")
	ch := async(func() error { return e.f.LockPI(s, m, a, true, 200, never, false) })
	waitQueued(t, e.f, m, a, true, 1)
	s.signal()
	assert.Equal(t, unix.EINTR, result(t, ch))
	assert.Zero(t, e.f.piStates.Load())
	// The word keeps FUTEX_WAITERS; the owner's unlock finds nobody.
	require.NoError(t, e.f.UnlockPI(m, a, true, 100))
	assert.Equal(t, uint32(0), get(t, m, a))
}

// TestFutexPIMutex runs glibc's PI mutex protocol (user-space fast paths
// with compare-and-swap, the kernel when contended) from many threads.
func TestFutexPIMutex(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a := uintptr(privBase)
	const threads, rounds = 8, 300
	var inside atomic.Int32
	counter := 0
	var wg sync.WaitGroup
	for i := 0; i < threads; i++ {
		tid := int32(1000 + i)
		e.addTask(tid)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newSig()
			for r := 0; r < rounds; r++ {
				if cur, err := m.FutexCompareAndSwap(a, 0, uint32(tid)); err != nil || cur != 0 {
					if err := e.f.LockPI(s, m, a, true, tid, never, false); err != nil {
						t.Errorf("LOCK_PI: %v", err)
						return
					}
				}
				if v := get(t, m, a); v&FutexTIDMask != uint32(tid) {
					t.Errorf("thread %d holds the lock but the word is %#x", tid, v)
				}
				if inside.Add(1) != 1 {
					t.Errorf("two threads inside")
				}
				counter++
				inside.Add(-1)
				if cur, err := m.FutexCompareAndSwap(a, uint32(tid), 0); err != nil || cur != uint32(tid) {
					if err := e.f.UnlockPI(m, a, true, tid); err != nil {
						t.Errorf("UNLOCK_PI: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, threads*rounds, counter)
	assert.Equal(t, uint32(0), get(t, m, a))
	assert.Zero(t, e.f.piStates.Load())
}

func TestFutexRequeuePI(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	cond, lock := uintptr(privBase), uintptr(privBase+64)
	for _, tid := range []int32{100, 201, 202, 203} {
		e.addTask(tid)
	}
	s := newSig()
	assert.Equal(t, unix.EINVAL, e.f.WaitRequeuePI(s, m, cond, true, 0, never, cond, 201), "same futex")
	assert.Equal(t, unix.EAGAIN, e.f.WaitRequeuePI(s, m, cond, true, 1, never, lock, 201))
	_, err := e.f.CmpRequeuePI(m, cond, lock, true, 2, 0, 0)
	assert.Equal(t, unix.EINVAL, err, "nr_wake must be 1")
	_, err = e.f.CmpRequeuePI(m, cond, cond, true, 1, 0, 0)
	assert.Equal(t, unix.EINVAL, err)

	// The lock is free: the first waiter gets it at once.
	ch := async(func() error { return e.f.WaitRequeuePI(newSig(), m, cond, true, 0, never, lock, 201) })
	waitQueued(t, e.f, m, cond, true, 1)
	n, err := e.f.Wake(m, cond, true, 1, FutexBitsetAny)
	assert.Equal(t, unix.EINVAL, err, "FUTEX_WAKE of a WAIT_REQUEUE_PI waiter")
	assert.Zero(t, n)
	_, err = e.f.CmpRequeuePI(m, cond, lock, true, 1, 0, 9)
	assert.Equal(t, unix.EAGAIN, err)
	_, err = e.f.CmpRequeuePI(m, cond, lock+4, true, 1, 0, 0)
	assert.Equal(t, unix.EINVAL, err, "requeue to another PI futex than the waiter's")
	n, err = e.f.CmpRequeuePI(m, cond, lock, true, 1, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NoError(t, result(t, ch))
	assert.Equal(t, uint32(FutexWaiters|201), get(t, m, lock))
	require.NoError(t, e.f.UnlockPI(m, lock, true, 201))

	// The lock is held: waiters are requeued and handed the lock in turn.
	set(t, m, lock, 100)
	var chans []<-chan error
	for i, tid := range []int32{201, 202, 203} {
		chans = append(chans, async(func() error { return e.f.WaitRequeuePI(newSig(), m, cond, true, 0, never, lock, tid) }))
		waitQueued(t, e.f, m, cond, true, i+1)
	}
	n, err = e.f.CmpRequeuePI(m, cond, lock, true, 1, 1, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "nr_requeue 1 moves two when the lock could not be taken (the one to wake, and one)")
	n, err = e.f.CmpRequeuePI(m, cond, lock, true, 1, math.MaxInt32, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	waitQueued(t, e.f, m, lock, true, 3)
	waitQueued(t, e.f, m, cond, true, 0)
	assert.Equal(t, uint32(FutexWaiters|100), get(t, m, lock))
	owner := int32(100)
	for i, tid := range []int32{201, 202, 203} {
		require.NoError(t, e.f.UnlockPI(m, lock, true, owner))
		assert.NoError(t, result(t, chans[i]))
		assert.Equal(t, FutexWaiters|uint32(tid), get(t, m, lock))
		owner = tid
	}
	require.NoError(t, e.f.UnlockPI(m, lock, true, owner))

	// Interrupted before the requeue, and timed out after it.
	sig := newSig()
	ch = async(func() error { return e.f.WaitRequeuePI(sig, m, cond, true, 0, never, lock, 201) })
	waitQueued(t, e.f, m, cond, true, 1)
	sig.signal()
	assert.Equal(t, unix.EINTR, result(t, ch))
	set(t, m, lock, 100)
	sig = newSig()
	ch = async(func() error { return e.f.WaitRequeuePI(sig, m, cond, true, 0, never, lock, 201) })
	waitQueued(t, e.f, m, cond, true, 1)
	n, err = e.f.CmpRequeuePI(m, cond, lock, true, 1, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	waitQueued(t, e.f, m, lock, true, 1)
	sig.signal()
	assert.Equal(t, unix.EAGAIN, result(t, ch), "interrupted after the requeue")
	assert.Zero(t, e.f.piStates.Load())
}

// ---- robust lists and thread exit ----

// robustList writes a robust list at head whose entries are at the given
// addresses (the futex word 8 bytes after each; bit 0 of pi marks PI
// entries) with list_op_pending pending.
func robustList(tb testing.TB, m *mm.MM, head uintptr, entries []uintptr, pi []bool, pending uintptr) {
	tb.Helper()
	link := func(i int) uint64 {
		if i == len(entries) {
			return uint64(head)
		}
		v := uint64(entries[i])
		if pi != nil && pi[i] {
			v |= 1
		}
		return v
	}
	var hb [RobustListHeadSize]byte
	binary.LittleEndian.PutUint64(hb[0:], link(0))
	binary.LittleEndian.PutUint64(hb[8:], 8)
	binary.LittleEndian.PutUint64(hb[16:], uint64(pending))
	_, err := m.CopyOut(head, hb[:])
	require.NoError(tb, err)
	for i, en := range entries {
		if en < privBase {
			continue // unmapped on purpose
		}
		require.NoError(tb, m.CopyOutUint64(en, link(i+1)))
	}
}

func TestFutexRobustList(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	const tid = 77
	dying := e.addTask(tid)
	e.addTask(88)
	head := uintptr(privBase)
	en := []uintptr{privBase + 0x100, privBase + 0x200, privBase + 0x300, sharedBase + 0x400}
	word := func(i int) uintptr { return en[i] + 8 }
	pending := uintptr(privBase + 0x500)

	set(t, m, word(0), FutexWaiters|tid) // held, with a waiter
	set(t, m, word(1), 88)               // held by another thread
	set(t, m, word(2), tid)              // held, no waiters
	set(t, m, word(3), FutexWaiters|tid) // PI, with a PI waiter
	set(t, m, pending+8, 0)              // released, the wake not yet done
	robustList(t, m, head, en, []bool{false, false, false, true}, pending)

	w0 := async(func() error { return e.f.Wait(newSig(), m, word(0), false, FutexWaiters|tid, FutexBitsetAny, never) })
	waitQueued(t, e.f, m, word(0), false, 1)
	w1 := async(func() error { return e.f.Wait(newSig(), m, word(1), false, 88, FutexBitsetAny, never) })
	waitQueued(t, e.f, m, word(1), false, 1)
	w3 := async(func() error { return e.f.LockPI(newSig(), m, word(3), false, 88, never, false) })
	waitQueued(t, e.f, m, word(3), false, 1)
	wp := async(func() error { return e.f.Wait(newSig(), m, pending+8, false, 0, FutexBitsetAny, never) })
	waitQueued(t, e.f, m, pending+8, false, 1)

	e.f.exitThread(dying, m, tid, head, true)

	assert.NoError(t, result(t, w0))
	assert.Equal(t, uint32(FutexWaiters|FutexOwnerDied), get(t, m, word(0)))
	noResult(t, w1)
	assert.Equal(t, uint32(88), get(t, m, word(1)), "not the dying thread's")
	assert.Equal(t, uint32(FutexOwnerDied), get(t, m, word(2)))
	assert.NoError(t, result(t, w3), "the PI waiter got the lock")
	assert.Equal(t, uint32(FutexOwnerDied|FutexWaiters|88), get(t, m, word(3)))
	assert.NoError(t, result(t, wp), "list_op_pending of a released futex: a wake")
	assert.Equal(t, uint32(0), get(t, m, pending+8))
	n, _ := e.f.Wake(m, word(1), false, 1, FutexBitsetAny)
	assert.Equal(t, 1, n)
	assert.NoError(t, result(t, w1))

	// The thread is gone: LOCK_PI on a word that names it is ESRCH...
	set(t, m, word(2), tid)
	assert.Equal(t, unix.ESRCH, e.f.LockPI(newSig(), m, word(2), false, 88, never, false))
	// ...even while it can still be found by TID.
	assert.Equal(t, dying, e.f.taskByTID(tid))
	// A new thread with the TID is another story.
	e.addTask(tid)
	assert.Equal(t, unix.EAGAIN, e.f.LockPI(newSig(), m, word(2), false, 88, never, true))
}

func TestFutexRobustListLimits(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	const tid = 77
	head := uintptr(privBase)
	// A cycle that never comes back to the head: the walk stops after
	// 2048 entries.
	a, b := uintptr(privBase+0x100), uintptr(privBase+0x200)
	robustList(t, m, head, []uintptr{a, b}, nil, 0)
	require.NoError(t, m.CopyOutUint64(b, uint64(a)))
	set(t, m, a+8, tid)
	set(t, m, b+8, tid)
	done := make(chan struct{})
	go func() {
		e.f.exitThread(nil, m, tid, head, false)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the walk of a cyclic list did not end")
	}
	assert.Equal(t, uint32(FutexOwnerDied), get(t, m, a+8))
	assert.Equal(t, uint32(FutexOwnerDied), get(t, m, b+8))

	// An entry in unmapped memory ends the walk there.
	c := uintptr(privBase + 0x300)
	robustList(t, m, head, []uintptr{0x1000, c}, nil, 0)
	set(t, m, c+8, tid)
	e.f.exitThread(nil, m, tid, head, false)
	assert.Equal(t, uint32(tid), get(t, m, c+8))

	// An unaligned word ends it too; a bad head is ignored.
	robustList(t, m, head, []uintptr{privBase + 0x401, c}, nil, 0)
	e.f.exitThread(nil, m, tid, head, false)
	assert.Equal(t, uint32(tid), get(t, m, c+8))
	e.f.exitThread(nil, m, tid, 0x1000, false)
	e.f.exitThread(nil, m, tid, 0, false)
}

func TestFutexOwnerExitHandsOverNonRobustPI(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a := uintptr(privBase)
	owner := e.addTask(100)
	e.addTask(200)
	set(t, m, a, 100)
	ch := async(func() error { return e.f.LockPI(newSig(), m, a, true, 200, never, false) })
	waitQueued(t, e.f, m, a, true, 1)
	e.f.exitThread(owner, m, 100, 0, true)
	assert.NoError(t, result(t, ch))
	assert.Equal(t, uint32(FutexWaiters|200), get(t, m, a), "no FUTEX_OWNER_DIED without a robust list")
}

func TestFutexLockPIWaitsForExitingOwner(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a := uintptr(privBase)
	owner := e.addTask(100)
	set(t, m, a, 100)
	// The owner is in the middle of its exit.
	ex := &futexExit{task: owner, done: make(chan struct{})}
	e.f.exits = map[int32]*futexExit{100: ex}
	ch := async(func() error { return e.f.LockPI(newSig(), m, a, true, 200, never, false) })
	noResult(t, ch)
	// Its robust list marked the word, then it finished.
	set(t, m, a, FutexOwnerDied)
	close(ex.done)
	assert.NoError(t, result(t, ch))
	assert.Equal(t, uint32(FutexOwnerDied|200), get(t, m, a))
}

func TestFutexExitRecordsArePruned(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	for tid := int32(1); tid <= 1000; tid++ {
		e.f.exitThread(nil, m, tid, 0, true)
	}
	e.f.exitMu.Lock()
	n := len(e.f.exits)
	e.f.exitMu.Unlock()
	assert.Less(t, n, 600, "records of threads that cannot be found are dropped")
}

func TestFutexWakeAddr(t *testing.T) {
	mem, err := memfile.New(memfile.ChunkSize, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
		unix.Close(mem.FD())
	})
	k := New(&testPlatform{mem}, mem, nil)
	m, err := mm.New(&testPlatform{mem}, mem)
	require.NoError(t, err)
	t.Cleanup(m.Release)
	_, err = m.Mmap(mm.MmapOpts{Addr: privBase, Len: pageSz, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
	require.NoError(t, err)
	tidAddr := uintptr(privBase + 16)
	set(t, m, tidAddr, 4242)
	// pthread_join: wait while the word holds the TID, without
	// FUTEX_PRIVATE_FLAG (the kernel's wake is shared).
	ch := async(func() error { return k.Futex().Wait(newSig(), m, tidAddr, false, 4242, FutexBitsetAny, never) })
	waitQueued(t, k.Futex(), m, tidAddr, false, 1)
	k.FutexWakeAddr(m, tidAddr)
	assert.NoError(t, result(t, ch))
	assert.Equal(t, uint32(0), get(t, m, tidAddr))
	k.FutexWakeAddr(m, 0x1000) // a bad address is ignored
	k.FutexWakeAddr(m, privBase+3)

	// The exit path's entry point, on a task of this kernel.
	head, entry := uintptr(privBase+0x100), uintptr(privBase+0x200)
	robustList(t, m, head, []uintptr{entry}, []bool{true}, 0)
	set(t, m, entry+8, 4242)
	task := &Task{K: k, MM: m, TID: 4242, RobustList: head, RobustLen: RobustListHeadSize}
	task.ExecRobustList()
	assert.Equal(t, uint32(FutexOwnerDied), get(t, m, entry+8))
	set(t, m, entry+8, 4242)
	task.ExitRobustList()
	assert.Equal(t, uint32(FutexOwnerDied), get(t, m, entry+8))
	set(t, m, entry+8, 4242)
	assert.Equal(t, unix.ESRCH, k.Futex().LockPI(newSig(), m, entry+8, true, 1, never, false),
		"no task 4242 in the kernel")
}

// TestFutexStress runs a semaphore over WAIT and WAKE from many goroutines,
// waiting without timeouts: a lost wake leaves items behind sleeping
// consumers and the test times out.
func TestFutexStress(t *testing.T) {
	e := newFutexEnv(t)
	m := e.newMM(t)
	a := uintptr(sharedBase + 128)
	const producers, consumers, items = 4, 8, 500
	var wg, prod sync.WaitGroup
	var got atomic.Int32
	var stop atomic.Bool
	for i := 0; i < consumers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newSig()
			for !stop.Load() {
				v := get(t, m, a)
				if v == 0 {
					if err := e.f.Wait(s, m, a, false, 0, FutexBitsetAny, never); err != nil && err != unix.EAGAIN {
						t.Error(err)
						return
					}
					continue
				}
				if cur, _ := m.FutexCompareAndSwap(a, v, v-1); cur == v {
					got.Add(1)
				}
			}
		}()
	}
	for i := 0; i < producers; i++ {
		prod.Add(1)
		go func() {
			defer prod.Done()
			for j := 0; j < items; j++ {
				m.FutexUpdate(a, func(v uint32) uint32 { return v + 1 })
				if _, err := e.f.Wake(m, a, false, 1, FutexBitsetAny); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	prod.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for got.Load() != producers*items {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d items consumed, word %d: a wake was lost", got.Load(), producers*items, get(t, m, a))
		}
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	for {
		// Release the consumers: make the word non-zero so none goes
		// back to sleep, and wake them.
		set(t, m, a, 1<<20)
		e.f.Wake(m, a, false, math.MaxInt32, FutexBitsetAny)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
