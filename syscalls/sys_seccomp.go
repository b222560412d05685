package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/seccomp"
)

// seccomp(2) operations and filter flags (linux/seccomp.h).
const (
	seccompSetModeStrict    = 0
	seccompSetModeFilter    = 1
	seccompGetActionAvail   = 2
	seccompGetNotifSizes    = 3
	seccompFlagTSync        = 1 << 0
	seccompFlagLog          = 1 << 1
	seccompFlagSpecAllow    = 1 << 2
	seccompFlagNewListener  = 1 << 3
	seccompFlagTSyncESRCH   = 1 << 4
	seccompFlagWaitKillable = 1 << 5
	// seccompFlagsKnown are the flags the sandbox accepts: it offers no
	// user-space notification, so NEW_LISTENER and WAIT_KILLABLE_RECV
	// are EINVAL (logged once under --debug).
	seccompFlagsKnown = seccompFlagTSync | seccompFlagLog | seccompFlagSpecAllow | seccompFlagTSyncESRCH
)

func init() {
	register(unix.SYS_SECCOMP, sysSeccomp)
}

// sysSeccomp is seccomp(operation, flags, args). The filters run at each
// syscall's entry in the Go kernel (kernel.Task.seccompAllows), after the
// syscall-entry stop of a tracer, as on Linux; calls the program makes
// through the vsyscall page are not filtered.
func sysSeccomp(t *kernel.Task, a Args) (uintptr, error) {
	op, flags, args := int(a[0]), uint32(a[1]), a[2]
	switch op {
	case seccompSetModeStrict:
		if flags != 0 || args != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case seccompSetModeFilter:
		return setSeccompFilter(t, flags, args)
	case seccompGetActionAvail:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		var b [4]byte
		if _, err := t.MM.CopyIn(args, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		if !seccomp.ActionAvailable(binary.LittleEndian.Uint32(b[:])) {
			return 0, unix.EOPNOTSUPP
		}
		return 0, nil
	case seccompGetNotifSizes:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		// struct seccomp_notif_sizes: seccomp_notif, seccomp_notif_resp,
		// seccomp_data.
		var b [6]byte
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], 64)
		if _, err := t.MM.CopyOut(args, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		return 0, nil
	}
	return 0, unix.EINVAL
}

// setSeccompFilter installs the filter of the struct sock_fprog at addr:
// NO_NEW_PRIVS or CAP_SYS_ADMIN first (EACCES), a checked program
// (EINVAL, EFAULT), at most 32,768 instructions in all (ENOMEM). With
// TSYNC it returns the TID of a thread that cannot be synchronized.
func setSeccompFilter(t *kernel.Task, flags uint32, addr uintptr) (uintptr, error) {
	if flags&^seccompFlagsKnown != 0 {
		if flags&(seccompFlagNewListener|seccompFlagWaitKillable) != 0 && t.K.FirstMessage("seccomp listener") {
			t.K.Log.Debug("seccomp: user-space notification (SECCOMP_FILTER_FLAG_NEW_LISTENER) is not supported")
		}
		return 0, unix.EINVAL
	}
	var fprog [16]byte // struct sock_fprog: len, padding, filter pointer
	if _, err := t.MM.CopyIn(addr, fprog[:]); err != nil {
		return 0, unix.EFAULT
	}
	n := int(binary.LittleEndian.Uint16(fprog[0:]))
	if n == 0 || n > seccomp.MaxInstructions {
		return 0, unix.EINVAL
	}
	// In Linux's order: the privilege, then the program.
	if c := t.TG.Creds(); !t.TG.NoNewPrivs() && !c.HasCap(kernel.CapSysAdmin) {
		return 0, unix.EACCES
	}
	raw := make([]byte, n*seccomp.InstructionSize)
	if _, err := t.MM.CopyIn(uintptr(binary.LittleEndian.Uint64(fprog[8:])), raw); err != nil {
		return 0, unix.EFAULT
	}
	prog, err := seccomp.Check(seccomp.Decode(raw))
	if err != nil {
		return 0, err
	}
	tid, err := t.AttachSeccomp(prog, flags&seccompFlagLog != 0, flags&seccompFlagTSync != 0, flags&seccompFlagTSyncESRCH != 0)
	return uintptr(tid), err
}

// prctlSeccomp is PR_GET_SECCOMP and PR_SET_SECCOMP (mode, filter).
func prctlSeccomp(t *kernel.Task, op int, a Args) (uintptr, error) {
	if op == unix.PR_GET_SECCOMP {
		mode, _ := t.SeccompMode()
		return uintptr(mode), nil
	}
	switch a[1] {
	case kernel.SeccompStrict:
		return 0, t.SetSeccompStrict()
	case kernel.SeccompFilter:
		return setSeccompFilter(t, 0, a[2])
	}
	return 0, unix.EINVAL
}
