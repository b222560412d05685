package kernel

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// sigaction flags (x86-64).
const (
	saNoCldStop = 0x1
	saNoCldWait = 0x2
	saSiginfo   = 0x4
	saOnStack   = 0x08000000
	saRestorer  = 0x04000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResetHand = 0x80000000
)

// sigaltstack flags and limits.
const (
	SSOnStack    = 1
	SSDisable    = 2
	SSAutoDisarm = 1 << 31
	MinSigStkSz  = 2048
)

// AltStack is a thread's alternate signal stack (sigaltstack(2)).
type AltStack struct {
	SP    uint64
	Flags uint32
	Size  uint64
}

// OnAltStack reports whether sp is inside the alternate stack.
func (t *Task) OnAltStack(sp uint64) bool {
	a := t.Alt
	return a.Flags&SSDisable == 0 && a.Size != 0 && sp > a.SP && sp-a.SP <= a.Size
}

// SigInfo is the part of a siginfo_t the kernel fills in.
type SigInfo struct {
	Signo int32
	Code  int32
	// fromHost: sent from outside the sandbox (SendSignal), which may
	// end a namespace's init (forced).
	fromHost bool
	PID      int32  // kill: the sender
	UID      uint32 // kill: the sender's real UID
	Addr     uint64 // faults: the address
	// Status is SIGCHLD's si_status (exit code or signal); Value is the
	// sigval of rt_sigqueueinfo (SI_QUEUE).
	Status int32
	Value  uint64
	// SIGSYS of a seccomp filter (SYS_SECCOMP): si_errno (the filter's
	// data), si_syscall and si_arch; si_call_addr is Addr.
	Errno   int32
	Syscall int32
	Arch    uint32
	// timer is the POSIX timer whose signal this is (posixtimer.go).
	timer *posixTimer
}

// SigInfoSize is the size of a siginfo_t.
const SigInfoSize = 128

// Encode writes info as a siginfo_t into b (SigInfoSize bytes): the
// sender for signals sent by a process (si_code <= 0), else the address.
func (info SigInfo) Encode(b []byte) {
	le := binary.LittleEndian
	clear(b[:SigInfoSize])
	le.PutUint32(b[0:], uint32(info.Signo))
	le.PutUint32(b[4:], uint32(info.Errno))
	le.PutUint32(b[8:], uint32(info.Code))
	switch {
	case info.Code <= 0:
		le.PutUint32(b[16:], uint32(info.PID))
		le.PutUint32(b[20:], info.UID)
		le.PutUint64(b[24:], info.Value)
	case info.Signo == int32(unix.SIGCHLD):
		le.PutUint32(b[16:], uint32(info.PID))
		le.PutUint32(b[20:], info.UID)
		le.PutUint32(b[24:], uint32(info.Status))
	case info.Signo == int32(unix.SIGSYS) && info.Code == 1: // SYS_SECCOMP
		le.PutUint64(b[16:], info.Addr)
		le.PutUint32(b[24:], uint32(info.Syscall))
		le.PutUint32(b[28:], info.Arch)
	default:
		le.PutUint64(b[16:], info.Addr)
	}
}

// Signal codes.
const (
	SIUser     = 0
	SIKernel   = 0x80
	SIQueue    = -1
	SITkill    = -6
	SegvMaperr = 1
)

// The x86-64 rt_sigframe: the return address (sa_restorer), the ucontext
// (flags, link, stack_t, sigcontext, sigset) and the siginfo. The XSAVE
// image sits above it, 64-byte aligned, pointed to by sigcontext.fpstate.
const (
	frameUC       = 8
	ucFlags       = 0
	ucStack       = 16
	ucMcontext    = 40
	ucSigmask     = ucMcontext + 256
	frameInfo     = frameUC + ucSigmask + 8
	frameSize     = frameInfo + 128
	redZone       = 128
	fpMagic1      = 0x46505853
	fpMagic2      = 0x46505845
	ucFPXState    = 0x1
	swBytesOffset = 464 // fpx_sw_bytes in the legacy area's reserved bytes
)

// userAddrLimit bounds the RIP and RSP a signal return may set: the
// canonical lower half.
const userAddrLimit = 1 << 47

// sigcontext register slots, in its order (r8..r15, rdi, rsi, rbp, rbx,
// rdx, rax, rcx, rsp, rip, eflags).
func (t *Task) sigcontextRegs() []*uint64 {
	r := &t.Regs
	return []*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.RDI, &r.RSI, &r.RBP, &r.RBX, &r.RDX, &r.RAX, &r.RCX, &r.RSP, &r.RIP, &r.RFLAGS}
}

// setupFrame runs the handler of act for sig: it pushes a signal frame
// with the task's registers, signal mask and FP state, and points the
// registers at the handler. A frame that cannot be written kills the
// task with SIGSEGV, as Linux does.
func (t *Task) setupFrame(sig unix.Signal, act SigAction, info SigInfo) {
	if err := t.pushFrame(sig, act, info); err != nil {
		t.K.Log.Debug("signal frame not written", "pid", t.TG.PID, "signal", sig, "err", err)
		t.TG.Exit(ExitStatus{Signal: unix.SIGSEGV, Core: true})
		return
	}
	mask := act.Mask
	if act.Flags&saNodefer == 0 {
		mask |= sigBit(sig)
	}
	t.SigMask = (t.SigMask | mask) &^ unblockable
	if act.Flags&saResetHand != 0 {
		t.TG.SetAction(sig, SigAction{})
	}
}

func (t *Task) pushFrame(sig unix.Signal, act SigAction, info SigInfo) error {
	if act.Flags&saRestorer == 0 {
		return fmt.Errorf("no sa_restorer")
	}
	layout := t.K.Platform.FPLayout()
	fp, err := t.Ctx.FPState()
	if err != nil {
		return err
	}
	sp := t.Regs.RSP - redZone
	onAlt := t.OnAltStack(t.Regs.RSP)
	if act.Flags&saOnStack != 0 && t.Alt.Flags&SSDisable == 0 && t.Alt.Size != 0 && !onAlt {
		sp = t.Alt.SP + t.Alt.Size
	}
	fpAddr := (sp - uint64(layout.Size) - 4) &^ 63
	frame := ((fpAddr - frameSize) &^ 15) - 8

	// The FP image, with the software bytes that say it is a full XSAVE
	// image and its trailing magic.
	img := make([]byte, layout.Size+4)
	copy(img, fp)
	sw := img[swBytesOffset:]
	binary.LittleEndian.PutUint32(sw[0:], fpMagic1)
	binary.LittleEndian.PutUint32(sw[4:], uint32(layout.Size+4))
	binary.LittleEndian.PutUint64(sw[8:], layout.Features)
	binary.LittleEndian.PutUint32(sw[16:], uint32(layout.Size))
	clear(sw[20:48])
	binary.LittleEndian.PutUint32(img[layout.Size:], fpMagic2)

	oldMask := t.SigMask
	if t.hasSaved {
		oldMask = t.savedMask
	}
	var f [frameSize]byte
	le := binary.LittleEndian
	le.PutUint64(f[0:], act.Restorer)
	uc := f[frameUC:]
	le.PutUint64(uc[ucFlags:], ucFPXState)
	ss := t.Alt
	if t.OnAltStack(t.Regs.RSP) {
		ss.Flags |= SSOnStack
	}
	le.PutUint64(uc[ucStack:], ss.SP)
	le.PutUint32(uc[ucStack+8:], ss.Flags)
	le.PutUint64(uc[ucStack+16:], ss.Size)
	mc := uc[ucMcontext:]
	for i, p := range t.sigcontextRegs() {
		le.PutUint64(mc[8*i:], *p)
	}
	le.PutUint16(mc[144:], 0x33) // cs: user code
	le.PutUint16(mc[150:], 0x2b) // ss: user data
	le.PutUint64(mc[168:], oldMask)
	if info.Signo == int32(unix.SIGSEGV) || info.Signo == int32(unix.SIGBUS) {
		le.PutUint64(mc[176:], info.Addr) // cr2
	}
	le.PutUint64(mc[184:], fpAddr)
	le.PutUint64(uc[ucSigmask:], oldMask)
	info.Encode(f[frameInfo : frameInfo+SigInfoSize])

	if _, err := t.MM.CopyOut(uintptr(fpAddr), img); err != nil {
		return err
	}
	if _, err := t.MM.CopyOut(uintptr(frame), f[:]); err != nil {
		return err
	}
	// The handler starts with a clean FP state, as on Linux.
	if err := t.Ctx.SetFPState(initFPState(layout.Size)); err != nil {
		return err
	}
	t.hasSaved = false
	r := &t.Regs
	r.RSP = frame
	r.RIP = act.Handler
	r.RDI = uint64(sig)
	r.RSI = frame + frameInfo
	r.RDX = frame + frameUC
	r.RAX = 0
	r.RFLAGS &^= 1<<8 | 1<<10 | 1<<16 // TF, DF, RF
	if t.Alt.Flags&SSAutoDisarm != 0 && sp == t.Alt.SP+t.Alt.Size {
		t.Alt = AltStack{Flags: SSDisable}
	}
	return nil
}

// initFPState is the FP state after FNINIT with default MXCSR.
func initFPState(size int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint16(b[0:], 0x37f)
	binary.LittleEndian.PutUint32(b[24:], 0x1f80)
	return b
}

// SigReturn restores what setupFrame saved (rt_sigreturn): the frame is
// at the stack pointer, the restorer having popped the return address.
// Registers come back whole, so the syscall must not write a result.
func (t *Task) SigReturn() error {
	uc := uintptr(t.Regs.RSP)
	var b [ucSigmask + 8]byte
	if _, err := t.MM.CopyIn(uc, b[:]); err != nil {
		return err
	}
	le := binary.LittleEndian
	mc := b[ucMcontext:]
	fsBase, gsBase := t.Regs.FSBase, t.Regs.GSBase
	for i, p := range t.sigcontextRegs() {
		*p = le.Uint64(mc[8*i:])
	}
	t.Regs.FSBase, t.Regs.GSBase = fsBase, gsBase
	if t.Regs.RIP >= userAddrLimit || t.Regs.RSP >= userAddrLimit {
		// Returning there would fault in the return path itself (IRETQ,
		// ERETU), not in the program: Linux's answer is SIGSEGV.
		return fmt.Errorf("rt_sigreturn to RIP %#x RSP %#x", t.Regs.RIP, t.Regs.RSP)
	}
	t.SigMask = le.Uint64(b[ucSigmask:]) &^ unblockable
	t.restored = true
	// The alternate stack comes back from uc_stack (it matters after
	// SS_AUTODISARM), unless the restored stack pointer is on the current
	// one, as Linux's sigaltstack rules go.
	if ss := (AltStack{SP: le.Uint64(b[ucStack:]), Flags: le.Uint32(b[ucStack+8:]) &^ SSOnStack, Size: le.Uint64(b[ucStack+16:])}); !t.OnAltStack(t.Regs.RSP) {
		switch {
		case ss.Flags&SSDisable != 0:
			t.Alt = AltStack{Flags: SSDisable}
		case ss.Flags&^SSAutoDisarm == 0 && ss.Size >= MinSigStkSz:
			t.Alt = ss
		}
	}

	layout := t.K.Platform.FPLayout()
	fpAddr := le.Uint64(mc[184:])
	if fpAddr == 0 {
		return t.Ctx.SetFPState(initFPState(layout.Size))
	}
	img := make([]byte, layout.Size)
	if _, err := t.MM.CopyIn(uintptr(fpAddr), img[:512]); err != nil {
		return err
	}
	sw := img[swBytesOffset:]
	if le.Uint32(sw[0:]) == fpMagic1 && le.Uint32(sw[16:]) <= uint32(layout.Size) && le.Uint32(sw[16:]) > 512+64 {
		n := le.Uint32(sw[16:])
		if _, err := t.MM.CopyIn(uintptr(fpAddr), img[:n]); err != nil {
			return err
		}
		clear(img[n:])
	} else {
		// A legacy FXSAVE image: x87 and SSE only.
		clear(img[512:])
		le.PutUint64(img[512:], 3)
	}
	// Linux's XRSTOR of this image would fault on reserved MXCSR bits,
	// unknown features or a non-standard header, and the sigreturn fails.
	cur, err := t.Ctx.FPState()
	if err != nil {
		return err
	}
	mxcsrMask := le.Uint32(cur[28:])
	if mxcsrMask == 0 {
		mxcsrMask = 0xffbf
	}
	if le.Uint32(img[24:])&^mxcsrMask != 0 || le.Uint64(img[512:])&^layout.Features != 0 {
		return fmt.Errorf("rt_sigreturn: invalid FP state")
	}
	for _, b := range img[512+8 : 512+64] {
		if b != 0 {
			return fmt.Errorf("rt_sigreturn: invalid XSAVE header")
		}
	}
	return t.Ctx.SetFPState(img)
}

// Restart codes: a syscall cut short by a signal returns one of these
// instead of EINTR, and signal delivery decides, as Linux does, whether
// the program sees EINTR or the syscall runs again.
const (
	// ErrRestartSys restarts unless a handler without SA_RESTART runs.
	ErrRestartSys = unix.Errno(512)
	// ErrRestartNoIntr always restarts.
	ErrRestartNoIntr = unix.Errno(513)
	// ErrRestartNoHand restarts only when no handler runs.
	ErrRestartNoHand = unix.Errno(514)
	// ErrRestartBlock, when no handler runs, makes the program call
	// restart_syscall, which runs the function the syscall left with
	// SetRestart (a sleep goes on for the time that was left).
	ErrRestartBlock = unix.Errno(516)
)

// sysRestartSyscall is restart_syscall's number.
const sysRestartSyscall = 219

// SetRestart records what restart_syscall does after ErrRestartBlock.
func (t *Task) SetRestart(fn func(*Task) (uintptr, error)) { t.restartFn = fn }

// Restart is restart_syscall: it runs the function the interrupted
// syscall left, or gives EINTR when there is none.
func (t *Task) Restart() (uintptr, error) {
	fn := t.restartFn
	t.restartFn = nil
	if fn == nil {
		return 0, unix.EINTR
	}
	return fn(t)
}

// restartAfter fixes up the result of the syscall just made when it
// returned a restart code; handled is the action of the handler about to
// run, or nil when none runs.
func (t *Task) restartAfter(handled *SigAction) {
	if t.syscallNR < 0 {
		return
	}
	nr := t.syscallNR
	t.syscallNR = -1
	restart := false
	switch unix.Errno(-int64(t.Regs.RAX)) {
	case ErrRestartNoIntr:
		restart = true
	case ErrRestartSys:
		restart = handled == nil || handled.Flags&saRestart != 0
	case ErrRestartNoHand:
		restart = handled == nil
	case ErrRestartBlock:
		if handled == nil {
			t.Regs.RAX = sysRestartSyscall
			t.Regs.RIP -= 2
			return
		}
		t.restartFn = nil
	default:
		return
	}
	if restart {
		t.Regs.RAX = uint64(nr)
		t.Regs.RIP -= 2 // the SYSCALL instruction again
		return
	}
	eintr := int64(unix.EINTR)
	t.Regs.RAX = uint64(-eintr)
}
