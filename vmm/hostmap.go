package vmm

import (
	"fmt"

	"ringbox/ring0/pagetables"
	"ringbox/vmm/hostmaps"
)

// hostUserEnd is the end of the host's user address space (TASK_SIZE_MAX).
const hostUserEnd = 0x7ffffffff000

// chunkSize is the granularity in which ring0 mode mirrors the host's
// address space into the guest.
const chunkSize = 2 << 20

// hostRegions returns the lower-half mappings of this process. The
// vCPUs' kvm_run mappings are among them: Go code in the guest reaches
// them (a kick sets another vCPU's immediate_exit), and KVM resolves such
// accesses through the memory slot as any other.
func hostRegions() ([][2]uintptr, error) {
	ms, err := hostmaps.Self()
	if err != nil {
		return nil, err
	}
	var regions [][2]uintptr
	for _, m := range ms {
		if m.End <= pagetables.LowerHalfEnd {
			regions = append(regions, [2]uintptr{m.Start, m.End})
		}
	}
	return regions, nil
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
	// The chunks not mirrored yet, in runs of consecutive chunks: one
	// memory slot per run keeps KVM_SET_USER_MEMORY_REGION calls (the
	// bulk of ring0 mode's start-up) few.
	var runs [][2]uintptr
	for _, r := range regions {
		for c := r[0] &^ (chunkSize - 1); c < r[1]; c += chunkSize {
			if !m.wantChunk(c) {
				continue
			}
			m.chunks[c] = true
			if n := len(runs); n > 0 && runs[n-1][1] == c {
				runs[n-1][1] = c + chunkSize
			} else {
				runs = append(runs, [2]uintptr{c, c + chunkSize})
			}
		}
	}
	for _, r := range runs {
		if err := m.mapRunLocked(r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// mirrored reports whether Go code in the guest reaches host address addr
// without a fault: its chunk is mirrored, or it lies in the memory file.
func (m *Machine) mirrored(addr uintptr) bool {
	c := addr &^ (chunkSize - 1)
	m.hostMu.Lock()
	defer m.hostMu.Unlock()
	return c != 0 && !m.wantChunk(c)
}

// wantChunk reports whether chunk c still needs mirroring.
func (m *Machine) wantChunk(c uintptr) bool {
	if c == 0 || m.chunks[c] {
		return false
	}
	base := m.mem.Base()
	return !(c+chunkSize > base && c < base+m.mem.Span()) // the memory file maps itself
}

// mapRunLocked gives the chunks [start, end) memory slots and identity
// 2 MiB mappings in the kernel half.
func (m *Machine) mapRunLocked(start, end uintptr) error {
	// The last user page is not addressable for memory slots (TASK_SIZE).
	if slotEnd := min(end, hostUserEnd); slotEnd > start {
		if err := m.vm.AddSlotsCovering(start, slotEnd-start); err != nil {
			return err
		}
	}
	if err := m.growTopLocked(start, end); err != nil {
		return err
	}
	if _, err := m.kernel.MapHuge(start, start, end-start, pagetables.Opts{Write: true, Exec: true}); err != nil {
		return fmt.Errorf("map host memory %#x-%#x for the guest: %w", start, end, err)
	}
	return nil
}

// topSlotSize is what one top-level (PML4) entry maps.
const topSlotSize = 512 << 30

// growTopLocked gives the kernel-half template a PDPT page for each
// top-level slot of [start, end) that has none yet, and puts the new
// entries in every live address space's root, which shares the template's
// lower half. A root that a vCPU runs on only gains entries (not present
// to present): no flush is needed, and code that touched the range before
// faulted and left (ring0 mode), to find it mapped on its next entry.
// m.hostMu is held.
func (m *Machine) growTopLocked(start, end uintptr) error {
	for s := start &^ (topSlotSize - 1); s < end; s += topSlotSize {
		if m.kernel.TopPresent(s) {
			continue
		}
		if err := m.kernel.PreallocTop(s, s+topSlotSize); err != nil {
			return fmt.Errorf("kernel page tables: %w", err)
		}
		for as := range m.spaces {
			as.kernel.ShareTop(m.kernel, s, s+topSlotSize)
		}
	}
	return nil
}
