package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

// CPU time. Every task runs on a host thread of its own (Run locks it), so
// the host thread's CPU clock is the task's CPU time: user code in the
// guest (KVM accounts guest time to the thread), and the Go kernel's work
// for it, in the guest or on the host. A thread that goes back to the Go
// runtime's pool when the task ends may have run other code before, so a
// task counts from a reading taken when it starts, and keeps its total
// when it ends. The split between user and system time is not known:
// everything is reported as user time.

// threadCPU reads the CPU clock of host thread tid (any thread of this
// process: clock_gettime on MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)).
func threadCPU(tid int) time.Duration {
	clock := int32((^tid)<<3 | 4 | 2)
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// CPUTime is the CPU time the task has used.
func (t *Task) CPUTime() time.Duration {
	t.TG.mu.Lock()
	done, final, base, tid := t.cpuDone, t.cpuFinal, t.cpuBase, t.hostTID
	t.TG.mu.Unlock()
	if done {
		return final
	}
	if tid == 0 {
		return 0
	}
	if d := threadCPU(tid) - base; d > 0 {
		return d
	}
	return 0
}

// startCPU takes the reading the task's CPU time counts from.
func (t *Task) startCPU() {
	base := threadCPU(t.hostTID)
	t.TG.mu.Lock()
	t.cpuBase = base
	t.TG.mu.Unlock()
}

// endCPU freezes the task's CPU time (it is ending on its own thread) and
// adds it to the process's account of its dead threads.
func (t *Task) endCPU() {
	d := t.CPUTime()
	tg := t.TG
	tg.mu.Lock()
	t.cpuFinal, t.cpuDone = d, true
	tg.deadCPU += d
	tg.mu.Unlock()
}

// CPUTime is the CPU time of the process: its live threads and the ones
// that have ended.
func (tg *ThreadGroup) CPUTime() time.Duration {
	tg.mu.Lock()
	total := tg.deadCPU
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		total += t.CPUTime()
	}
	return total
}

// ChildrenCPUTime is the CPU time of the children (and their waited-for
// descendants) this process has reaped, as RUSAGE_CHILDREN and times()
// report it.
func (tg *ThreadGroup) ChildrenCPUTime() time.Duration {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.childCPU
}

// CPUTimeByClock reads a CPU-time clock ID of clock_gettime: the caller's
// process or thread, or another's (the IDs pthread_getcpuclockid and
// clock_getcpuclockid make from a TID or PID).
func (k *Kernel) CPUTimeByClock(t *Task, id int32) (time.Duration, error) {
	switch id {
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return t.TG.CPUTime(), nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return t.CPUTime(), nil
	}
	if id >= 0 || id&3 == 3 {
		return 0, unix.EINVAL
	}
	which := int32(^(id >> 3))
	if id&3 != 2 && id&3 != 0 && id&3 != 1 {
		return 0, unix.EINVAL
	}
	if id&4 != 0 {
		if which == 0 {
			return t.CPUTime(), nil
		}
		o := k.Task(which)
		if o == nil || o.TG != t.TG {
			return 0, unix.EINVAL
		}
		return o.CPUTime(), nil
	}
	if which == 0 {
		return t.TG.CPUTime(), nil
	}
	g := k.Group(which)
	if g == nil {
		return 0, unix.EINVAL
	}
	return g.CPUTime(), nil
}
