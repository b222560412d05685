package kernel

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs/timerfd"
	"ringbox/fs/waiter"
)

// POSIX timers (timer_create and friends) and the CPU-time interval
// timers (ITIMER_VIRTUAL, ITIMER_PROF).
//
// A timer belongs to a process: it is not inherited by fork, exec deletes
// it, exit stops it. It counts on a wall clock (CLOCK_REALTIME,
// CLOCK_MONOTONIC, CLOCK_BOOTTIME: a Go timer wakes it at the expiration)
// or on a CPU-time clock (a process's or a thread's, cputime.go: nothing
// says when CPU time reaches a value, so the timer samples the clock, at
// the earliest time the threads that add to it could get there, backing
// off while they do not run).
//
// At an expiration the timer queues its signal (SIGEV_SIGNAL to the
// process, SIGEV_THREAD_ID to one thread; SIGEV_NONE queues nothing). The
// signal is queued once: expirations while it is pending are overruns,
// reported in si_overrun when it is taken (delivered, or read by
// sigwaitinfo or a signalfd) and by timer_getoverrun after that, as on
// Linux. A wall-clock timer whose signal is pending does not wake up: the
// overruns are counted from the clock when the signal is taken, and the
// timer goes on from there. sigPending tells the timer when its signal is
// queued, taken or dropped (timerQueued, timerTaken, timerDropped, with
// tg.mu held), and the timer's state is guarded by tg.mu.

// SITimer is the si_code of a POSIX timer's signal.
const SITimer = -2

// sigev_notify values.
const (
	SigevSignal   = 0
	SigevNone     = 1
	SigevThread   = 2 // the C library's; the kernel signals the process
	SigevThreadID = 4
)

// MaxPosixTimers bounds the POSIX timers of a process (as does
// RLIMIT_SIGPENDING, below it); timer_create fails with EAGAIN past it.
const MaxPosixTimers = 4096

// delayTimerMax is the largest overrun count reported (DELAYTIMER_MAX).
const delayTimerMax = math.MaxInt32

// The shortest and longest time between two samples of a CPU-time clock.
const (
	cpuSampleMin = time.Millisecond
	cpuSampleMax = 100 * time.Millisecond
)

// Clocks the timers count on; tests replace them.
var (
	wallClock = timerfd.SystemClock
	// cpuSched schedules the samples of CPU-time clocks.
	cpuSched = timerfd.SystemClock(unix.CLOCK_MONOTONIC)
)

// posixState is a process's POSIX timers and CPU-time interval timers,
// and the queue signalfds wait on (signalwait.go). Guarded by tg.mu.
type posixState struct {
	sigQ      waiter.Queue
	timers    map[int32]*posixTimer
	nextID    int32
	cpuTimers [2]*posixTimer // ITIMER_VIRTUAL, ITIMER_PROF
}

// SigEvent is a struct sigevent: how a timer notifies.
type SigEvent struct {
	Notify int32 // SigevSignal, SigevNone, SigevThread, SigevThreadID
	Signo  int32
	Value  uint64 // sigev_value, the signal's si_value
	TID    int32  // SigevThreadID: the thread
}

type posixTimer struct {
	tg     *ThreadGroup
	id     int32
	clock  timerClock
	notify int32
	sig    unix.Signal
	value  uint64
	target *Task // SigevThreadID
	code   int32 // si_code: SITimer, or SIKernel for the interval timers

	// Guarded by tg.mu.
	armed       bool
	next        time.Duration // the clock's reading at the next expiration
	interval    time.Duration
	gen         uint64 // bumped by every setting: older wake-ups do nothing
	wake        timerfd.Stopper
	queued      bool  // its signal is pending
	overrun     int64 // expirations since the pending signal was queued
	lastOverrun int32 // what the last signal taken carried (timer_getoverrun)
	deleted     bool
}

// timerClock is a clock a timer counts on.
type timerClock interface {
	// now reads the clock; ok is false once it stops for good (the
	// thread or process whose CPU time it is has ended). Called without
	// tg.mu held (a CPU-time clock takes it).
	now() (d time.Duration, ok bool)
	// schedule calls f once the clock may have reached target (a wall
	// clock at target; a CPU-time clock at a guess, and f looks again).
	// Called with tg.mu held.
	schedule(target time.Duration, f func()) timerfd.Stopper
	// sampled reports a clock that is sampled (CPU time), not waited on.
	sampled() bool
}

// wallTimerClock is a host clock.
type wallTimerClock struct{ c timerfd.Clock }

func (w wallTimerClock) now() (time.Duration, bool) { return w.c.Now(), true }
func (w wallTimerClock) sampled() bool              { return false }
func (w wallTimerClock) schedule(target time.Duration, f func()) timerfd.Stopper {
	return w.c.AfterFunc(target-w.c.Now(), f)
}

// cpuTimerClock is a process's or a thread's CPU time.
type cpuTimerClock struct {
	read  func() (time.Duration, bool)
	width func() int // how many threads add to it at most at once
	sched timerfd.Clock

	// The last sample and the threads that may add to the clock, as now
	// found them (now runs without tg.mu).
	last atomic.Int64
	par  atomic.Int32
	// The sample and the wait of the last schedule, and the current
	// back-off (tg.mu).
	schedLast, schedWait, idle time.Duration
}

func (c *cpuTimerClock) sampled() bool { return true }

func (c *cpuTimerClock) now() (time.Duration, bool) {
	d, ok := c.read()
	c.last.Store(int64(d))
	c.par.Store(int32(max(c.width(), 1)))
	return d, ok
}

func (c *cpuTimerClock) schedule(target time.Duration, f func()) timerfd.Stopper {
	last := time.Duration(c.last.Load())
	// The clock cannot get to target sooner than if every thread that
	// adds to it ran all the time.
	wait := (target - last) / time.Duration(max(c.par.Load(), 1))
	if c.schedWait > 0 && (last-c.schedLast)*16 < c.schedWait {
		// The threads hardly ran since the last sample: back off.
		c.idle = min(max(2*c.idle, cpuSampleMin), cpuSampleMax)
		wait = max(wait, c.idle)
	} else {
		c.idle = 0
	}
	wait = min(max(wait, cpuSampleMin), time.Hour)
	c.schedLast, c.schedWait = last, wait
	return c.sched.AfterFunc(wait, f)
}

// cpuWidth is how many tasks can run at once.
func (k *Kernel) cpuWidth() int {
	if tok := k.runTokens; tok != nil {
		return cap(tok)
	}
	return runtime.NumCPU()
}

// groupCPUClock is the CPU time of process g.
func (k *Kernel) groupCPUClock(g *ThreadGroup) *cpuTimerClock {
	return &cpuTimerClock{
		read: func() (time.Duration, bool) {
			select {
			case <-g.done:
				return g.CPUTime(), false
			default:
				return g.CPUTime(), true
			}
		},
		width: func() int {
			g.mu.Lock()
			n := len(g.tasks)
			g.mu.Unlock()
			return min(n, k.cpuWidth())
		},
		sched: cpuSched,
	}
}

// taskCPUClock is the CPU time of thread t.
func taskCPUClock(t *Task) *cpuTimerClock {
	return &cpuTimerClock{
		read: func() (time.Duration, bool) {
			t.TG.mu.Lock()
			done := t.cpuDone
			t.TG.mu.Unlock()
			return t.CPUTime(), !done
		},
		width: func() int { return 1 },
		sched: cpuSched,
	}
}

// timerClockFor returns the clock a timer of t's process counts on, or
// EINVAL (an unknown clock, another process's thread), EOPNOTSUPP (a
// clock without timers) or EPERM (the alarm clocks, for others than
// root).
func (t *Task) timerClockFor(id int32) (timerClock, error) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
		return wallTimerClock{wallClock(id)}, nil
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		// They would wake a suspended machine: CAP_WAKE_ALARM.
		if t.TG.Creds().EUID != 0 {
			return nil, unix.EPERM
		}
		if id == unix.CLOCK_REALTIME_ALARM {
			return wallTimerClock{wallClock(unix.CLOCK_REALTIME)}, nil
		}
		return wallTimerClock{wallClock(unix.CLOCK_BOOTTIME)}, nil
	case unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		return nil, unix.EOPNOTSUPP
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return t.K.groupCPUClock(t.TG), nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return taskCPUClock(t), nil
	}
	if id >= 0 || id&3 == 3 {
		return nil, unix.EINVAL
	}
	// A CPU clock made from a PID or a TID (clock_getcpuclockid,
	// pthread_getcpuclockid): a thread of this process, or any process.
	which := int32(^(id >> 3))
	if id&4 != 0 {
		if which == 0 {
			return taskCPUClock(t), nil
		}
		o := t.K.Task(which)
		if o == nil || o.TG != t.TG {
			return nil, unix.EINVAL
		}
		return taskCPUClock(o), nil
	}
	if which == 0 {
		return t.K.groupCPUClock(t.TG), nil
	}
	g := t.K.Group(which)
	if g == nil {
		return nil, unix.EINVAL
	}
	return t.K.groupCPUClock(g), nil
}

// CreateTimer makes a POSIX timer on clock id (timer_create); ev nil is
// SIGEV_SIGNAL with SIGALRM and the timer's ID as the value. It returns
// the timer's ID.
func (t *Task) CreateTimer(id int32, ev *SigEvent) (int32, error) {
	e := SigEvent{Notify: SigevSignal, Signo: int32(unix.SIGALRM)}
	if ev != nil {
		e = *ev
	}
	var target *Task
	switch e.Notify {
	case SigevThreadID | SigevSignal:
		target = t.K.Task(e.TID)
		if target == nil || target.TG != t.TG {
			return 0, unix.EINVAL
		}
		fallthrough
	case SigevSignal, SigevThread:
		if e.Signo <= 0 || e.Signo > NumSignals {
			return 0, unix.EINVAL
		}
	case SigevNone:
	default:
		return 0, unix.EINVAL
	}
	clock, err := t.timerClockFor(id)
	if err != nil {
		return 0, err
	}
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	ps := &tg.posix
	if tg.exiting {
		return 0, unix.EAGAIN
	}
	limit := min(uint64(MaxPosixTimers), tg.limits[unix.RLIMIT_SIGPENDING].Cur)
	if uint64(len(ps.timers)) >= limit {
		return 0, unix.EAGAIN
	}
	if ps.timers == nil {
		ps.timers = map[int32]*posixTimer{}
	}
	tid := ps.nextID
	for ps.timers[tid] != nil {
		tid = (tid + 1) & math.MaxInt32
	}
	ps.nextID = (tid + 1) & math.MaxInt32
	if ev == nil {
		e.Value = uint64(tid)
	}
	pt := &posixTimer{tg: tg, id: tid, clock: clock, notify: e.Notify &^ SigevThreadID, sig: unix.Signal(e.Signo),
		value: e.Value, target: target, code: SITimer}
	if e.Notify == SigevThread {
		pt.notify = SigevSignal
	}
	ps.timers[tid] = pt
	return tid, nil
}

// timer finds timer id of the process (EINVAL if there is none).
func (tg *ThreadGroup) timer(id int32) (*posixTimer, error) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if pt := tg.posix.timers[id]; pt != nil {
		return pt, nil
	}
	return nil, unix.EINVAL
}

// SetTimer arms timer id (timer_settime) to expire at value (a reading of
// its clock if abs, else from now; 0 disarms it) and then every interval.
// It returns the setting it replaced, as GetTimer.
func (tg *ThreadGroup) SetTimer(id int32, value, interval time.Duration, abs bool) (oldValue, oldInterval time.Duration, err error) {
	pt, err := tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	now, ok := pt.clock.now()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if pt.deleted {
		return 0, 0, unix.EINVAL
	}
	oldValue, oldInterval = pt.getLocked(now)
	pt.set(now, ok, value, interval, abs)
	return oldValue, oldInterval, nil
}

// set arms or disarms the timer; tg.mu is held.
func (pt *posixTimer) set(now time.Duration, ok bool, value, interval time.Duration, abs bool) {
	pt.gen++
	if pt.wake != nil {
		pt.wake.Stop()
		pt.wake = nil
	}
	pt.armed, pt.interval = false, 0
	pt.overrun, pt.lastOverrun = 0, 0
	if value <= 0 || pt.tg.exiting {
		return
	}
	pt.armed, pt.interval = true, max(interval, 0)
	if abs {
		pt.next = value
	} else {
		pt.next = addSat(now, value)
	}
	if ok && pt.notify != SigevNone {
		pt.scheduleLocked()
	}
}

// GetTimer returns the time left before timer id next expires (0:
// disarmed) and its interval (timer_gettime).
func (tg *ThreadGroup) GetTimer(id int32) (value, interval time.Duration, err error) {
	pt, err := tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	now, _ := pt.clock.now()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	value, interval = pt.getLocked(now)
	return value, interval, nil
}

// getLocked is the timer's setting as timer_gettime reports it; tg.mu is
// held. A periodic timer whose expirations nobody waits for (SIGEV_NONE,
// or its signal pending) moves on to its next expiration after now,
// counting overruns; an expired timer whose signal is on its way reports
// 1 ns.
func (pt *posixTimer) getLocked(now time.Duration) (value, interval time.Duration) {
	if !pt.armed {
		return 0, pt.interval
	}
	if now >= pt.next {
		switch {
		case pt.interval > 0 && (pt.notify == SigevNone || pt.queued && !pt.clock.sampled()):
			pt.overrun = addOverrun(pt.overrun, pt.forward(now))
		case pt.notify == SigevNone:
			pt.armed = false
			return 0, 0
		default:
			return time.Nanosecond, pt.interval
		}
	}
	return pt.next - now, pt.interval
}

// forward moves a periodic timer to its first expiration after now and
// returns the number of expirations passed. tg.mu is held.
func (pt *posixTimer) forward(now time.Duration) int64 {
	if now < pt.next || pt.interval <= 0 {
		return 0
	}
	n := int64((now-pt.next)/pt.interval) + 1
	if n > int64(math.MaxInt64/pt.interval) {
		pt.next = math.MaxInt64
	} else {
		pt.next = addSat(pt.next, time.Duration(n)*pt.interval)
	}
	return n
}

// scheduleLocked starts the wake-up for the next expiration. tg.mu is held.
func (pt *posixTimer) scheduleLocked() {
	if !pt.armed || pt.next == math.MaxInt64 || pt.wake != nil {
		return
	}
	gen := pt.gen
	pt.wake = pt.clock.schedule(pt.next, func() { pt.fire(gen) })
}

// fire runs when the timer may have expired: it queues the signal, or
// counts an overrun if it is still pending, and schedules the next
// wake-up.
func (pt *posixTimer) fire(gen uint64) {
	now, ok := pt.clock.now()
	tg := pt.tg
	tg.mu.Lock()
	if pt.gen != gen || pt.deleted || tg.exiting {
		tg.mu.Unlock()
		return
	}
	pt.wake = nil
	if !ok || !pt.armed {
		// The clock stopped (its thread ended): the timer never fires.
		tg.mu.Unlock()
		return
	}
	if now < pt.next {
		pt.scheduleLocked()
		tg.mu.Unlock()
		return
	}
	n := int64(1)
	if pt.interval > 0 {
		n = pt.forward(now)
	} else {
		pt.armed = false
	}
	if pt.queued {
		pt.overrun = addOverrun(pt.overrun, n)
		if pt.clock.sampled() {
			pt.scheduleLocked()
		}
		tg.mu.Unlock()
		return
	}
	pt.overrun = n - 1
	info := SigInfo{Signo: int32(pt.sig), Code: pt.code, PID: pt.id, Value: pt.value, timer: pt}
	target := pt.target
	if target != nil && !tg.hasTaskLocked(target) {
		target = nil // its thread has ended: nobody gets the signal
	}
	tg.mu.Unlock()
	switch {
	case pt.target == nil:
		tg.SendSignalInfo(info)
	case target != nil:
		target.SendSignalInfo(info)
	}
	tg.mu.Lock()
	// Unless the signal is pending (then taking it restarts the timer),
	// on to the next expiration.
	if pt.gen == gen && !pt.deleted && (!pt.queued || pt.clock.sampled()) {
		pt.scheduleLocked()
	}
	tg.mu.Unlock()
}

func (tg *ThreadGroup) hasTaskLocked(t *Task) bool {
	for _, o := range tg.tasks {
		if o == t {
			return true
		}
	}
	return false
}

// timerQueued records that info, a timer's signal, is now pending.
// tg.mu is held.
func (info *SigInfo) timerQueued() {
	if pt := info.timer; pt != nil {
		pt.queued = true
	}
}

// timerTaken records that a timer's signal left the pending set to be
// delivered, and returns its siginfo with the overruns (a wall-clock
// timer counts those that passed while it was pending, and goes on).
// tg.mu is held.
func (info SigInfo) timerTaken() SigInfo {
	pt := info.timer
	if pt == nil {
		return info
	}
	info.timer = nil
	if pt.deleted || !pt.queued {
		return info
	}
	pt.queued = false
	if pt.armed && pt.interval > 0 && !pt.clock.sampled() {
		now, _ := pt.clock.now()
		pt.overrun = addOverrun(pt.overrun, pt.forward(now))
	}
	ov := int32(min(pt.overrun, delayTimerMax))
	pt.overrun, pt.lastOverrun = 0, ov
	if pt.code == SITimer {
		info.UID = uint32(ov) // si_overrun
	}
	pt.scheduleLocked()
	return info
}

// timerDropped records that a timer's pending signal was discarded (its
// action set to ignore it). tg.mu is held.
func (info *SigInfo) timerDropped() {
	pt := info.timer
	if pt == nil || pt.deleted || !pt.queued {
		return
	}
	pt.queued = false
	pt.overrun = 0
	if pt.armed && pt.interval > 0 && !pt.clock.sampled() {
		now, _ := pt.clock.now()
		pt.forward(now)
	}
	pt.scheduleLocked()
}

func addOverrun(a, n int64) int64 {
	if a > math.MaxInt64-n {
		return math.MaxInt64
	}
	return a + n
}

func addSat(a, b time.Duration) time.Duration {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// TimerOverrun returns the overruns of the last signal of timer id that
// was taken (timer_getoverrun).
func (tg *ThreadGroup) TimerOverrun(id int32) (int32, error) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	pt := tg.posix.timers[id]
	if pt == nil {
		return 0, unix.EINVAL
	}
	return pt.lastOverrun, nil
}

// DeleteTimer deletes timer id (timer_delete). A signal of it that is
// pending stays pending.
func (tg *ThreadGroup) DeleteTimer(id int32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	pt := tg.posix.timers[id]
	if pt == nil {
		return unix.EINVAL
	}
	pt.deleteLocked()
	delete(tg.posix.timers, id)
	return nil
}

func (pt *posixTimer) deleteLocked() {
	pt.deleted = true
	pt.armed = false
	pt.gen++
	if pt.wake != nil {
		pt.wake.Stop()
		pt.wake = nil
	}
}

// NumTimers returns how many POSIX timers the process has.
func (tg *ThreadGroup) NumTimers() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.posix.timers)
}

// deletePosixTimers deletes every POSIX timer of the process (execve);
// the CPU-time interval timers stay, as on Linux.
func (tg *ThreadGroup) deletePosixTimers() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for id, pt := range tg.posix.timers {
		pt.deleteLocked()
		delete(tg.posix.timers, id)
	}
}

// stopPosixTimersLocked stops every timer of the process (exit). tg.mu
// is held.
func (tg *ThreadGroup) stopPosixTimersLocked() {
	tg.stopCPULimitLocked()
	for _, pt := range tg.posix.timers {
		pt.deleteLocked()
	}
	for _, pt := range tg.posix.cpuTimers {
		if pt != nil {
			pt.deleteLocked()
		}
	}
}

// The CPU-time interval timers.
const (
	ITimerVirtual = 1
	ITimerProf    = 2
)

// SetCPUTimer arms ITIMER_VIRTUAL or ITIMER_PROF (setitimer): after value
// of the process's CPU time (0 disarms it), then every interval, SIGVTALRM
// or SIGPROF is sent to the process. The sandbox does not tell user from
// system time (cputime.go): both count all of it. It returns the time
// that was left and the old interval.
func (tg *ThreadGroup) SetCPUTimer(which int, value, interval time.Duration) (left, oldInterval time.Duration) {
	pt := tg.cpuTimer(which)
	now, ok := pt.clock.now()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	left, oldInterval = pt.itimerLocked(now)
	if value <= 0 {
		interval = 0
	}
	pt.set(now, ok, value, interval, false)
	return left, oldInterval
}

// CPUTimer returns the time left on ITIMER_VIRTUAL or ITIMER_PROF and its
// interval (getitimer).
func (tg *ThreadGroup) CPUTimer(which int) (left, interval time.Duration) {
	pt := tg.cpuTimer(which)
	now, _ := pt.clock.now()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return pt.itimerLocked(now)
}

// itimerLocked is getitimer's view: an armed timer reports at least 1 µs.
func (pt *posixTimer) itimerLocked(now time.Duration) (left, interval time.Duration) {
	left, interval = pt.getLocked(now)
	if pt.armed {
		left = max(left, time.Microsecond)
	}
	return left, interval
}

// cpuTimer returns the process's ITIMER_VIRTUAL or ITIMER_PROF, made on
// first use.
func (tg *ThreadGroup) cpuTimer(which int) *posixTimer {
	i := 0
	sig := unix.SIGVTALRM
	if which == ITimerProf {
		i, sig = 1, unix.SIGPROF
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if pt := tg.posix.cpuTimers[i]; pt != nil {
		return pt
	}
	pt := &posixTimer{tg: tg, id: -1, clock: tg.k.groupCPUClock(tg), notify: SigevSignal, sig: sig, code: SIKernel}
	tg.posix.cpuTimers[i] = pt
	return pt
}
