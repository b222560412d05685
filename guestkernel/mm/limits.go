package mm

// Memory limits of an address space, as Linux applies them:
//
//   - RLIMIT_AS bounds the bytes all VMAs span (total_vm): mmap, mremap,
//     brk and stack growth past it fail with ENOMEM (a fault, SIGSEGV).
//   - RLIMIT_DATA bounds the private writable mappings that are not a
//     stack (data_vm): mmap, mremap and brk past it fail.
//   - RLIMIT_STACK, at exec, is how far the stack may grow down from its
//     top (a grows-down VMA grows on a fault below it, up to that size and
//     no closer than StackGuardGap to the mapping under it), and where
//     top-down mmap placement starts, below that room.
//
// The limits are the soft limits of the process using the address space,
// given by the kernel (SetRlimits) at exec, fork and setrlimit.

// Rlimits are the RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK soft limits; 0
// or RlimInfinity means none (for Stack: the default, StackLimit, at 0).
type Rlimits struct {
	AS, Data, Stack uint64
}

// RlimInfinity is RLIM_INFINITY.
const RlimInfinity = ^uint64(0)

const (
	// StackGuardGap is the room a stack keeps from the mapping below it
	// (Linux's stack_guard_gap, 256 pages).
	StackGuardGap = 256 * pageSize
	// stackExpand is the room the initial stack gets below its arguments
	// (Linux's setup_arg_pages).
	stackExpand = 128 << 10
	// maxStackRoom bounds the room kept for the stack with a huge or
	// unlimited RLIMIT_STACK, so that mmap keeps most of the address
	// space.
	maxStackRoom = 16 << 30
	// mmapGap is the gap between the stack's room and mmap's area.
	mmapGap = 128 << 20
)

// SetRlimits sets the limits the address space is held to from now on.
func (m *MM) SetRlimits(r Rlimits) {
	m.mu.Lock()
	m.rl = r
	m.mu.Unlock()
}

func limited(l uint64) bool { return l != 0 && l != RlimInfinity }

// setStackRoomLocked sets stackMax and mmapTop from RLIMIT_STACK (at
// exec).
func (m *MM) setStackRoomLocked(rlimit uint64) {
	room := uintptr(StackLimit)
	if rlimit != 0 {
		room = uintptr(min(rlimit, maxStackRoom)) &^ (pageSize - 1)
	}
	room = max(room, stackExpand)
	m.stackMax = room
	m.mmapTop = StackTop - room - mmapGap
}

// topLocked is where top-down placement starts.
func (m *MM) topLocked() uintptr {
	if m.mmapTop == 0 {
		return MmapTop
	}
	return m.mmapTop
}

// stackMaxLocked is the most a grows-down VMA may span.
func (m *MM) stackMaxLocked() uintptr {
	if m.stackMax == 0 {
		return StackLimit
	}
	if limited(m.rl.Stack) {
		// A lower RLIMIT_STACK set since exec holds from now on.
		return min(m.stackMax, uintptr(m.rl.Stack))
	}
	return m.stackMax
}

// isData says whether a mapping counts against RLIMIT_DATA: private,
// writable, not a stack.
func isData(prot int, shared, growsDown bool) bool {
	return prot&ProtWrite != 0 && !shared && !growsDown
}

// dataSizeLocked is the bytes of the VMAs that count against RLIMIT_DATA.
func (m *MM) dataSizeLocked() uintptr {
	var n uintptr
	for i := range m.vmas.v {
		v := &m.vmas.v[i]
		if isData(v.Prot, v.Shared, v.GrowsDown) && v.HostPhys == 0 {
			n += v.Len()
		}
	}
	return n
}

// dataGainLocked is the bytes of [start, end) that protection prot
// would turn into data (RLIMIT_DATA): private mappings made writable.
func (m *MM) dataGainLocked(start, end uintptr, prot int) uintptr {
	var n uintptr
	for i := m.vmas.find(start); i < len(m.vmas.v) && m.vmas.v[i].Start < end; i++ {
		v := &m.vmas.v[i]
		if v.HostPhys == 0 && !isData(v.Prot, v.Shared, v.GrowsDown) && isData(prot, v.Shared, v.GrowsDown) {
			n += min(v.End, end) - max(v.Start, start)
		}
	}
	return n
}

// limitedLocked says whether RLIMIT_AS or RLIMIT_DATA is set: without
// them mmap and mremap skip the accounting.
func (m *MM) limitedLocked() bool { return limited(m.rl.AS) || limited(m.rl.Data) }

// mayExpandLocked says whether the address space may grow by n bytes of
// a mapping that is data or not.
func (m *MM) mayExpandLocked(n uintptr, data bool) bool {
	if limited(m.rl.AS) && uint64(m.vmas.size)+uint64(n) > m.rl.AS {
		return false
	}
	if data && limited(m.rl.Data) && uint64(m.dataSizeLocked())+uint64(n) > m.rl.Data {
		return false
	}
	return true
}

// mappedInLocked is the bytes of [addr, addr+n) that VMAs already span
// (what a MAP_FIXED mapping replaces rather than adds).
func (m *MM) mappedInLocked(addr, n uintptr) uintptr {
	var got uintptr
	end := addr + n
	for i := m.vmas.find(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < end; i++ {
		v := &m.vmas.v[i]
		got += min(v.End, end) - max(v.Start, addr)
	}
	return got
}

// growStackLocked grows the grows-down VMA just above addr down over
// addr's page, if the stack may reach it, and returns the VMA that now
// holds addr. It grows faultAround pages at once where the limits allow
// (a stack goes on growing; each fault is dear under PVM), else just to
// the page.
func (m *MM) growStackLocked(addr uintptr) (*VMA, bool) {
	i := m.vmas.find(addr)
	if i >= len(m.vmas.v) {
		return nil, false
	}
	s := m.vmas.v[i]
	if !s.GrowsDown || s.Pager != nil || s.HostPhys != 0 {
		return nil, false
	}
	page := addr &^ (pageSize - 1)
	lowest := uintptr(MinAddr) // the lowest page the stack may take
	if room := m.stackMaxLocked(); s.End > room && s.End-room > lowest {
		lowest = s.End - room
	}
	if i > 0 {
		lowest = max(lowest, m.vmas.v[i-1].End+StackGuardGap)
	}
	if page < lowest {
		return nil, false
	}
	start := page
	if more := uintptr(faultAround-1) * pageSize; page-lowest >= more {
		start = page - more
	} else {
		start = lowest
	}
	if !m.mayExpandLocked(s.Start-start, false) {
		if start = page; !m.mayExpandLocked(s.Start-start, false) {
			return nil, false
		}
	}
	nv := s
	nv.Start, nv.End = start, s.Start
	refVMA(&nv)
	m.vmas.insert(nv)
	return m.vmas.lookup(addr)
}
