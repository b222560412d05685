package vmm

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0"
	"ringbox/ring0/pagetables"
)

// Architectural MSRs.
const (
	msrEFER         = 0xc0000080
	msrSTAR         = 0xc0000081
	msrLSTAR        = 0xc0000082
	msrSFMASK       = 0xc0000084
	msrFSBase       = 0xc0000100
	msrGSBase       = 0xc0000101
	msrKernelGSBase = 0xc0000102
)

// Control register values that PVM accepts (PVM.md).
const (
	cr0Value  = 0x80050033 // PG, WP, NE, ET, MP, PE
	cr4Value  = 0x620      // PAE, OSFXSR, OSXMMEXCPT
	eferValue = 0xd01      // SCE, LME, LMA, NXE
	// vIF registration flags: KPTI root pairs, host GS swap, #PF address at
	// vIF+8, user exceptions on the kernel CR3/GS, ERETU; 0x400 = the vCPU
	// starts in supervisor mode.
	vifFlags = 0x7f | 0x400

	// userFlagsMask are the RFLAGS bits user code may set: CF PF AF ZF SF
	// TF DF OF AC ID.
	userFlagsMask = 0x240dd5
	rflagsFixed   = 0x202 // IF and the always-one bit
)

// Machine is the KVM platform on the pvm backend. In exit mode user code
// runs in the guest and every syscall and fault exits to the host, where
// the Go kernel handles it; in ring0 mode the Go kernel itself runs in the
// guest (ring0mode.go).
type Machine struct {
	cfg    Config
	kvm    *KVM
	vm     *VM
	region *ring0.Region
	mem    *memfile.File
	kernel *pagetables.Tables // template for the kernel half of every root pair

	mu   sync.Mutex
	free []int // free vCPU slots of the region
	// pool says which context each slot serves and who waits for one
	// (pool.go); slotCond is signalled when a slot may have come free.
	pool     pool
	slotCond *sync.Cond
	// vcpus are the KVM vCPUs made so far, by slot. KVM cannot destroy a
	// vCPU short of the VM, so a released context leaves its vCPU here
	// for the next context on that slot.
	vcpus []*VCPU
	// spareStacks are released ring0 contexts' VMM stacks (getStack).
	spareStacks [][]byte
	// hostFirst counts down the program events ring0 mode still hands
	// to Go code on the host (Config.HostFirst).
	hostFirst atomic.Int64
	// hostMu guards chunks: the 2 MiB chunks of the host address space
	// mirrored into the guest (ring0 mode, hostmap.go), and spaces: the
	// live address spaces, which get the kernel half's new top-level
	// slots (growTopLocked).
	hostMu sync.Mutex
	chunks map[uintptr]bool
	// mirroredRegions are host regions (start, end) whose chunks were all
	// mirrored when mapHost last saw them; mapsBuf and regionsBuf are its
	// reused buffers.
	mirroredRegions map[[2]uintptr]struct{}
	mapsBuf         []byte
	regionsBuf      [][2]uintptr
	spaces          map[*addressSpace]struct{}

	// graveyard holds table pages of released address spaces, to be
	// zapped by the next vCPU that runs before they are reused.
	graveyard []uintptr
	// deadRoots are root pairs of released address spaces; a pair is
	// retired into the graveyard once no vCPU runs on it (curRoot).
	deadRoots []uintptr
	curRoot   map[int]uintptr
	// eventErr logs once that KVM_GET/SET_VCPU_EVENTS failed
	// (eventQueued, setupVCPU).
	eventErr sync.Once

	exits struct {
		syscall, pageFault, exception, interrupt, drain, other, leave atomic.Uint64
		// queuedEvent counts kicks that found an exception half delivered.
		queuedEvent atomic.Uint64
		// ring0 counters of released contexts (live ones are in the
		// CPU pages).
		r0Bounces, r0Entries, r0Intrs, r0IntrUser atomic.Uint64
		// r0BouncesBy counts released slots' bounces by syscall number.
		r0BouncesBy [ring0.BounceNRs]atomic.Uint64
	}
}

// MaxVCPUs is the most vCPUs (slots) a machine can have; it can have any
// number of contexts, which share them (pool.go).
const MaxVCPUs = 1024

// Config describes a machine.
type Config struct {
	// MemLimit bounds the memory file (all program memory and page tables).
	MemLimit uintptr
	// NumCPU is how many vCPUs the machine may have (at most MaxVCPUs):
	// the contexts running user code or kernel code at once. A vCPU is
	// made when a context first needs one; a context whose task waits in
	// the kernel lends its vCPU out (pool.go).
	NumCPU int
	// Ring0 selects ring0 mode instead of exit mode.
	Ring0 bool
	// HostFirst is how many of the program's first events (syscalls,
	// faults) ring0 mode hands to Go code on the host rather than in the
	// guest (HostFirstAuto: the backend's default). See hostFirst.
	HostFirst int
}

// HostFirstAuto asks for the backend's default HostFirst.
const HostFirstAuto = -1

// DefaultHostFirst is HostFirst on PVM. Go code's first run in the guest
// takes a shadow-paging fault on nearly every page it touches: 500-odd,
// 12-15 ms, before a static "hello" is done. On the host the same code
// costs nothing extra, and each event costs a leave (about 40 us) more
// than in the guest. A tiny program ends before it would have paid for
// the faults (static hello: 28.6 -> 21.1 ms a run); one that goes on pays
// them later, plus DefaultHostFirst leaves (under 1 ms). Measured on PVM,
// 15 runs each: 20 helped the static hello and /bin/true and changed
// stat, ls -la /usr/bin and python3 -c pass by less than their noise;
// 100 and 300 made those slower. The x86 backend (hardware paging) keeps
// Go code in the guest throughout.
const DefaultHostFirst = 20

// NewMachine builds a VM.
func NewMachine(k *KVM, cfg Config) (*Machine, *memfile.File, error) {
	memLimit, ncpu := cfg.MemLimit, min(cfg.NumCPU, MaxVCPUs)
	if k.maxVCPUs > 0 {
		ncpu = min(ncpu, k.maxVCPUs) // the pool shares what KVM allows
	}
	ncpu = max(ncpu, 1)
	x86 := k.Backend == BackendX86
	vm, err := k.NewVM()
	if err != nil {
		return nil, nil, err
	}
	m := &Machine{kvm: k, vm: vm, cfg: cfg, curRoot: map[int]uintptr{}, vcpus: make([]*VCPU, ncpu), spaces: map[*addressSpace]struct{}{}}
	if hf := cfg.HostFirst; cfg.Ring0 {
		if hf == HostFirstAuto {
			hf = 0
			if !x86 {
				hf = DefaultHostFirst
			}
		}
		m.hostFirst.Store(int64(max(hf, 0)))
	}
	m.slotCond = sync.NewCond(&m.mu)
	m.pool.owner = make([]*hold, ncpu)
	m.pool.parked = make([]parkedSlot, ncpu)
	m.pool.slice = preemptAfter
	fail := func(err error) (*Machine, *memfile.File, error) {
		vm.Close()
		return nil, nil, err
	}
	// The region and the memory file sit low (place.go); the region
	// first, then the file's whole range, reserved now.
	maxPhys := k.MaxGuestPhys()
	span := (memLimit + memfile.ChunkSize - 1) &^ (memfile.ChunkSize - 1)
	rsize := ring0.RegionSize(ncpu)
	base, err := reserveLow(rsize+span, 2<<20, maxPhys)
	if err != nil {
		return fail(err)
	}
	if m.region, err = ring0.NewRegionAt(base, ncpu); err != nil {
		return fail(err)
	}
	if x86 {
		m.region.SetupX86(cfg.Ring0)
	} else {
		m.region.SetupPVM(cfg.Ring0)
	}
	if err := vm.AddSlot(m.region.Base(), m.region.Size(), false); err != nil {
		return fail(err)
	}
	sysEntry, _, _ := ring0.PVMEntryPoints()
	tstart, tend, err := mappingOf(sysEntry)
	if err != nil {
		return fail(fmt.Errorf("find supervisor text: %w", err))
	}
	if !cfg.Ring0 {
		// Ring0 mode maps all of the host's memory instead (hostmap.go).
		if err := vm.AddSlot(tstart, tend-tstart, true); err != nil {
			return fail(err)
		}
	}
	m.mem, err = memfile.NewIn(base+rsize, span, memLimit, func(addr, size uintptr) error {
		return vm.AddSlot(addr, size, false)
	})
	if err != nil {
		return fail(err)
	}
	// The kernel half: the supervisor region at its own address and at its
	// upper-half alias (stacks), and the text holding the stub.
	pair, err := m.mem.AllocContig(2, 2)
	if err != nil {
		return fail(err)
	}
	m.kernel = pagetables.NewAt(m.mem, pair)
	// PVM wants the U bit on every entry (KPTI root pairs keep the program
	// out); on x86 the supervisor's pages are mapped without it.
	m.kernel.AlwaysUser = !x86
	// In 2 MiB pages: 4 KiB ones took 27 table pages per mapping of the
	// 54 MiB of 1024 slots, most of which stay unpopulated.
	data := pagetables.Opts{Write: true}
	if _, err := m.kernel.MapHuge(m.region.Base(), m.region.Base(), m.region.Size(), data); err != nil {
		return fail(fmt.Errorf("map supervisor region: %w", err))
	}
	if _, err := m.kernel.MapHuge(ring0.KernelAlias, m.region.Base(), m.region.Size(), data); err != nil {
		return fail(fmt.Errorf("map supervisor region alias: %w", err))
	}
	if _, err := m.kernel.Map(tstart, tstart, tend-tstart, pagetables.Opts{Exec: true}); err != nil {
		return fail(fmt.Errorf("map supervisor text: %w", err))
	}
	if x86 {
		// The stub runs from an upper-half alias of the text, which every
		// address space shares (x86_amd64.s).
		if _, err := m.kernel.Map(tstart+ring0.X86TextDelta, tstart, tend-tstart, pagetables.Opts{Exec: true}); err != nil {
			return fail(fmt.Errorf("map supervisor text alias: %w", err))
		}
	}
	// The memory file, so the stub can write page tables (see zapQueue).
	if _, err := m.kernel.MapHuge(m.mem.Base(), m.mem.Base(), m.mem.Span(), data); err != nil {
		return fail(fmt.Errorf("map memory file: %w", err))
	}
	if cfg.Ring0 {
		if err := m.setupRing0(); err != nil {
			return fail(err)
		}
	}
	for i := ncpu - 1; i >= 0; i-- {
		m.free = append(m.free, i)
	}
	return m, m.mem, nil
}

// HostClockData implements platform.HostClock. The x86 backend's guests
// read the host's TSC unchanged (setupVCPU). In ring0 mode the
// host's data pages are mirrored at guest-physical = host-virtual with the
// rest of the host's memory (hostmap.go); in exit mode, whose guest may
// have too few physical address bits for that, they get a read-only
// memory slot at a low guest-physical address reserved for them
// (place.go). On PVM the guest runs on the host's CPU without hardware
// virtualization: its RDTSC is the host's, never offset, at native speed
// (vmm TestPVMGuestTSC), in both modes.
func (m *Machine) HostClockData(start, end uintptr) (uintptr, bool, error) {
	if m.x86() && !(m.cfg.Ring0 || m.kvm.tscCtrl) {
		return 0, false, nil
	}
	if start&0xfff != 0 || end&0xfff != 0 || end <= start || end > hostUserEnd {
		return 0, false, fmt.Errorf("host vDSO data %#x-%#x: not a range of user pages", start, end)
	}
	if m.cfg.Ring0 {
		for a := start; a < end; a += chunkSize {
			if !m.mirrored(a) {
				return 0, false, nil
			}
		}
		return start, m.mirrored(end - 1), nil
	}
	gpa, err := reserveLow(end-start, 0x1000, m.kvm.MaxGuestPhys())
	if err != nil {
		return 0, false, fmt.Errorf("host vDSO data: %w", err)
	}
	if err := m.vm.AddSlotAt(gpa, start, end-start, true); err != nil {
		return 0, false, fmt.Errorf("host vDSO data: %w", err)
	}
	return gpa, true, nil
}

// Name implements platform.Platform.
func (m *Machine) Name() string {
	if m.cfg.Ring0 {
		return "kvm/" + m.kvm.Backend.String()
	}
	return "kvm-exit/" + m.kvm.Backend.String()
}

// Stats implements platform.Platform.
func (m *Machine) Stats() map[string]uint64 {
	s := map[string]uint64{
		"exit.syscall":          m.exits.syscall.Load(),
		"exit.pagefault":        m.exits.pageFault.Load(),
		"exit.exception":        m.exits.exception.Load(),
		"exit.interrupt":        m.exits.interrupt.Load(),
		"exit.interrupt.queued": m.exits.queuedEvent.Load(),
		"exit.other":            m.exits.other.Load(),
		"exit.zapdrain":         m.exits.drain.Load(),
		"vcpu.steals":           m.pool.steals.Load(),
	}
	// The memory file: pages in use now and at most, freed pages given
	// back to the host (KiB).
	used, peak := m.mem.Used()
	s["mem.used_kib"], s["mem.peak_kib"] = uint64(used>>10), uint64(peak>>10)
	s["mem.released_kib"] = uint64(m.mem.Released() >> 10)
	if m.cfg.Ring0 {
		m.ring0Stats(s)
	}
	return s
}

// addressSpace is a KPTI root pair: the kernel root (a copy of the
// template's top level) and the user root right after it.
//
// KVM shadows the guest page tables and learns of changes only from guest
// writes to them; the host edits them directly. Adding entries needs
// nothing (KVM walks the guest tables on a miss), but when a present entry
// is cleared, downgraded or retargeted, the table page goes on the zap
// queue: before user code runs again the stub rewrites two bytes of it,
// and KVM drops its whole shadow of that page. Freed table pages wait in
// the graveyard until they have been zapped, so that a stale shadow can
// never be reused.
type addressSpace struct {
	m      *Machine
	root   uintptr
	user   *pagetables.Tables
	kernel *pagetables.Tables

	mu        sync.Mutex
	zap       map[uintptr]struct{}
	graveyard []uintptr
	stale     atomic.Bool
	released  bool
	run       runners // contexts running it (shootdown.go)
}

// tableAlloc hands out page-table pages and defers their freeing.
type tableAlloc struct{ as *addressSpace }

func (a tableAlloc) AllocPage() (uintptr, error) { return a.as.m.mem.Alloc() }
func (a tableAlloc) FreePage(p uintptr) {
	a.as.mu.Lock()
	a.as.zap[p] = struct{}{}
	a.as.graveyard = append(a.as.graveyard, p)
	a.as.mu.Unlock()
	a.as.stale.Store(true)
}

func (as *addressSpace) changed(table uintptr) {
	as.mu.Lock()
	as.zap[table] = struct{}{}
	as.mu.Unlock()
	as.stale.Store(true)
}

// NewAddressSpace implements platform.Platform.
func (m *Machine) NewAddressSpace() (platform.AddressSpace, error) {
	pair, err := m.mem.AllocContig(2, 2)
	if err != nil {
		return nil, fmt.Errorf("allocate page-table root pair: %w", err)
	}
	as := &addressSpace{m: m, root: pair, zap: map[uintptr]struct{}{}}
	as.kernel = pagetables.NewAt(m.mem, pair)
	as.kernel.AlwaysUser = true
	m.hostMu.Lock()
	as.kernel.ShareTop(m.kernel, 0, pagetables.LowerHalfEnd)
	m.spaces[as] = struct{}{}
	m.hostMu.Unlock()
	as.kernel.ShareTop(m.kernel, pagetables.UpperHalfStart, 0)
	as.user = pagetables.NewAt(tableAlloc{as}, pair+memfile.PageSize)
	as.user.AlwaysUser = !m.x86()
	if m.x86() {
		// The program's page tables also carry the supervisor's upper
		// half (without the U bit): the stub runs on them.
		as.user.ShareTop(m.kernel, pagetables.UpperHalfStart, 0)
	}
	as.user.OnChange = as.changed
	return as, nil
}

func (as *addressSpace) Tables() *pagetables.Tables { return as.user }

// Invalidate implements platform.AddressSpace: once it returns, no vCPU
// uses a TLB entry from before the call (shootdown.go).
func (as *addressSpace) Invalidate() {
	as.stale.Store(true)
	as.run.shootdown()
}

// Release frees the user tables. Their pages go to the machine's
// graveyard, and the root pair to deadRoots: a vCPU may still be running on
// the kernel root (the Go kernel itself, in ring0 mode), so it is freed only
// once no vCPU uses it.
func (as *addressSpace) Release() {
	as.m.hostMu.Lock()
	delete(as.m.spaces, as)
	as.m.hostMu.Unlock()
	as.user.Release()
	as.mu.Lock()
	as.released = true
	dead := as.graveyard
	as.graveyard = nil
	for p := range as.zap {
		delete(as.zap, p)
	}
	as.mu.Unlock()
	as.m.mu.Lock()
	as.m.graveyard = append(as.m.graveyard, dead...)
	as.m.deadRoots = append(as.m.deadRoots, as.root)
	as.m.mu.Unlock()
}

// retireRootsLocked moves dead root pairs no vCPU runs on to the
// graveyard. m.mu is held.
func (m *Machine) retireRootsLocked() {
	keep := m.deadRoots[:0]
	for _, r := range m.deadRoots {
		inUse := false
		for _, cur := range m.curRoot {
			if cur == r {
				inUse = true
			}
		}
		if inUse {
			keep = append(keep, r)
			continue
		}
		m.graveyard = append(m.graveyard, r, r+memfile.PageSize)
	}
	m.deadRoots = keep
}

// setCurRoot records the root pair vCPU slot runs on (0: none).
func (m *Machine) setCurRoot(slot int, root uintptr) {
	m.mu.Lock()
	if root == 0 {
		delete(m.curRoot, slot)
	} else {
		m.curRoot[slot] = root
	}
	m.mu.Unlock()
}

// takeZaps moves the queued table pages into cpu.Queue; it returns the
// pages to free once the stub has run, and whether more remain.
func (c *exitContext) fillQueue() (free []uintptr, more bool) {
	if c.as == nil {
		return nil, false
	}
	return fillQueue(c.m, c.as, c.cpu)
}

// fillQueue moves queued table pages of m's graveyard and as into
// cpu.Queue, for the stub to zap before it enters user mode.
func fillQueue(m *Machine, as *addressSpace, cpu *ring0.CPU) (free []uintptr, more bool) {
	n := 0
	add := func(p uintptr) bool {
		if n == ring0.QueueCap {
			return false
		}
		cpu.Queue[n] = uint64(p)
		n++
		return true
	}
	if m.x86() {
		// Nested paging: KVM does not shadow the page tables, so freed
		// table pages only need the TLB flush the stub does.
		m.mu.Lock()
		m.retireRootsLocked()
		free = append(free, m.graveyard...)
		m.graveyard = m.graveyard[:0]
		m.mu.Unlock()
		as.mu.Lock()
		free = append(free, as.graveyard...)
		as.graveyard = as.graveyard[:0]
		if len(as.zap) > 0 {
			cpu.Flush = 1
		}
		clear(as.zap)
		as.mu.Unlock()
		cpu.QueueLen, cpu.QueueMore = 0, 0
		return free, false
	}
	m.mu.Lock()
	m.retireRootsLocked()
	for len(m.graveyard) > 0 && add(m.graveyard[len(m.graveyard)-1]) {
		free = append(free, m.graveyard[len(m.graveyard)-1])
		m.graveyard = m.graveyard[:len(m.graveyard)-1]
	}
	more = len(m.graveyard) > 0
	m.mu.Unlock()
	{
		as.mu.Lock()
		for p := range as.zap {
			if !add(p) {
				more = true
				break
			}
			delete(as.zap, p)
		}
		if !more {
			free = append(free, as.graveyard...)
			as.graveyard = as.graveyard[:0]
		}
		as.mu.Unlock()
	}
	cpu.QueueLen = uint64(n)
	if more {
		cpu.QueueMore = 1
	} else {
		cpu.QueueMore = 0
	}
	return free, more
}

// exitContext runs one task's user code in exit mode, on a vCPU of the
// machine's pool (pool.go) while it holds one.
type exitContext struct {
	m    *Machine
	h    *hold
	vcpu *VCPU // the slot's vCPU and CPU page, valid while h holds it
	slot int
	cpu  *ring0.CPU
	as   *addressSpace
	// reload: the slot is new to the context; the next entry switches to
	// its address space and flushes.
	reload bool
	fsBase uint64
	gsBase uint64
	// inUser: the vCPU stopped (interrupted) in user mode, so its user
	// registers are in KVM, not in the CPU page.
	inUser bool
	rs     runState
}

// NewContext implements platform.Platform. The context takes a vCPU of the
// pool when it first runs user code.
func (m *Machine) NewContext() (platform.Context, error) {
	if m.cfg.Ring0 {
		return m.newRing0Context()
	}
	c := &exitContext{m: m, slot: -1}
	c.h = m.newHold(c.saveFP, &c.rs)
	c.rs.kick = c.h.interrupt
	return c, nil
}

// saveFP copies the program's FP state out of the vCPU for a context that
// takes the slot (m.mu held, c idle).
func (c *exitContext) saveFP() []byte {
	fp, err := fpFromVCPU(c.vcpu, c.m.FPLayout().Size)
	if err != nil {
		return nil // the initial state: KVM refused to read it
	}
	return fp
}

// take makes sure the context holds a slot, setting up one that is new to
// it; it reports whether the slot is new.
func (c *exitContext) take() (bool, error) {
	sysEntry, ret, _ := ring0.PVMEntryPoints()
	if c.m.x86() {
		sysEntry, ret, _ = ring0.X86EntryPoints()
	}
	slot, v, moved, err := c.h.takeSlot(sysEntry, ret)
	if err != nil || !moved {
		return false, err
	}
	c.slot, c.vcpu, c.cpu = slot, v, c.m.region.CPU(slot)
	c.fsBase, c.gsBase, c.inUser, c.reload = 0, 0, false, true
	fp := c.h.fp
	c.h.fp = nil
	if fp == nil {
		// The initial state, which InitCPU wrote to the save area.
		fp = c.m.region.UserXsaveArea(slot)[:c.m.FPLayout().Size]
	}
	if err := c.setFP(fp); err != nil {
		c.h.drop()
		return false, err
	}
	return true, nil
}

// setupVCPU puts a vCPU in supervisor mode at rip, on its kernel stack,
// with LSTAR = lstar, and registers its vIF page (which makes it native).
// A reused vCPU (not fresh) keeps its CPUID: KVM refuses a change after
// the first KVM_RUN.
func (m *Machine) setupVCPU(v *VCPU, slot int, lstar, rip uintptr, fresh bool) error {
	r := m.region
	if fresh {
		if err := v.SetCPUID(m.kvm.cpuid); err != nil {
			return err
		}
	} else if err := v.DropEvents(); err != nil {
		// No worse than before the call existed; say so once.
		m.eventErr.Do(func() { slog.Debug("vmm: cannot clear the vCPU's pending events", "err", err) })
	}
	s, err := v.GetSregs()
	if err != nil {
		return err
	}
	code := kvm.Segment{Limit: 0xffffffff, Selector: ring0.SelKernelCode, Typ: 11, Present: 1, S: 1, L: 1, G: 1}
	data := kvm.Segment{Limit: 0xffffffff, Selector: ring0.SelKernelData, Typ: 3, Present: 1, S: 1, DB: 1, G: 1}
	s.CS = code
	s.SS, s.DS, s.ES = data, data, data
	s.FS = kvm.Segment{Limit: 0xffffffff, Typ: 3, Present: 1, S: 1, DB: 1, G: 1}
	// On x86 the tables and the CPU page are used through their
	// upper-half alias, the part of the region every address space maps.
	addr := func(a uintptr) uint64 { return uint64(a) }
	if m.x86() {
		addr = func(a uintptr) uint64 { return uint64(r.Alias(a)) }
	}
	s.GS = s.FS
	s.GS.Base = addr(r.CPUAddr(slot))
	s.TR = kvm.Segment{Base: addr(r.TSS(slot)), Limit: ring0.TSSLimit, Selector: ring0.SelTSS, Typ: 11, Present: 1}
	s.LDT = kvm.Segment{Unusable: 1}
	s.GDT = kvm.Descriptor{Base: addr(r.GDT(slot)), Limit: ring0.GDTLimit}
	s.IDT = kvm.Descriptor{Base: addr(r.IDT()), Limit: ring0.IDTLimit}
	// OSXSAVE: the program (and, in ring0 mode, Go code) use AVX state;
	// FSGSBASE: ring0 mode switches FS base with WRFSBASE.
	s.CR0, s.CR4, s.EFER = cr0Value, cr4Value|cr4OSXSAVE, eferValue
	if m.cfg.Ring0 {
		s.CR4 |= cr4FSGSBase
	}
	s.CR3 = uint64(m.kernel.Root())
	if err := v.SetSregs(&s); err != nil {
		return err
	}
	if err := v.SetXCR0(ring0.HostXCR0()); err != nil {
		return err
	}
	regs := m.supervisorRegs(slot, rip)
	if err := v.SetRegs(&regs); err != nil {
		return err
	}
	if m.x86() && (m.cfg.Ring0 || m.kvm.tscCtrl) {
		// Code in the guest reads time through the host's vDSO, whose
		// parameters are for the host's TSC: the guest's must be the
		// same. Go code does in ring0 mode, and the program does in
		// either mode (HostClockData).
		if err := v.SetTSCOffset(0); err != nil {
			return err
		}
	}
	// KERNEL_GS_BASE holds the program's GS base while the vCPU is in
	// the supervisor, except in the x86 backend's ring0 mode, where it holds
	// the CPU page too while Go code runs (x86r0_amd64.s).
	kgs := uint64(0)
	if m.x86() && m.cfg.Ring0 {
		kgs = addr(r.CPUAddr(slot))
	}
	msrs := []MSR{
		{msrSTAR, 0x0023001000000000},
		{msrLSTAR, uint64(lstar)},
		{msrSFMASK, 0x47700},
		{msrFSBase, 0},
		{msrGSBase, addr(r.CPUAddr(slot))},
		{msrKernelGSBase, kgs},
	}
	if !m.x86() {
		// Last: registering the vIF page switches the vCPU to native mode.
		msrs = append(msrs, MSR{msrPVMVIF, uint64(r.VIF(slot)) | vifFlags})
	}
	return v.SetMSRs(msrs...)
}

// supervisorRegs are the registers of slot's vCPU starting supervisor
// code at rip, on the slot's stack, interrupts off.
func (m *Machine) supervisorRegs(slot int, rip uintptr) kvm.Regs {
	return kvm.Regs{RIP: uint64(rip), RSP: uint64(m.region.StackTop(slot)), RFLAGS: 0x2}
}

// rekickAfter is how long after a kick that found the vCPU in the stub
// the kick is repeated (exit mode).
const rekickAfter = 200 * time.Microsecond

// eventQueued reports whether v, stopped by a signal in user mode, holds
// an event KVM will deliver on its next run. Such a vCPU must run on until
// it is delivered: a signal can cut the delivery of an exception short (a
// VM exit while it is pushed, then the signal before the re-entry), and
// KVM keeps it queued through KVM_SET_REGS and KVM_SET_SREGS. Treated as
// stopped, the vCPU would be restarted elsewhere (the entry code, another
// task's set-up after a steal) and get the program's page fault there.
func (m *Machine) eventQueued(v *VCPU) bool {
	q, err := v.PendingEvent()
	if err != nil {
		m.eventErr.Do(func() { slog.Debug("vmm: cannot read the vCPU's pending events", "err", err) })
		return false
	}
	if q {
		m.exits.queuedEvent.Add(1)
	}
	return q
}

// Interrupt implements platform.Context.
func (c *exitContext) Interrupt() { c.h.interrupt() }

// Idle implements platform.Idler: the task waits in the kernel, and its
// vCPU may serve another context meanwhile.
func (c *exitContext) Idle() { c.h.setIdle() }

// Yield implements platform.Yielder.
func (c *exitContext) Yield() { c.h.offer() }

// Release implements platform.Context.
func (c *exitContext) Release() {
	c.rs.attach(c.as, nil)
	if c.h.reclaim() {
		c.m.setCurRoot(c.slot, 0)
		c.h.drop()
	}
}

// ErrSupervisorFault reports a fault in ringbox's own guest code.
var ErrSupervisorFault = errors.New("fault in the guest supervisor")

// Switch implements platform.Context.
func (c *exitContext) Switch(pas platform.AddressSpace, regs *platform.Regs) (platform.Event, error) {
	as := pas.(*addressSpace)
	kicked := c.h.kicked.Swap(false)
	if _, err := c.take(); err != nil {
		return platform.Event{}, err
	}
	if kicked || c.h.takeKick() || c.h.slot < 0 {
		// Interrupted before the program ran: while waiting for a slot,
		// with no vCPU to kick, or in a way the vCPU's own flag missed
		// (a new slot's set-up). From here on the stub stops on the CPU
		// page's Kick flag before it enters the program.
		return platform.Event{Kind: platform.EventInterrupted}, nil
	}
	if as != c.as || c.reload {
		c.cpu.NewCR3 = uint64(as.cr3())
		if as != c.as {
			c.rs.attach(c.as, as)
			c.as = as
		}
		c.cpu.Flush = 1
		c.reload = false
	}
	as.stale.Store(false)
	pending, more := c.fillQueue()
	if c.cpu.QueueLen != 0 {
		c.cpu.Flush = 1
	}
	if regs.FSBase != c.fsBase || regs.GSBase != c.gsBase {
		if err := c.vcpu.SetMSRs(MSR{msrFSBase, regs.FSBase}, MSR{msrKernelGSBase, regs.GSBase}); err != nil {
			return platform.Event{}, err
		}
		c.fsBase, c.gsBase = regs.FSBase, regs.GSBase
	}
	regs.RFLAGS = regs.RFLAGS&userFlagsMask | rflagsFixed
	// Mark the vCPU as running user code in as before reading the
	// generation (shootdown.go): a flush is then either done here or
	// waited for by Invalidate.
	if c.rs.enter(as) {
		c.cpu.Flush = 1
	}
	defer c.rs.leave()
	if c.inUser && (c.cpu.NewCR3 != 0 || c.cpu.Flush != 0 || c.cpu.QueueLen != 0) {
		// Stopped in user mode (a kick), but the TLB must be flushed or
		// tables zapped first: restart the vCPU in the stub's return
		// path, which does that and then enters user mode with the
		// registers of the CPU page.
		sysEntry, ret, _ := ring0.PVMEntryPoints()
		if c.m.x86() {
			sysEntry, ret, _ = ring0.X86EntryPoints()
		}
		if err := c.m.setupVCPU(c.vcpu, c.slot, sysEntry, ret, false); err != nil {
			return platform.Event{}, err
		}
		if c.cpu.NewCR3 == 0 {
			c.cpu.NewCR3 = uint64(as.cr3())
		}
		if err := c.vcpu.SetMSRs(MSR{msrFSBase, regs.FSBase}, MSR{msrKernelGSBase, regs.GSBase}); err != nil {
			return platform.Event{}, err
		}
		c.inUser = false
	}
	if c.inUser {
		kr := kvm.Regs{
			RAX: regs.RAX, RBX: regs.RBX, RCX: regs.RCX, RDX: regs.RDX,
			RSI: regs.RSI, RDI: regs.RDI, RSP: regs.RSP, RBP: regs.RBP,
			R8: regs.R8, R9: regs.R9, R10: regs.R10, R11: regs.R11,
			R12: regs.R12, R13: regs.R13, R14: regs.R14, R15: regs.R15,
			RIP: regs.RIP, RFLAGS: regs.RFLAGS,
		}
		if err := c.vcpu.SetRegs(&kr); err != nil {
			return platform.Event{}, err
		}
		c.inUser = false
	} else {
		c.cpu.Regs = ring0.UserRegs{
			RAX: regs.RAX, RBX: regs.RBX, RCX: regs.RCX, RDX: regs.RDX,
			RSI: regs.RSI, RDI: regs.RDI, RBP: regs.RBP, RSP: regs.RSP,
			R8: regs.R8, R9: regs.R9, R10: regs.R10, R11: regs.R11,
			R12: regs.R12, R13: regs.R13, R14: regs.R14, R15: regs.R15,
			RIP: regs.RIP, RFLAGS: regs.RFLAGS,
		}
	}
	for {
		reason, err := c.vcpu.Run()
		if errors.Is(err, ErrInterrupted) {
			user, err := c.vcpu.InUserMode(c.m.x86())
			if err != nil {
				return platform.Event{}, err
			}
			if !user {
				// In the stub: let it reach its exit. A kick may have
				// come just after the stub looked at the Kick flag on
				// its way into the program: kick again shortly, when
				// the program runs (spurious otherwise, and harmless).
				if atomic.LoadUint64(&c.cpu.Kick) != 0 {
					v := c.vcpu
					time.AfterFunc(rekickAfter, v.Kick)
				}
				continue
			}
			if c.m.eventQueued(c.vcpu) {
				// An exception half delivered: let it arrive.
				continue
			}
			c.m.exits.interrupt.Add(1)
			kr, err := c.vcpu.GetRegs()
			if err != nil {
				return platform.Event{}, err
			}
			*regs = platform.Regs{
				RAX: kr.RAX, RBX: kr.RBX, RCX: kr.RCX, RDX: kr.RDX,
				RSI: kr.RSI, RDI: kr.RDI, RSP: kr.RSP, RBP: kr.RBP,
				R8: kr.R8, R9: kr.R9, R10: kr.R10, R11: kr.R11,
				R12: kr.R12, R13: kr.R13, R14: kr.R14, R15: kr.R15,
				RIP: kr.RIP, RFLAGS: kr.RFLAGS, FSBase: c.fsBase, GSBase: c.gsBase,
			}
			c.inUser = true
			c.h.kicked.Store(false) // this return is the interruption
			return platform.Event{Kind: platform.EventInterrupted}, nil
		}
		if err != nil {
			return platform.Event{}, err
		}
		if reason != ExitIO {
			c.m.exits.other.Add(1)
			return platform.Event{}, c.unexpectedExit(reason)
		}
		if out, _, port, _ := c.vcpu.IO(); out && port == ring0.FaultPort {
			c.m.exits.other.Add(1)
			return platform.Event{}, c.supervisorFault()
		} else if !out || port != ring0.ExitPort {
			c.m.exits.other.Add(1)
			return platform.Event{}, fmt.Errorf("guest did I/O to port %#x", port)
		}
		c.freeZapped(pending)
		pending = nil
		if c.cpu.Reason == ring0.ReasonDrain {
			c.m.exits.drain.Add(1)
			pending, more = c.fillQueue()
			_ = more
			continue
		}
		break
	}
	c.freeZapped(pending)
	c.m.setCurRoot(c.slot, as.root)
	if c.cpu.Reason == ring0.ReasonKicked {
		// Stopped on its way to user mode: the program did not run.
		c.m.exits.interrupt.Add(1)
		c.h.kicked.Store(false) // this return is the interruption
		return platform.Event{Kind: platform.EventInterrupted}, nil
	}
	u := &c.cpu.Regs
	*regs = platform.Regs{
		RAX: u.RAX, RBX: u.RBX, RCX: u.RCX, RDX: u.RDX,
		RSI: u.RSI, RDI: u.RDI, RBP: u.RBP, RSP: u.RSP,
		R8: u.R8, R9: u.R9, R10: u.R10, R11: u.R11,
		R12: u.R12, R13: u.R13, R14: u.R14, R15: u.R15,
		RIP: u.RIP, RFLAGS: u.RFLAGS, FSBase: c.fsBase, GSBase: c.gsBase,
	}
	switch c.cpu.Reason {
	case ring0.ReasonSyscall:
		c.m.exits.syscall.Add(1)
		return platform.Event{Kind: platform.EventSyscall}, nil
	case ring0.ReasonException:
		if c.cpu.Vector == platform.VectorPageFault {
			c.m.exits.pageFault.Add(1)
			code := c.cpu.ErrCode
			return platform.Event{
				Kind: platform.EventPageFault, Addr: c.cpu.CR2,
				Present: code&1 != 0, Write: code&2 != 0, Exec: code&0x10 != 0,
				Vector: c.cpu.Vector, Code: code,
			}, nil
		}
		c.m.exits.exception.Add(1)
		return platform.Event{Kind: platform.EventException, Vector: c.cpu.Vector, Code: c.cpu.ErrCode}, nil
	}
	return platform.Event{}, fmt.Errorf("%w: vector %d error code %#x at RIP %#x (CR2 %#x, reason %d)",
		ErrSupervisorFault, c.cpu.Vector, c.cpu.ErrCode, c.cpu.Regs.RIP, c.cpu.CR2, c.cpu.Reason)
}

func (c *exitContext) unexpectedExit(reason uint32) error {
	switch reason {
	case ExitShutdown:
		// The vCPU state at the shutdown says where the supervisor died.
		state := ""
		if r, err := c.vcpu.GetRegs(); err == nil {
			state = fmt.Sprintf(" at RIP %#x RSP %#x", r.RIP, r.RSP)
		}
		if s, err := c.vcpu.GetSregs(); err == nil {
			state += fmt.Sprintf(" CR3 %#x CR2 %#x CS %#x", s.CR3, s.CR2, s.CS.Selector)
		}
		return fmt.Errorf("guest triple fault (KVM_EXIT_SHUTDOWN)%s; see dmesg (kvm_pvm dumps the vCPU there)", state)
	case ExitMMIO:
		addr, n, w := c.vcpu.MMIO()
		return fmt.Errorf("guest accessed unmapped guest-physical %#x (len %d, write %v)", addr, n, w)
	case ExitHLT:
		return fmt.Errorf("guest supervisor halted")
	case ExitInternalError:
		sub, data := c.vcpu.InternalError()
		return fmt.Errorf("KVM internal error %d %#x", sub, data)
	case ExitFailEntry:
		return fmt.Errorf("KVM_EXIT_FAIL_ENTRY %#x", c.vcpu.run.data[0])
	}
	return fmt.Errorf("unexpected KVM exit reason %d", reason)
}

// freeZapped returns table pages the stub has zapped to the memory file.
func (c *exitContext) freeZapped(pages []uintptr) {
	for _, p := range pages {
		c.m.mem.Free(p)
	}
}

// CR4 bits ring0 mode needs beyond cr4Value.
const (
	cr4FSGSBase = 1 << 16
	cr4OSXSAVE  = 1 << 18
)

func (m *Machine) x86() bool { return m.kvm.Backend == BackendX86 }

// cr3 is what the vCPU's CR3 holds in this address space: the kernel root
// of the pair on PVM (the hypervisor flips to the user root), the program's
// root on x86.
func (as *addressSpace) cr3() uintptr {
	if as.m.x86() {
		return as.root + memfile.PageSize
	}
	return as.root
}

// supervisorFault describes a fault of the x86 stub from the exception
// frame it left at the top of IST1: [vector, error code, RIP, CS, RFLAGS,
// RSP, SS].
func (c *exitContext) supervisorFault() error {
	top := c.m.region.ISTTop(c.slot) - ring0.KernelAlias + c.m.region.Base()
	f := unsafe.Slice((*uint64)(unsafe.Add(nil, top-7*8)), 7)
	return fmt.Errorf("%w: vector %d error code %#x at RIP %#x (RSP %#x); the stub faulted in ring 0",
		ErrSupervisorFault, f[0], f[1], f[2], f[5])
}
