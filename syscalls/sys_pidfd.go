package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PIDFD_OPEN, sysPidfdOpen)
	register(unix.SYS_PIDFD_SEND_SIGNAL, sysPidfdSendSignal)
	register(unix.SYS_PIDFD_GETFD, sysPidfdGetfd)
}

// installPidFD installs a new pidfd for tg (always close-on-exec).
func installPidFD(t *kernel.Task, tg *kernel.ThreadGroup, nonblock bool) (int, error) {
	flags := unix.O_RDWR
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	return t.TG.FDs.Install(fs.NewFile(kernel.NewPidFD(tg), flags), 0, true)
}

// sysPidfdOpen is pidfd_open(pid, flags): pid must be a process (a thread
// group's leader), flags 0 or PIDFD_NONBLOCK.
func sysPidfdOpen(t *kernel.Task, a Args) (uintptr, error) {
	pid, flags := int32(a[0]), int(a[1])
	if flags&^unix.O_NONBLOCK != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	tg := t.K.Group(pid)
	if tg == nil {
		if t.K.Task(pid) != nil {
			return 0, unix.EINVAL // a thread, not a process
		}
		return 0, unix.ESRCH
	}
	fd, err := installPidFD(t, tg, flags != 0)
	return uintptr(fd), err
}

// sysPidfdSendSignal is pidfd_send_signal(pidfd, sig, info, flags).
func sysPidfdSendSignal(t *kernel.Task, a Args) (uintptr, error) {
	if a[3] != 0 {
		return 0, unix.EINVAL
	}
	tg, err := t.PidFDTarget(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	sig := unix.Signal(a[1])
	info := senderInfo(t, kernel.SIUser)
	if a[2] != 0 {
		if info, err = queuedInfo(t, a[2], tg == t.TG); err != nil {
			return 0, err
		}
	}
	if tg.Exited() {
		return 0, unix.ESRCH
	}
	return 0, t.K.Kill(t, tg.PID, sig, info)
}

// sysPidfdGetfd is pidfd_getfd(pidfd, targetfd, flags): a new descriptor
// (close-on-exec) for the open file at targetfd of the pidfd's process,
// if the caller may ptrace that process.
func sysPidfdGetfd(t *kernel.Task, a Args) (uintptr, error) {
	if uint32(a[2]) != 0 {
		return 0, unix.EINVAL
	}
	tg, err := t.PidFDTarget(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if tg != t.TG {
		if err := mayTrace(t, tg); err != nil {
			return 0, err
		}
	}
	if tg.Exited() {
		return 0, unix.ESRCH
	}
	f, err := tg.FileRef(int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	fd, err := t.TG.FDs.Install(f, 0, true) // the table takes the reference
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}
