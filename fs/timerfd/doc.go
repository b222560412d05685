// Package timerfd implements timerfd_create(2) objects: a timer on one of
// the host's clocks (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME) whose
// expirations are counted until read. A read takes the count as an
// unsigned 64-bit integer; it returns EAGAIN while the count is 0 and the
// syscall layer waits on the file's queue (fs.Waitable) unless the file is
// non-blocking. The file is readable (POLLIN) while the count is above 0.
//
// A timer is armed with a first expiration, relative or absolute (a
// reading of its clock), and an optional interval: a periodic timer counts
// every period that passed, including those nobody was waiting for, as
// Linux does. Arming or disarming resets the count.
//
// Clock is also what the kernel's POSIX timers count wall time on; tests
// give a fake one.
package timerfd
