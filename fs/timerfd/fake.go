package timerfd

import (
	"sort"
	"sync"
	"time"
)

// FakeClock is a Clock for tests: it reads what it was set to, and runs
// the scheduled calls that fall due, in order, when Advance moves it.
type FakeClock struct {
	mu    sync.Mutex
	now   time.Duration
	seq   int
	calls []*fakeCall
}

type fakeCall struct {
	at      time.Duration
	seq     int
	f       func()
	stopped bool
	c       *FakeClock
}

// NewFakeClock makes a fake clock reading now.
func NewFakeClock(now time.Duration) *FakeClock { return &FakeClock{now: now} }

// Now implements Clock.
func (c *FakeClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements Clock: f runs in the next Advance that reaches its
// time (Advance(0) for d <= 0), on Advance's goroutine.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	fc := &fakeCall{at: c.now + max(d, 0), seq: c.seq, f: f, c: c}
	c.calls = append(c.calls, fc)
	return fc
}

// Stop implements Stopper.
func (fc *fakeCall) Stop() bool {
	fc.c.mu.Lock()
	defer fc.c.mu.Unlock()
	was := !fc.stopped
	fc.stopped = true
	return was
}

// Pending returns how many scheduled calls have not run nor been stopped.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, fc := range c.calls {
		if !fc.stopped {
			n++
		}
	}
	return n
}

// Advance moves the clock by d, running every call that falls due (in
// the order of their times, each with the clock at its time), including
// calls they schedule.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now + d
	c.mu.Unlock()
	for {
		c.mu.Lock()
		live := c.calls[:0]
		for _, fc := range c.calls {
			if !fc.stopped {
				live = append(live, fc)
			}
		}
		c.calls = live
		sort.Slice(c.calls, func(i, j int) bool {
			a, b := c.calls[i], c.calls[j]
			return a.at < b.at || a.at == b.at && a.seq < b.seq
		})
		if len(c.calls) == 0 || c.calls[0].at > end {
			c.now = end
			c.mu.Unlock()
			return
		}
		fc := c.calls[0]
		c.calls = c.calls[1:]
		fc.stopped = true
		c.now = max(c.now, fc.at)
		c.mu.Unlock()
		fc.f()
	}
}
