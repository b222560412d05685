package kernel

import (
	"slices"
	"sync"

	"ringbox/guestkernel/mm"
)

// Scheduling policies (linux/sched.h).
const (
	SchedOther    = 0
	SchedFIFO     = 1
	SchedRR       = 2
	SchedBatch    = 3
	SchedIdle     = 5
	SchedDeadline = 6
	// SchedResetOnFork is or'ed into a policy.
	SchedResetOnFork = 0x40000000
)

// SchedState is a thread's scheduling attributes as the program sets and
// reads them: its nice value, policy, CPU affinity mask and I/O priority. They are
// remembered, inherited by threads and processes the thread makes, and
// shown back; the host schedules the task's thread as it sees fit (nice
// and affinity are not applied to the host thread, which goes back to
// Go's pool when the task ends).
type SchedState struct {
	mu          sync.Mutex
	nice        int
	policy      int
	resetOnFork bool
	// affinity is the CPU mask, nil for every CPU.
	affinity []uint64
	// ioprio is the ioprio_set(2) value (class << 13 | level).
	ioprio int
	// mempolicy is set_mempolicy(2)'s mode with its flags.
	mempolicy int
}

// inherit gives a new task its creator's attributes, as clone does: with
// SCHED_RESET_ON_FORK a negative nice becomes 0 and the flag is not
// inherited (the policy can only be a normal one here).
func (s *SchedState) inherit(from *SchedState) {
	from.mu.Lock()
	defer from.mu.Unlock()
	s.nice, s.policy, s.ioprio, s.mempolicy = from.nice, from.policy, from.ioprio, from.mempolicy
	s.affinity = slices.Clone(from.affinity)
	if from.resetOnFork && s.nice < 0 {
		s.nice = 0
	}
}

// Nice returns the thread's nice value.
func (s *SchedState) Nice() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nice
}

// SetNice sets the nice value, clamped to [-20, 19].
func (s *SchedState) SetNice(n int) {
	s.mu.Lock()
	s.nice = min(max(n, -20), 19)
	s.mu.Unlock()
}

// MemPolicy returns the NUMA memory policy (get_mempolicy(2)'s mode).
func (s *SchedState) MemPolicy() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mempolicy
}

// SetMemPolicy is set_mempolicy(2) (the mode and its flags).
func (s *SchedState) SetMemPolicy(p int) {
	s.mu.Lock()
	s.mempolicy = p
	s.mu.Unlock()
}

// IOPrio returns the I/O priority (0: none set, IOPRIO_CLASS_NONE).
func (s *SchedState) IOPrio() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ioprio
}

// SetIOPrio sets the I/O priority (the caller checked it).
func (s *SchedState) SetIOPrio(p int) {
	s.mu.Lock()
	s.ioprio = p
	s.mu.Unlock()
}

// Policy returns the scheduling policy and SCHED_RESET_ON_FORK.
func (s *SchedState) Policy() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy, s.resetOnFork
}

// SetPolicy sets the policy and SCHED_RESET_ON_FORK.
func (s *SchedState) SetPolicy(p int, resetOnFork bool) {
	s.mu.Lock()
	s.policy, s.resetOnFork = p, resetOnFork
	s.mu.Unlock()
}

// Affinity returns a copy of the CPU mask, nil for every CPU.
func (s *SchedState) Affinity() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.affinity)
}

// SetAffinity replaces the CPU mask (nil: every CPU).
func (s *SchedState) SetAffinity(mask []uint64) {
	s.mu.Lock()
	s.affinity = slices.Clone(mask)
	s.mu.Unlock()
}

// Tasks returns the live tasks, by TID.
func (k *Kernel) Tasks() []*Task {
	k.mu.Lock()
	ts := make([]*Task, 0, len(k.procs.tasks))
	for _, t := range k.procs.tasks {
		ts = append(ts, t)
	}
	k.mu.Unlock()
	slices.SortFunc(ts, func(a, b *Task) int { return int(a.TID) - int(b.TID) })
	return ts
}

// MMs returns the address spaces in use by live tasks (each once), for a
// barrier across every running program (membarrier). One may be released
// by the time the caller looks at it.
func (k *Kernel) MMs() []*mm.MM {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*mm.MM, 0, len(k.procs.mmUsers))
	for m := range k.procs.mmUsers {
		out = append(out, m)
	}
	return out
}
