package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_RT_SIGACTION, sysRtSigaction)
	register(unix.SYS_RT_SIGPROCMASK, sysRtSigprocmask)
	register(unix.SYS_SIGALTSTACK, sysSigaltstack)
	register(unix.SYS_RT_SIGRETURN, sysRtSigreturn)
	register(unix.SYS_KILL, sysKill)
	register(unix.SYS_TGKILL, sysTgkill)
	register(unix.SYS_TKILL, sysTkill)
	register(unix.SYS_RT_SIGQUEUEINFO, sysRtSigqueueinfo)
	register(unix.SYS_RT_TGSIGQUEUEINFO, sysRtTgsigqueueinfo)
	register(unix.SYS_PAUSE, sysPause)
	register(unix.SYS_RT_SIGPENDING, sysRtSigpending)
	register(unix.SYS_RT_SIGSUSPEND, sysRtSigsuspend)
	register(unix.SYS_RT_SIGTIMEDWAIT, sysRtSigtimedwait)
}

// sysPause waits for a signal.
func sysPause(t *kernel.Task, a Args) (uintptr, error) {
	for !t.Sleep(time.Hour) {
		if t.SignalPending() {
			return 0, kernel.ErrRestartNoHand
		}
	}
	return 0, kernel.ErrRestartNoHand
}

const sigsetSize = 8

func sysRtSigaction(t *kernel.Task, a Args) (uintptr, error) {
	sig := unix.Signal(a[0])
	if a[3] != sigsetSize {
		return 0, unix.EINVAL
	}
	if sig < 1 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	var act *kernel.SigAction
	if a[1] != 0 {
		if sig == unix.SIGKILL || sig == unix.SIGSTOP {
			return 0, unix.EINVAL
		}
		var b [32]byte
		if _, err := t.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		act = &kernel.SigAction{
			Handler:  binary.LittleEndian.Uint64(b[0:]),
			Flags:    binary.LittleEndian.Uint64(b[8:]),
			Restorer: binary.LittleEndian.Uint64(b[16:]),
			Mask:     binary.LittleEndian.Uint64(b[24:]),
		}
	}
	old := t.TG.Action(sig)
	if a[2] != 0 {
		var b [32]byte
		binary.LittleEndian.PutUint64(b[0:], old.Handler)
		binary.LittleEndian.PutUint64(b[8:], old.Flags)
		binary.LittleEndian.PutUint64(b[16:], old.Restorer)
		binary.LittleEndian.PutUint64(b[24:], old.Mask)
		if _, err := t.MM.CopyOut(a[2], b[:]); err != nil {
			return 0, err
		}
	}
	if act != nil {
		t.TG.SetAction(sig, *act)
	}
	return 0, nil
}

func sysRtSigprocmask(t *kernel.Task, a Args) (uintptr, error) {
	how, set, oldset, size := int(a[0]), a[1], a[2], a[3]
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	old := t.SigMask
	if set != 0 {
		v, err := t.MM.CopyInUint64(set)
		if err != nil {
			return 0, err
		}
		v &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
		switch how {
		case unix.SIG_BLOCK:
			t.SigMask |= v
		case unix.SIG_UNBLOCK:
			t.SigMask &^= v
		case unix.SIG_SETMASK:
			t.SigMask = v
		default:
			return 0, unix.EINVAL
		}
	}
	if oldset != 0 {
		if err := t.MM.CopyOutUint64(oldset, old); err != nil {
			t.SigMask = old
			return 0, err
		}
	}
	return 0, nil
}

// sysSigaltstack sets and reports the alternate signal stack.
func sysSigaltstack(t *kernel.Task, a Args) (uintptr, error) {
	le := binary.LittleEndian
	old := t.Alt
	on := t.OnAltStack(t.Regs.RSP)
	if a[0] != 0 {
		var b [24]byte
		if _, err := t.MM.CopyIn(a[0], b[:]); err != nil {
			return 0, err
		}
		ns := kernel.AltStack{SP: le.Uint64(b[0:]), Flags: le.Uint32(b[8:]), Size: le.Uint64(b[16:])}
		if on {
			return 0, unix.EPERM
		}
		switch ns.Flags &^ kernel.SSAutoDisarm {
		case 0, kernel.SSOnStack: // SS_ONSTACK is accepted as 0 for old programs
			ns.Flags &= kernel.SSAutoDisarm
			if ns.Size < kernel.MinSigStkSz {
				return 0, unix.ENOMEM
			}
		case kernel.SSDisable:
			ns = kernel.AltStack{Flags: kernel.SSDisable}
		default:
			return 0, unix.EINVAL
		}
		defer func() { t.Alt = ns }()
	}
	if a[1] != 0 {
		var b [24]byte
		le.PutUint64(b[0:], old.SP)
		f := old.Flags
		if on {
			f |= kernel.SSOnStack
		}
		le.PutUint32(b[8:], f)
		le.PutUint64(b[16:], old.Size)
		if _, err := t.MM.CopyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sysRtSigreturn returns from a signal handler to the interrupted code.
// A frame that cannot be read kills the program with SIGSEGV, as on Linux.
func sysRtSigreturn(t *kernel.Task, a Args) (uintptr, error) {
	if err := t.SigReturn(); err != nil {
		t.K.Log.Debug("bad signal frame", "pid", t.TG.PID, "err", err)
		t.TG.Exit(kernel.ExitStatus{Signal: unix.SIGSEGV, Core: true})
		return 0, unix.EFAULT
	}
	return 0, nil
}

// senderInfo is the siginfo of a signal t sends with kill or tgkill.
func senderInfo(t *kernel.Task, code int32) kernel.SigInfo {
	return kernel.SigInfo{Code: code, PID: t.TG.PID, UID: t.TG.Creds().UID}
}

func sysKill(t *kernel.Task, a Args) (uintptr, error) {
	pid, sig := int32(a[0]), unix.Signal(a[1])
	if pid == -1<<31 {
		return 0, unix.ESRCH // -INT_MIN has no process group
	}
	return 0, t.K.Kill(t, pid, sig, senderInfo(t, kernel.SIUser))
}

func sysTgkill(t *kernel.Task, a Args) (uintptr, error) {
	if int32(a[0]) <= 0 || int32(a[1]) <= 0 {
		return 0, unix.EINVAL
	}
	return 0, t.K.KillThread(int32(a[0]), int32(a[1]), unix.Signal(a[2]), senderInfo(t, kernel.SITkill))
}

func sysTkill(t *kernel.Task, a Args) (uintptr, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return 0, t.K.KillThread(-1, int32(a[0]), unix.Signal(a[1]), senderInfo(t, kernel.SITkill))
}

// queuedInfo reads rt_sigqueueinfo's siginfo: si_code and the value. A
// process may not pretend to be the kernel or kill(2) when signalling
// another (si_code >= 0 or SI_TKILL: EPERM), as Linux checks.
func queuedInfo(t *kernel.Task, addr uintptr, toSelf bool) (kernel.SigInfo, error) {
	var b [kernel.SigInfoSize]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return kernel.SigInfo{}, err
	}
	code := int32(binary.LittleEndian.Uint32(b[8:]))
	if !toSelf && (code >= 0 || code == kernel.SITkill) {
		return kernel.SigInfo{}, unix.EPERM
	}
	info := senderInfo(t, code)
	info.PID = int32(binary.LittleEndian.Uint32(b[16:]))
	info.UID = binary.LittleEndian.Uint32(b[20:])
	info.Value = binary.LittleEndian.Uint64(b[24:])
	return info, nil
}

func sysRtSigqueueinfo(t *kernel.Task, a Args) (uintptr, error) {
	pid, sig := int32(a[0]), unix.Signal(a[1])
	info, err := queuedInfo(t, a[2], pid == t.TG.PID)
	if err != nil {
		return 0, err
	}
	if pid <= 0 {
		return 0, unix.ESRCH
	}
	return 0, t.K.Kill(t, pid, sig, info)
}

func sysRtTgsigqueueinfo(t *kernel.Task, a Args) (uintptr, error) {
	tgid, tid, sig := int32(a[0]), int32(a[1]), unix.Signal(a[2])
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	info, err := queuedInfo(t, a[3], tgid == t.TG.PID)
	if err != nil {
		return 0, err
	}
	return 0, t.K.KillThread(tgid, tid, sig, info)
}

func sysRtSigpending(t *kernel.Task, a Args) (uintptr, error) {
	if a[1] != sigsetSize {
		return 0, unix.EINVAL
	}
	return 0, t.MM.CopyOutUint64(a[0], t.Pending()&t.SigMask)
}

// sysRtSigsuspend waits for a signal with a temporary mask; the handler
// runs with it, and the old mask comes back when the handler returns.
func sysRtSigsuspend(t *kernel.Task, a Args) (uintptr, error) {
	if a[1] != sigsetSize {
		return 0, unix.EINVAL
	}
	mask, err := t.MM.CopyInUint64(a[0])
	if err != nil {
		return 0, err
	}
	t.SuspendMask(mask)
	for !t.SignalPending() {
		t.Sleep(time.Hour)
	}
	return 0, kernel.ErrRestartNoHand
}

// sysRtSigtimedwait takes a pending signal of the set (normally blocked),
// waiting up to the timeout for one.
func sysRtSigtimedwait(t *kernel.Task, a Args) (uintptr, error) {
	if a[3] != sigsetSize {
		return 0, unix.EINVAL
	}
	set, err := t.MM.CopyInUint64(a[0])
	if err != nil {
		return 0, err
	}
	set &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
	wait := time.Duration(-1)
	if a[2] != 0 {
		if wait, err = getTimespec(t, a[2]); err != nil {
			return 0, err
		}
	}
	var deadline <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		if sig, info := t.DequeueSignal(set); sig != 0 {
			if a[1] != 0 {
				var b [kernel.SigInfoSize]byte
				info.Signo = int32(sig)
				info.Encode(b[:])
				if _, err := t.MM.CopyOut(a[1], b[:]); err != nil {
					return 0, err
				}
			}
			return uintptr(sig), nil
		}
		if wait == 0 {
			return 0, unix.EAGAIN
		}
		if t.SignalPending() {
			return 0, unix.EINTR
		}
		select {
		case <-t.Interrupted():
		case <-deadline:
			return 0, unix.EAGAIN
		}
	}
}
