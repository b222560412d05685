package syscalls

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// futexPlatform makes address spaces without KVM (page tables in the
// memory file); it cannot run user code.
type futexPlatform struct{ mem *memfile.File }

func (p futexPlatform) NewAddressSpace() (platform.AddressSpace, error) {
	t, err := pagetables.New(p.mem)
	if err != nil {
		return nil, err
	}
	return futexAS{t}, nil
}
func (p futexPlatform) NewContext() (platform.Context, error) { return nil, errors.New("no contexts") }
func (p futexPlatform) Name() string                          { return "test" }
func (p futexPlatform) FPLayout() platform.FPLayout           { return platform.FPLayout{} }
func (p futexPlatform) Stats() map[string]uint64              { return nil }

type futexAS struct{ t *pagetables.Tables }

func (a futexAS) Tables() *pagetables.Tables { return a.t }
func (a futexAS) Invalidate()                {}
func (a futexAS) Release()                   { a.t.Release() }

const futexMem = 0x10000000 // one read-write page

// futexTask makes a task (not runnable) with one page of memory at
// futexMem.
func futexTask(tb testing.TB) *kernel.Task {
	tb.Helper()
	mem, err := memfile.New(memfile.ChunkSize, nil)
	require.NoError(tb, err)
	p := futexPlatform{mem}
	m, err := mm.New(p, mem)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		m.Release()
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
		unix.Close(mem.FD())
	})
	_, err = m.Mmap(mm.MmapOpts{Addr: futexMem, Len: 4096, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
	require.NoError(tb, err)
	return &kernel.Task{K: kernel.New(p, mem, nil), TG: &kernel.ThreadGroup{}, MM: m, TID: 42}
}

func putU32(tb testing.TB, t *kernel.Task, addr uintptr, v uint32) {
	tb.Helper()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	_, err := t.MM.CopyOut(addr, b[:])
	require.NoError(tb, err)
}

func getU32(tb testing.TB, t *kernel.Task, addr uintptr) uint32 {
	tb.Helper()
	var b [4]byte
	_, err := t.MM.CopyIn(addr, b[:])
	require.NoError(tb, err)
	return binary.LittleEndian.Uint32(b[:])
}

func putTS(tb testing.TB, t *kernel.Task, addr uintptr, sec, nsec int64) {
	tb.Helper()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(sec))
	binary.LittleEndian.PutUint64(b[8:], uint64(nsec))
	_, err := t.MM.CopyOut(addr, b[:])
	require.NoError(tb, err)
}

func TestSysFutexDecoding(t *testing.T) {
	tk := futexTask(t)
	w, ts, w2 := uintptr(futexMem), uintptr(futexMem+64), uintptr(futexMem+128)
	putU32(t, tk, w, 5)
	putTS(t, tk, ts, 0, 10e6)
	call := func(op, val, a3, a4, a5 uintptr) (uintptr, error) {
		return sysFutex(tk, Args{w, op, val, a3, a4, a5})
	}
	tests := []struct {
		name            string
		op, val, a3, a5 uintptr
		want            error
	}{
		{"WAIT mismatch", futexWait | futexPrivateFlag, 4, 0, 0, unix.EAGAIN},
		{"WAIT relative timeout", futexWait, 5, ts, 0, unix.ETIMEDOUT},
		{"WAIT|CLOCK_REALTIME", futexWait | futexClockRealtime, 5, ts, 0, unix.ENOSYS},
		{"WAKE|CLOCK_REALTIME", futexWake | futexClockRealtime, 1, 0, 0, unix.ENOSYS},
		{"LOCK_PI|CLOCK_REALTIME", futexLockPI | futexClockRealtime, 0, 0, 0, unix.ENOSYS},
		{"FUTEX_FD", futexFD, 0, 0, 0, unix.ENOSYS},
		{"unknown op", 0x7f, 0, 0, 0, unix.ENOSYS},
		{"unknown bits", 0x200 | futexWake, 0, 0, 0, unix.ENOSYS},
		{"WAIT_BITSET bitset 0", futexWaitBitset, 5, 0, 0, unix.EINVAL},
		{"WAKE_BITSET bitset 0", futexWakeBitset, 1, 0, 0, unix.EINVAL},
		// Absolute: 10 ms after the epoch of either clock is long past.
		{"WAIT_BITSET absolute monotonic", futexWaitBitset, 5, ts, 1, unix.ETIMEDOUT},
		{"WAIT_BITSET absolute realtime", futexWaitBitset | futexClockRealtime, 5, ts, 1, unix.ETIMEDOUT},
		{"timeout pointer unmapped", futexWait, 5, 0x1000, 0, unix.EFAULT},
		{"REQUEUE negative count", futexRequeue, 1, 0xffffffff, 0, unix.EINVAL},
		{"CMP_REQUEUE mismatch", futexCmpRequeue, 1, 1, 4, unix.EAGAIN},
		{"CMP_REQUEUE_PI nr_wake 2", futexCmpRequeuePI, 2, 0, 5, unix.EINVAL},
	}
	for _, tc := range tests {
		_, err := call(tc.op, tc.val, tc.a3, w2, tc.a5)
		assert.Equal(t, tc.want, err, tc.name)
	}
	putTS(t, tk, ts, 0, 1e9)
	_, err := call(futexWait, 5, ts, 0, 0)
	assert.Equal(t, unix.EINVAL, err, "tv_nsec out of range")
	putTS(t, tk, ts, -1, 0)
	_, err = call(futexWait, 5, ts, 0, 0)
	assert.Equal(t, unix.EINVAL, err, "negative tv_sec")

	n, err := call(futexWake|futexPrivateFlag, 1, 0, 0, 0)
	assert.NoError(t, err)
	assert.Equal(t, uintptr(0), n)
	_, err = sysFutex(tk, Args{w + 2, futexWake, 1})
	assert.Equal(t, unix.EINVAL, err, "unaligned")

	// WAKE_OP: FUTEX_OP_ADD 3 on the second word.
	putU32(t, tk, w2, 10)
	n, err = call(futexWakeOp|futexPrivateFlag, 1, 1, w2, 1<<28|3<<12)
	assert.NoError(t, err)
	assert.Equal(t, uintptr(0), n)
	assert.Equal(t, uint32(13), getU32(t, tk, w2))
}

func TestSysFutexPI(t *testing.T) {
	tk := futexTask(t)
	w := uintptr(futexMem)
	_, err := sysFutex(tk, Args{w, futexTrylockPI | futexPrivateFlag})
	require.NoError(t, err)
	assert.Equal(t, uint32(42), getU32(t, tk, w))
	_, err = sysFutex(tk, Args{w, futexLockPI | futexPrivateFlag})
	assert.Equal(t, unix.EDEADLK, err)
	_, err = sysFutex(tk, Args{w, futexUnlockPI | futexPrivateFlag})
	require.NoError(t, err)
	assert.Equal(t, uint32(0), getU32(t, tk, w))
	_, err = sysFutex(tk, Args{w, futexUnlockPI | futexPrivateFlag})
	assert.Equal(t, unix.EPERM, err)
	putU32(t, tk, w, 777) // no such thread
	_, err = sysFutex(tk, Args{w, futexLockPI2 | futexPrivateFlag | futexClockRealtime})
	assert.Equal(t, unix.ESRCH, err)
}

func TestSysFutexWaitv(t *testing.T) {
	tk := futexTask(t)
	vec, ts, w := uintptr(futexMem), uintptr(futexMem+0x400), uintptr(futexMem+0x800)
	entry := func(i int, val, uaddr uint64, flags, reserved uint32) {
		var b [futexWaitvSize]byte
		binary.LittleEndian.PutUint64(b[0:], val)
		binary.LittleEndian.PutUint64(b[8:], uaddr)
		binary.LittleEndian.PutUint32(b[16:], flags)
		binary.LittleEndian.PutUint32(b[20:], reserved)
		_, err := tk.MM.CopyOut(vec+uintptr(i*futexWaitvSize), b[:])
		require.NoError(t, err)
	}
	good := func() {
		entry(0, 0, uint64(w), futex2SizeU32|futex2Private, 0)
		entry(1, 0, uint64(w+4), futex2SizeU32, 0)
	}
	putTS(t, tk, ts, 0, 0)
	waitv := func(n, flags, tsp, clock uintptr) error {
		_, err := sysFutexWaitv(tk, Args{vec, n, flags, tsp, clock})
		return err
	}
	good()
	assert.Equal(t, unix.ETIMEDOUT, waitv(2, 0, ts, unix.CLOCK_MONOTONIC))
	assert.Equal(t, unix.ETIMEDOUT, waitv(2, 0, ts, unix.CLOCK_REALTIME))
	assert.Equal(t, unix.EINVAL, waitv(2, 1, ts, unix.CLOCK_MONOTONIC), "flags")
	assert.Equal(t, unix.EINVAL, waitv(0, 0, ts, unix.CLOCK_MONOTONIC))
	assert.Equal(t, unix.EINVAL, waitv(129, 0, ts, unix.CLOCK_MONOTONIC))
	assert.Equal(t, unix.EINVAL, waitv(2, 0, ts, unix.CLOCK_BOOTTIME), "clock")
	_, err := sysFutexWaitv(tk, Args{0, 2, 0, 0, 0})
	assert.Equal(t, unix.EINVAL, err, "NULL vector")
	_, err = sysFutexWaitv(tk, Args{0x1000, 2, 0, ts, unix.CLOCK_MONOTONIC})
	assert.Equal(t, unix.EFAULT, err)
	for _, bad := range []struct {
		name            string
		val             uint64
		flags, reserved uint32
	}{
		{"64-bit size", 0, 3, 0},
		{"8-bit size", 0, 0, 0},
		{"NUMA", 0, futex2SizeU32 | futex2NUMA, 0},
		{"unknown flag", 0, futex2SizeU32 | 0x10, 0},
		{"reserved", 0, futex2SizeU32, 1},
		{"value wider than 32 bits", 1 << 32, futex2SizeU32, 0},
	} {
		good()
		entry(1, bad.val, uint64(w+4), bad.flags, bad.reserved)
		assert.Equal(t, unix.EINVAL, waitv(2, 0, ts, unix.CLOCK_MONOTONIC), bad.name)
	}
	good()
	putU32(t, tk, w+4, 9)
	assert.Equal(t, unix.EAGAIN, waitv(2, 0, 0, 99), "the clock is not looked at without a timeout")
	entry(1, 0, uint64(w+2), futex2SizeU32, 0)
	assert.Equal(t, unix.EINVAL, waitv(2, 0, 0, 0), "unaligned")
}

func TestSysGetRobustList(t *testing.T) {
	tk := futexTask(t)
	tk.RobustList = 0x7f001230
	_, err := sysGetRobustList(tk, Args{0, futexMem, futexMem + 8})
	require.NoError(t, err)
	head, _ := tk.MM.CopyInUint64(futexMem)
	n, _ := tk.MM.CopyInUint64(futexMem + 8)
	assert.Equal(t, uint64(0x7f001230), head)
	assert.Equal(t, uint64(24), n)
	_, err = sysGetRobustList(tk, Args{42, futexMem, futexMem + 8})
	assert.NoError(t, err, "its own TID")
	_, err = sysGetRobustList(tk, Args{43, futexMem, futexMem + 8})
	assert.Equal(t, unix.ESRCH, err)
	_, err = sysGetRobustList(tk, Args{0, 0x1000, futexMem + 8})
	assert.Equal(t, unix.EFAULT, err)
}

// A futex wait's timeout is honoured (not rounded to forever).
func TestSysFutexWaitTimeoutDuration(t *testing.T) {
	tk := futexTask(t)
	putTS(t, tk, futexMem+64, 0, 30e6)
	start := time.Now()
	_, err := sysFutex(tk, Args{futexMem, futexWait | futexPrivateFlag, 0, futexMem + 64})
	assert.Equal(t, unix.ETIMEDOUT, err)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.Less(t, time.Since(start), 5*time.Second)
}
