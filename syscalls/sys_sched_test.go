package syscalls

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
)

// schedPlatform is futexPlatform with contexts that never run, so that
// the kernel can make processes.
type schedPlatform struct{ futexPlatform }

func (p schedPlatform) NewContext() (platform.Context, error) { return idleCtx{}, nil }

type idleCtx struct{}

func (idleCtx) Switch(platform.AddressSpace, *platform.Regs) (platform.Event, error) {
	return platform.Event{}, errors.New("cannot run")
}
func (idleCtx) Interrupt()                {}
func (idleCtx) FPState() ([]byte, error)  { return nil, nil }
func (idleCtx) SetFPState(b []byte) error { return nil }
func (idleCtx) Release()                  {}

// schedKernel makes a kernel with n processes (tasks not running), each
// with a page of memory at futexMem.
func schedKernel(t *testing.T, n int) []*kernel.Task {
	t.Helper()
	mem, err := memfile.New(memfile.ChunkSize, nil)
	require.NoError(t, err)
	t.Cleanup(func() { // after the address spaces' release
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
		unix.Close(mem.FD())
	})
	p := schedPlatform{futexPlatform{mem}}
	k := kernel.New(p, mem, nil)
	var ts []*kernel.Task
	for i := 0; i < n; i++ {
		m, err := mm.New(p, mem)
		require.NoError(t, err)
		_, err = m.Mmap(mm.MmapOpts{Addr: futexMem, Len: 4096, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
		require.NoError(t, err)
		tk, err := k.NewProcess(m, fs.NewFDTable(16), kernel.Creds{UID: 1000, EUID: 1000, GID: 1000, EGID: 1000})
		require.NoError(t, err)
		ts = append(ts, tk)
		t.Cleanup(m.Release)
	}
	return ts
}

func TestPriorities(t *testing.T) {
	ts := schedKernel(t, 2)
	a, b := ts[0], ts[1]
	get := func(which, who int) (int, error) {
		r, err := sysGetpriority(a, Args{uintptr(which), uintptr(who)})
		return int(r), err
	}
	set := func(tk *kernel.Task, which, who, nice int) error {
		_, err := sysSetpriority(tk, Args{uintptr(which), uintptr(who), uintptr(nice)})
		return err
	}
	n, err := get(prioProcess, 0)
	require.NoError(t, err)
	assert.Equal(t, 20, n, "20 - nice 0")

	// Raising nice is allowed, lowering it again is not (RLIMIT_NICE 0).
	require.NoError(t, set(a, prioProcess, int(b.TID), 5))
	assert.Equal(t, 5, b.Sched.Nice())
	assert.Equal(t, unix.EACCES, set(a, prioProcess, int(b.TID), 4))
	assert.NoError(t, set(a, prioProcess, int(b.TID), 5), "the same value")
	require.NoError(t, set(a, prioProcess, 0, 100))
	assert.Equal(t, 19, a.Sched.Nice(), "clamped")
	n, _ = get(prioProcess, int(b.TID))
	assert.Equal(t, 15, n)

	// The user's threads: the highest priority among them; setting
	// fails for the one that would go down, the other changes.
	n, _ = get(prioUser, 0)
	assert.Equal(t, 15, n)
	assert.Equal(t, unix.EACCES, set(a, prioUser, 0, 10))
	assert.Equal(t, 10, b.Sched.Nice())
	assert.Equal(t, 19, a.Sched.Nice())
	// A process group of its own each.
	n, _ = get(prioPgrp, int(b.TG.PGID()))
	assert.Equal(t, 10, n)

	_, err = get(prioProcess, 99999)
	assert.Equal(t, unix.ESRCH, err)
	assert.Equal(t, unix.ESRCH, set(a, prioPgrp, 99999, 1))
	_, err = get(prioUser, 4242)
	assert.Equal(t, unix.ESRCH, err)
	_, err = get(3, 0)
	assert.Equal(t, unix.EINVAL, err)
	_, err = get(-1, 0)
	assert.Equal(t, unix.EINVAL, err)
}

func TestSchedPolicies(t *testing.T) {
	tk := schedKernel(t, 1)[0]
	param := uintptr(futexMem)
	setPrio := func(p int32) { putU32(t, tk, param, uint32(p)) }
	setsched := func(policy int) error {
		_, err := registry[unix.SYS_SCHED_SETSCHEDULER](tk, Args{0, uintptr(policy), param})
		return err
	}
	getsched := func() int {
		r, err := sysSchedGetscheduler(tk, Args{0})
		require.NoError(t, err)
		return int(r)
	}
	setPrio(0)
	assert.Equal(t, 0, getsched())
	assert.NoError(t, setsched(kernel.SchedBatch))
	assert.Equal(t, kernel.SchedBatch, getsched())
	assert.Equal(t, unix.EINVAL, setsched(kernel.SchedFIFO), "a real-time policy needs a priority")
	setPrio(10)
	assert.Equal(t, unix.EINVAL, setsched(kernel.SchedOther))
	assert.Equal(t, unix.EPERM, setsched(kernel.SchedFIFO))
	assert.Equal(t, unix.EPERM, setsched(kernel.SchedRR))
	setPrio(100)
	assert.Equal(t, unix.EINVAL, setsched(kernel.SchedRR))
	setPrio(0)
	assert.Equal(t, unix.EINVAL, setsched(kernel.SchedDeadline))
	assert.Equal(t, unix.EINVAL, setsched(4))
	assert.Equal(t, unix.EINVAL, setsched(-1))
	_, err := registry[unix.SYS_SCHED_SETSCHEDULER](tk, Args{0, 0, 0})
	assert.Equal(t, unix.EINVAL, err, "no param")
	_, err = registry[unix.SYS_SCHED_SETSCHEDULER](tk, Args{0, 0, 0x1000})
	assert.Equal(t, unix.EFAULT, err)
	_, err = registry[unix.SYS_SCHED_SETSCHEDULER](tk, Args{99999, 0, param})
	assert.Equal(t, unix.ESRCH, err)

	// SCHED_RESET_ON_FORK sticks; SCHED_IDLE cannot be left.
	assert.NoError(t, setsched(kernel.SchedOther|kernel.SchedResetOnFork))
	assert.Equal(t, kernel.SchedOther|kernel.SchedResetOnFork, getsched())
	assert.Equal(t, unix.EPERM, setsched(kernel.SchedOther))
	assert.NoError(t, setsched(kernel.SchedIdle|kernel.SchedResetOnFork))
	assert.Equal(t, unix.EPERM, setsched(kernel.SchedOther|kernel.SchedResetOnFork))
	assert.NoError(t, setsched(kernel.SchedIdle|kernel.SchedResetOnFork))

	// sched_setparam keeps the policy; priority must be 0 for it.
	_, err = registry[unix.SYS_SCHED_SETPARAM](tk, Args{0, param})
	assert.NoError(t, err)
	setPrio(1)
	_, err = registry[unix.SYS_SCHED_SETPARAM](tk, Args{0, param})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysSchedGetparam(tk, Args{0, param})
	require.NoError(t, err)
	assert.Equal(t, uint32(0), getU32(t, tk, param))

	for _, c := range []struct{ policy, max, min int }{{0, 0, 0}, {1, 99, 1}, {2, 99, 1}, {3, 0, 0}, {5, 0, 0}, {6, 0, 0}} {
		mx, err := schedPriorityBound(c.policy, true)
		require.NoError(t, err)
		mn, err := schedPriorityBound(c.policy, false)
		require.NoError(t, err)
		assert.Equal(t, []int{c.max, c.min}, []int{int(mx), int(mn)}, "policy %d", c.policy)
	}
	_, err = schedPriorityBound(7, true)
	assert.Equal(t, unix.EINVAL, err)

	_, err = sysSchedRRGetInterval(tk, Args{0, param})
	require.NoError(t, err)
	assert.NotZero(t, getU32(t, tk, param+8), "the fair scheduler's slice")
}

func TestSchedAffinity(t *testing.T) {
	ts := schedKernel(t, 2)
	tk := ts[0]
	buf := uintptr(futexMem)
	n := cpumaskSize()
	r, err := sysSchedGetaffinity(tk, Args{0, 1024, buf})
	require.NoError(t, err)
	assert.Equal(t, uintptr(n), r)
	all := make([]byte, n)
	_, err = tk.MM.CopyIn(buf, all)
	require.NoError(t, err)
	count := 0
	for _, b := range all {
		for ; b != 0; b &= b - 1 {
			count++
		}
	}
	assert.Equal(t, runtime.NumCPU(), count)

	// Pin the other process's thread to CPU 0: it keeps that mask, the
	// caller keeps all.
	var one [8]byte
	one[0] = 1
	_, err = tk.MM.CopyOut(buf, one[:])
	require.NoError(t, err)
	_, err = sysSchedSetaffinity(tk, Args{uintptr(ts[1].TID), 8, buf})
	require.NoError(t, err)
	_, err = sysSchedGetaffinity(tk, Args{uintptr(ts[1].TID), 8, buf + 64})
	require.NoError(t, err)
	got := make([]byte, 8)
	_, _ = tk.MM.CopyIn(buf+64, got)
	assert.Equal(t, uint64(1), binary.LittleEndian.Uint64(got))
	assert.Equal(t, []uint64{1}, ts[1].Sched.Affinity()[:1])
	assert.Nil(t, tk.Sched.Affinity())

	// Bad input.
	_, err = tk.MM.CopyOut(buf, make([]byte, 8))
	require.NoError(t, err)
	_, err = sysSchedSetaffinity(tk, Args{0, 8, buf})
	assert.Equal(t, unix.EINVAL, err, "no CPU")
	_, err = sysSchedSetaffinity(tk, Args{0, 8, 0x1000})
	assert.Equal(t, unix.EFAULT, err)
	_, err = sysSchedSetaffinity(tk, Args{99999, 8, buf})
	assert.Equal(t, unix.ESRCH, err)
	_, err = sysSchedGetaffinity(tk, Args{0, 12, buf})
	assert.Equal(t, unix.EINVAL, err, "not a multiple of 8")
	_, err = sysSchedGetaffinity(tk, Args{0, 0, buf})
	assert.Equal(t, unix.EINVAL, err, "too small")
	_, err = sysSchedGetaffinity(tk, Args{0, 1024, 0x1000})
	assert.Equal(t, unix.EFAULT, err)
}

func TestMembarrier(t *testing.T) {
	tk := schedKernel(t, 2)[0]
	call := func(cmd, flags int) (uintptr, error) {
		return sysMembarrier(tk, Args{uintptr(cmd), uintptr(flags)})
	}
	mask, err := call(mbQuery, 0)
	require.NoError(t, err)
	assert.Equal(t, uintptr(0x27f), mask)
	_, err = call(mbQuery, 1)
	assert.Equal(t, unix.EINVAL, err)
	_, err = call(mbPrivateExpedited, 0)
	assert.Equal(t, unix.EPERM, err, "not registered")
	for _, c := range []int{mbGlobal, mbGlobalExpedited, mbRegisterPrivateExpedited, mbPrivateExpedited,
		mbRegisterGlobalExpedited, mbGlobalExpedited} {
		_, err = call(c, 0)
		assert.NoError(t, err, "command %#x", c)
	}
	_, err = call(mbPrivateSyncCore, 0)
	assert.Equal(t, unix.EPERM, err)
	_, err = call(mbRegisterPrivateSyncCore, 0)
	require.NoError(t, err)
	_, err = call(mbPrivateSyncCore, 0)
	assert.NoError(t, err)
	regs, err := call(mbGetRegistrations, 0)
	require.NoError(t, err)
	assert.Equal(t, uintptr(mbRegisterGlobalExpedited|mbRegisterPrivateExpedited|mbRegisterPrivateSyncCore), regs)
	_, err = call(mbPrivateRseq, 0)
	assert.Equal(t, unix.EINVAL, err, "no rseq")
	_, err = call(1<<10, 0)
	assert.Equal(t, unix.EINVAL, err)
}
