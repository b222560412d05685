package syscalls

import (
	"bytes"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PRCTL, sysPrctl)
}

// sysPrctl implements the prctl operations programs use; the others give
// EINVAL (logged once under --debug).
func sysPrctl(t *kernel.Task, a Args) (uintptr, error) {
	switch op := int(a[0]); op {
	case unix.PR_SET_NAME:
		b := make([]byte, 16)
		n, err := t.MM.CopyIn(a[1], b)
		if n == 0 && err != nil {
			return 0, err
		}
		b = b[:n]
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		if len(b) > 15 {
			b = b[:15]
		}
		t.SetName(string(b))
		return 0, nil
	case unix.PR_GET_NAME:
		b := make([]byte, 16)
		copy(b[:15], t.Name())
		_, err := t.MM.CopyOut(a[1], b)
		return 0, err
	case unix.PR_SET_PDEATHSIG:
		sig := unix.Signal(a[1])
		if sig < 0 || sig > kernel.NumSignals {
			return 0, unix.EINVAL
		}
		t.PDeathSig = sig
		return 0, nil
	case unix.PR_GET_PDEATHSIG:
		return 0, copyOutInt32(t, a[1], int32(t.PDeathSig))
	case unix.PR_SET_CHILD_SUBREAPER:
		t.TG.SetSubreaper(a[1] != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		v := int32(0)
		if t.TG.Subreaper() {
			v = 1
		}
		return 0, copyOutInt32(t, a[1], v)
	case unix.PR_GET_SECCOMP, unix.PR_SET_SECCOMP:
		return prctlSeccomp(t, op, a)
	case unix.PR_SET_NO_NEW_PRIVS:
		// The sandbox grants no privileges to begin with: accepted.
		if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.TG.SetNoNewPrivs()
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if t.TG.NoNewPrivs() {
			return 1, nil
		}
		return 0, nil
	case unix.PR_GET_DUMPABLE:
		if t.TG.Dumpable() {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_DUMPABLE:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.TG.SetDumpable(a[1] == 1)
		return 0, nil
	case unix.PR_GET_KEEPCAPS:
		if t.TG.Creds().KeepCaps {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_KEEPCAPS:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.TG.SetKeepCaps(a[1] == 1)
		return 0, nil
	case unix.PR_GET_SECUREBITS:
		// Only SECBIT_KEEP_CAPS is offered: it is PR_SET_KEEPCAPS.
		if t.TG.Creds().KeepCaps {
			return secbitKeepCaps, nil
		}
		return 0, nil
	case unix.PR_SET_SECUREBITS:
		if c := t.TG.Creds(); !c.HasCap(kernel.CapSetPCap) {
			return 0, unix.EPERM
		}
		if a[1]&^secbitKeepCaps != 0 {
			// SECBIT_NOROOT and the others (and the locks) would change
			// how exec and setuid treat user 0: refused, as Linux
			// refuses a bit it may not set.
			if t.K.FirstMessage("securebits") {
				t.K.Log.Debug("prctl PR_SET_SECUREBITS: only SECBIT_KEEP_CAPS is supported", "bits", a[1])
			}
			return 0, unix.EPERM
		}
		t.TG.SetKeepCaps(a[1] != 0)
		return 0, nil
	case unix.PR_SET_THP_DISABLE:
		if a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.TG.SetTHPDisable(a[1] != 0)
		return 0, nil
	case unix.PR_GET_THP_DISABLE:
		if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		if t.TG.THPDisable() {
			return 1, nil
		}
		return 0, nil
	case unix.PR_CAPBSET_READ:
		if a[1] > kernel.CapLast {
			return 0, unix.EINVAL
		}
		return uintptr(t.TG.Caps().Bounding >> a[1] & 1), nil
	case unix.PR_CAPBSET_DROP:
		if a[1] > kernel.CapLast {
			return 0, unix.EINVAL
		}
		if !t.TG.DropBounding(int(a[1])) {
			return 0, unix.EPERM
		}
		return 0, nil
	case unix.PR_CAP_AMBIENT:
		return prctlAmbient(t, a)
	case unix.PR_GET_TIMERSLACK:
		return 50000, nil
	case unix.PR_SET_TIMERSLACK:
		return 0, nil
	default:
		if t.K.FirstMessage("prctl op") {
			t.K.Log.Debug("unimplemented prctl operation", "op", op)
		}
		return 0, unix.EINVAL
	}
}

// prctlAmbient is PR_CAP_AMBIENT: IS_SET, RAISE, LOWER and CLEAR_ALL.
func prctlAmbient(t *kernel.Task, a Args) (uintptr, error) {
	op, capNum := a[1], a[2]
	if op == unix.PR_CAP_AMBIENT_CLEAR_ALL {
		if capNum != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.TG.SetAmbient(-1, false)
		return 0, nil
	}
	if capNum > kernel.CapLast || a[3] != 0 || a[4] != 0 {
		return 0, unix.EINVAL
	}
	switch op {
	case unix.PR_CAP_AMBIENT_IS_SET:
		return uintptr(t.TG.Caps().Ambient >> capNum & 1), nil
	case unix.PR_CAP_AMBIENT_RAISE, unix.PR_CAP_AMBIENT_LOWER:
		if !t.TG.SetAmbient(int(capNum), op == unix.PR_CAP_AMBIENT_RAISE) {
			return 0, unix.EPERM
		}
		return 0, nil
	}
	return 0, unix.EINVAL
}

// secbitKeepCaps is SECBIT_KEEP_CAPS (linux/securebits.h).
const secbitKeepCaps = 1 << 4
