package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_FUTEX, sysFutex)
}

const (
	futexWait         = 0
	futexWake         = 1
	futexWaitBitset   = 9
	futexWakeBitset   = 10
	futexPrivate      = 128
	futexClockRealtim = 256
)

// sysFutex implements WAIT and WAKE for a single-threaded process: a wait
// whose value matches can only end by timeout or signal.
func sysFutex(t *kernel.Task, a Args) (uintptr, error) {
	addr, op, val := a[0], int(a[1]), uint32(a[2])
	cmd := op &^ (futexPrivate | futexClockRealtim)
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	switch cmd {
	case futexWake, futexWakeBitset:
		if cmd == futexWakeBitset && a[5] == 0 {
			return 0, unix.EINVAL
		}
		var b [4]byte
		if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
			return 0, err
		}
		return 0, nil // nobody else can be waiting
	case futexWait, futexWaitBitset:
		if cmd == futexWaitBitset && a[5] == 0 {
			return 0, unix.EINVAL
		}
		var b [4]byte
		if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
			return 0, err
		}
		if uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24 != val {
			return 0, unix.EAGAIN
		}
		d := time.Duration(1<<63 - 1)
		if a[3] != 0 {
			ts, err := getTimespec(t, a[3])
			if err != nil {
				return 0, err
			}
			d = ts
			if cmd == futexWaitBitset {
				// Absolute timeout on CLOCK_MONOTONIC or REALTIME.
				id := int32(unix.CLOCK_MONOTONIC)
				if op&futexClockRealtim != 0 {
					id = unix.CLOCK_REALTIME
				}
				now, err := clockNow(t, id)
				if err != nil {
					return 0, err
				}
				d = ts - now
			}
		}
		if d <= 0 || t.Sleep(d) {
			return 0, unix.ETIMEDOUT
		}
		if a[3] == 0 {
			return 0, kernel.ErrRestartSys
		}
		return 0, unix.EINTR
	}
	return 0, unix.ENOSYS
}
