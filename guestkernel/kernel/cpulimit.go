package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs/timerfd"
)

// RLIMIT_CPU, as Linux applies it: once the process's CPU time reaches
// the soft limit it gets SIGXCPU (whose default action ends it), and, the
// soft limit moving one second on each time while it is below the hard
// one, again every CPU second after; at the hard limit, SIGKILL. The
// watch samples the process's CPU-time clock as the CPU-time timers do
// (posixtimer.go), and costs nothing while the limit is RLIM_INFINITY.

// cpuLimit is a process's watch, guarded by tg.mu.
type cpuLimit struct {
	clock *cpuTimerClock
	gen   uint64 // bumped by every arming: older wake-ups do nothing
	wake  timerfd.Stopper
}

// limitDuration converts a limit in seconds to a Duration (saturating).
func limitDuration(secs uint64) time.Duration {
	if secs >= uint64(1<<63-1)/uint64(time.Second) {
		return 1<<63 - 1
	}
	return time.Duration(secs) * time.Second
}

// armCPULimit (re)starts the watch for the current RLIMIT_CPU (after
// setrlimit, and in a new process, which inherits the limit).
func (tg *ThreadGroup) armCPULimit() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.armCPULimitLocked()
}

func (tg *ThreadGroup) armCPULimitLocked() {
	cl := tg.cpuLim
	l := tg.limits[unix.RLIMIT_CPU]
	if cl == nil {
		if l.Cur == infinity && l.Max == infinity {
			return
		}
		cl = &cpuLimit{clock: tg.k.groupCPUClock(tg)}
		tg.cpuLim = cl
	}
	cl.gen++
	if cl.wake != nil {
		cl.wake.Stop()
		cl.wake = nil
	}
	if (l.Cur == infinity && l.Max == infinity) || tg.exiting {
		return
	}
	gen := cl.gen
	cl.wake = cl.clock.schedule(limitDuration(min(l.Cur, l.Max)), func() { tg.cpuLimitCheck(gen) })
}

// cpuLimitCheck looks at the process's CPU time against the limits.
func (tg *ThreadGroup) cpuLimitCheck(gen uint64) {
	tg.mu.Lock()
	cl := tg.cpuLim
	tg.mu.Unlock()
	now, ok := cl.clock.now() // takes tg.mu
	tg.mu.Lock()
	if cl.gen != gen || tg.exiting || !ok {
		tg.mu.Unlock()
		return
	}
	cl.wake = nil
	l := tg.limits[unix.RLIMIT_CPU]
	var sig unix.Signal
	switch {
	case l.Max != infinity && now >= limitDuration(l.Max):
		sig = unix.SIGKILL
	case l.Cur != infinity && now >= limitDuration(l.Cur):
		sig = unix.SIGXCPU
		if l.Cur < l.Max {
			tg.limits[unix.RLIMIT_CPU].Cur = l.Cur + 1
		}
		l = tg.limits[unix.RLIMIT_CPU]
	}
	if sig != unix.SIGKILL {
		cl.wake = cl.clock.schedule(limitDuration(min(l.Cur, l.Max)), func() { tg.cpuLimitCheck(gen) })
	}
	tg.mu.Unlock()
	if sig != 0 {
		tg.SendSignalInfo(SigInfo{Signo: int32(sig), Code: SIKernel})
	}
}

// stopCPULimitLocked ends the watch (exit). tg.mu is held.
func (tg *ThreadGroup) stopCPULimitLocked() {
	if cl := tg.cpuLim; cl != nil {
		cl.gen++
		if cl.wake != nil {
			cl.wake.Stop()
			cl.wake = nil
		}
	}
}
