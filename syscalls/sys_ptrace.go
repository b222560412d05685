package syscalls

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/seccomp"
)

func init() {
	register(unix.SYS_PTRACE, sysPtrace)
	register(unix.SYS_PROCESS_VM_READV, func(t *kernel.Task, a Args) (uintptr, error) { return sysProcessVM(t, a, false) })
	register(unix.SYS_PROCESS_VM_WRITEV, func(t *kernel.Task, a Args) (uintptr, error) { return sysProcessVM(t, a, true) })
}

// Requests that ptrace(2) knows but golang.org/x/sys/unix does not name.
const (
	ptraceGetSigMask       = 0x420a
	ptraceSetSigMask       = 0x420b
	ptraceSeccompGetFilter = 0x420c
)

// userRegsSize is sizeof(struct user_regs_struct); userSize is
// sizeof(struct user), whose u_debugreg starts at userDebugRegs.
const (
	userRegsSize  = 27 * 8
	userSize      = 912
	userDebugRegs = 848
	fxsaveSize    = 512
)

// User segment selectors, as Linux sets them for 64-bit programs.
const (
	userCS = 0x33
	userSS = 0x2b
)

// ntPRStatus, ntPRFPReg and ntX86XState are the PTRACE_GETREGSET sets.
const (
	ntPRStatus  = 1
	ntPRFPReg   = 2
	ntX86XState = 0x202
)

func sysPtrace(t *kernel.Task, a Args) (uintptr, error) {
	req, pid, addr, data := int(a[0]), int32(a[1]), a[2], a[3]
	switch req {
	case unix.PTRACE_TRACEME:
		return 0, t.PtraceTraceMe()
	case unix.PTRACE_ATTACH, unix.PTRACE_SEIZE:
		target := t.K.Task(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
		if err := mayTrace(t, target.TG); err != nil {
			return 0, err
		}
		var opts uint32
		if req == unix.PTRACE_SEIZE {
			if addr != 0 || uint64(data)&^kernel.PtraceOptionsMask != 0 {
				return 0, unix.EINVAL // addr must be 0; no PTRACE_SEIZE_DEVEL
			}
			opts = uint32(data)
		}
		return 0, t.K.PtraceAttach(t, target, req == unix.PTRACE_SEIZE, opts)
	case unix.PTRACE_KILL:
		target, err := t.K.PtraceTracee(t, pid, false)
		if err != nil {
			return 0, err
		}
		// As Linux since 5.19: a kill(2) from the tracer (a namespace
		// init ignores it).
		info := senderInfo(t, kernel.SIUser)
		info.Signo = int32(unix.SIGKILL)
		target.SendSignalInfo(info)
		return 0, nil
	case unix.PTRACE_INTERRUPT:
		target, err := t.K.PtraceTracee(t, pid, false)
		if err != nil {
			return 0, err
		}
		return 0, t.K.PtraceInterrupt(t, target)
	}
	// The rest need the tracee in a ptrace-stop.
	target, err := t.K.PtraceTracee(t, pid, true)
	if err != nil {
		return 0, err
	}
	switch req {
	case unix.PTRACE_CONT, unix.PTRACE_SYSCALL, unix.PTRACE_SINGLESTEP, unix.PTRACE_DETACH:
		sig := unix.Signal(data)
		if sig < 0 || sig > kernel.NumSignals {
			return 0, unix.EIO
		}
		switch req {
		case unix.PTRACE_DETACH:
			return 0, t.K.PtraceDetach(t, target, sig)
		case unix.PTRACE_SYSCALL:
			return 0, t.K.PtraceResume(t, target, kernel.ResumeSyscall, sig)
		case unix.PTRACE_SINGLESTEP:
			return 0, t.K.PtraceResume(t, target, kernel.ResumeSingleStep, sig)
		}
		return 0, t.K.PtraceResume(t, target, kernel.ResumeCont, sig)
	case unix.PTRACE_PEEKTEXT, unix.PTRACE_PEEKDATA:
		v, err := target.MM.CopyInUint64(addr)
		if err != nil {
			return 0, unix.EIO
		}
		return 0, putUser64(t, data, v)
	case unix.PTRACE_POKETEXT, unix.PTRACE_POKEDATA:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(data))
		if _, err := target.MM.ForceCopyOut(addr, b[:]); err != nil {
			return 0, unix.EIO
		}
		return 0, nil
	case unix.PTRACE_PEEKUSR:
		v, err := peekUser(target, addr)
		if err != nil {
			return 0, err
		}
		return 0, putUser64(t, data, v)
	case unix.PTRACE_POKEUSR:
		return 0, pokeUser(target, addr, uint64(data))
	case unix.PTRACE_GETREGS:
		b := userRegs(target)
		if _, err := t.MM.CopyOut(data, b[:]); err != nil {
			return 0, err
		}
		return 0, nil
	case unix.PTRACE_SETREGS:
		var b [userRegsSize]byte
		if _, err := t.MM.CopyIn(data, b[:]); err != nil {
			return 0, err
		}
		return 0, setUserRegs(target, b[:])
	case unix.PTRACE_GETFPREGS:
		fp := t.K.PtraceFP(target)
		if len(fp) < fxsaveSize {
			return 0, unix.EIO
		}
		if _, err := t.MM.CopyOut(data, fp[:fxsaveSize]); err != nil {
			return 0, err
		}
		return 0, nil
	case unix.PTRACE_SETFPREGS:
		fp := t.K.PtraceFP(target)
		if len(fp) < fxsaveSize {
			return 0, unix.EIO
		}
		if _, err := t.MM.CopyIn(data, fp[:fxsaveSize]); err != nil {
			return 0, err
		}
		t.K.PtraceSetFP(target, fp)
		return 0, nil
	case unix.PTRACE_GETREGSET, unix.PTRACE_SETREGSET:
		return 0, regset(t, target, req == unix.PTRACE_SETREGSET, addr, data)
	case unix.PTRACE_SETOPTIONS:
		return 0, t.K.PtraceSetOptions(target, uint32(data))
	case unix.PTRACE_GETEVENTMSG:
		_, msg := t.K.PtraceInfo(target)
		return 0, putUser64(t, data, msg)
	case unix.PTRACE_GETSIGINFO:
		info, _ := t.K.PtraceInfo(target)
		var b [kernel.SigInfoSize]byte
		info.Encode(b[:])
		if _, err := t.MM.CopyOut(data, b[:]); err != nil {
			return 0, err
		}
		return 0, nil
	case unix.PTRACE_SETSIGINFO:
		var b [kernel.SigInfoSize]byte
		if _, err := t.MM.CopyIn(data, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		info := kernel.SigInfo{Signo: int32(le.Uint32(b[0:])), Code: int32(le.Uint32(b[8:])),
			PID: int32(le.Uint32(b[16:])), UID: le.Uint32(b[20:]), Addr: le.Uint64(b[16:])}
		t.K.PtraceSetSigInfo(target, info)
		return 0, nil
	case ptraceSeccompGetFilter:
		// The tracee's filter at index addr (0: the newest) as struct
		// sock_filter records at data (NULL: just the count).
		if c := t.TG.Creds(); !c.HasCap(kernel.CapSysAdmin) {
			return 0, unix.EACCES
		}
		prog, err := target.SeccompProgram(uint64(addr))
		if err != nil {
			return 0, err
		}
		if data != 0 {
			if _, err := t.MM.CopyOut(data, seccomp.Encode(prog.Instructions())); err != nil {
				return 0, err
			}
		}
		return uintptr(prog.Len()), nil
	case unix.PTRACE_GET_SYSCALL_INFO:
		return syscallInfo(t, target, addr, data)
	case unix.PTRACE_ARCH_PRCTL:
		// The code is data and the value addr (Linux's order);
		// libthread_db asks for a thread's FS base so (gdbserver).
		if data == archGetCPUID || data == archSetCPUID {
			return 0, unix.EINVAL
		}
		return archPrctl(t, target, data, addr)
	case ptraceGetSigMask:
		if addr != 8 {
			return 0, unix.EINVAL
		}
		return 0, putUser64(t, data, target.SigMask)
	case ptraceSetSigMask:
		if addr != 8 {
			return 0, unix.EINVAL
		}
		m, err := t.MM.CopyInUint64(data)
		if err != nil {
			return 0, err
		}
		target.SigMask = m &^ (1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))
		return 0, nil
	}
	logOnce(t, "ptrace: request not supported: "+ptraceRequestName(req))
	return 0, unix.EIO
}

// ptraceRequestName names a request for the log.
func ptraceRequestName(req int) string {
	switch req {
	case unix.PTRACE_LISTEN:
		return "PTRACE_LISTEN"
	case unix.PTRACE_ARCH_PRCTL:
		return "PTRACE_ARCH_PRCTL"
	case unix.PTRACE_PEEKSIGINFO:
		return "PTRACE_PEEKSIGINFO"
	}
	return "0x" + strconv.FormatUint(uint64(req), 16)
}

// struct ptrace_syscall_info's op (linux/ptrace.h).
const (
	syscallInfoNone    = 0
	syscallInfoEntry   = 1
	syscallInfoExit    = 2
	syscallInfoSeccomp = 3
)

// syscallInfo is PTRACE_GET_SYSCALL_INFO: struct ptrace_syscall_info for
// the stop the tracee is in, as Linux tells it from the stop's si_code
// and event message (a syscall stop is known as one only under
// PTRACE_O_TRACESYSGOOD). At most size bytes go to addr; the return is
// the structure's full size for this stop.
func syscallInfo(t *kernel.Task, target *kernel.Task, size, addr uintptr) (uintptr, error) {
	info, msg := t.K.PtraceInfo(target)
	r := &target.Regs
	var b [88]byte
	le := binary.LittleEndian
	le.PutUint32(b[4:], seccomp.AuditArchX86_64)
	le.PutUint64(b[8:], r.RIP)
	le.PutUint64(b[16:], r.RSP)
	args := [6]uint64{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
	putCall := func() {
		le.PutUint64(b[24:], uint64(target.OrigRAX()))
		for i, v := range args {
			le.PutUint64(b[32+8*i:], v)
		}
	}
	n := 24 // op, arch, instruction and stack pointers
	switch {
	case info.Signo == int32(unix.SIGTRAP) && info.Code == int32(unix.SIGTRAP)|0x80 && msg == kernel.PtraceEventMsgSyscallEntry:
		b[0] = syscallInfoEntry
		putCall()
		n = 80
	case info.Signo == int32(unix.SIGTRAP) && info.Code == int32(unix.SIGTRAP)|0x80 && msg == kernel.PtraceEventMsgSyscallExit:
		b[0] = syscallInfoExit
		rval := int64(r.RAX)
		le.PutUint64(b[24:], uint64(rval))
		if rval < 0 && rval >= -4095 {
			b[32] = 1
		}
		n = 33
	case info.Signo == int32(unix.SIGTRAP) && info.Code == int32(unix.SIGTRAP)|kernel.PtraceEventSeccomp<<8:
		b[0] = syscallInfoSeccomp
		putCall()
		le.PutUint32(b[80:], uint32(msg))
		n = 84
	default:
		b[0] = syscallInfoNone
	}
	if c := min(uintptr(n), size); c > 0 {
		if _, err := t.MM.CopyOut(addr, b[:c]); err != nil {
			return 0, err
		}
	}
	return uintptr(n), nil
}

// mayTrace is Linux's ptrace access check for a sandbox without Yama's
// restrictions: its own process; else the same real UID as the target's,
// and no set-ID change since, and a target that is dumpable (it changed
// IDs or ran a set-ID program before); or CAP_SYS_PTRACE.
func mayTrace(t *kernel.Task, target *kernel.ThreadGroup) error {
	if t.TG == target {
		return nil
	}
	c, tc := t.TG.Creds(), target.Creds()
	if c.HasCap(unix.CAP_SYS_PTRACE) {
		return nil
	}
	if c.UID == tc.UID && c.UID == tc.EUID && c.UID == tc.SUID && c.GID == tc.GID && c.GID == tc.EGID && c.GID == tc.SGID &&
		target.Dumpable() {
		return nil
	}
	return unix.EPERM
}

// putUser64 writes v at addr of the caller (PEEK* results: the raw
// syscall stores the word at data).
func putUser64(t *kernel.Task, addr uintptr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	_, err := t.MM.CopyOut(addr, b[:])
	return err
}

// userRegs is the tracee's struct user_regs_struct.
func userRegs(t *kernel.Task) [userRegsSize]byte {
	r := &t.Regs
	vals := [27]uint64{
		r.R15, r.R14, r.R13, r.R12, r.RBP, r.RBX, r.R11, r.R10, r.R9, r.R8,
		r.RAX, r.RCX, r.RDX, r.RSI, r.RDI, uint64(t.OrigRAX()), r.RIP, userCS, r.RFLAGS, r.RSP, userSS,
		r.FSBase, r.GSBase, 0, 0, 0, 0,
	}
	var b [userRegsSize]byte
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// userFlags are the RFLAGS bits a tracer may change (Linux's FLAG_MASK).
const userFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x10000 | 0x40000

// setUserRegs sets the tracee's registers from a user_regs_struct: EIO
// for a segment other than the 64-bit user ones (0 for the data
// segments) or a base outside user space.
func setUserRegs(t *kernel.Task, b []byte) error {
	le := binary.LittleEndian
	v := func(i int) uint64 { return le.Uint64(b[8*i:]) }
	if v(17) != userCS || v(20) != userSS || v(23)|v(24)|v(25)|v(26) != 0 {
		return unix.EIO
	}
	const userTop = 1 << 47
	if v(21) >= userTop || v(22) >= userTop {
		return unix.EIO
	}
	r := &t.Regs
	r.R15, r.R14, r.R13, r.R12, r.RBP, r.RBX, r.R11, r.R10, r.R9, r.R8 = v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8), v(9)
	r.RAX, r.RCX, r.RDX, r.RSI, r.RDI = v(10), v(11), v(12), v(13), v(14)
	t.SetOrigRAX(int64(v(15)))
	r.RIP = v(16)
	r.RFLAGS = r.RFLAGS&^userFlags | v(18)&userFlags
	r.RSP = v(19)
	r.FSBase, r.GSBase = v(21), v(22)
	return nil
}

// peekUser reads a word of struct user: a register, or a debug register
// (always 0: hardware breakpoints are not offered).
func peekUser(t *kernel.Task, off uintptr) (uint64, error) {
	if off&7 != 0 || off >= userSize {
		return 0, unix.EIO
	}
	if off < userRegsSize {
		b := userRegs(t)
		return binary.LittleEndian.Uint64(b[off:]), nil
	}
	return 0, nil
}

// pokeUser writes a word of struct user: a register (checked as
// setUserRegs does), or a debug register, which may only be cleared.
func pokeUser(t *kernel.Task, off uintptr, v uint64) error {
	if off&7 != 0 || off >= userSize {
		return unix.EIO
	}
	if off < userRegsSize {
		b := userRegs(t)
		binary.LittleEndian.PutUint64(b[off:], v)
		return setUserRegs(t, b[:])
	}
	if off >= userDebugRegs && v == 0 {
		return nil
	}
	return unix.EIO
}

// regset is PTRACE_GETREGSET and PTRACE_SETREGSET: the set addr names,
// through the struct iovec at data, whose length the get updates.
func regset(t, target *kernel.Task, set bool, which, iovAddr uintptr) error {
	iov, err := readIovecs(t, iovAddr, 1)
	if err != nil {
		return err
	}
	var img []byte
	switch which {
	case ntPRStatus:
		b := userRegs(target)
		img = b[:]
	case ntPRFPReg:
		fp := t.K.PtraceFP(target)
		if len(fp) < fxsaveSize {
			return unix.EIO
		}
		img = fp[:fxsaveSize]
	case ntX86XState:
		img = t.K.PtraceFP(target)
		if len(img) < fxsaveSize {
			return unix.EIO
		}
		if !set {
			swBytes(t, img)
		}
	default:
		return unix.EINVAL
	}
	n := min(int(iov[0].len), len(img))
	if !set {
		if _, err := t.MM.CopyOut(iov[0].base, img[:n]); err != nil {
			return err
		}
		return putUser64(t, iovAddr+8, uint64(n))
	}
	if _, err := t.MM.CopyIn(iov[0].base, img[:n]); err != nil {
		return err
	}
	switch which {
	case ntPRStatus:
		if n < userRegsSize {
			return unix.EINVAL
		}
		return setUserRegs(target, img)
	case ntPRFPReg:
		fp := t.K.PtraceFP(target)
		copy(fp, img)
		t.K.PtraceSetFP(target, fp)
	default:
		t.K.PtraceSetFP(target, img)
	}
	return nil
}

// swBytes fills the software-reserved bytes of an XSAVE image's legacy
// area as Linux does for NT_X86_XSTATE: the enabled features (XCR0) in
// the first word, which debuggers read to know the image's layout.
func swBytes(t *kernel.Task, img []byte) {
	clear(img[464:fxsaveSize])
	binary.LittleEndian.PutUint64(img[464:], t.K.Platform.FPLayout().Features)
}

// sysProcessVM is process_vm_readv (write false) and process_vm_writev:
// copies between the caller's buffers and another sandbox process's
// memory, allowed as ptrace is (mayTrace). The copy goes segment by
// segment and stops at the first address either side cannot reach: the
// bytes copied so far, or EFAULT if none.
func sysProcessVM(t *kernel.Task, a Args, write bool) (uintptr, error) {
	if a[5] != 0 {
		return 0, unix.EINVAL
	}
	local, err := readIovecs(t, a[1], int(a[2]))
	if err != nil {
		return 0, err
	}
	remote, err := readIovecs(t, a[3], int(a[4]))
	if err != nil {
		return 0, err
	}
	target := t.K.Task(int32(a[0]))
	if target == nil {
		return 0, unix.ESRCH
	}
	if target.TG != t.TG {
		if err := mayTrace(t, target.TG); err != nil {
			return 0, err
		}
	}
	rm := target.AddressSpace()
	buf := make([]byte, 64<<10)
	var done uintptr
	li, lo, ri, ro := 0, uintptr(0), 0, uintptr(0)
	for {
		for li < len(local) && lo == local[li].len {
			li, lo = li+1, 0
		}
		for ri < len(remote) && ro == remote[ri].len {
			ri, ro = ri+1, 0
		}
		if li == len(local) || ri == len(remote) {
			return done, nil
		}
		k := min(local[li].len-lo, remote[ri].len-ro, uintptr(len(buf)))
		b := buf[:k]
		// Read from one side, write to the other: n is what both did.
		from, to := rm, t.MM
		src, dst := remote[ri].base+ro, local[li].base+lo
		if write {
			from, to, src, dst = t.MM, rm, dst, src
		}
		n, err := from.CopyIn(src, b)
		if n > 0 {
			m, werr := to.CopyOut(dst, b[:n])
			if werr != nil || m < n {
				n, err = m, unix.EFAULT
			}
		}
		done += uintptr(n)
		lo += uintptr(n)
		ro += uintptr(n)
		if err != nil || n < len(b) {
			if done == 0 {
				return 0, unix.EFAULT
			}
			return done, nil
		}
	}
}
