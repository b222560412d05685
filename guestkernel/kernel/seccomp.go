package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/seccomp"
)

// Seccomp modes (PR_GET_SECCOMP, /proc/PID/status Seccomp).
const (
	SeccompDisabled = 0
	SeccompStrict   = 1
	SeccompFilter   = 2
)

// PtraceEventSeccomp is the PTRACE_EVENT_SECCOMP stop of SECCOMP_RET_TRACE.
const PtraceEventSeccomp = 7

// seccompState is a task's seccomp(2) mode and filters. It is read at
// every syscall entry without a lock; it changes only under the thread
// group's lock (a thread's own install, or another's TSYNC), and a filter
// stack is immutable and shared with the tasks that inherited it.
type seccompState struct {
	mode  atomic.Int32
	chain atomic.Pointer[seccomp.Chain]
}

// inherit gives a new task its creator's mode and filters (fork, clone).
func (s *seccompState) inherit(from *seccompState) {
	s.chain.Store(from.chain.Load())
	s.mode.Store(from.mode.Load())
}

// SeccompMode returns the task's seccomp mode and number of filters.
func (t *Task) SeccompMode() (mode, filters int) {
	return int(t.seccomp.mode.Load()), t.seccomp.chain.Load().Len()
}

// SeccompProgram returns the task's filter at index, 0 the newest
// (PTRACE_SECCOMP_GET_FILTER): EINVAL outside filter mode, ENOENT past
// the oldest.
func (t *Task) SeccompProgram(index uint64) (*seccomp.Program, error) {
	if t.seccomp.mode.Load() != SeccompFilter {
		return nil, unix.EINVAL
	}
	c := t.seccomp.chain.Load()
	for ; c != nil && index > 0; index-- {
		c = c.Prev()
	}
	if c == nil {
		return nil, unix.ENOENT
	}
	return c.Program(), nil
}

// SetSeccompStrict enters strict mode (SECCOMP_SET_MODE_STRICT): EINVAL
// in filter mode, nothing to do when already strict.
func (t *Task) SetSeccompStrict() error {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	switch t.seccomp.mode.Load() {
	case SeccompFilter:
		return unix.EINVAL
	case SeccompStrict:
		return nil
	}
	t.seccomp.mode.Store(SeccompStrict)
	return nil
}

// AttachSeccomp adds prog on top of the task's filters
// (SECCOMP_SET_MODE_FILTER). With tsync, every thread of the process
// gets the new stack too, which needs each to have no filter or one the
// caller's stack extends: else nothing changes and the result is the TID
// of the first that does not (or ESRCH with tsyncESRCH). EINVAL in strict
// mode, ENOMEM past the instructions limit.
func (t *Task) AttachSeccomp(prog *seccomp.Program, log, tsync, tsyncESRCH bool) (int32, error) {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if t.seccomp.mode.Load() == SeccompStrict {
		return 0, unix.EINVAL
	}
	cur := t.seccomp.chain.Load()
	if tsync {
		for _, o := range tg.tasks {
			if o == t || o.threadExit {
				continue
			}
			if !seccompExtends(cur, o) {
				if tsyncESRCH {
					return 0, unix.ESRCH
				}
				return o.TID, nil
			}
		}
	}
	next, err := cur.Attach(prog, log)
	if err != nil {
		return 0, err
	}
	t.seccomp.chain.Store(next)
	t.seccomp.mode.Store(SeccompFilter)
	if tsync {
		for _, o := range tg.tasks {
			if o != t && !o.threadExit {
				o.seccomp.chain.Store(next)
				o.seccomp.mode.Store(SeccompFilter)
			}
		}
	}
	return 0, nil
}

// seccompExtends reports whether o's filters are cur or below it (what
// TSYNC may replace with cur's successor).
func seccompExtends(cur *seccomp.Chain, o *Task) bool {
	switch o.seccomp.mode.Load() {
	case SeccompDisabled:
		return true
	case SeccompStrict:
		return false
	}
	theirs := o.seccomp.chain.Load()
	for c := cur; c != nil; c = c.Prev() {
		if c == theirs {
			return true
		}
	}
	return theirs == nil
}

// strictSyscalls are those strict mode allows.
var strictSyscalls = [...]int64{unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN}

// seccompAllows applies the task's seccomp mode to the syscall in its
// registers (t.origRAX and the argument registers) and reports whether it
// runs. When it does not, RAX holds what the program sees (an errno, the
// syscall number before SIGSYS, or what a tracer left) or the task is on
// its way out. A tracer at a SECCOMP_RET_TRACE stop may change the call,
// which is then checked again.
func (t *Task) seccompAllows() bool {
	r := &t.Regs
	if t.seccomp.mode.Load() == SeccompStrict {
		for _, nr := range strictSyscalls {
			if t.origRAX == nr {
				return true
			}
		}
		t.seccompKill(unix.SIGKILL, true)
		return false
	}
	recheck := false
	for {
		nr := t.origRAX
		d := seccomp.Data{Nr: int32(nr), Arch: seccomp.AuditArchX86_64, IP: r.RIP,
			Args: [6]uint64{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}}
		ret, log := t.seccomp.chain.Load().Evaluate(&d)
		action, data := ret&seccomp.RetActionFull, ret&seccomp.RetData
		if log || action != seccomp.RetAllow && action != seccomp.RetErrno {
			t.K.Log.Debug("seccomp", "pid", t.TG.PID, "tid", t.TID, "syscall", nr, "action", seccompActionName(action), "data", data)
		}
		switch action {
		case seccomp.RetAllow, seccomp.RetLog:
			return true
		case seccomp.RetErrno:
			r.RAX = uint64(-int64(min(data, 4095)))
			return false
		case seccomp.RetTrap:
			r.RAX = uint64(nr) // as Linux rolls the call back
			t.forceSignalInfo(SigInfo{Signo: int32(unix.SIGSYS), Code: 1 /* SYS_SECCOMP */, Addr: r.RIP,
				Errno: int32(data), Syscall: int32(nr), Arch: seccomp.AuditArchX86_64})
			return false
		case seccomp.RetTrace:
			if recheck {
				return true
			}
			enosys := int64(unix.ENOSYS)
			r.RAX = uint64(-enosys)
			if !t.ptraceEventStop(unix.PTRACE_O_TRACESECCOMP, PtraceEventSeccomp, uint64(data)) {
				return false
			}
			if t.TG.Exiting() || t.mustExit() || t.origRAX < 0 {
				return false // dying, or the tracer skipped the call
			}
			recheck = true
		case seccomp.RetUserNotif:
			// No listener can exist (the sandbox offers none).
			enosys := int64(unix.ENOSYS)
			r.RAX = uint64(-enosys)
			return false
		case seccomp.RetKillThread:
			r.RAX = uint64(nr)
			t.seccompKill(unix.SIGSYS, true)
			return false
		default: // KILL_PROCESS and unknown actions
			r.RAX = uint64(nr)
			t.seccompKill(unix.SIGSYS, false)
			return false
		}
	}
}

// seccompKill ends the task for a seccomp violation: the thread alone
// when thread and others are left (as Linux's do_exit), else the process
// with the signal (a core-dumping SIGSYS, or strict mode's SIGKILL).
func (t *Task) seccompKill(sig unix.Signal, thread bool) {
	tg := t.TG
	tg.mu.Lock()
	live := 0
	for _, o := range tg.tasks {
		if !o.threadExit {
			live++
		}
	}
	if thread && live > 1 {
		t.threadExit = true
		t.exitSignal = sig
		tg.mu.Unlock()
		return
	}
	tg.mu.Unlock()
	tg.Exit(ExitStatus{Signal: sig, Core: sig == unix.SIGSYS})
}

// seccompActionName names an action for the debug log.
func seccompActionName(action uint32) string {
	switch action {
	case seccomp.RetKillProcess:
		return "kill_process"
	case seccomp.RetKillThread:
		return "kill_thread"
	case seccomp.RetTrap:
		return "trap"
	case seccomp.RetErrno:
		return "errno"
	case seccomp.RetUserNotif:
		return "user_notif"
	case seccomp.RetTrace:
		return "trace"
	case seccomp.RetLog:
		return "log"
	case seccomp.RetAllow:
		return "allow"
	}
	return "unknown"
}
