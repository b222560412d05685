package kernel

import "time"

// WaitSpin is how long a task polls for the wake it waits for before it
// blocks (SpinWait). Threads and processes that hand a lock, a turn or a
// message back and forth (a mutex, a condition variable, a pipe or socket
// between a client and a server) mostly wake each other within
// microseconds; blocking costs a wake-up of the waiter's host thread and,
// in ring0 mode, a VM exit on each side (the waiter's vCPU leaves the
// guest, and the waker's wake-up of the parked thread is a host syscall
// from the guest). PVM, ring0: a futex ping-pong between two threads took
// 155 us a switch blocking at once, 5.6 us spinning first (native: 14.5).
const WaitSpin = 50 * time.Microsecond

// SpinWait polls ch for up to WaitSpin (not past deadline, unless it is
// zero) and reports whether it received. The task's vCPU stays busy
// meanwhile; a signal is seen when the wait blocks, at most WaitSpin late.
func SpinWait(ch <-chan struct{}, deadline time.Time) bool {
	end := time.Now().Add(WaitSpin)
	if !deadline.IsZero() && deadline.Before(end) {
		end = deadline
	}
	for i := 0; ; i++ {
		select {
		case <-ch:
			return true
		default:
		}
		if i%64 == 63 && time.Now().After(end) {
			return false
		}
	}
}
