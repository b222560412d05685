package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/timerfd"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_TIMERFD_CREATE, sysTimerfdCreate)
	register(unix.SYS_TIMERFD_SETTIME, sysTimerfdSettime)
	register(unix.SYS_TIMERFD_GETTIME, sysTimerfdGettime)
}

// timerfdFlags are the flags timerfd_create accepts.
const timerfdFlags = unix.TFD_CLOEXEC | unix.TFD_NONBLOCK

// timerfdSetFlags are the flags timerfd_settime accepts. The sandbox
// never sets its clock, so TFD_TIMER_CANCEL_ON_SET never cancels.
const timerfdSetFlags = unix.TFD_TIMER_ABSTIME | unix.TFD_TIMER_CANCEL_ON_SET

// timerfdClock is the clock of timerfd_create's clockid.
func timerfdClock(t *kernel.Task, id int32) (timerfd.Clock, error) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
		return timerfd.SystemClock(id), nil
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		// They would wake a suspended machine: CAP_WAKE_ALARM.
		if t.TG.Creds().EUID != 0 {
			return nil, unix.EPERM
		}
		if id == unix.CLOCK_REALTIME_ALARM {
			return timerfd.SystemClock(unix.CLOCK_REALTIME), nil
		}
		return timerfd.SystemClock(unix.CLOCK_BOOTTIME), nil
	}
	return nil, unix.EINVAL
}

func sysTimerfdCreate(t *kernel.Task, a Args) (uintptr, error) {
	id, flags := int32(a[0]), int(int32(a[1]))
	if flags&^timerfdFlags != 0 {
		return 0, unix.EINVAL
	}
	clock, err := timerfdClock(t, id)
	if err != nil {
		return 0, err
	}
	f := fs.NewFile(timerfd.New(clock), unix.O_RDWR|flags&unix.O_NONBLOCK)
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.TFD_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

// getItimerspec reads a struct itimerspec: the interval, then the value.
func getItimerspec(t *kernel.Task, addr uintptr) (interval, value time.Duration, err error) {
	if interval, err = getTimespec(t, addr); err != nil {
		return 0, 0, err
	}
	if value, err = getTimespec(t, addr+16); err != nil {
		return 0, 0, err
	}
	return interval, value, nil
}

// putItimerspec writes a struct itimerspec.
func putItimerspec(t *kernel.Task, addr uintptr, interval, value time.Duration) error {
	if err := putTimespec(t, addr, interval); err != nil {
		return err
	}
	return putTimespec(t, addr+16, value)
}

// timerfdOf returns the timerfd at fd: EBADF if fd is not open, EINVAL if
// it is another kind of file.
func timerfdOf(t *kernel.Task, fd int) (*timerfd.TimerFD, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	tf, ok := f.Impl.(*timerfd.TimerFD)
	if !ok {
		return nil, unix.EINVAL
	}
	return tf, nil
}

func sysTimerfdSettime(t *kernel.Task, a Args) (uintptr, error) {
	fd, flags, newp, oldp := int(int32(a[0])), int(int32(a[1])), a[2], a[3]
	if flags&^timerfdSetFlags != 0 {
		return 0, unix.EINVAL
	}
	interval, value, err := getItimerspec(t, newp)
	if err != nil {
		return 0, err
	}
	tf, err := timerfdOf(t, fd)
	if err != nil {
		return 0, err
	}
	oldValue, oldInterval := tf.Set(value, interval, flags&unix.TFD_TIMER_ABSTIME != 0)
	if oldp != 0 {
		return 0, putItimerspec(t, oldp, oldInterval, oldValue)
	}
	return 0, nil
}

func sysTimerfdGettime(t *kernel.Task, a Args) (uintptr, error) {
	tf, err := timerfdOf(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	value, interval := tf.Get()
	return 0, putItimerspec(t, a[1], interval, value)
}
