package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_FUTEX, sysFutex)
	register(unix.SYS_FUTEX_WAITV, sysFutexWaitv)
	register(unix.SYS_GET_ROBUST_LIST, sysGetRobustList)
}

// futex(2) operations and flags (linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexFD            = 2 // removed in Linux 2.6.26: ENOSYS
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13

	futexPrivateFlag   = 128
	futexClockRealtime = 256

	// futex_waitv entry flags (FUTEX2_*).
	futex2SizeMask = 0x3
	futex2SizeU32  = 0x2
	futex2NUMA     = 0x4
	futex2Private  = futexPrivateFlag
	// futexWaitvSize is sizeof(struct futex_waitv).
	futexWaitvSize = 24
)

// futexHasTimeout reports whether the fourth argument of cmd is a timeout
// (else it is a number, val2).
func futexHasTimeout(cmd uint32) bool {
	switch cmd {
	case futexWait, futexLockPI, futexLockPI2, futexWaitBitset, futexWaitRequeuePI:
		return true
	}
	return false
}

// futexDeadline turns a timeout into a deadline: relative, or absolute on
// CLOCK_REALTIME or CLOCK_MONOTONIC.
func futexDeadline(t *kernel.Task, ts time.Duration, relative, realtime bool) (time.Time, error) {
	if relative {
		return time.Now().Add(ts), nil
	}
	id := int32(unix.CLOCK_MONOTONIC)
	if realtime {
		id = unix.CLOCK_REALTIME
	}
	now, err := clockNow(t, id)
	if err != nil {
		return time.Time{}, err
	}
	return time.Now().Add(ts - now), nil
}

// interrupted replaces EINTR from a futex wait by the restart code Linux
// uses for the call.
func interrupted(err error, code error) error {
	if err == unix.EINTR {
		return code
	}
	return err
}

// sysFutex is futex(uaddr, op, val, timeout or val2, uaddr2, val3).
func sysFutex(t *kernel.Task, a Args) (uintptr, error) {
	addr, op, val := a[0], uint32(a[1]), uint32(a[2])
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	private := op&futexPrivateFlag != 0
	realtime := op&futexClockRealtime != 0

	// The timeout is read first, as Linux does.
	var deadline time.Time
	hasTimeout := a[3] != 0 && futexHasTimeout(cmd)
	if hasTimeout {
		ts, err := getTimespec(t, a[3])
		if err != nil {
			return 0, err
		}
		// FUTEX_WAIT's timeout is relative; the others' absolute,
		// on CLOCK_REALTIME for LOCK_PI.
		if deadline, err = futexDeadline(t, ts, cmd == futexWait, realtime || cmd == futexLockPI); err != nil {
			return 0, err
		}
	}
	if realtime && cmd != futexWaitBitset && cmd != futexWaitRequeuePI && cmd != futexLockPI2 {
		return 0, unix.ENOSYS
	}

	f := t.K.Futex()
	val2 := int(int32(uint32(a[3]))) // the fourth argument as a count
	addr2, val3 := a[4], uint32(a[5])
	switch cmd {
	case futexWait, futexWaitBitset:
		bitset := uint32(kernel.FutexBitsetAny)
		if cmd == futexWaitBitset {
			bitset = val3
		}
		err := f.Wait(t, t.MM, addr, private, val, bitset, deadline)
		switch {
		case !hasTimeout:
			err = interrupted(err, kernel.ErrRestartSys)
		case cmd == futexWaitBitset:
			// An absolute deadline: restart unless a handler ran.
			err = interrupted(err, kernel.ErrRestartNoHand)
		}
		return 0, err
	case futexWake, futexWakeBitset:
		bitset := uint32(kernel.FutexBitsetAny)
		if cmd == futexWakeBitset {
			bitset = val3
		}
		n, err := f.Wake(t.MM, addr, private, int(int32(val)), bitset)
		return uintptr(n), err
	case futexRequeue, futexCmpRequeue:
		var cmp *uint32
		if cmd == futexCmpRequeue {
			cmp = &val3
		}
		n, err := f.Requeue(t.MM, addr, addr2, private, int(int32(val)), val2, cmp)
		return uintptr(n), err
	case futexWakeOp:
		n, err := f.WakeOp(t.MM, addr, addr2, private, int(int32(val)), val2, val3)
		return uintptr(n), err
	case futexLockPI, futexLockPI2, futexTrylockPI:
		err := f.LockPI(t, t.MM, addr, private, t.TID, deadline, cmd == futexTrylockPI)
		return 0, interrupted(err, kernel.ErrRestartNoIntr)
	case futexUnlockPI:
		return 0, f.UnlockPI(t.MM, addr, private, t.TID)
	case futexWaitRequeuePI:
		err := f.WaitRequeuePI(t, t.MM, addr, private, val, deadline, addr2, t.TID)
		return 0, interrupted(err, kernel.ErrRestartNoIntr)
	case futexCmpRequeuePI:
		n, err := f.CmpRequeuePI(t.MM, addr, addr2, private, int(int32(val)), val2, val3)
		return uintptr(n), err
	}
	return 0, unix.ENOSYS // FUTEX_FD and unknown operations
}

// sysFutexWaitv is futex_waitv(waiters, nr_futexes, flags, timeout,
// clockid): wait on up to 128 futexes; the result is the index of the one
// woken.
func sysFutexWaitv(t *kernel.Task, a Args) (uintptr, error) {
	vaddr, n, flags := a[0], uint32(a[1]), uint32(a[2])
	if flags != 0 || vaddr == 0 || n == 0 || n > kernel.FutexWaitvMax {
		return 0, unix.EINVAL
	}
	var deadline time.Time
	if a[3] != 0 {
		clock := int32(a[4])
		if clock != unix.CLOCK_REALTIME && clock != unix.CLOCK_MONOTONIC {
			return 0, unix.EINVAL
		}
		ts, err := getTimespec(t, a[3])
		if err != nil {
			return 0, err
		}
		if deadline, err = futexDeadline(t, ts, false, clock == unix.CLOCK_REALTIME); err != nil {
			return 0, err
		}
	}
	buf := make([]byte, futexWaitvSize*int(n))
	if _, err := t.MM.CopyIn(vaddr, buf); err != nil {
		return 0, err
	}
	vs := make([]kernel.FutexWaitv, n)
	for i := range vs {
		var ok bool
		if vs[i], ok = parseWaitv(buf[futexWaitvSize*i:]); !ok {
			return 0, unix.EINVAL
		}
	}
	idx, err := t.K.Futex().WaitV(t, t.MM, vs, deadline)
	return uintptr(idx), interrupted(err, kernel.ErrRestartSys)
}

// parseWaitv decodes a struct futex_waitv { u64 val; u64 uaddr; u32 flags;
// u32 __reserved; }; false for what Linux refuses (EINVAL): flags other
// than a 32-bit size and FUTEX2_PRIVATE, a reserved field set, a value
// wider than 32 bits.
func parseWaitv(b []byte) (kernel.FutexWaitv, bool) {
	val := binary.LittleEndian.Uint64(b[0:])
	uaddr := binary.LittleEndian.Uint64(b[8:])
	fl := binary.LittleEndian.Uint32(b[16:])
	reserved := binary.LittleEndian.Uint32(b[20:])
	if fl&^(futex2SizeMask|futex2NUMA|futex2Private) != 0 || reserved != 0 ||
		fl&futex2SizeMask != futex2SizeU32 || fl&futex2NUMA != 0 || val > 0xffffffff {
		return kernel.FutexWaitv{}, false
	}
	return kernel.FutexWaitv{Addr: uintptr(uaddr), Val: uint32(val), Private: fl&futex2Private != 0}, true
}

// sysGetRobustList is get_robust_list(pid, head_ptr, len_ptr), for the
// calling thread (pid 0 or its own TID). Another thread's list is ESRCH
// (Linux allows it with ptrace access).
func sysGetRobustList(t *kernel.Task, a Args) (uintptr, error) {
	if pid := int32(a[0]); pid != 0 && pid != t.TID {
		return 0, unix.ESRCH
	}
	if err := t.MM.CopyOutUint64(a[2], kernel.RobustListHeadSize); err != nil {
		return 0, err
	}
	return 0, t.MM.CopyOutUint64(a[1], uint64(t.RobustList))
}
