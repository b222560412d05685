package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_WAIT4, sysWait4)
	register(unix.SYS_WAITID, sysWaitid)
}

// wait option bits.
const (
	wNoHang    = 0x1
	wUntraced  = 0x2 // WSTOPPED for waitid
	wExited    = 0x4
	wContinued = 0x8
	wNoWait    = 0x1000000
	wNoThread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// waitid's idtype.
const (
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = 3
)

// sizeofRusage is struct rusage's size.
const sizeofRusage = 144

// childUsage is the rusage wait4 and waitid report of the child waited
// for (zero when none was).
func childUsage(r kernel.WaitResult) rusage { return rusage{cpu: r.CPU} }

func sysWait4(t *kernel.Task, a Args) (uintptr, error) {
	pid, statusAddr, options, rusage := int32(a[0]), a[1], int(a[2]), a[3]
	if options&^(wNoHang|wUntraced|wContinued|wNoThread|wAll|wClone) != 0 {
		return 0, unix.EINVAL
	}
	o := kernel.WaitOpts{Which: -1, Exited: true, NoHang: options&wNoHang != 0,
		Stopped: options&wUntraced != 0, Continued: options&wContinued != 0,
		All: options&wAll != 0, Clone: options&wClone != 0}
	switch {
	case pid == 0:
		o.PGID, o.Which = true, t.TG.PGID()
	case pid < -1:
		o.PGID, o.Which = true, -pid
	case pid > 0:
		o.Which = pid
	}
	r, err := t.K.Wait(t, o)
	if err != nil || r.PID == 0 {
		return 0, err
	}
	if statusAddr != 0 {
		if err := copyOutInt32(t, statusAddr, int32(r.Status)); err != nil {
			return 0, err
		}
	}
	if err := writeRusage(t, rusage, childUsage(r)); err != nil {
		return 0, err
	}
	return uintptr(r.PID), nil
}

func sysWaitid(t *kernel.Task, a Args) (uintptr, error) {
	idtype, id, infop, options, rusage := int(a[0]), int32(a[1]), a[2], int(a[3]), a[4]
	if options&^(wNoHang|wUntraced|wExited|wContinued|wNoWait|wNoThread|wAll|wClone) != 0 ||
		options&(wExited|wUntraced|wContinued) == 0 {
		return 0, unix.EINVAL
	}
	o := kernel.WaitOpts{Which: -1, Exited: options&wExited != 0, NoHang: options&wNoHang != 0,
		Stopped: options&wUntraced != 0, Continued: options&wContinued != 0, NoWait: options&wNoWait != 0,
		All: options&wAll != 0, Clone: options&wClone != 0}
	switch idtype {
	case pAll:
	case pPID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		o.Which = id
	case pPGID:
		if id < 0 {
			return 0, unix.EINVAL
		}
		o.PGID, o.Which = true, id
		if id == 0 {
			o.Which = t.TG.PGID()
		}
	case pPIDFD:
		tg, err := t.PidFDTarget(int(id))
		if err != nil {
			return 0, err
		}
		o.Which = tg.PID
	default:
		return 0, unix.EINVAL
	}
	r, err := t.K.Wait(t, o)
	if err != nil {
		return 0, err
	}
	if infop != 0 {
		var b [kernel.SigInfoSize]byte
		if r.PID != 0 {
			kernel.SigInfo{Signo: int32(unix.SIGCHLD), Code: r.Code, PID: r.PID, UID: r.UID, Status: r.Value}.Encode(b[:])
		}
		if _, err := t.MM.CopyOut(infop, b[:]); err != nil {
			return 0, err
		}
	}
	if err := writeRusage(t, rusage, childUsage(r)); err != nil {
		return 0, err
	}
	return 0, nil
}

func copyOutInt32(t *kernel.Task, addr uintptr, v int32) error {
	b := []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	_, err := t.MM.CopyOut(addr, b)
	return err
}
