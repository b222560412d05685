package kernel

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// syscall runs the system call in the task's registers and writes the
// result back as the SYSCALL instruction's return: RAX = result, RCX = the
// return address, R11 = RFLAGS (what Linux leaves in them).
func (t *Task) syscall() {
	r := &t.Regs
	nr := uintptr(r.RAX)
	t.origRAX = int64(nr)
	status, trace := t.syscallTrace()
	skip, dying := false, false
	if trace {
		// The syscall-entry stop: the tracer sees RAX = -ENOSYS and
		// the number in orig_rax, which it may change (-1: no call;
		// RAX is then the result).
		enosys := int64(unix.ENOSYS)
		r.RAX = uint64(-enosys)
		t.ptraceSyscallStop(status, PtraceEventMsgSyscallEntry)
		nr = uintptr(t.origRAX)
		dying = t.TG.Exiting() || t.mustExit()
		skip = t.origRAX == -1 || dying
	}
	if !dying && t.seccomp.mode.Load() != SeccompDisabled {
		// After the syscall-entry stop, as Linux orders them: the
		// filters see what the tracer left, -1 (a skipped call)
		// included.
		skip = !t.seccompAllows() || skip
		nr = uintptr(t.origRAX)
	}
	if skip {
		t.syscallNR = -1
	} else {
		args := [6]uintptr{uintptr(r.RDI), uintptr(r.RSI), uintptr(r.RDX), uintptr(r.R10), uintptr(r.R8), uintptr(r.R9)}
		ret := t.K.Syscalls.Dispatch(t, nr, args)
		t.dropFiles()
		if t.restored {
			t.restored = false
		} else {
			r.RAX = uint64(ret)
			t.syscallNR = int64(nr)
			r.RCX = r.RIP
			r.R11 = r.RFLAGS
		}
	}
	if trace {
		if status, ok := t.syscallTrace(); ok {
			t.ptraceSyscallStop(status, PtraceEventMsgSyscallExit)
		}
	}
}

// File returns the open file at descriptor fd of the task's process,
// holding a reference on it until the current syscall returns: another
// thread that closes fd meanwhile cannot release it under this one (its
// host descriptor, say, closed and its number reused).
func (t *Task) File(fd int) (*fs.File, error) {
	f, err := t.TG.FDs.GetRef(fd)
	if err != nil {
		return nil, err
	}
	t.held = append(t.held, f)
	return f, nil
}

// Hold keeps a reference the caller took on f until the syscall ends.
func (t *Task) Hold(f *fs.File) { t.held = append(t.held, f) }

// dropFiles gives back the references File took during a syscall.
func (t *Task) dropFiles() {
	for i, f := range t.held {
		f.DecRef()
		t.held[i] = nil
	}
	t.held = t.held[:0]
}
