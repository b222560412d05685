package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_GETRUSAGE, sysGetrusage)
	register(unix.SYS_TIMES, sysTimes)
}

// rusage is what ringbox accounts of struct rusage: CPU time (all of it
// as user time: the split is not known) and the resident size.
type rusage struct {
	cpu    time.Duration
	maxRSS uint64 // KiB
}

func (r rusage) encode() []byte {
	b := make([]byte, sizeofRusage)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(r.cpu/time.Second))
	le.PutUint64(b[8:], uint64(r.cpu%time.Second/time.Microsecond))
	le.PutUint64(b[32:], r.maxRSS)
	return b
}

func writeRusage(t *kernel.Task, addr uintptr, r rusage) error {
	if addr == 0 {
		return nil
	}
	_, err := t.MM.CopyOut(addr, r.encode())
	return err
}

func sysGetrusage(t *kernel.Task, a Args) (uintptr, error) {
	var r rusage
	switch who := int32(a[0]); who {
	case unix.RUSAGE_SELF:
		r = rusage{cpu: t.TG.CPUTime(), maxRSS: uint64(t.MM.ResidentPages()) * 4}
	case unix.RUSAGE_THREAD:
		r = rusage{cpu: t.CPUTime(), maxRSS: uint64(t.MM.ResidentPages()) * 4}
	case unix.RUSAGE_CHILDREN:
		r = rusage{cpu: t.TG.ChildrenCPUTime()}
	default:
		return 0, unix.EINVAL
	}
	return 0, writeRusage(t, a[1], r)
}

// clockTicks is USER_HZ, the unit of times(2).
const clockTicks = 100

func ticks(d time.Duration) uint64 { return uint64(d / (time.Second / clockTicks)) }

// sysTimes fills struct tms (user, system, children's user and system, in
// clock ticks) and returns the ticks since boot.
func sysTimes(t *kernel.Task, a Args) (uintptr, error) {
	if a[0] != 0 {
		b := make([]byte, 32)
		le := binary.LittleEndian
		le.PutUint64(b[0:], ticks(t.TG.CPUTime()))
		le.PutUint64(b[16:], ticks(t.TG.ChildrenCPUTime()))
		if _, err := t.MM.CopyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	return uintptr(ticks(t.K.Uptime())), nil
}
