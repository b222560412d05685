package vmm

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"

	"ringbox/ring0/pagetables"
)

// hostUserEnd is the end of the host's user address space (TASK_SIZE_MAX).
const hostUserEnd = 0x7ffffffff000

// chunkSize is the granularity in which ring0 mode mirrors the host's
// address space into the guest.
const chunkSize = 2 << 20

// readMapsLocked reads this process's maps file into m.mapsBuf with plain
// system calls (no os.File: no poller registration) and returns the
// lower-half regions in it. The vCPUs' kvm_run mappings are among them:
// Go code in the guest reaches them (a kick sets another vCPU's
// immediate_exit), and KVM resolves such accesses through the memory slot
// as any other. mapHost runs before many entries, so this is
// on the path of every new thread. m.hostMu is held.
func (m *Machine) readMapsLocked() ([][2]uintptr, error) {
	fd, err := unix.Open("/proc/self/maps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if m.mapsBuf == nil {
		m.mapsBuf = make([]byte, 16<<10)
	}
	n := 0
	for {
		if n == len(m.mapsBuf) {
			m.mapsBuf = append(m.mapsBuf, make([]byte, len(m.mapsBuf))...)
		}
		k, err := unix.Read(fd, m.mapsBuf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if k == 0 {
			break
		}
		n += k
	}
	regions := m.regionsBuf[:0]
	for text := m.mapsBuf[:n]; len(text) > 0; {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		start, rest, ok := hexPrefix(line)
		if !ok || len(rest) == 0 || rest[0] != '-' {
			continue
		}
		end, _, ok := hexPrefix(rest[1:])
		if !ok || end <= start || end > pagetables.LowerHalfEnd {
			continue
		}
		regions = append(regions, [2]uintptr{start, end})
	}
	m.regionsBuf = regions
	return regions, nil
}

// hexPrefix parses the hexadecimal number at the start of b.
func hexPrefix(b []byte) (v uintptr, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && i < 16; i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uintptr(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uintptr(c-'a'+10)
		default:
			return v, b[i:], i > 0
		}
	}
	return v, b[i:], i > 0
}

// mapHost makes every host mapping that exists now reachable by Go code in
// the guest: memory slots (guest-physical = host-virtual) and an identity
// mapping in the kernel half of the page tables, by 2 MiB chunks. The first
// chunk stays unmapped so that nil pointers fault. A region seen whole
// before (m.mirroredRegions) is skipped without looking at its chunks:
// most calls find nothing new.
func (m *Machine) mapHost() error {
	m.hostMu.Lock()
	defer m.hostMu.Unlock()
	regions, err := m.readMapsLocked()
	if err != nil {
		return fmt.Errorf("read host mappings: %w", err)
	}
	// The chunks not mirrored yet, in runs of consecutive chunks: one
	// memory slot per run keeps KVM_SET_USER_MEMORY_REGION calls (the
	// bulk of ring0 mode's start-up) few.
	var runs [][2]uintptr
	for _, r := range regions {
		if _, ok := m.mirroredRegions[r]; ok {
			continue
		}
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
		if len(m.mirroredRegions) >= maxMirroredRegions {
			clear(m.mirroredRegions) // bounded: the chunks still say what is mirrored
		}
		m.mirroredRegions[r] = struct{}{}
	}
	for _, r := range runs {
		if err := m.mapRunLocked(r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// maxMirroredRegions bounds mapHost's memory of regions seen whole.
const maxMirroredRegions = 4096

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
