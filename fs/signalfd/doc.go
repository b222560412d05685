// Package signalfd implements signalfd(2) objects: a file that reads the
// pending signals of a mask as struct signalfd_siginfo records, taking
// them as sigwaitinfo would, instead of having them delivered.
//
// Whose signals: those pending for the thread that reads (or polls) and
// for its process, as on Linux, so a signalfd inherited across fork reads
// the child's signals in the child. The file asks its Source for the
// calling thread each time. Waiters register on the calling process's
// signal queue, which the kernel notifies whenever a signal is queued for
// the process or one of its threads (an epoll set hears about the process
// that added the signalfd to it, as on Linux).
//
// Read returns EAGAIN when no signal of the mask is pending, and the
// syscall layer waits on the file's queue (fs.Waitable) unless the file is
// non-blocking. The mask can be changed while the file is open
// (signalfd(2) on an existing descriptor); SIGKILL and SIGSTOP are never
// in it.
package signalfd
