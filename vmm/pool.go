package vmm

import (
	"fmt"
	"sync/atomic"
	"time"

	"ringbox/ring0"
)

// The vCPU pool. A machine has a fixed number of slots (Config.NumCPU:
// a vCPU, its pages in the region, its stacks), and any number of
// contexts. A context takes a slot when it first runs user code (Switch)
// and keeps it while its task runs; when the task blocks in the kernel it
// calls Idle, and the slot, still the context's, may be taken by a context
// that needs one and finds none free ("stolen": the idle context's FP state
// is saved with it first). A task that wakes takes its own slot back if it
// is still there (nothing to set up, the common case), otherwise a free or
// idle one, set up afresh. With more runnable contexts than slots,
// contexts queue in order; one that waits too long has a running context
// asked to yield (kicked out of user mode; it gives its slot up at its next
// Switch), so user code that spins cannot starve the queue.

// preemptAfter is how long the first waiting context waits before a
// running one is asked to yield its slot.
const preemptAfter = 10 * time.Millisecond

// hold is a context's claim on a slot. The fields after m are guarded by
// m.mu; the context's own copies of slot, vcpu and cpu are valid only
// while it holds the slot (it checks with reclaim before using them).
type hold struct {
	m *Machine
	// slot is the context's slot, -1 if none.
	slot int
	// idle: the task waits in the kernel; the slot may be stolen.
	idle bool
	// lost: the slot was stolen while idle; fp holds the program's FP
	// state.
	lost bool
	// fp is the program's FP and vector state while the context holds no
	// slot (nil: the initial state).
	fp []byte
	// save copies the program's FP state out of the slot (for a thief,
	// with m.mu held, while the owner is idle).
	save func() []byte
	// rs tells whether the context runs user code now (the choice of a
	// context to preempt).
	rs *runState

	// vcpu is the vCPU to kick for Interrupt, and cpu its CPU page, whose
	// Kick flag stops the entry code on its way to user mode (nil without
	// a slot).
	vcpu atomic.Pointer[VCPU]
	cpu  atomic.Pointer[ring0.CPU]
	// kicked: Interrupt was called; a Switch that takes a slot new to
	// the context returns EventInterrupted at once (the kick went to the
	// old vCPU, or to none, or was cleared by the new one's set-up).
	kicked atomic.Bool
	// yield: a queued context asked this one to give its slot up.
	yield atomic.Bool
	// parked is how the slot taken last was left (acquire; guarded by
	// m.mu until then, the context's own after).
	parked parkedSlot
	// kgs is the vCPU's KERNEL_GS_BASE after the last takeSlot that moved
	// the context (0 after a full set-up, the last program's after a
	// parked slot's).
	kgs uint64
}

// parkedSlot says how a released context left its slot's vCPU (ring0
// mode): parked after a leave in the supervisor, at the entry code's
// request, with the set-up setupVCPU gives (segments, MSRs, XCR0, TSC
// offset all the same for the slot's next context), and kgs in
// KERNEL_GS_BASE. The next context only moves it to the way into user
// mode.
type parkedSlot struct {
	ok  bool
	kgs uint64
}

// pool is the machine's slot bookkeeping, guarded by m.mu.
type pool struct {
	owner []*hold // the context each slot serves (nil: free)
	// parked says, by slot, how its last context left the vCPU.
	parked  []parkedSlot
	queue   []*hold // contexts waiting for a slot, in order
	steals  atomic.Uint64
	preempt int // the next slot to ask to yield (round robin)
	timer   *time.Timer
	// slice is how long the first waiting context waits before a
	// running one is asked to yield (preemptAfter; tests that check one
	// hand-over make it long, so slow emulation cannot add a second).
	slice time.Duration
}

// newHold makes a context's claim, holding no slot yet.
func (m *Machine) newHold(save func() []byte, rs *runState) *hold {
	return &hold{m: m, slot: -1, save: save, rs: rs}
}

// keepFP keeps the program's FP state while the context holds no slot
// (the next slot it takes gets it).
func (h *hold) keepFP(b []byte) { h.fp = append([]byte(nil), b...) }

// fpState is the program's FP state while the context holds no slot.
func (h *hold) fpState(size int) []byte {
	if h.fp != nil {
		return append([]byte(nil), h.fp...)
	}
	b := make([]byte, size)
	ring0.InitXsave(b)
	return b
}

// reclaim marks the context busy again and reports whether it still holds
// its slot. A context that lost its slot forgets it.
func (h *hold) reclaim() bool {
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	return h.reclaimLocked()
}

func (h *hold) reclaimLocked() bool {
	h.idle = false
	if h.lost {
		h.lost, h.slot = false, -1
	}
	return h.slot >= 0
}

// setIdle marks the context as waiting in the kernel: its slot may serve
// another context meanwhile.
func (h *hold) setIdle() {
	m := h.m
	m.mu.Lock()
	if h.slot >= 0 && !h.lost {
		h.idle = true
		if len(m.pool.queue) > 0 {
			m.slotCond.Broadcast()
		}
	}
	m.mu.Unlock()
}

// acquire returns the context's slot, taking one if it has none (waiting
// in line if every slot is busy). moved reports a slot the context did not
// hold before: its vCPU must be set up afresh (fresh: made just now), and
// the program's FP state is in h.fp. A context interrupted while it waits
// leaves the line without a slot (slot -1): the kernel acts on a signal,
// a stop or an exit without a vCPU.
func (h *hold) acquire() (slot int, v *VCPU, moved, fresh bool, err error) {
	m := h.m
	m.mu.Lock()
	if h.yield.Swap(false) && len(m.pool.queue) > 0 && h.slot >= 0 && !h.lost {
		// Asked to yield: go to the back of the line, the slot up for
		// grabs.
		h.idle = true
	} else if h.reclaimLocked() {
		m.mu.Unlock()
		return h.slot, m.vcpus[h.slot], false, false, nil
	}
	m.pool.queue = append(m.pool.queue, h)
	m.slotCond.Broadcast()
	if len(m.pool.queue) == 1 {
		m.armPreemptLocked()
	}
	for {
		if m.pool.queue[0] == h {
			if h.slot >= 0 && !h.lost {
				// Nobody took it meanwhile.
				m.pool.queue = m.pool.queue[1:]
				h.idle = false
				m.slotCond.Broadcast()
				m.mu.Unlock()
				return h.slot, m.vcpus[h.slot], false, false, nil
			}
			h.lost, h.slot, h.idle = false, -1, false
			if s := m.takeSlotLocked(); s >= 0 {
				slot = s
				break
			}
		}
		if h.kicked.Load() {
			for i, q := range m.pool.queue {
				if q == h {
					m.pool.queue = append(m.pool.queue[:i], m.pool.queue[i+1:]...)
					break
				}
			}
			m.slotCond.Broadcast()
			m.mu.Unlock()
			return -1, nil, false, false, nil
		}
		m.slotCond.Wait()
	}
	m.pool.queue = m.pool.queue[1:]
	m.slotCond.Broadcast()
	m.pool.owner[slot] = h
	h.slot = slot
	v = m.vcpus[slot]
	parked := m.pool.parked[slot]
	m.pool.parked[slot] = parkedSlot{}
	m.mu.Unlock()
	if v == nil {
		fresh = true
		if v, err = m.vm.NewVCPU(slot); err != nil {
			h.drop()
			return -1, nil, false, false, fmt.Errorf("make vCPU %d: %w", slot, err)
		}
		m.mu.Lock()
		m.vcpus[slot] = v
		m.mu.Unlock()
	}
	h.vcpu.Store(v)
	h.cpu.Store(m.region.CPU(slot))
	h.parked = parked
	return slot, v, true, fresh, nil
}

// takeSlot is acquire plus the set-up every mode does on a slot new to the
// context: KVM finishes what the slot's last run left pending, the slot's
// counters move to the machine's totals, its CPU page is made afresh and
// its vCPU set up in supervisor mode at rip with LSTAR = lstar.
func (h *hold) takeSlot(lstar, rip uintptr) (slot int, v *VCPU, moved bool, err error) {
	m := h.m
	slot, v, moved, fresh, err := h.acquire()
	if err != nil || !moved {
		return slot, v, false, err
	}
	if !fresh {
		// Parked after another context's exit or leave: KVM completes
		// that port I/O on the next KVM_RUN, whatever KVM_SET_REGS says.
		if err := v.CompletePending(); err != nil {
			h.drop()
			return -1, nil, false, err
		}
	}
	m.moveCounters(m.region.CPU(slot))
	m.region.InitCPU(slot)
	if p := h.parked; p.ok && !fresh {
		// Parked by a released context after its leave: everything but
		// the registers is as setupVCPU makes it.
		regs := m.supervisorRegs(slot, rip)
		if err := v.SetRegs(&regs); err != nil {
			h.drop()
			return -1, nil, false, fmt.Errorf("set up vCPU %d: %w", slot, err)
		}
		h.kgs = p.kgs
		return slot, v, true, nil
	}
	if err := m.setupVCPU(v, slot, lstar, rip, fresh); err != nil {
		h.drop()
		return -1, nil, false, fmt.Errorf("set up vCPU %d: %w", slot, err)
	}
	h.kgs = 0
	return slot, v, true, nil
}

// takeSlotLocked finds a slot for the context at the head of the line: a
// free one, else one whose context is idle (whose FP state it saves).
func (m *Machine) takeSlotLocked() int {
	if n := len(m.free); n > 0 {
		s := m.free[n-1]
		m.free = m.free[:n-1]
		return s
	}
	for s, o := range m.pool.owner {
		if o != nil && o.idle && !o.lost {
			o.fp = o.save()
			o.lost, o.idle = true, false
			o.vcpu.Store(nil)
			o.cpu.Store(nil)
			m.pool.owner[s] = nil
			m.pool.steals.Add(1)
			return s
		}
	}
	return -1
}

// offer asks the context's next Switch to give its slot to the first
// context in line, if any waits (sched_yield).
func (h *hold) offer() {
	m := h.m
	m.mu.Lock()
	if len(m.pool.queue) > 0 {
		h.yield.Store(true)
	}
	m.mu.Unlock()
}

// takeKick reports whether Interrupt was called since the last time it
// was asked (or since the last interrupted return), clearing the slot's
// Kick flag first: a kick from here on stops the entry code instead.
func (h *hold) takeKick() bool {
	if cpu := h.cpu.Load(); cpu != nil {
		atomic.StoreUint64(&cpu.Kick, 0)
	}
	return h.kicked.Swap(false)
}

// drop gives the context's slot back (its context is released, or setting
// the slot up failed).
func (h *hold) drop() { h.dropParked(parkedSlot{}) }

// dropParked is drop, saying how the context leaves the vCPU.
func (h *hold) dropParked(p parkedSlot) {
	m := h.m
	m.mu.Lock()
	if h.slot >= 0 && !h.lost {
		m.pool.owner[h.slot] = nil
		m.pool.parked[h.slot] = p
		m.free = append(m.free, h.slot)
		m.slotCond.Broadcast()
	}
	h.slot, h.lost, h.idle = -1, false, false
	h.vcpu.Store(nil)
	h.cpu.Store(nil)
	m.mu.Unlock()
}

// interrupt kicks the context's vCPU, or has its next Switch on a new
// slot return at once.
func (h *hold) interrupt() {
	h.kicked.Store(true)
	// The flag first: a vCPU that the signal finds outside user mode
	// goes on, and the entry code stops on it before the program runs.
	if cpu := h.cpu.Load(); cpu != nil {
		atomic.StoreUint64(&cpu.Kick, 1)
	}
	if v := h.vcpu.Load(); v != nil {
		v.Kick()
	}
	m := h.m
	m.mu.Lock()
	if len(m.pool.queue) > 0 {
		m.slotCond.Broadcast() // it may be waiting in line
	}
	m.mu.Unlock()
}

// armPreemptLocked starts the timer that asks a running context to yield
// while contexts wait.
func (m *Machine) armPreemptLocked() {
	if m.pool.timer == nil {
		m.pool.timer = time.AfterFunc(m.pool.slice, m.preempt)
		return
	}
	m.pool.timer.Reset(m.pool.slice)
}

// preempt asks one busy context to give its slot to the first in line
// (kicking it out of user code), and runs again while the line is not
// empty.
func (m *Machine) preempt() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pool.queue) == 0 {
		return
	}
	n := len(m.pool.owner)
	for i := 0; i < n; i++ {
		s := (m.pool.preempt + i) % n
		if o := m.pool.owner[s]; o != nil && !o.idle {
			// In user code it is kicked out; in the kernel it yields at
			// its next Switch.
			m.pool.preempt = s + 1
			o.yield.Store(true)
			if v := o.vcpu.Load(); v != nil && o.rs.inUser.Load() {
				v.Kick()
			}
			break
		}
	}
	m.pool.timer.Reset(m.pool.slice)
}
