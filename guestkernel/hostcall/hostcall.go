package hostcall

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Policy says whether and how the worker runs.
type Policy struct {
	// Worker enables the host I/O thread; without it every call is direct.
	Worker bool
	// Spin is how long the worker polls for requests after its last one
	// before it sleeps (0: DefaultSpin).
	Spin time.Duration
	// CallerSpin is how long a caller polls its slot for the result
	// before it sleeps on it (0: DefaultCallerSpin).
	CallerSpin time.Duration
}

const (
	// DefaultSpin keeps the worker awake through the gaps between the
	// host calls of a file-heavy program.
	DefaultSpin = 200 * time.Microsecond
	// DefaultCallerSpin covers a cached stat or open on the host.
	DefaultCallerSpin = 50 * time.Microsecond

	nslots = 64
)

// Slot states. A caller owns a slot from free to ready and from done back
// to free; the thread owns it from ready to done.
const (
	slotFree uint32 = iota
	slotFilling
	slotReady
	slotRunning
	slotDone
	// slotWaiterBit, or-ed into ready or running, says the caller sleeps
	// on the state word and wants a futex wake at done.
	slotWaiterBit uint32 = 1 << 8
)

// slot is one request, on cache lines of its own. The host I/O thread
// (thread_amd64.s) knows this layout: TestLayout checks it.
type slot struct {
	state atomic.Uint32
	_     uint32
	nr    uintptr
	args  [6]uintptr
	r1    uintptr // the raw result: a value, or -errno
	_     [128 - 8 - 8 - 6*8 - 8]byte
}

// worker is the request table that the host I/O thread serves. Its layout
// is known to thread_amd64.s too.
type worker struct {
	slots [nslots]slot
	// gate is 1 while the thread sleeps (or is about to) on it.
	gate    atomic.Uint32
	pending atomic.Int32 // ready slots not yet taken (may dip below 0)
	// busySince is the TSC at which the thread's current call started, 0
	// when it is between calls.
	busySince atomic.Int64
	spinTicks int64 // how long the thread polls before it sleeps
	// Set at Start, read by callers only.
	callerSpinTicks int64
	busyTicks       int64
	backoffTicks    int64
	// backoffUntil is a TSC before which callers go direct: set when a
	// caller had to sleep, which means the thread did not get a CPU in
	// time (more runnable threads than CPUs).
	backoffUntil atomic.Int64
	next         atomic.Uint32
	tid          int64
	stack        []byte
}

var (
	active atomic.Pointer[worker]
	mu     sync.Mutex
	// started keeps every table (and its thread's stack) alive for good:
	// the thread runs until the process exits.
	started []*worker
	stats   Stats
)

// Stats counts host calls by path.
type Stats struct {
	Worker      atomic.Uint64 // made by the worker
	Direct      atomic.Uint64 // made by the caller (worker off, busy or table full)
	Wakes       atomic.Uint64 // futex wakes of a sleeping worker
	CallerSleep atomic.Uint64 // callers that slept on their slot
	Leaves      atomic.Uint64 // leaves of the guest before a direct call
}

// Counters returns the counters, named for --debug and the bench.
func Counters() map[string]uint64 {
	return map[string]uint64{
		"hostcall.worker":       stats.Worker.Load(),
		"hostcall.direct":       stats.Direct.Load(),
		"hostcall.worker_wake":  stats.Wakes.Load(),
		"hostcall.caller_sleep": stats.CallerSleep.Load(),
		"hostcall.leave":        stats.Leaves.Load(),
	}
}

// Start applies p: with p.Worker it starts the host I/O thread (once; a
// second Start changes nothing). Safe to call before any host call.
func Start(p Policy) error {
	if !p.Worker {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	if active.Load() != nil {
		return nil
	}
	if p.Spin <= 0 {
		p.Spin = DefaultSpin
	}
	if p.CallerSpin <= 0 {
		p.CallerSpin = DefaultCallerSpin
	}
	perNS := ticksPerNS()
	w := &worker{
		spinTicks:       int64(float64(p.Spin) * perNS),
		callerSpinTicks: int64(float64(p.CallerSpin) * perNS),
		busyTicks:       int64(float64(busyLimit) * perNS),
		backoffTicks:    int64(float64(backoff) * perNS),
	}
	if err := w.startThread(); err != nil {
		return err
	}
	started = append(started, w)
	active.Store(w)
	return nil
}

// Enabled reports whether the thread serves calls.
func Enabled() bool { return active.Load() != nil }

// busyLimit: a caller that finds the thread inside one call for longer
// than this makes its own call directly instead of queueing behind it (a
// slow disk read must not hold up every other thread's stat).
const busyLimit = 500 * time.Microsecond

// backoff is how long callers make their calls directly after one of them
// had to sleep for its result. Polling hand-offs need a free CPU for the
// thread; on a host whose CPUs are all busy (the caller's own vCPU thread
// among them) a hand-off waits for the scheduler, 50-100 us measured,
// worse than a VM exit on most hosts.
const backoff = 10 * time.Millisecond

// Syscall6 makes host syscall nr with args a1..a6, through the worker when
// it runs, and returns its result and errno. Pointer arguments must point
// to memory that stays put for the call: the caller converts them to
// uintptr in the call expression, which (as for syscall.Syscall) keeps
// them alive and on the heap.
//
//go:uintptrescapes
func Syscall6(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, unix.Errno) {
	w := active.Load()
	if w == nil {
		return direct(nr, a1, a2, a3, a4, a5, a6)
	}
	now := cputicks()
	if since := w.busySince.Load(); since != 0 && now-since > w.busyTicks || now < w.backoffUntil.Load() {
		return direct(nr, a1, a2, a3, a4, a5, a6)
	}
	s := w.claim()
	if s == nil {
		return direct(nr, a1, a2, a3, a4, a5, a6)
	}
	s.nr = nr
	s.args = [6]uintptr{a1, a2, a3, a4, a5, a6}
	s.state.Store(slotReady)
	w.pending.Add(1)
	if w.gate.Load() == 1 && w.gate.CompareAndSwap(1, 0) {
		stats.Wakes.Add(1)
		futexWake(&w.gate)
	}
	w.await(s)
	r1 := s.r1
	s.state.Store(slotFree)
	stats.Worker.Add(1)
	if r1 >= ^uintptr(4095) { // -4095..-1: -errno
		return ^uintptr(0), unix.Errno(-r1)
	}
	return r1, 0
}

func direct(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, unix.Errno) {
	leave()
	stats.Direct.Add(1)
	r1, _, errno := unix.Syscall6(nr, a1, a2, a3, a4, a5, a6)
	return r1, errno
}

// claim takes a free slot, or returns nil when all are in use.
func (w *worker) claim() *slot {
	start := w.next.Add(1)
	for i := uint32(0); i < nslots; i++ {
		s := &w.slots[(start+i)%nslots]
		if s.state.Load() == slotFree && s.state.CompareAndSwap(slotFree, slotFilling) {
			return s
		}
	}
	return nil
}

// await waits until the worker has finished s: spinning first, then
// sleeping on the slot's state word.
func (w *worker) await(s *slot) {
	deadline := cputicks() + w.callerSpinTicks
	for i := 0; ; i++ {
		if s.state.Load() == slotDone {
			return
		}
		if i&63 == 63 && cputicks() > deadline {
			break
		}
	}
	stats.CallerSleep.Add(1)
	w.backoffUntil.Store(cputicks() + w.backoffTicks)
	for {
		st := s.state.Load()
		if st == slotDone {
			return
		}
		if st&slotWaiterBit == 0 {
			if !s.state.CompareAndSwap(st, st|slotWaiterBit) {
				continue
			}
			st |= slotWaiterBit
		}
		futexWait(&s.state, st)
	}
}

// FUTEX_WAIT and FUTEX_WAKE with FUTEX_PRIVATE_FLAG.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

func futexWait(addr *atomic.Uint32, val uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(val), 0, 0, 0)
}

func futexWake(addr *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakePrivate, 1, 0, 0, 0)
}

// ticksPerNS measures the TSC's rate against the monotonic clock over
// about 200 us (a busy wait: Start runs once per sandbox).
func ticksPerNS() float64 {
	t0, c0 := time.Now(), cputicks()
	for time.Since(t0) < 200*time.Microsecond {
	}
	d, c := time.Since(t0), cputicks()-c0
	if d <= 0 || c <= 0 {
		return 1
	}
	return float64(c) / float64(d)
}
