package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PERSONALITY, sysPersonality)
	register(unix.SYS_FADVISE64, sysFadvise)
	register(unix.SYS_SYSINFO, sysSysinfo)
}

func sysFadvise(t *kernel.Task, a Args) (uintptr, error) {
	if _, err := t.File(int(int32(a[0]))); err != nil {
		return 0, err
	}
	if a[3] > 5 { // POSIX_FADV_NOREUSE is the highest
		return 0, unix.EINVAL
	}
	return 0, nil
}

func sysSysinfo(t *kernel.Task, a Args) (uintptr, error) {
	b := make([]byte, 112)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(t.K.Uptime().Seconds()))
	limit := uint64(t.K.Mem.Limit())
	used, _ := t.K.Mem.Used()
	le.PutUint64(b[32:], limit)              // totalram
	le.PutUint64(b[40:], limit-uint64(used)) // freeram
	le.PutUint16(b[80:], 1)                  // procs
	le.PutUint32(b[104:], 1)                 // mem_unit
	_, err := t.MM.CopyOut(a[0], b)
	return 0, err
}

// sysPersonality is personality(2): the flags are kept (inherited by
// children, kept across execve) and read back. ADDR_NO_RANDOMIZE, which
// debuggers set, changes nothing: the sandbox's own layout is what it
// is. An execution domain other than Linux's (PER_LINUX32's 32-bit
// uname, say) is EINVAL, since nothing here would honour it.
func sysPersonality(t *kernel.Task, a Args) (uintptr, error) {
	p := uint32(a[0])
	if p != 0xffffffff && p&0xff != 0 {
		logOnce(t, "personality: only the Linux execution domain is supported")
		return 0, unix.EINVAL
	}
	return uintptr(t.TG.Personality(p)), nil
}
