package kernel

import (
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// SignalQueue is notified (waiter.ReadableEvents) whenever a signal is
// queued for the process or one of its threads: what a signalfd's
// waiters register on.
func (tg *ThreadGroup) SignalQueue() *waiter.Queue { return &tg.posix.sigQ }

// signalQueued wakes the signal queue's waiters; the caller has just
// queued a signal and holds no lock (waiters check readiness, which takes
// tg.mu).
func (tg *ThreadGroup) signalQueued() { tg.posix.sigQ.Notify(waiter.ReadableEvents) }

// Caller returns the task whose thread calls it (a task goroutine keeps
// its host thread), or nil when a goroutine that runs no task calls. It
// costs a host system call (a VM exit in ring0 mode): for files whose
// behaviour depends on the calling thread (signalfd), not for hot paths.
func (k *Kernel) Caller() *Task { return k.taskOnThread(unix.Gettid()) }
