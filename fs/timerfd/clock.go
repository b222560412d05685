package timerfd

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Clock is a clock a timer counts on.
type Clock interface {
	// Now returns the clock's reading (nanoseconds since its epoch).
	Now() time.Duration
	// AfterFunc calls f on its own goroutine once the clock has advanced
	// by d (at once if d <= 0), unless the returned Stopper is stopped
	// first.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper cancels a call scheduled with Clock.AfterFunc.
type Stopper interface {
	// Stop prevents the call if it has not started; it reports whether
	// it did.
	Stop() bool
}

// hostClock is one of the host's wall clocks. Readings other than
// CLOCK_REALTIME's are derived from Go's monotonic time (CLOCK_MONOTONIC)
// and an offset taken once, so reading a clock needs no system call (one
// made from the Go kernel in the guest costs a VM exit).
type hostClock struct {
	realtime bool
	offset   time.Duration // the clock's reading at base
}

var (
	// base is the time the offsets of the clocks are measured against.
	base        = time.Now()
	realClock   = &hostClock{realtime: true}
	monoClock   = &hostClock{}
	bootClock   = &hostClock{}
	offsetsOnce sync.Once
)

// hostReading reads host clock id.
func hostReading(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// initOffsets reads CLOCK_MONOTONIC and CLOCK_BOOTTIME once, against base.
func initOffsets() {
	offsetsOnce.Do(func() {
		since := time.Since(base)
		monoClock.offset = hostReading(unix.CLOCK_MONOTONIC) - since
		bootClock.offset = hostReading(unix.CLOCK_BOOTTIME) - since
	})
}

// SystemClock returns the host clock id: CLOCK_REALTIME (CLOCK_TAI reads
// the same in the sandbox), CLOCK_MONOTONIC or CLOCK_BOOTTIME, or nil for
// any other clock.
func SystemClock(id int32) Clock {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_TAI:
		return realClock
	case unix.CLOCK_MONOTONIC:
		initOffsets()
		return monoClock
	case unix.CLOCK_BOOTTIME:
		initOffsets()
		return bootClock
	}
	return nil
}

// Now implements Clock.
func (c *hostClock) Now() time.Duration {
	if c.realtime {
		return time.Duration(time.Now().UnixNano())
	}
	return c.offset + time.Since(base)
}

// AfterFunc implements Clock with a Go timer (on Go's monotonic time: a
// change of the host's wall clock does not move a CLOCK_REALTIME timer).
func (c *hostClock) AfterFunc(d time.Duration, f func()) Stopper {
	return time.AfterFunc(max(d, 0), f)
}
