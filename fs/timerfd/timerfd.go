package timerfd

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// anonIno is the inode number of anonymous-inode files (one shared inode,
// as on Linux).
const anonIno = 1

// TimerFD is the fs.Impl of a timerfd.
type TimerFD struct {
	clock Clock

	mu       sync.Mutex
	armed    bool
	next     time.Duration // the clock's reading at the next expiration
	interval time.Duration // 0: one-shot
	ticks    uint64        // expirations not read yet
	gen      uint64        // bumped by Set and Release: older wake-ups do nothing
	wake     Stopper
	released bool

	q waiter.Queue
}

// New makes a disarmed timer on clock c.
func New(c Clock) *TimerFD {
	return &TimerFD{clock: c}
}

// Set arms the timer to expire at value (a reading of the clock if abs,
// else the time from now) and then every interval (0: once); a value of 0
// disarms it. The count of expirations goes back to 0. It returns the
// setting it replaced, as Get.
func (t *TimerFD) Set(value, interval time.Duration, abs bool) (oldValue, oldInterval time.Duration) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advanceLocked(now)
	oldValue, oldInterval = t.remainingLocked(now), t.interval
	t.gen++
	if t.wake != nil {
		t.wake.Stop()
		t.wake = nil
	}
	t.ticks = 0
	t.armed = false
	t.interval = 0
	if value <= 0 || t.released {
		return oldValue, oldInterval
	}
	t.armed = true
	t.interval = interval
	if abs {
		t.next = value
	} else {
		t.next = addSat(now, value)
	}
	// An absolute time already past expires at once (and counts the
	// periods since, at the next look).
	t.scheduleLocked(now)
	return oldValue, oldInterval
}

// Get returns the time until the next expiration (0: disarmed) and the
// interval.
func (t *TimerFD) Get() (value, interval time.Duration) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advanceLocked(now)
	return t.remainingLocked(now), t.interval
}

// remainingLocked is the time left before the next expiration; t.mu is
// held and the timer advanced to now.
func (t *TimerFD) remainingLocked(now time.Duration) time.Duration {
	if !t.armed {
		return 0
	}
	// Advanced to now: an armed timer expires in the future. A timer
	// that never comes back (saturated) reports the longest time.
	return max(t.next-now, 1)
}

// Ticks returns the expirations not read yet (for tests and fdinfo).
func (t *TimerFD) Ticks() uint64 {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advanceLocked(now)
	return t.ticks
}

// advanceLocked counts the expirations up to now: a periodic timer moves
// to its next expiration after now, a one-shot one disarms. It reports
// whether any expired. t.mu is held.
func (t *TimerFD) advanceLocked(now time.Duration) bool {
	if !t.armed || now < t.next {
		return false
	}
	if t.interval <= 0 {
		t.armed = false
		t.ticks = addTicks(t.ticks, 1)
		return true
	}
	n := uint64((now-t.next)/t.interval) + 1
	t.ticks = addTicks(t.ticks, n)
	if n > uint64(math.MaxInt64/t.interval) {
		// The next expiration is past what a Duration holds: never.
		t.next = math.MaxInt64
	} else {
		t.next = addSat(t.next, time.Duration(n)*t.interval)
	}
	return true
}

// scheduleLocked arranges a wake-up at the next expiration. t.mu is held.
func (t *TimerFD) scheduleLocked(now time.Duration) {
	if !t.armed || t.next == math.MaxInt64 {
		return
	}
	gen := t.gen
	t.wake = t.clock.AfterFunc(t.next-now, func() { t.fire(gen) })
}

// fire runs at an expiration: it counts it, schedules the next one and
// wakes the waiters.
func (t *TimerFD) fire(gen uint64) {
	now := t.clock.Now()
	t.mu.Lock()
	if t.gen != gen || t.released {
		t.mu.Unlock()
		return
	}
	t.wake = nil
	t.advanceLocked(now)
	t.scheduleLocked(now)
	// Notify even when a reader or poller counted this expiration
	// first: other waiters (an epoll set) learn of it only from here.
	ready := t.ticks > 0
	t.mu.Unlock()
	if ready {
		t.q.Notify(waiter.ReadableEvents)
	}
}

// addSat adds without going past the largest Duration.
func addSat(a, b time.Duration) time.Duration {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func addTicks(a, n uint64) uint64 {
	if a > math.MaxUint64-n {
		return math.MaxUint64
	}
	return a + n
}

// Read implements fs.Impl: dst must hold 8 bytes (else EINVAL); it gets
// the number of expirations since the last read, which goes back to 0.
// EAGAIN while there were none.
func (t *TimerFD) Read(dst []byte) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	now := t.clock.Now()
	t.mu.Lock()
	t.advanceLocked(now)
	v := t.ticks
	t.ticks = 0
	t.mu.Unlock()
	if v == 0 {
		return 0, unix.EAGAIN
	}
	binary.LittleEndian.PutUint64(dst, v)
	return 8, nil
}

// Write implements fs.Impl: a timerfd cannot be written.
func (t *TimerFD) Write([]byte) (int, error) { return 0, unix.EINVAL }

// Pread implements fs.Impl.
func (t *TimerFD) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (t *TimerFD) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl: seeking does nothing (noop_llseek).
func (t *TimerFD) Seek(int64, int) (int64, error) { return 0, nil }

// Stat implements fs.Impl: an anonymous inode, mode 0600.
func (t *TimerFD) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: anonIno, Nlink: 1, Mode: 0o600, Blksize: 4096}, nil
}

// IsTerminal implements fs.Impl.
func (t *TimerFD) IsTerminal() bool { return false }

// Poll implements fs.Impl without waiting.
func (t *TimerFD) Poll(mask int16, _ int) (int16, error) {
	return int16(t.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable: readable once the timer has expired
// since the last read.
func (t *TimerFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advanceLocked(now)
	if t.ticks > 0 {
		return waiter.ReadableEvents & mask
	}
	return 0
}

// EventRegister implements fs.Waitable.
func (t *TimerFD) EventRegister(e *waiter.Entry) { t.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (t *TimerFD) EventUnregister(e *waiter.Entry) { t.q.Unregister(e) }

// Name implements fs.Namer.
func (t *TimerFD) Name() string { return "anon_inode:[timerfd]" }

// Release implements fs.Impl: the timer stops.
func (t *TimerFD) Release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.released = true
	t.armed = false
	t.gen++
	if t.wake != nil {
		t.wake.Stop()
		t.wake = nil
	}
}
