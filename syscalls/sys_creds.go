package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_SETUID, func(t *kernel.Task, a Args) (uintptr, error) { return 0, t.TG.SetUID(uint32(a[0])) })
	register(unix.SYS_SETGID, func(t *kernel.Task, a Args) (uintptr, error) { return 0, t.TG.SetGID(uint32(a[0])) })
	register(unix.SYS_SETREUID, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, t.TG.SetReUID(uint32(a[0]), uint32(a[1]))
	})
	register(unix.SYS_SETREGID, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, t.TG.SetReGID(uint32(a[0]), uint32(a[1]))
	})
	register(unix.SYS_SETRESUID, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, t.TG.SetResUID(uint32(a[0]), uint32(a[1]), uint32(a[2]))
	})
	register(unix.SYS_SETRESGID, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, t.TG.SetResGID(uint32(a[0]), uint32(a[1]), uint32(a[2]))
	})
	register(unix.SYS_GETRESUID, func(t *kernel.Task, a Args) (uintptr, error) {
		c := t.TG.Creds()
		return 0, putIDs(t, [3]uintptr{a[0], a[1], a[2]}, [3]uint32{c.UID, c.EUID, c.SUID})
	})
	register(unix.SYS_GETRESGID, func(t *kernel.Task, a Args) (uintptr, error) {
		c := t.TG.Creds()
		return 0, putIDs(t, [3]uintptr{a[0], a[1], a[2]}, [3]uint32{c.GID, c.EGID, c.SGID})
	})
	// The file-system IDs follow the effective ones (no separate fsuid):
	// setfs*id reports the old value and changes nothing else.
	register(unix.SYS_SETFSUID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Creds().EUID), nil })
	register(unix.SYS_SETFSGID, func(t *kernel.Task, a Args) (uintptr, error) { return uintptr(t.TG.Creds().EGID), nil })
	register(unix.SYS_GETGROUPS, sysGetgroups)
	register(unix.SYS_SETGROUPS, sysSetgroups)
	register(unix.SYS_CAPGET, sysCapget)
	register(unix.SYS_CAPSET, sysCapset)
}

// putIDs writes getres[ug]id's three IDs.
func putIDs(t *kernel.Task, addrs [3]uintptr, ids [3]uint32) error {
	for i, addr := range addrs {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], ids[i])
		if _, err := t.MM.CopyOut(addr, b[:]); err != nil {
			return err
		}
	}
	return nil
}

func sysGetgroups(t *kernel.Task, a Args) (uintptr, error) {
	size := int(int32(a[0]))
	groups := t.TG.Creds().Groups
	if size < 0 {
		return 0, unix.EINVAL
	}
	if size == 0 {
		return uintptr(len(groups)), nil
	}
	if size < len(groups) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], g)
	}
	if _, err := t.MM.CopyOut(a[1], b); err != nil {
		return 0, err
	}
	return uintptr(len(groups)), nil
}

func sysSetgroups(t *kernel.Task, a Args) (uintptr, error) {
	n := int(int32(a[0]))
	if n < 0 || n > kernel.NGroupsMax {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*n)
	if _, err := t.MM.CopyIn(a[1], b); err != nil {
		return 0, err
	}
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return 0, t.TG.SetGroups(groups)
}

// Capabilities (capget/capset, versions 1 and 3: one or two 32-bit
// halves of each set), on the process's sets (kernel/caps.go).
const (
	capV1 = 0x19980330
	capV3 = 0x20080522
)

func capHeader(t *kernel.Task, addr uintptr) (version uint32, pid int32, err error) {
	var b [8]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return 0, 0, err
	}
	version, pid = binary.LittleEndian.Uint32(b[0:]), int32(binary.LittleEndian.Uint32(b[4:]))
	if version != capV1 && version != capV3 && version != 0x20071026 {
		// Tell the caller the version ringbox speaks.
		binary.LittleEndian.PutUint32(b[0:], capV3)
		if _, err := t.MM.CopyOut(addr, b[:4]); err != nil {
			return 0, 0, err
		}
		return 0, 0, unix.EINVAL
	}
	return version, pid, nil
}

func sysCapget(t *kernel.Task, a Args) (uintptr, error) {
	version, pid, err := capHeader(t, a[0])
	if err != nil {
		return 0, err
	}
	target := t.TG
	if pid != 0 && pid != t.TG.PID {
		o := t.K.Task(pid)
		if o == nil {
			return 0, unix.ESRCH
		}
		target = o.TG
	}
	if a[1] == 0 {
		return 0, nil
	}
	caps := target.Caps()
	words := 2
	if version == capV1 {
		words = 1
	}
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		binary.LittleEndian.PutUint32(b[12*i:], uint32(caps.Effective>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+4:], uint32(caps.Permitted>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+8:], uint32(caps.Inheritable>>(32*i)))
	}
	_, err = t.MM.CopyOut(a[1], b)
	return 0, err
}

func sysCapset(t *kernel.Task, a Args) (uintptr, error) {
	version, pid, err := capHeader(t, a[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && pid != t.TG.PID {
		return 0, unix.EPERM
	}
	words := 2
	if version == capV1 {
		words = 1
	}
	b := make([]byte, 12*words)
	if _, err := t.MM.CopyIn(a[1], b); err != nil {
		return 0, err
	}
	var eff, prm, inh uint64
	for i := 0; i < words; i++ {
		eff |= uint64(binary.LittleEndian.Uint32(b[12*i:])) << (32 * i)
		prm |= uint64(binary.LittleEndian.Uint32(b[12*i+4:])) << (32 * i)
		inh |= uint64(binary.LittleEndian.Uint32(b[12*i+8:])) << (32 * i)
	}
	if words == 1 {
		// Version 1 speaks of the low 32 capabilities: the others keep
		// what they are.
		old := t.TG.Caps()
		eff |= old.Effective &^ 0xffffffff
		prm |= old.Permitted &^ 0xffffffff
		inh |= old.Inheritable &^ 0xffffffff
	}
	if !t.TG.SetCaps(eff&kernel.AllCaps, prm&kernel.AllCaps, inh&kernel.AllCaps) {
		return 0, unix.EPERM
	}
	return 0, nil
}
