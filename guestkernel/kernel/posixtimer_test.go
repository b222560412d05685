package kernel

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/timerfd"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/platform"
)

// nopContext is a platform context that only counts interrupts.
type nopContext struct{ kicks atomic.Int32 }

func (c *nopContext) Switch(platform.AddressSpace, *platform.Regs) (platform.Event, error) {
	return platform.Event{}, unix.ENOSYS
}
func (c *nopContext) Interrupt()               { c.kicks.Add(1) }
func (c *nopContext) FPState() ([]byte, error) { return nil, nil }
func (c *nopContext) SetFPState([]byte) error  { return nil }
func (c *nopContext) Release()                 {}

// timerEnv is a process of two tasks that never run, with wall clocks
// replaced by one fake clock.
type timerEnv struct {
	k      *Kernel
	tg     *ThreadGroup
	t, t2  *Task
	clock  *timerfd.FakeClock
	cpu    atomic.Int64 // the fake CPU clock's reading
	cpuEnd atomic.Bool
}

func newTimerEnv(tb testing.TB) *timerEnv {
	e := &timerEnv{clock: timerfd.NewFakeClock(1000 * time.Second)}
	oldWall, oldSched := wallClock, cpuSched
	wallClock = func(int32) timerfd.Clock { return e.clock }
	cpuSched = e.clock
	tb.Cleanup(func() { wallClock, cpuSched = oldWall, oldSched })
	k := New(nil, nil, nil)
	tg := k.newGroup(k.allocPID(), nil, Creds{})
	mk := func() *Task {
		t := &Task{K: k, TG: tg, TID: k.allocPID(), Ctx: &nopContext{}, wake: make(chan struct{}, 1)}
		k.procs.tasks[t.TID] = t
		tg.tasks = append(tg.tasks, t)
		return t
	}
	e.k, e.tg = k, tg
	e.t, e.t2 = mk(), mk()
	k.groups[tg.PID] = tg
	return e
}

// cpuTimer makes a timer on the fake CPU clock.
func (e *timerEnv) cpuTimer(t *testing.T, ev SigEvent) int32 {
	id, err := e.t.CreateTimer(unix.CLOCK_REALTIME, &ev)
	require.NoError(t, err)
	e.tg.mu.Lock()
	e.tg.posix.timers[id].clock = &cpuTimerClock{
		read:  func() (time.Duration, bool) { return time.Duration(e.cpu.Load()), !e.cpuEnd.Load() },
		width: func() int { return 1 },
		sched: e.clock,
	}
	e.tg.mu.Unlock()
	return id
}

const tms = time.Millisecond

func TestPosixTimerSignalAndOverruns(t *testing.T) {
	e := newTimerEnv(t)
	ev := SigEvent{Notify: SigevSignal, Signo: int32(unix.SIGUSR1), Value: 0xabcdef}
	id, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, &ev)
	require.NoError(t, err)
	id2, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, nil)
	require.NoError(t, err)
	assert.NotEqual(t, id, id2)
	assert.Equal(t, 2, e.tg.NumTimers())

	sigq, ch := waiter.NewChannelEntry(waiter.EventIn)
	e.tg.SignalQueue().Register(sigq)
	e.t.SigMask = sigBit(unix.SIGUSR1)
	old, oldIv, err := e.tg.SetTimer(id, 10*tms, 10*tms, false)
	require.NoError(t, err)
	assert.Zero(t, old)
	assert.Zero(t, oldIv)
	v, iv, _ := e.tg.GetTimer(id)
	assert.Equal(t, 10*tms, v)
	assert.Equal(t, 10*tms, iv)

	e.clock.Advance(10 * tms)
	assert.Equal(t, sigBit(unix.SIGUSR1), e.t.Pending())
	assert.Len(t, ch, 1, "the signal queue is notified")
	assert.Zero(t, e.clock.Pending(), "a wall-clock timer whose signal is pending sleeps")
	e.clock.Advance(35 * tms)
	v, _, _ = e.tg.GetTimer(id)
	assert.Equal(t, 5*tms, v, "moved on to the next expiration")

	sig, info := e.t.DequeueSignal(sigBit(unix.SIGUSR1))
	require.Equal(t, unix.SIGUSR1, sig)
	assert.Equal(t, int32(SITimer), info.Code)
	assert.Equal(t, id, info.PID, "si_timerid")
	assert.Equal(t, uint32(3), info.UID, "si_overrun: the expirations at 20, 30 and 40 ms")
	assert.Equal(t, uint64(0xabcdef), info.Value)
	ov, err := e.tg.TimerOverrun(id)
	require.NoError(t, err)
	assert.Equal(t, int32(3), ov)
	assert.Equal(t, 1, e.clock.Pending(), "taking the signal restarts the timer")

	e.clock.Advance(5 * tms)
	sig, info = e.t.DequeueSignal(sigBit(unix.SIGUSR1))
	require.Equal(t, unix.SIGUSR1, sig)
	assert.Zero(t, info.UID)
	ov, _ = e.tg.TimerOverrun(id)
	assert.Zero(t, ov)

	// Disarm: the old setting comes back, nothing more fires.
	old, oldIv, err = e.tg.SetTimer(id, 0, 0, false)
	require.NoError(t, err)
	assert.Equal(t, 10*tms, old)
	assert.Equal(t, 10*tms, oldIv)
	e.clock.Advance(time.Second)
	assert.Zero(t, e.t.Pending())

	require.NoError(t, e.tg.DeleteTimer(id))
	assert.Equal(t, unix.EINVAL, e.tg.DeleteTimer(id))
	_, _, err = e.tg.SetTimer(id, tms, 0, false)
	assert.Equal(t, unix.EINVAL, err)
	_, _, err = e.tg.GetTimer(id)
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.tg.TimerOverrun(id)
	assert.Equal(t, unix.EINVAL, err)
}

func TestPosixTimerDefaultsAndOneShot(t *testing.T) {
	e := newTimerEnv(t)
	id, err := e.t.CreateTimer(unix.CLOCK_REALTIME, nil)
	require.NoError(t, err)
	e.t.SigMask = sigBit(unix.SIGALRM)
	// Absolute, on the (fake) realtime clock.
	_, _, err = e.tg.SetTimer(id, e.clock.Now()+20*tms, 0, true)
	require.NoError(t, err)
	e.clock.Advance(20 * tms)
	v, iv, _ := e.tg.GetTimer(id)
	assert.Zero(t, v, "a one-shot timer that fired is disarmed")
	assert.Zero(t, iv)
	sig, info := e.t.DequeueSignal(^uint64(0))
	assert.Equal(t, unix.SIGALRM, sig)
	assert.Equal(t, uint64(id), info.Value, "sigev_value defaults to the timer ID")
	e.clock.Advance(time.Second)
	assert.Zero(t, e.t.Pending())

	// An absolute time in the past fires at once.
	_, _, err = e.tg.SetTimer(id, tms, 0, true)
	require.NoError(t, err)
	e.clock.Advance(0)
	assert.Equal(t, sigBit(unix.SIGALRM), e.t.Pending())
}

func TestPosixTimerNone(t *testing.T) {
	e := newTimerEnv(t)
	id, err := e.t.CreateTimer(unix.CLOCK_BOOTTIME, &SigEvent{Notify: SigevNone})
	require.NoError(t, err)
	_, _, err = e.tg.SetTimer(id, 10*tms, 4*tms, false)
	require.NoError(t, err)
	assert.Zero(t, e.clock.Pending(), "SIGEV_NONE needs no wake-ups")
	e.clock.Advance(21 * tms)
	v, iv, _ := e.tg.GetTimer(id)
	assert.Equal(t, tms, v, "expirations at 10, 14, 18 and 22 ms")
	assert.Equal(t, 4*tms, iv)
	assert.Zero(t, e.t.Pending())

	_, _, err = e.tg.SetTimer(id, 10*tms, 0, false)
	require.NoError(t, err)
	e.clock.Advance(10 * tms)
	v, _, _ = e.tg.GetTimer(id)
	assert.Zero(t, v)
}

func TestPosixTimerThreadID(t *testing.T) {
	e := newTimerEnv(t)
	ev := SigEvent{Notify: SigevThreadID, Signo: int32(SigRTMin + 1), TID: e.t2.TID, Value: 7}
	id, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, &ev)
	require.NoError(t, err)
	e.t2.SigMask = ^uint64(0)
	e.t.SigMask = ^uint64(0)
	_, _, err = e.tg.SetTimer(id, tms, 0, false)
	require.NoError(t, err)
	e.clock.Advance(tms)
	e.tg.mu.Lock()
	assert.Equal(t, sigBit(SigRTMin+1), e.t2.sigs.mask, "to the thread")
	assert.Zero(t, e.tg.sigs.mask|e.t.sigs.mask)
	e.tg.mu.Unlock()
	sig, info := e.t2.DequeueSignal(^uint64(0))
	assert.Equal(t, unix.Signal(SigRTMin+1), sig)
	assert.Equal(t, uint64(7), info.Value)

	// A thread of another process, or none: EINVAL.
	other := e.k.newGroup(e.k.allocPID(), nil, Creds{})
	stranger := &Task{K: e.k, TG: other, TID: e.k.allocPID(), Ctx: &nopContext{}, wake: make(chan struct{}, 1)}
	e.k.procs.tasks[stranger.TID] = stranger
	for _, bad := range []SigEvent{
		{Notify: SigevThreadID, Signo: int32(unix.SIGUSR1), TID: stranger.TID},
		{Notify: SigevThreadID, Signo: int32(unix.SIGUSR1), TID: 99999},
		{Notify: SigevThreadID | SigevNone, Signo: int32(unix.SIGUSR1), TID: e.t.TID},
		{Notify: SigevSignal, Signo: 0},
		{Notify: SigevSignal, Signo: 65},
		{Notify: 3, Signo: 1},
		{Notify: -1, Signo: 1},
	} {
		_, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, &bad)
		assert.Equal(t, unix.EINVAL, err, "%+v", bad)
	}
	_, err = e.t.CreateTimer(unix.CLOCK_MONOTONIC, &SigEvent{Notify: SigevThread, Signo: int32(unix.SIGUSR1)})
	assert.NoError(t, err, "SIGEV_THREAD is the C library's: the kernel signals the process")
}

func TestPosixTimerClocks(t *testing.T) {
	e := newTimerEnv(t)
	for id, want := range map[int32]error{
		unix.CLOCK_REALTIME: nil, unix.CLOCK_MONOTONIC: nil, unix.CLOCK_BOOTTIME: nil, unix.CLOCK_TAI: nil,
		unix.CLOCK_PROCESS_CPUTIME_ID: nil, unix.CLOCK_THREAD_CPUTIME_ID: nil,
		unix.CLOCK_MONOTONIC_RAW: unix.EOPNOTSUPP, unix.CLOCK_REALTIME_COARSE: unix.EOPNOTSUPP,
		unix.CLOCK_BOOTTIME_ALARM: nil, // root
		12:                        unix.EINVAL, 100: unix.EINVAL,
		// The CPU clocks of PIDs and TIDs.
		^e.t2.TID<<3 | 4 | 2: nil, ^e.tg.PID<<3 | 2: nil, ^int32(77777)<<3 | 2: unix.EINVAL,
		^int32(77777)<<3 | 6: unix.EINVAL, -1: unix.EINVAL, ^int32(0)<<3 | 6: nil,
	} {
		_, err := e.t.CreateTimer(id, nil)
		if want == nil {
			assert.NoError(t, err, "clock %d", id)
		} else {
			assert.Equal(t, want, err, "clock %d", id)
		}
	}
	e.tg.creds.EUID = 1000
	_, err := e.t.CreateTimer(unix.CLOCK_REALTIME_ALARM, nil)
	assert.Equal(t, unix.EPERM, err)
}

func TestPosixTimerLimitAndExec(t *testing.T) {
	e := newTimerEnv(t)
	e.tg.limits[unix.RLIMIT_SIGPENDING].Cur = 100
	for i := 0; i < 100; i++ {
		_, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, nil)
		require.NoError(t, err)
	}
	_, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, nil)
	assert.Equal(t, unix.EAGAIN, err, "bounded")
	require.NoError(t, e.tg.DeleteTimer(50))
	id, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(100), id, "IDs go on from the last one, as Linux's")
	_, _, err = e.tg.SetTimer(id, tms, tms, false)
	require.NoError(t, err)

	e.tg.deletePosixTimers() // execve
	assert.Zero(t, e.tg.NumTimers())
	e.clock.Advance(time.Second)
	assert.Zero(t, e.t.Pending(), "a deleted timer does not fire")
	assert.Zero(t, e.clock.Pending())
}

func TestPosixTimerIgnoredSignal(t *testing.T) {
	e := newTimerEnv(t)
	id, err := e.t.CreateTimer(unix.CLOCK_MONOTONIC, &SigEvent{Signo: int32(unix.SIGUSR2)})
	require.NoError(t, err)
	e.tg.SetAction(unix.SIGUSR2, SigAction{Handler: SigIgn})
	_, _, err = e.tg.SetTimer(id, tms, tms, false)
	require.NoError(t, err)
	e.clock.Advance(3 * tms)
	assert.Zero(t, e.t.Pending(), "ignored")
	assert.Equal(t, 1, e.clock.Pending(), "a periodic timer goes on")

	// Pending while blocked, then dropped when the action becomes
	// SIG_IGN: the timer does not wait for it forever.
	e.tg.SetAction(unix.SIGUSR2, SigAction{})
	e.t.SigMask = sigBit(unix.SIGUSR2)
	e.t2.SigMask = sigBit(unix.SIGUSR2)
	e.clock.Advance(tms)
	assert.Equal(t, sigBit(unix.SIGUSR2), e.t.Pending())
	assert.Zero(t, e.clock.Pending())
	e.tg.SetAction(unix.SIGUSR2, SigAction{Handler: SigIgn})
	assert.Zero(t, e.t.Pending())
	assert.Equal(t, 1, e.clock.Pending(), "restarted")

	// A kill's SIGUSR2 replacing the timer's pending one.
	e.tg.SetAction(unix.SIGUSR2, SigAction{})
	e.clock.Advance(tms)
	assert.Zero(t, e.clock.Pending())
	e.tg.SendSignalInfo(SigInfo{Signo: int32(unix.SIGUSR2), Code: SIUser, PID: 42})
	assert.Equal(t, 1, e.clock.Pending(), "restarted")
	e.clock.Advance(tms)
	_, info := e.t.DequeueSignal(^uint64(0))
	assert.Equal(t, int32(SITimer), info.Code, "the timer's, queued again")
}

func TestPosixTimerCPUClock(t *testing.T) {
	e := newTimerEnv(t)
	id := e.cpuTimer(t, SigEvent{Signo: int32(unix.SIGPROF)})
	e.t.SigMask = ^uint64(0)
	e.t2.SigMask = ^uint64(0)
	_, _, err := e.tg.SetTimer(id, 10*tms, 10*tms, false)
	require.NoError(t, err)
	// Idle: the samples back off to cpuSampleMax.
	for i := 0; i < 20; i++ {
		e.clock.Advance(cpuSampleMax)
	}
	assert.Zero(t, e.t.Pending())
	assert.Equal(t, 1, e.clock.Pending())
	// Busy: 25 ms of CPU time.
	e.cpu.Store(int64(25 * tms))
	e.clock.Advance(cpuSampleMax)
	assert.Equal(t, sigBit(unix.SIGPROF), e.t.Pending())
	e.cpu.Store(int64(41 * tms))
	e.clock.Advance(cpuSampleMax)
	_, info := e.t.DequeueSignal(^uint64(0))
	assert.Equal(t, uint32(3), info.UID, "expirations at 20, 30, 40 ms while pending")
	v, iv, _ := e.tg.GetTimer(id)
	assert.Equal(t, 9*tms, v)
	assert.Equal(t, 10*tms, iv)
	// The thread whose clock it is ends: the timer stops.
	e.cpuEnd.Store(true)
	e.cpu.Store(int64(time.Second))
	e.clock.Advance(cpuSampleMax)
	assert.Zero(t, e.t.Pending())
	assert.Zero(t, e.clock.Pending())
}

func TestCPUITimers(t *testing.T) {
	e := newTimerEnv(t)
	left, iv := e.tg.SetCPUTimer(ITimerProf, 50*tms, 10*tms)
	assert.Zero(t, left)
	assert.Zero(t, iv)
	left, iv = e.tg.CPUTimer(ITimerProf)
	assert.Equal(t, 50*tms, left, "no CPU time used (the tasks never ran)")
	assert.Equal(t, 10*tms, iv)
	left, _ = e.tg.CPUTimer(ITimerVirtual)
	assert.Zero(t, left)
	left, iv = e.tg.SetCPUTimer(ITimerProf, 0, 10*tms)
	assert.Equal(t, 50*tms, left)
	assert.Equal(t, 10*tms, iv)
	_, iv = e.tg.CPUTimer(ITimerProf)
	assert.Zero(t, iv, "disarmed: no interval")

	e.tg.SetCPUTimer(ITimerVirtual, time.Second, 0)
	e.tg.Exit(ExitStatus{})
	assert.Zero(t, e.clock.Pending(), "exit stops them")
}

func TestSignalQueueNotified(t *testing.T) {
	e := newTimerEnv(t)
	en, ch := waiter.NewChannelEntry(waiter.EventIn)
	e.tg.SignalQueue().Register(en)
	e.t.SigMask = ^uint64(0)
	e.t2.SigMask = ^uint64(0)
	e.tg.SendSignalInfo(SigInfo{Signo: int32(unix.SIGUSR1)})
	assert.Len(t, ch, 1)
	<-ch
	e.t2.SendSignalInfo(SigInfo{Signo: int32(unix.SIGUSR2)})
	assert.Len(t, ch, 1, "a thread's signal too")
	assert.Nil(t, e.k.Caller(), "the test's goroutine runs no task")
}
