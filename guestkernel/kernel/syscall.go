package kernel

// syscall runs the system call in the task's registers and writes the
// result back as the SYSCALL instruction's return: RAX = result, RCX = the
// return address, R11 = RFLAGS (what Linux leaves in them).
func (t *Task) syscall() {
	r := &t.Regs
	nr := uintptr(r.RAX)
	args := [6]uintptr{uintptr(r.RDI), uintptr(r.RSI), uintptr(r.RDX), uintptr(r.R10), uintptr(r.R8), uintptr(r.R9)}
	ret := t.K.Syscalls.Dispatch(t, nr, args)
	if t.restored {
		t.restored = false
		return
	}
	r.RAX = uint64(ret)
	t.syscallNR = int64(nr)
	r.RCX = r.RIP
	r.R11 = r.RFLAGS
}
