package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

// realTimer is a process's ITIMER_REAL (alarm, setitimer): it sends
// SIGALRM when it expires, then every interval if one is set.
type realTimer struct {
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
	gen      uint64 // bumped on every set, so an old expiry does nothing
}

// SetRealTimer arms ITIMER_REAL to expire after value (0 disarms it) and
// then every interval; it returns the time that was left and the old
// interval.
func (tg *ThreadGroup) SetRealTimer(value, interval time.Duration) (left, oldInterval time.Duration) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	rt := &tg.itimer
	left, oldInterval = rt.leftLocked(), rt.interval
	if rt.timer != nil {
		rt.timer.Stop()
		rt.timer = nil
	}
	rt.gen++
	rt.interval = interval
	rt.deadline = time.Time{}
	if value > 0 && !tg.exiting {
		rt.arm(tg, value)
	}
	return left, oldInterval
}

// RealTimer returns the time left on ITIMER_REAL and its interval.
func (tg *ThreadGroup) RealTimer() (left, interval time.Duration) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.itimer.leftLocked(), tg.itimer.interval
}

func (rt *realTimer) leftLocked() time.Duration {
	if rt.deadline.IsZero() {
		return 0
	}
	// An armed timer reports at least 1 µs, as Linux does.
	return max(time.Until(rt.deadline), time.Microsecond)
}

// arm starts the timer; tg.mu is held.
func (rt *realTimer) arm(tg *ThreadGroup, d time.Duration) {
	gen := rt.gen
	rt.deadline = time.Now().Add(d)
	rt.timer = time.AfterFunc(d, func() {
		tg.mu.Lock()
		if rt.gen != gen || tg.exiting {
			tg.mu.Unlock()
			return
		}
		rt.timer, rt.deadline = nil, time.Time{}
		if rt.interval > 0 {
			rt.arm(tg, rt.interval)
		}
		tg.mu.Unlock()
		tg.SendSignalCode(unix.SIGALRM, SIKernel)
	})
}

// stopTimers disarms the process's timers (exit); tg.mu is held.
func (tg *ThreadGroup) stopTimersLocked() {
	tg.stopPosixTimersLocked()
	tg.itimer.gen++
	if tg.itimer.timer != nil {
		tg.itimer.timer.Stop()
		tg.itimer.timer = nil
	}
	tg.itimer.deadline = time.Time{}
}

// DequeueSignal takes the lowest pending signal in set, if any, with its
// siginfo (rt_sigtimedwait, signalfd): first those sent to the thread.
func (t *Task) DequeueSignal(set uint64) (unix.Signal, SigInfo) {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if sig := t.sigs.first(^set); sig != 0 {
		return sig, t.sigs.take(sig)
	}
	if sig := tg.sigs.first(^set); sig != 0 {
		return sig, tg.sigs.take(sig)
	}
	return 0, SigInfo{}
}

// Pending returns the signals pending for the thread and its process
// (rt_sigpending).
func (t *Task) Pending() uint64 {
	t.TG.mu.Lock()
	defer t.TG.mu.Unlock()
	return t.sigs.mask | t.TG.sigs.mask
}
