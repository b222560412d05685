package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/mm"
)

// CloneArgs are clone/clone3/fork/vfork's arguments.
type CloneArgs struct {
	Flags      uint64
	ExitSignal unix.Signal // sent to the parent when the child exits (processes)
	Stack      uint64      // the child's RSP, 0: the parent's
	TLS        uint64      // the child's FS base with CLONE_SETTLS
	ParentTID  uintptr     // CLONE_PARENT_SETTID: the child's TID is written here
	ChildTID   uintptr     // CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID
	PidFD      uintptr     // CLONE_PIDFD: where the parent's pidfd goes (the syscall layer makes it)
}

// The clone flags ringbox implements; any other is refused with EINVAL.
const (
	cloneSupported = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
		unix.CLONE_CHILD_CLEARTID | unix.CLONE_CHILD_SETTID | unix.CLONE_VFORK | unix.CLONE_PARENT |
		unix.CLONE_DETACHED | unix.CLONE_IO | unix.CLONE_CLEAR_SIGHAND | unix.CLONE_PIDFD |
		unix.CLONE_PTRACE | unix.CLONE_UNTRACED // ptrace.go: PtraceCloned
)

// Clone makes a new task from t: a thread of t's process (CLONE_THREAD) or
// a new process (fork: a copy-on-write copy of the address space, or the
// same one with CLONE_VM). It returns the child, not yet running; the
// caller starts it with Start once the parent's registers are final.
func (t *Task) Clone(a CloneArgs) (*Task, error) {
	f := a.Flags
	if f&^cloneSupported != 0 {
		return nil, fmt.Errorf("%w: clone flags %#x", unix.EINVAL, f&^cloneSupported)
	}
	// The combinations Linux refuses.
	switch {
	case f&unix.CLONE_THREAD != 0 && f&unix.CLONE_SIGHAND == 0,
		f&unix.CLONE_SIGHAND != 0 && f&unix.CLONE_VM == 0,
		f&unix.CLONE_CLEAR_SIGHAND != 0 && f&unix.CLONE_SIGHAND != 0:
		return nil, unix.EINVAL
	case f&unix.CLONE_THREAD != 0 && (f&unix.CLONE_FS == 0 || f&unix.CLONE_FILES == 0):
		// A thread with its own working directory or descriptor table.
		return nil, fmt.Errorf("%w: a thread without CLONE_FS|CLONE_FILES", unix.EINVAL)
	case f&unix.CLONE_THREAD == 0 && f&unix.CLONE_SIGHAND != 0:
		// A process sharing its parent's signal handlers.
		return nil, fmt.Errorf("%w: CLONE_SIGHAND without CLONE_THREAD", unix.EINVAL)
	}
	k := t.K
	parent := t.TG

	// The address space.
	m := t.MM
	if f&unix.CLONE_VM == 0 {
		var err error
		if m, err = t.MM.Fork(k.Platform); err != nil {
			return nil, err
		}
	}
	ctx, err := k.Platform.NewContext()
	if err != nil {
		if m != t.MM {
			m.Release()
		}
		k.Log.Debug("clone: no vCPU", "err", err)
		return nil, ErrNoTasks
	}
	fp, err := t.Ctx.FPState()
	if err == nil {
		err = ctx.SetFPState(fp)
	}
	if err != nil {
		ctx.Release()
		if m != t.MM {
			m.Release()
		}
		return nil, fmt.Errorf("clone: copy the FP state: %w", err)
	}

	child := &Task{K: k, MM: m, Ctx: ctx, wake: make(chan struct{}, 1), syscallNR: -1,
		SigMask: t.SigMask, Alt: t.Alt, name: t.Name()}
	child.Sched.inherit(&t.Sched)
	// Running until it first waits: a parent watching /proc for the
	// child to sleep in a call must not see it asleep before it starts.
	child.busy.Store(true)
	if f&unix.CLONE_VM != 0 && f&unix.CLONE_VFORK == 0 {
		child.Alt = AltStack{Flags: SSDisable}
	}
	// Registers: the parent's at the syscall's return, with 0 in RAX.
	child.Regs = t.Regs
	child.Regs.RAX = 0
	child.Regs.RCX = t.Regs.RIP
	child.Regs.R11 = t.Regs.RFLAGS
	if a.Stack != 0 {
		child.Regs.RSP = a.Stack
	}
	if f&unix.CLONE_SETTLS != 0 {
		if a.TLS >= userAddrLimit {
			ctx.Release()
			if m != t.MM {
				m.Release()
			}
			return nil, unix.EPERM
		}
		child.Regs.FSBase = a.TLS
	}
	if f&unix.CLONE_CHILD_CLEARTID != 0 {
		child.ClearChildTID = a.ChildTID
	}
	if f&unix.CLONE_VFORK != 0 {
		child.vforkDone = make(chan struct{})
	}

	undo := func() {
		ctx.Release()
		if m != t.MM {
			m.Release()
		}
	}
	k.mu.Lock()
	if k.nprocExceededLocked(t.TG) {
		k.mu.Unlock()
		undo()
		return nil, ErrNoTasks
	}
	tid := k.allocPID()
	child.TID = tid
	if f&unix.CLONE_THREAD != 0 {
		child.TG = parent
		parent.mu.Lock()
		if parent.exiting || parent.execing != nil {
			parent.mu.Unlock()
			k.mu.Unlock()
			undo()
			return nil, ErrRestartNoIntr // the caller is about to die anyway
		}
		if err := k.addTaskLocked(child); err != nil {
			parent.mu.Unlock()
			k.mu.Unlock()
			undo()
			return nil, err
		}
		// The filters under the lock that TSYNC takes, so that a thread
		// made meanwhile gets another thread's synchronized filter.
		child.seccomp.inherit(&t.seccomp)
		parent.tasks = append(parent.tasks, child)
		parent.mu.Unlock()
	} else {
		child.seccomp.inherit(&t.seccomp)
		fds := parent.FDs
		if f&unix.CLONE_FILES == 0 {
			fds = parent.FDs.Fork()
		}
		tg := k.newGroup(tid, fds, parent.Creds())
		tg.exitSignal = a.ExitSignal
		parent.mu.Lock()
		tg.limits = parent.limits
		tg.umask = parent.umask
		tg.persona = parent.persona
		tg.fsRoot, tg.cwd = parent.fsRoot, parent.cwd
		tg.rseqActive = parent.rseqActive
		tg.noNewPrivs = parent.noNewPrivs
		tg.thpOff = parent.thpOff
		tg.undumpable = parent.undumpable
		tg.actions = parent.actions
		if f&unix.CLONE_CLEAR_SIGHAND != 0 {
			for i := range tg.actions {
				if tg.actions[i].Handler != SigIgn {
					tg.actions[i] = SigAction{}
				}
			}
		}
		parent.mu.Unlock()
		child.TG = tg
		tg.tasks = []*Task{child}
		if err := k.addTaskLocked(child); err != nil {
			k.mu.Unlock()
			if fds != parent.FDs {
				fds.Release()
			}
			undo()
			return nil, err
		}
		k.procs.fdUsers[fds]++
		tg.pgid, tg.sid = parent.pgid, parent.sid
		tg.parent = parent
		if f&unix.CLONE_PARENT != 0 && parent.parent != nil {
			tg.parent = parent.parent
			tg.exitSignal = parent.exitSignal
		}
		tg.parent.children[tg] = struct{}{}
		k.groups[tid] = tg
		tg.armCPULimit() // the inherited RLIMIT_CPU counts the child's own time
	}
	k.mu.Unlock()

	if f&unix.CLONE_PARENT_SETTID != 0 {
		// Written in the parent's memory (and the child's, if shared).
		if err := copyOutUint32(t.MM, a.ParentTID, uint32(tid)); err != nil {
			k.Log.Debug("clone: CLONE_PARENT_SETTID not written", "err", err)
		}
	}
	if f&unix.CLONE_CHILD_SETTID != 0 {
		if err := copyOutUint32(m, a.ChildTID, uint32(tid)); err != nil {
			k.Log.Debug("clone: CLONE_CHILD_SETTID not written", "err", err)
		}
	}
	return child, nil
}

// Start runs the child made by Clone on its own goroutine. Errors of the
// sandbox itself (a child that could not run) end that process and are
// logged.
func (child *Task) Start() {
	go func() {
		if err := child.Run(); err != nil {
			child.K.Log.Error("task failed", "pid", child.TG.PID, "tid", child.TID, "err", err)
		}
	}()
}

// WaitVfork blocks the parent of a vfork child until the child execs or
// exits. A signal does not end the wait early (as on Linux, where the
// parent is unkillable but for SIGKILL).
func (t *Task) WaitVfork(child *Task, done <-chan struct{}) {
	t.idle()
	for {
		select {
		case <-done:
			return
		case <-t.wake:
			if t.TG.Exiting() || t.mustExit() {
				// SIGKILL, exit_group or another thread's exec: the
				// child keeps the memory.
				return
			}
		}
	}
}

// VforkDone returns the channel closed when child execs or exits (nil if
// it was not made by vfork).
func (child *Task) VforkDone() <-chan struct{} { return child.vforkDone }

func copyOutUint32(m *mm.MM, addr uintptr, v uint32) error {
	b := []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	_, err := m.CopyOut(addr, b)
	return err
}
