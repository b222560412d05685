package ring0

import (
	"fmt"
	"reflect"
	"sync"

	"ringbox/vmm/hostmaps"
)

// The origin check. In ring0 mode a SYSCALL made in the guest is either
// the program's (an event for the Go kernel) or Go code's (a host syscall
// the VMM loop makes for it: a bounce). The entry code tells them apart by
// the CPU page's InUser flag; one wrong write of that flag once turned a
// program's syscalls into host syscalls. So every request for the host is
// checked again from state the program cannot forge before the VMM loop
// acts on it:
//
//   - x86 backend, in the entry code: a bounce must come from Go code's
//     page tables. Kernel roots are 8 KiB aligned and the program's root is
//     the page after (CR3 bit 12 set); the program cannot change CR3.
//   - both backends, in the VMM loop: the RIP of a bounce, leave or fault
//     must lie in ringbox's own text or the vDSO, and for a bounce the two
//     bytes before it must be a SYSCALL instruction there (read from the
//     host's copy, which the program cannot write).
//
// A request that fails either check ends the run: one line on stderr with
// the RIP and the syscall number (or RAX), exit status 125. It is never
// made on the host.

// Messages of the VMM loop's origin check (r0_amd64.s), around the RIP in
// hex and the syscall number (or RAX) in decimal.
var (
	r0ForgedHead   = "ringbox: sandbox failure: a request for the host did not come from ringbox's own code (RIP 0x"
	r0ForgedMidSys = ", syscall "
	r0ForgedMidRAX = ", rax "
	r0ForgedTail   = "); the run is stopped\n"
	r0HexDigits    = "0123456789abcdef"
)

// CodeRange is a range of host addresses, [Lo, Hi).
type CodeRange struct{ Lo, Hi uint64 }

// Contains reports whether a lies in r.
func (r CodeRange) Contains(a uint64) bool { return a >= r.Lo && a < r.Hi }

var hostCode struct {
	once       sync.Once
	text, vdso CodeRange
	err        error
}

// HostCode returns the host code that Go code in the guest may run:
// ringbox's executable text (the mapping holding this package's code) and
// the vDSO (Go's clock reads; empty if there is none).
func HostCode() (text, vdso CodeRange, err error) {
	hostCode.once.Do(func() {
		pc := uint64(reflect.ValueOf(HostCode).Pointer())
		hostCode.text, hostCode.vdso, hostCode.err = parseHostCode("/proc/self/maps", pc)
	})
	return hostCode.text, hostCode.vdso, hostCode.err
}

// parseHostCode finds, in a /proc/PID/maps file, the executable mapping
// that holds pc (ringbox's text) and the vDSO.
func parseHostCode(path string, pc uint64) (text, vdso CodeRange, err error) {
	ms, err := hostmaps.Read(path)
	if err != nil {
		return text, vdso, fmt.Errorf("origin check: %w", err)
	}
	for _, m := range ms {
		if !m.Exec() {
			continue
		}
		r := CodeRange{uint64(m.Start), uint64(m.End)}
		switch {
		case r.Contains(pc):
			text = r
		case m.Name == "[vdso]":
			vdso = r
		}
	}
	if text.Lo == 0 {
		return text, vdso, fmt.Errorf("origin check: no executable mapping holds %#x in %s", pc, path)
	}
	return text, vdso, nil
}

// SetHostCode records in cpu the host code Go code in the guest runs (the
// origin check of the VMM loop).
func SetHostCode(cpu *CPU, text, vdso CodeRange) {
	cpu.R0.TextLo, cpu.R0.TextHi = text.Lo, text.Hi
	cpu.R0.VdsoLo, cpu.R0.VdsoHi = vdso.Lo, vdso.Hi
}
