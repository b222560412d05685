package timerfd

import (
	"sync"
	"time"
	_ "unsafe" // go:linkname

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

// hostClock is one of the host's clocks. CLOCK_MONOTONIC is Go's own
// monotonic clock (runtime.nanotime: the host's CLOCK_MONOTONIC read
// through the host's vDSO, to the nanosecond, and with no system call, so
// no VM exit from the Go kernel in the guest). It is exactly what a
// program reads through the sandbox's vDSO where that runs the host's
// clock code (package vdso): a deadline a program computes from its own
// reading is one the kernel's timers agree with. CLOCK_REALTIME is Go's
// wall clock (the host's, the same way). CLOCK_BOOTTIME is CLOCK_MONOTONIC
// plus the difference of the two taken once (the sandbox sees no suspend).
type hostClock struct {
	realtime bool
	offset   time.Duration // added to CLOCK_MONOTONIC
}

var (
	realClock   = &hostClock{realtime: true}
	monoClock   = &hostClock{}
	bootClock   = &hostClock{}
	offsetsOnce sync.Once
)

// nanotime is the Go runtime's monotonic clock.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// hostReading reads host clock id.
func hostReading(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Offset returns the difference between host clock id and CLOCK_MONOTONIC,
// measured once: id is read between two readings of CLOCK_MONOTONIC and
// compared with their middle.
func Offset(id int32) time.Duration {
	before := nanotime()
	r := hostReading(id)
	after := nanotime()
	return r - time.Duration(before+(after-before)/2)
}

// initOffsets measures CLOCK_BOOTTIME's offset once.
func initOffsets() {
	offsetsOnce.Do(func() {
		bootClock.offset = Offset(unix.CLOCK_BOOTTIME)
	})
}

// Monotonic reads CLOCK_MONOTONIC.
func Monotonic() time.Duration { return time.Duration(nanotime()) }

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
	return c.offset + time.Duration(nanotime())
}

// AfterFunc implements Clock with a Go timer (on Go's monotonic time: a
// change of the host's wall clock does not move a CLOCK_REALTIME timer).
func (c *hostClock) AfterFunc(d time.Duration, f func()) Stopper {
	return time.AfterFunc(max(d, 0), f)
}
