package vmm

import (
	"fmt"

	"ringbox/vmm/hostmaps"
)

// mappingOf returns the host mapping (from /proc/self/maps) that contains
// addr: the guest needs the pages of ringbox's own text that hold the
// supervisor code.
func mappingOf(addr uintptr) (start, end uintptr, err error) {
	ms, err := hostmaps.Self()
	if err != nil {
		return 0, 0, err
	}
	m, ok := hostmaps.Find(ms, addr)
	if !ok {
		return 0, 0, fmt.Errorf("no mapping of %#x in /proc/self/maps", addr)
	}
	return m.Start, m.End, nil
}
