package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tty"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

// pollInterval is how often a waiter re-checks files that do not notify
// (host descriptors) while it waits on others.
const pollInterval = 10 * time.Millisecond

// wake says why a sleeper returned.
type wake int

const (
	wakeNotified wake = iota // a notification, a poll tick or a spurious wake: check again
	wakeTimeout              // the deadline passed
	wakeSignal               // a signal (or exit) is pending
)

// sleeper blocks a task in a wait on files: until a notification on its
// channel, the deadline, a signal, or the next poll tick.
type sleeper struct {
	t        *kernel.Task
	timer    *time.Timer
	deadline <-chan time.Time
	until    time.Time // when the deadline passes (zero: never)
	expired  bool
	ticker   *time.Ticker
}

// newSleeper starts the deadline: timeout < 0 waits without one.
func newSleeper(t *kernel.Task, timeout time.Duration) *sleeper {
	s := &sleeper{t: t}
	switch {
	case timeout == 0:
		s.expired = true
	case timeout > 0:
		s.until = time.Now().Add(timeout)
		s.timer = time.NewTimer(timeout)
		s.deadline = s.timer.C
	}
	return s
}

// remaining returns the time left before the deadline, or -1 without one.
func (s *sleeper) remaining() time.Duration {
	switch {
	case s.expired:
		return 0
	case s.until.IsZero():
		return -1
	}
	return max(time.Until(s.until), 0)
}

// stop releases the timers.
func (s *sleeper) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.ticker != nil {
		s.ticker.Stop()
	}
}

// check reports, without waiting, a pending signal or a passed deadline.
func (s *sleeper) check() wake {
	if s.t.SignalPending() {
		return wakeSignal
	}
	if s.expired {
		return wakeTimeout
	}
	select {
	case <-s.deadline:
		s.expired = true
		return wakeTimeout
	default:
	}
	return wakeNotified
}

// sleep waits once. poll asks to come back after pollInterval at the
// latest, to re-check files that do not notify.
func (s *sleeper) sleep(ch <-chan struct{}, poll bool) wake {
	if w := s.check(); w != wakeNotified {
		return w
	}
	var tick <-chan time.Time
	if poll {
		if s.ticker == nil {
			s.ticker = time.NewTicker(pollInterval)
		}
		tick = s.ticker.C
	}
	if !poll && kernel.SpinWait(ch, time.Time{}) {
		// The notification came within the spin (a ping-pong peer):
		// no block, no VM exit on either side.
		return wakeNotified
	}
	select {
	case <-ch:
	case <-tick:
	case <-s.t.Interrupted():
		if s.t.SignalPending() {
			return wakeSignal
		}
	case <-s.deadline:
		s.expired = true
		return wakeTimeout
	}
	return wakeNotified
}

// waitReady blocks until f has one of the events of mask (or an error or
// hang-up). A signal ends the wait with ErrRestartSys, the code of
// interrupted reads and writes.
func waitReady(t *kernel.Task, f *fs.File, mask waiter.EventMask) error {
	return waitReadyFor(t, f, mask|waiter.EventErr|waiter.EventHup, -1)
}

// waitReadyFor is waitReady for at most timeout (< 0: no limit):
// ETIMEDOUT when it passes.
func waitReadyFor(t *kernel.Task, f *fs.File, mask waiter.EventMask, timeout time.Duration) error {
	e, ch := waiter.NewChannelEntry(mask)
	fs.EventRegister(f, e)
	defer fs.EventUnregister(f, e)
	s := newSleeper(t, timeout)
	defer s.stop()
	for fs.Readiness(f, mask) == 0 {
		switch s.sleep(ch, fs.NeedsPolling(f)) {
		case wakeSignal:
			return kernel.ErrRestartSys
		case wakeTimeout:
			return unix.ETIMEDOUT
		}
	}
	return nil
}

// nonBlocking reports whether f is in non-blocking mode.
func nonBlocking(f *fs.File) bool { return f.Flags()&unix.O_NONBLOCK != 0 }

// blockingRead returns the read function a syscall uses for f: for a file
// that notifies and is not O_NONBLOCK, it waits while the file has
// nothing to read (EAGAIN).
func blockingRead(t *kernel.Task, f *fs.File) func([]byte) (int, error) {
	if s, ok := f.Impl.(*tty.Slave); ok {
		return ttyRead(t, f, s)
	}
	if _, ok := f.Impl.(fs.Waitable); !ok {
		return f.Read
	}
	return func(b []byte) (int, error) {
		for {
			n, err := f.Read(b)
			if err != unix.EAGAIN || nonBlocking(f) {
				return n, err
			}
			if err := waitReady(t, f, waiter.ReadableEvents); err != nil {
				return 0, err
			}
		}
	}
}

// blockingWrite returns the write function a syscall uses for f: for a
// file that notifies and is not O_NONBLOCK, it writes everything, waiting
// for room whenever the file takes no more (EAGAIN). A signal after part
// of the data went out ends it with the count written. EPIPE after a
// partial write sends SIGPIPE and returns the count; without one it is
// returned for the caller to send SIGPIPE.
func blockingWrite(t *kernel.Task, f *fs.File) func([]byte) (int, error) {
	if s, ok := f.Impl.(*tty.Slave); ok {
		return ttyWrite(t, f, s)
	}
	return blockingWriteFile(t, f)
}

// blockingWriteFile is blockingWrite without the terminal's job control.
func blockingWriteFile(t *kernel.Task, f *fs.File) func([]byte) (int, error) {
	if _, ok := f.Impl.(fs.Waitable); !ok {
		return f.Write
	}
	return func(b []byte) (int, error) {
		done := 0
		for {
			n, err := f.Write(b[done:])
			done += max(n, 0)
			switch {
			case err == nil:
				return done, nil
			case err == unix.EPIPE && done > 0:
				sendSIGPIPE(t)
				return done, nil
			case err != unix.EAGAIN || nonBlocking(f) || done == len(b):
				if done > 0 {
					return done, nil
				}
				return 0, err
			}
			if werr := waitReady(t, f, waiter.WritableEvents); werr != nil {
				if done > 0 {
					return done, nil
				}
				return 0, werr
			}
		}
	}
}

// sendSIGPIPE sends SIGPIPE to the writing thread, as Linux does for a
// write to a pipe without readers (si_code SI_USER from the writer).
func sendSIGPIPE(t *kernel.Task) {
	t.SendSignalInfo(kernel.SigInfo{Signo: int32(unix.SIGPIPE), Code: kernel.SIUser, PID: t.TG.PID,
		UID: t.TG.Creds().UID})
}
