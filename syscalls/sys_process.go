package syscalls

import (
	"bytes"
	"encoding/binary"
	"runtime"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/platform"
)

func init() {
	register(unix.SYS_GETPID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.PID), nil })
	register(unix.SYS_GETTID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TID), nil })
	// The first process of the sandbox has no parent inside it: 0.
	register(unix.SYS_GETPPID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.PPID()), nil })
	register(unix.SYS_GETPGRP, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.PGID()), nil })
	register(unix.SYS_GETPGID, func(t *kernel.Task, a Args) (uintptr, error) {
		pgid, err := t.K.GetPGID(t, int32(a[0]))
		return uintptr(pgid), err
	})
	register(unix.SYS_SETPGID, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, t.K.SetPGID(t, int32(a[0]), int32(a[1]))
	})
	register(unix.SYS_GETSID, func(t *kernel.Task, a Args) (uintptr, error) {
		sid, err := t.K.GetSID(t, int32(a[0]))
		return uintptr(sid), err
	})
	register(unix.SYS_SETSID, func(t *kernel.Task, a Args) (uintptr, error) {
		sid, err := t.K.SetSID(t)
		return uintptr(sid), err
	})
	register(unix.SYS_GETUID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Creds().UID), nil })
	register(unix.SYS_GETEUID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Creds().EUID), nil })
	register(unix.SYS_GETGID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Creds().GID), nil })
	register(unix.SYS_GETEGID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Creds().EGID), nil })
	register(unix.SYS_ARCH_PRCTL, sysArchPrctl)
	register(unix.SYS_SET_TID_ADDRESS, sysSetTidAddress)
	register(unix.SYS_SET_ROBUST_LIST, sysSetRobustList)
	register(unix.SYS_UNAME, sysUname)
	register(unix.SYS_SETHOSTNAME, func(t *kernel.Task, a Args) (uintptr, error) {
		return setUTSName(t, a, t.K.SetHostname)
	})
	register(unix.SYS_SETDOMAINNAME, func(t *kernel.Task, a Args) (uintptr, error) {
		return setUTSName(t, a, t.K.SetDomainname)
	})
	register(unix.SYS_SCHED_YIELD, func(t *kernel.Task, a Args) (uintptr, error) {
		// A task waiting for a vCPU (--vcpus below the busy tasks) gets
		// this one; the host scheduler does the rest.
		if y, ok := t.Ctx.(platform.Yielder); ok {
			y.Yield()
		}
		runtime.Gosched()
		return 0, nil
	})
	register(unix.SYS_PRLIMIT64, sysPrlimit)
	register(unix.SYS_GETRLIMIT, sysGetrlimit)
	register(unix.SYS_SETRLIMIT, sysSetrlimit)
	register(unix.SYS_UMASK, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Umask(uint32(a[0]))), nil })
}

const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
	// ARCH_GET_CPUID / ARCH_SET_CPUID
	archGetCPUID = 0x1011
	archSetCPUID = 0x1012
)

func canonicalUser(v uintptr) bool { return v < 0x800000000000 }

func sysArchPrctl(t *kernel.Task, a Args) (uintptr, error) {
	return archPrctl(t, t, a[0], a[1])
}

// archPrctl is arch_prctl(code, arg) on target's registers, with the
// values read out to t's memory: the caller's own, or a tracee's
// (PTRACE_ARCH_PRCTL).
func archPrctl(t, target *kernel.Task, code, arg uintptr) (uintptr, error) {
	switch code {
	case archSetFS:
		if !canonicalUser(arg) {
			return 0, unix.EPERM
		}
		target.Regs.FSBase = uint64(arg)
	case archSetGS:
		if !canonicalUser(arg) {
			return 0, unix.EPERM
		}
		target.Regs.GSBase = uint64(arg)
	case archGetFS:
		return 0, t.MM.CopyOutUint64(arg, target.Regs.FSBase)
	case archGetGS:
		return 0, t.MM.CopyOutUint64(arg, target.Regs.GSBase)
	case archGetCPUID:
		return 1, nil
	case archSetCPUID:
		return 0, unix.ENODEV
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

func sysSetTidAddress(t *kernel.Task, a Args) (uintptr, error) {
	t.ClearChildTID = a[0]
	return uintptr(t.TID), nil
}

func sysSetRobustList(t *kernel.Task, a Args) (uintptr, error) {
	if a[1] != 24 { // sizeof(struct robust_list_head)
		return 0, unix.EINVAL
	}
	t.RobustList, t.RobustLen = a[0], a[1]
	return 0, nil
}

// Release and Version are what uname reports as the kernel's.
const (
	Release = "6.8.0-ringbox"
	Version = "#1 SMP ringbox"
)

// setUTSName is sethostname(2) and setdomainname(2): CAP_SYS_ADMIN
// (EPERM), at most 64 bytes (EINVAL). The name is the sandbox's own
// (it has its own UTS namespace); the host's is never touched.
func setUTSName(t *kernel.Task, a Args, set func(string)) (uintptr, error) {
	if c := t.TG.Creds(); !c.HasCap(kernel.CapSysAdmin) {
		return 0, unix.EPERM
	}
	n := int64(a[1])
	if n < 0 || n > 64 {
		return 0, unix.EINVAL
	}
	b := make([]byte, n)
	if _, err := t.MM.CopyIn(a[0], b); err != nil {
		return 0, unix.EFAULT
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // uname reads up to the first NUL
	}
	set(string(b))
	return 0, nil
}

func sysUname(t *kernel.Task, a Args) (uintptr, error) {
	var u [6][65]byte
	for i, s := range []string{"Linux", t.K.Hostname(), Release, Version, "x86_64", t.K.Domainname()} {
		copy(u[i][:64], s)
	}
	buf := make([]byte, 0, 6*65)
	for i := range u {
		buf = append(buf, u[i][:]...)
	}
	_, err := t.MM.CopyOut(a[0], buf)
	return 0, err
}

// getRlimit copies limit r of target's process out to the caller's addr.
func getRlimit(t, target *kernel.Task, addr uintptr, r int) error {
	l := target.TG.Limit(r)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], l.Cur)
	binary.LittleEndian.PutUint64(b[8:], l.Max)
	_, err := t.MM.CopyOut(addr, b[:])
	return err
}

// setRlimit sets limit r of target's process from the caller's addr.
func setRlimit(t, target *kernel.Task, addr uintptr, r int) error {
	var b [16]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return err
	}
	nl := unix.Rlimit{Cur: binary.LittleEndian.Uint64(b[0:]), Max: binary.LittleEndian.Uint64(b[8:])}
	if nl.Cur > nl.Max {
		return unix.EINVAL
	}
	old := target.TG.Limit(r)
	if nl.Max > old.Max {
		return unix.EPERM // raising a hard limit needs privilege the sandbox never grants
	}
	if r == unix.RLIMIT_NOFILE && nl.Cur > 1<<20 {
		return unix.EPERM
	}
	target.TG.SetLimit(r, nl)
	return nil
}

// sysPrlimit is prlimit64: the limits of any process of the sandbox (the
// caller's own for pid 0), read into and written from the caller's
// memory (another process's memory was used: prlimit --pid got EFAULT).
func sysPrlimit(t *kernel.Task, a Args) (uintptr, error) {
	pid, r := int32(a[0]), int(a[1])
	target := t
	if pid != 0 && pid != t.TG.PID {
		// Another process of the sandbox (same credentials).
		if target = t.K.Task(pid); target == nil {
			return 0, unix.ESRCH
		}
	}
	if r < 0 || r > unix.RLIMIT_RTTIME {
		return 0, unix.EINVAL
	}
	if a[3] != 0 {
		if err := getRlimit(t, target, a[3], r); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		return 0, setRlimit(t, target, a[2], r)
	}
	return 0, nil
}

func sysGetrlimit(t *kernel.Task, a Args) (uintptr, error) {
	if int(a[0]) < 0 || int(a[0]) > unix.RLIMIT_RTTIME {
		return 0, unix.EINVAL
	}
	return 0, getRlimit(t, t, a[1], int(a[0]))
}

func sysSetrlimit(t *kernel.Task, a Args) (uintptr, error) {
	if int(a[0]) < 0 || int(a[0]) > unix.RLIMIT_RTTIME {
		return 0, unix.EINVAL
	}
	return 0, setRlimit(t, t, a[1], int(a[0]))
}
