package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_ALARM, sysAlarm)
	register(unix.SYS_SETITIMER, sysSetitimer)
	register(unix.SYS_GETITIMER, sysGetitimer)
	register(unix.SYS_TIMER_CREATE, sysTimerCreate)
	register(unix.SYS_TIMER_SETTIME, sysTimerSettime)
	register(unix.SYS_TIMER_GETTIME, sysTimerGettime)
	register(unix.SYS_TIMER_GETOVERRUN, sysTimerGetoverrun)
	register(unix.SYS_TIMER_DELETE, sysTimerDelete)
}

// maxTimerSeconds bounds timer values so that durations cannot overflow
// (Linux accepts more, but nothing in a sandbox run waits 290 years).
const maxTimerSeconds = 1 << 32

// sysAlarm arms ITIMER_REAL for a[0] seconds and returns the seconds that
// were left, rounded to nearest (at least 1 if any time was left).
func sysAlarm(t *kernel.Task, a Args) (uintptr, error) {
	secs := uint32(a[0])
	left, _ := t.TG.SetRealTimer(time.Duration(secs)*time.Second, 0)
	if left <= 0 {
		return 0, nil
	}
	return uintptr(max((left+time.Second/2)/time.Second, 1)), nil
}

// getTimeval reads a struct timeval and validates it.
func getTimeval(t *kernel.Task, addr uintptr) (time.Duration, error) {
	var b [16]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[0:]))
	usec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, unix.EINVAL
	}
	sec = min(sec, maxTimerSeconds)
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func putItimerval(t *kernel.Task, addr uintptr, interval, value time.Duration) error {
	var b [32]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(interval/time.Second))
	le.PutUint64(b[8:], uint64(interval%time.Second/time.Microsecond))
	le.PutUint64(b[16:], uint64(value/time.Second))
	le.PutUint64(b[24:], uint64(value%time.Second/time.Microsecond))
	_, err := t.MM.CopyOut(addr, b[:])
	return err
}

// ITIMER_REAL counts wall time; ITIMER_VIRTUAL and ITIMER_PROF count the
// process's CPU time (both all of it: the sandbox does not tell user from
// system time).
const itimerReal = 0

func sysSetitimer(t *kernel.Task, a Args) (uintptr, error) {
	which, newp, oldp := int(a[0]), a[1], a[2]
	if which < 0 || which > 2 {
		return 0, unix.EINVAL
	}
	var value, interval time.Duration
	if newp != 0 {
		var err error
		if interval, err = getTimeval(t, newp); err != nil {
			return 0, err
		}
		if value, err = getTimeval(t, newp+16); err != nil {
			return 0, err
		}
	}
	// A NULL new value disarms the timer, as on Linux.
	if value == 0 {
		interval = 0
	}
	var left, oldInterval time.Duration
	if which == itimerReal {
		left, oldInterval = t.TG.SetRealTimer(value, interval)
	} else {
		left, oldInterval = t.TG.SetCPUTimer(which, value, interval)
	}
	if oldp != 0 {
		return 0, putItimerval(t, oldp, oldInterval, left)
	}
	return 0, nil
}

func sysGetitimer(t *kernel.Task, a Args) (uintptr, error) {
	which := int(a[0])
	if which < 0 || which > 2 {
		return 0, unix.EINVAL
	}
	var left, interval time.Duration
	if which == itimerReal {
		left, interval = t.TG.RealTimer()
	} else {
		left, interval = t.TG.CPUTimer(which)
	}
	return 0, putItimerval(t, a[1], interval, left)
}

// sigeventSize is the size of a struct sigevent.
const sigeventSize = 64

func sysTimerCreate(t *kernel.Task, a Args) (uintptr, error) {
	clock, evp, idp := int32(a[0]), a[1], a[2]
	var ev *kernel.SigEvent
	if evp != 0 {
		var b [sigeventSize]byte
		if _, err := t.MM.CopyIn(evp, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		ev = &kernel.SigEvent{
			Value:  le.Uint64(b[0:]),
			Signo:  int32(le.Uint32(b[8:])),
			Notify: int32(le.Uint32(b[12:])),
			TID:    int32(le.Uint32(b[16:])),
		}
	}
	id, err := t.CreateTimer(clock, ev)
	if err != nil {
		return 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(id))
	if _, err := t.MM.CopyOut(idp, b[:]); err != nil {
		t.TG.DeleteTimer(id)
		return 0, err
	}
	return 0, nil
}

func sysTimerSettime(t *kernel.Task, a Args) (uintptr, error) {
	id, flags, newp, oldp := int32(a[0]), int(int32(a[1])), a[2], a[3]
	if newp == 0 {
		return 0, unix.EINVAL
	}
	interval, value, err := getItimerspec(t, newp)
	if err != nil {
		return 0, err
	}
	oldValue, oldInterval, err := t.TG.SetTimer(id, value, interval, flags&unix.TIMER_ABSTIME != 0)
	if err != nil {
		return 0, err
	}
	if oldp != 0 {
		return 0, putItimerspec(t, oldp, oldInterval, oldValue)
	}
	return 0, nil
}

func sysTimerGettime(t *kernel.Task, a Args) (uintptr, error) {
	value, interval, err := t.TG.GetTimer(int32(a[0]))
	if err != nil {
		return 0, err
	}
	return 0, putItimerspec(t, a[1], interval, value)
}

func sysTimerGetoverrun(t *kernel.Task, a Args) (uintptr, error) {
	n, err := t.TG.TimerOverrun(int32(a[0]))
	return uintptr(n), err
}

func sysTimerDelete(t *kernel.Task, a Args) (uintptr, error) {
	return 0, t.TG.DeleteTimer(int32(a[0]))
}
