package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/signalfd"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_SIGNALFD, sysSignalfd)
	register(unix.SYS_SIGNALFD4, sysSignalfd4)
}

// signalfdFlags are the flags signalfd4 accepts.
const signalfdFlags = unix.SFD_CLOEXEC | unix.SFD_NONBLOCK

func sysSignalfd(t *kernel.Task, a Args) (uintptr, error) {
	return makeSignalfd(t, int(int32(a[0])), a[1], a[2], 0)
}

func sysSignalfd4(t *kernel.Task, a Args) (uintptr, error) {
	return makeSignalfd(t, int(int32(a[0])), a[1], a[2], int(int32(a[3])))
}

// makeSignalfd creates a signalfd for the signals in the set at maskp
// (fd -1), or changes the set of the signalfd at fd.
func makeSignalfd(t *kernel.Task, fd int, maskp, size uintptr, flags int) (uintptr, error) {
	if size != sigsetSize || flags&^signalfdFlags != 0 {
		return 0, unix.EINVAL
	}
	mask, err := t.MM.CopyInUint64(maskp)
	if err != nil {
		return 0, err
	}
	if fd != -1 {
		f, err := t.File(fd)
		if err != nil {
			return 0, err
		}
		s, ok := f.Impl.(*signalfd.SignalFD)
		if !ok {
			return 0, unix.EINVAL
		}
		s.SetMask(mask)
		return uintptr(fd), nil
	}
	creator := t
	src := func() signalfd.Thread {
		// The thread that reads or polls; the creator when no task
		// calls (never from the program's syscalls).
		if c := creator.K.Caller(); c != nil {
			return taskSignals{c}
		}
		return taskSignals{creator}
	}
	f := fs.NewFile(signalfd.New(src, mask), unix.O_RDWR|flags&unix.O_NONBLOCK)
	nfd, err := t.TG.FDs.Install(f, 0, flags&unix.SFD_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(nfd), nil
}

// taskSignals is a task's signals as a signalfd reads them.
type taskSignals struct{ t *kernel.Task }

func (s taskSignals) Pending() uint64 { return s.t.Pending() }

func (s taskSignals) Queue() *waiter.Queue { return s.t.TG.SignalQueue() }

func (s taskSignals) Dequeue(set uint64) (signalfd.Info, bool) {
	sig, info := s.t.DequeueSignal(set)
	if sig == 0 {
		return signalfd.Info{}, false
	}
	return signalfdInfo(sig, info), true
}

// signalfdInfo fills a signalfd_siginfo with the fields of the siginfo
// that apply to its signal and si_code, as Linux does: the sender for
// kill and tkill (with the value for sigqueue and other negative codes),
// the timer's ID, overruns and value for a POSIX timer, the child's PID,
// UID and status for SIGCHLD, the address for faults.
func signalfdInfo(sig unix.Signal, info kernel.SigInfo) signalfd.Info {
	out := signalfd.Info{Signo: uint32(sig), Code: info.Code}
	switch {
	case info.Code == kernel.SITimer:
		// _timer: si_tid and si_overrun where kill has si_pid and si_uid.
		out.TID, out.Overrun = uint32(info.PID), info.UID
		out.Ptr, out.Int = info.Value, int32(info.Value)
	case info.Code < 0:
		out.PID, out.UID = uint32(info.PID), info.UID
		out.Ptr, out.Int = info.Value, int32(info.Value)
	case info.Code == kernel.SIUser || info.Code >= kernel.SIKernel:
		out.PID, out.UID = uint32(info.PID), info.UID
	case sig == unix.SIGCHLD:
		out.PID, out.UID, out.Status = uint32(info.PID), info.UID, info.Status
	case sig == unix.SIGSEGV || sig == unix.SIGBUS || sig == unix.SIGILL || sig == unix.SIGFPE || sig == unix.SIGTRAP:
		out.Addr = info.Addr
	default:
		out.PID, out.UID = uint32(info.PID), info.UID
	}
	return out
}
