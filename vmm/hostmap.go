package vmm

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"ringbox/ring0/pagetables"
)

// chunkSize is the granularity in which ring0 mode mirrors the host's
// address space into the guest.
const chunkSize = 2 << 20

// hostRegions returns the lower-half mappings of this process.
func hostRegions() ([][2]uintptr, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rng, _, _ := strings.Cut(sc.Text(), " ")
		lo, hi, ok := strings.Cut(rng, "-")
		if !ok {
			continue
		}
		s, err1 := strconv.ParseUint(lo, 16, 64)
		e, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || e > pagetables.LowerHalfEnd {
			continue
		}
		out = append(out, [2]uintptr{uintptr(s), uintptr(e)})
	}
	return out, sc.Err()
}

// mapHost makes every host mapping that exists now reachable by Go code in
// the guest: memory slots (guest-physical = host-virtual) and an identity
// mapping in the kernel half of the page tables, by 2 MiB chunks. The first
// chunk stays unmapped so that nil pointers fault.
func (m *Machine) mapHost() error {
	regions, err := hostRegions()
	if err != nil {
		return fmt.Errorf("read host mappings: %w", err)
	}
	m.hostMu.Lock()
	defer m.hostMu.Unlock()
	for _, r := range regions {
		for c := r[0] &^ (chunkSize - 1); c < r[1]; c += chunkSize {
			if err := m.mapChunkLocked(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Machine) mapChunkLocked(c uintptr) error {
	if c == 0 || m.chunks[c] {
		return nil
	}
	if base := m.mem.Base(); c+chunkSize > base && c < base+m.mem.Limit() {
		return nil // the memory file maps itself as it grows
	}
	if err := m.vm.AddSlotsCovering(c, chunkSize); err != nil {
		return err
	}
	if _, err := m.kernel.MapHuge(c, c, chunkSize, pagetables.Opts{Write: true, Exec: true}); err != nil {
		return fmt.Errorf("map host chunk %#x for the guest: %w", c, err)
	}
	m.chunks[c] = true
	return nil
}
