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

// Only ITIMER_REAL counts time; ITIMER_VIRTUAL and ITIMER_PROF (CPU time)
// can be read and disarmed, and arming them fails with EINVAL (logged).
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
	if which != itimerReal {
		if value != 0 {
			t.K.Log.Warn("CPU-time interval timers are not supported", "which", which)
			return 0, unix.EINVAL
		}
		if oldp != 0 {
			return 0, putItimerval(t, oldp, 0, 0)
		}
		return 0, nil
	}
	// A NULL new value disarms the timer, as on Linux.
	if value == 0 {
		interval = 0
	}
	left, oldInterval := t.TG.SetRealTimer(value, interval)
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
	}
	return 0, putItimerval(t, a[1], interval, left)
}
