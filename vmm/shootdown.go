package vmm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// TLB shootdown. Threads of a program run on several vCPUs in one address
// space; when a mapping is removed or narrowed (munmap, mprotect, a COW
// break, exec), no vCPU may go on using a stale TLB entry once the call
// returns, since the page may be reused at once by another process. So
// Invalidate kicks every other vCPU that is running user code in the
// address space out of it and waits until each has left user mode; each
// flushes its TLB before it next enters user mode in that address space
// (the address space's generation moved past the one it last flushed at).
// A vCPU that is not in user mode holds no user TLB entries that matter:
// its next entry flushes for the same reason.

// runState is one context's part in its address space's shootdowns.
type runState struct {
	inUser  atomic.Bool   // between entering user mode and the next event
	leaves  atomic.Uint64 // times it left user mode
	seenGen uint64        // the address space generation it last flushed at
	kick    func()
}

// runners is an address space's set of contexts that may run it.
type runners struct {
	mu  sync.Mutex
	set map[*runState]struct{}
	gen atomic.Uint64
}

// attach records that rs runs as now (and no longer the address space it
// ran before).
func (rs *runState) attach(old, as *addressSpace) {
	if old != nil {
		old.run.mu.Lock()
		delete(old.run.set, rs)
		old.run.mu.Unlock()
	}
	if as != nil {
		as.run.mu.Lock()
		if as.run.set == nil {
			as.run.set = map[*runState]struct{}{}
		}
		as.run.set[rs] = struct{}{}
		as.run.mu.Unlock()
	}
}

// enter marks rs as running user code in as; it reports whether the TLB
// must be flushed first. The store to inUser comes before the load of the
// generation (both sequentially consistent): either Invalidate sees this
// vCPU in user mode and waits for it, or this entry sees the new
// generation and flushes.
func (rs *runState) enter(as *addressSpace) (flush bool) {
	rs.inUser.Store(true)
	if g := as.run.gen.Load(); g != rs.seenGen {
		rs.seenGen = g
		return true
	}
	return false
}

// leave marks rs as out of user mode.
func (rs *runState) leave() {
	rs.inUser.Store(false)
	rs.leaves.Add(1)
}

// shootdown moves the generation on and waits until every vCPU that was
// running user code in the address space has left it.
func (r *runners) shootdown() {
	r.gen.Add(1)
	type waiting struct {
		rs     *runState
		leaves uint64
	}
	var ws []waiting
	r.mu.Lock()
	for rs := range r.set {
		if rs.inUser.Load() {
			ws = append(ws, waiting{rs, rs.leaves.Load()})
		}
	}
	r.mu.Unlock()
	for _, w := range ws {
		w.rs.kick()
	}
	for _, w := range ws {
		for i := 1; w.rs.inUser.Load() && w.rs.leaves.Load() == w.leaves; i++ {
			// A kick that reaches a vCPU still in the supervisor, on its
			// way into user mode, is lost: kick again now and then.
			switch {
			case i < 100:
				runtime.Gosched()
			case i%16 == 0:
				w.rs.kick()
				fallthrough
			default:
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
}
