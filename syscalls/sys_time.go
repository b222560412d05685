package syscalls

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs/timerfd"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_CLOCK_GETTIME, sysClockGettime)
	register(unix.SYS_CLOCK_GETRES, sysClockGetres)
	register(unix.SYS_GETTIMEOFDAY, sysGettimeofday)
	register(unix.SYS_CLOCK_SETTIME, sysClockSettime)
	register(unix.SYS_SETTIMEOFDAY, sysSettimeofday)
	register(unix.SYS_TIME, sysTime)
	register(unix.SYS_NANOSLEEP, sysNanosleep)
	register(unix.SYS_CLOCK_NANOSLEEP, sysClockNanosleep)
	register(unix.SYS_GETRANDOM, sysGetrandom)
	register(unix.SYS_RESTART_SYSCALL, func(t *kernel.Task, a Args) (uintptr, error) { return t.Restart() })
}

// clockNow reads clock id; CPU-time clocks are the tasks' (cputime.go).
func clockNow(t *kernel.Task, id int32) (time.Duration, error) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_TAI:
		return time.Duration(time.Now().UnixNano()), nil
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_BOOTTIME:
		return monoNow(id), nil
	case unix.CLOCK_PROCESS_CPUTIME_ID, unix.CLOCK_THREAD_CPUTIME_ID:
		return t.K.CPUTimeByClock(t, id)
	}
	if id < 0 {
		// The CPU clock of another process or thread (a clock ID made
		// from a PID or TID).
		return t.K.CPUTimeByClock(t, id)
	}
	return 0, unix.EINVAL
}

// monoNow reads a monotonic clock without a host syscall: CLOCK_MONOTONIC
// and CLOCK_BOOTTIME as the kernel's timers count them (fs/timerfd), and
// CLOCK_MONOTONIC_RAW as CLOCK_MONOTONIC plus their difference at start
// (rate adjustments of a few ppm are not told apart; the sandbox's vDSO,
// where it runs the host's clock code, reads the host's own).
func monoNow(id int32) time.Duration {
	switch id {
	case unix.CLOCK_MONOTONIC_RAW:
		return rawOffset() + timerfd.Monotonic()
	case unix.CLOCK_BOOTTIME:
		return timerfd.SystemClock(unix.CLOCK_BOOTTIME).Now()
	}
	return timerfd.Monotonic()
}

// rawOffset is CLOCK_MONOTONIC_RAW's offset, measured at first use.
var rawOffset = sync.OnceValue(func() time.Duration { return timerfd.Offset(unix.CLOCK_MONOTONIC_RAW) })

func putTimespec(t *kernel.Task, addr uintptr, d time.Duration) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
	_, err := t.MM.CopyOut(addr, b[:])
	return err
}

// getTimespec reads a struct timespec and validates it.
func getTimespec(t *kernel.Task, addr uintptr) (time.Duration, error) {
	var b [16]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[0:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > int64(1<<63-1)/int64(time.Second)-1 {
		return 1<<63 - 1, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

func sysClockGettime(t *kernel.Task, a Args) (uintptr, error) {
	now, err := clockNow(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return 0, putTimespec(t, a[1], now)
}

func sysClockGetres(t *kernel.Task, a Args) (uintptr, error) {
	if _, err := clockNow(t, int32(a[0])); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	res := time.Nanosecond
	switch int32(a[0]) {
	case unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		res = 4 * time.Millisecond
	}
	return 0, putTimespec(t, a[1], res)
}

func sysGettimeofday(t *kernel.Task, a Args) (uintptr, error) {
	now := time.Now()
	if a[0] != 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(now.Unix()))
		binary.LittleEndian.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
		if _, err := t.MM.CopyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		var tz [8]byte // UTC
		if _, err := t.MM.CopyOut(a[1], tz[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// The sandbox's clocks are the host's, which its programs cannot set:
// clock_settime and settimeofday check their arguments as Linux does, then
// are EPERM (as for a process without CAP_SYS_TIME; logged once under
// --debug).

func sysClockSettime(t *kernel.Task, a Args) (uintptr, error) {
	id := int32(a[0])
	if _, err := clockNow(t, id); err != nil {
		return 0, unix.EINVAL
	}
	cpuClock := id == unix.CLOCK_PROCESS_CPUTIME_ID || id == unix.CLOCK_THREAD_CPUTIME_ID || id < 0
	if id != unix.CLOCK_REALTIME && !cpuClock {
		return 0, unix.EINVAL // not a settable clock
	}
	var b [16]byte
	if _, err := t.MM.CopyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	if cpuClock {
		return 0, unix.EPERM // CPU-time clocks cannot be set
	}
	if sec, nsec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:])); !validSettod(sec, nsec) {
		return 0, unix.EINVAL
	}
	return 0, refuseSetTime(t, "clock_settime")
}

// settodSecMax is Linux's TIME_SETTOD_SEC_MAX: the latest time that can
// be set, 30 years short of the end of time64.
const settodSecMax = (1<<63-1)/int64(time.Second) - 30*365*24*3600

// validSettod is Linux's timespec64_valid_settod.
func validSettod(sec, nsec int64) bool {
	return sec >= 0 && sec < settodSecMax && nsec >= 0 && nsec < 1e9
}

// sysSettimeofday checks in Linux's order: the microseconds, the
// timezone's copy, the time's range, then the permission.
func sysSettimeofday(t *kernel.Task, a Args) (uintptr, error) {
	var sec, nsec int64
	if a[0] != 0 {
		var b [16]byte
		if _, err := t.MM.CopyIn(a[0], b[:]); err != nil {
			return 0, err
		}
		usec := int64(binary.LittleEndian.Uint64(b[8:]))
		if usec < 0 || usec > 1e6 {
			return 0, unix.EINVAL
		}
		sec, nsec = int64(binary.LittleEndian.Uint64(b[0:])), usec*1000
	}
	if a[1] != 0 {
		var tz [8]byte // struct timezone; its range is checked after the permission
		if _, err := t.MM.CopyIn(a[1], tz[:]); err != nil {
			return 0, err
		}
	}
	if a[0] != 0 && !validSettod(sec, nsec) {
		return 0, unix.EINVAL
	}
	return 0, refuseSetTime(t, "settimeofday")
}

func refuseSetTime(t *kernel.Task, call string) error {
	if t.K.FirstMessage("set the time") {
		t.K.Log.Debug(call+": the sandbox's clocks are the host's and cannot be set", "errno", "EPERM")
	}
	return unix.EPERM
}

func sysTime(t *kernel.Task, a Args) (uintptr, error) {
	now := time.Now().Unix()
	if a[0] != 0 {
		if err := t.MM.CopyOutUint64(a[0], uint64(now)); err != nil {
			return 0, err
		}
	}
	return uintptr(now), nil
}

// sleep sleeps d; when a signal cuts it short it writes the remaining time
// to rem (if non-zero) and returns EINTR.
// sleep sleeps for d; a signal ends it early, with the time left written
// to rem. Unless a handler runs (EINTR), the program then goes on
// sleeping for the time left, through restart_syscall (a stop and a
// SIGCONT, for instance).
func sleep(t *kernel.Task, d time.Duration, rem uintptr) (uintptr, error) {
	deadline := time.Now().Add(d)
	if t.Sleep(d) {
		return 0, nil
	}
	left := max(time.Until(deadline), 0)
	if rem != 0 {
		if err := putTimespec(t, rem, left); err != nil {
			return 0, err
		}
	}
	t.SetRestart(func(t *kernel.Task) (uintptr, error) {
		return sleep(t, max(time.Until(deadline), 0), rem)
	})
	return 0, kernel.ErrRestartBlock
}

func sysNanosleep(t *kernel.Task, a Args) (uintptr, error) {
	d, err := getTimespec(t, a[0])
	if err != nil {
		return 0, err
	}
	return sleep(t, d, a[1])
}

func sysClockNanosleep(t *kernel.Task, a Args) (uintptr, error) {
	id, flags := int32(a[0]), int(a[1])
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI,
		unix.CLOCK_PROCESS_CPUTIME_ID:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	default:
		return 0, unix.EINVAL
	}
	if flags&^unix.TIMER_ABSTIME != 0 {
		return 0, unix.EINVAL
	}
	d, err := getTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	if flags&unix.TIMER_ABSTIME != 0 {
		now, err := clockNow(t, id)
		if err != nil {
			return 0, err
		}
		d -= now
		if d <= 0 {
			return 0, nil
		}
		// An absolute sleep reports no remaining time.
		return sleep(t, d, 0)
	}
	return sleep(t, d, a[3])
}

// maxRandom is the most getrandom returns per call (as Linux: 32 MiB - 1).
const maxRandom = 1<<25 - 1

func sysGetrandom(t *kernel.Task, a Args) (uintptr, error) {
	const known = unix.GRND_NONBLOCK | unix.GRND_RANDOM | unix.GRND_INSECURE
	if a[2]&^known != 0 || a[2]&unix.GRND_RANDOM != 0 && a[2]&unix.GRND_INSECURE != 0 {
		return 0, unix.EINVAL
	}
	n := min(a[1], maxRandom)
	buf := make([]byte, min(n, 1<<16))
	done := uintptr(0)
	for done < n {
		k := min(n-done, uintptr(len(buf)))
		rand.Read(buf[:k])
		c, err := t.MM.CopyOut(a[0]+done, buf[:k])
		done += uintptr(c)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
	return done, nil
}

// sliceOf is how long a polling loop sleeps between checks.
func sliceOf(timeoutMs int) time.Duration {
	if timeoutMs < 0 || timeoutMs > 50 {
		return 50 * time.Millisecond
	}
	return time.Duration(timeoutMs) * time.Millisecond
}
