package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PERSONALITY, sysPersonality)
	register(unix.SYS_FADVISE64, sysFadvise)
	register(unix.SYS_SYSINFO, sysSysinfo)
	register(unix.SYS_SYSLOG, sysSyslog)
}

// syslog(2) actions (SYSLOG_ACTION_*).
const (
	syslogClose = iota
	syslogOpen
	syslogRead
	syslogReadAll
	syslogReadClear
	syslogClear
	syslogConsoleOff
	syslogConsoleOn
	syslogConsoleLevel
	syslogSizeUnread
	syslogSizeBuffer
)

// syslogBufLen is the size the kernel log's buffer reports (a common
// log_buf_len).
const syslogBufLen = 1 << 17

// sysSyslog is syslog(type, buf, len), the kernel log (dmesg): the
// sandbox's is empty and stays empty, the host's is never shown. Each
// action needs CAP_SYSLOG (CAP_SYS_ADMIN will do), as on a host with
// dmesg_restrict set; reads give nothing, and a read that waits for new
// messages (SYSLOG_ACTION_READ) waits, as on Linux, until a signal.
func sysSyslog(t *kernel.Task, a Args) (uintptr, error) {
	typ, buf, n := int(int32(a[0])), a[1], int(int32(a[2]))
	if c := t.TG.Creds(); !c.HasCap(unix.CAP_SYSLOG) && !c.HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EPERM
	}
	switch typ {
	case syslogClose, syslogOpen, syslogClear, syslogConsoleOff, syslogConsoleOn, syslogSizeUnread:
		return 0, nil
	case syslogRead, syslogReadAll, syslogReadClear:
		if buf == 0 || n < 0 {
			return 0, unix.EINVAL
		}
		if typ != syslogRead || n == 0 {
			return 0, nil
		}
		for t.Sleep(time.Hour) {
		}
		return 0, kernel.ErrRestartSys
	case syslogConsoleLevel:
		if n < 1 || n > 8 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case syslogSizeBuffer:
		return syslogBufLen, nil
	}
	return 0, unix.EINVAL
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
