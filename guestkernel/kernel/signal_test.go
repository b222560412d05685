package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestUnkillableDrops: a namespace init (a container's first process)
// drops the signals it has no handler for, but SIGKILL and SIGSTOP from
// the kernel or from outside; a handled or blocked signal stays.
func TestUnkillableDrops(t *testing.T) {
	task := &Task{}
	fromInside := func(sig unix.Signal) SigInfo { return SigInfo{Signo: int32(sig), Code: SIUser, PID: 7} }
	fromHost := func(sig unix.Signal) SigInfo { return SigInfo{Signo: int32(sig), Code: SIUser, fromHost: true} }
	fromKernel := func(sig unix.Signal) SigInfo { return SigInfo{Signo: int32(sig), Code: SIKernel} }
	for _, c := range []struct {
		name       string
		unkillable bool
		handled    bool
		blocked    bool
		traced     bool
		info       SigInfo
		dropped    bool
	}{
		{"plain process, SIGTERM", false, false, false, false, fromInside(unix.SIGTERM), false},
		{"plain process, SIGKILL", false, false, false, false, fromInside(unix.SIGKILL), false},
		{"plain process, SIGCHLD (ignored by default)", false, false, false, false, fromInside(unix.SIGCHLD), true},
		{"init, SIGTERM from inside", true, false, false, false, fromInside(unix.SIGTERM), true},
		{"init, SIGTERM from the host", true, false, false, false, fromHost(unix.SIGTERM), true},
		{"init, SIGALRM from the kernel", true, false, false, false, fromKernel(unix.SIGALRM), true},
		{"init, SIGKILL from inside", true, false, false, false, fromInside(unix.SIGKILL), true},
		{"init, SIGSTOP from inside", true, false, false, false, fromInside(unix.SIGSTOP), true},
		{"init, SIGKILL from the host", true, false, false, false, fromHost(unix.SIGKILL), false},
		{"init, SIGKILL from the kernel", true, false, false, false, fromKernel(unix.SIGKILL), false},
		{"init, SIGSTOP from the host", true, false, false, false, fromHost(unix.SIGSTOP), false},
		{"init, handled SIGTERM from inside", true, true, false, false, fromInside(unix.SIGTERM), false},
		{"init, blocked SIGTERM (sigwait, signalfd)", true, false, true, false, fromInside(unix.SIGTERM), false},
		{"traced init, SIGTERM from inside (the tracer sees it)", true, false, false, true, fromInside(unix.SIGTERM), false},
		{"traced init, SIGKILL from inside", true, false, false, true, fromInside(unix.SIGKILL), true},
		{"init, SIGKILL from inside with the host's si_code and no sender", true, false, false, false, SigInfo{Signo: int32(unix.SIGKILL), Code: SIUser}, true},
	} {
		tg := &ThreadGroup{unkillable: c.unkillable, tasks: []*Task{task}}
		sig := unix.Signal(c.info.Signo)
		if c.handled {
			tg.actions[sig-1].Handler = 0x401000
		}
		task.SigMask = 0
		task.pt.traced.Store(c.traced)
		if c.blocked {
			task.SigMask = sigBit(sig)
		}
		if got := tg.droppedLocked(c.info, nil); got != c.dropped {
			t.Errorf("%s: dropped %v, want %v", c.name, got, c.dropped)
		}
		if got := tg.droppedLocked(c.info, task); got != c.dropped {
			t.Errorf("%s, to the thread: dropped %v, want %v", c.name, got, c.dropped)
		}
	}
}
