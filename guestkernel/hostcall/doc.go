// Package hostcall makes the Go kernel's host syscalls on file hot paths
// (hostfs: openat2, fstat, getdents64, pread, close, ...) without a VM exit.
//
// In ring0 mode the Go kernel runs in the guest, and a host syscall made
// there is a bounce: a VM exit, 30-60 us on PVM. Here a caller instead
// writes its request into a slot of a table in ordinary process memory,
// which the guest sees at the same address (host memory is mirrored), and a
// host worker thread, which never enters the guest, runs the syscall and
// writes the result back. The caller spins on the slot, and past a short
// limit sleeps on it with a futex (a bounce) until the worker wakes it.
//
// The worker spins for a while after its last request (Policy.Spin), then
// sleeps on a futex. A caller that finds it asleep wakes it with one
// futex syscall: a bounce from the guest. So an idle sandbox costs no CPU,
// and one doing I/O costs at most one more busy core.
//
// With the worker off (exit mode, one CPU, or --hostio=off) every call is a
// direct syscall; in ring0 mode the caller first leaves the guest (the
// platform's leave, SetLeave), so that call and the ones after it are
// plain host syscalls rather than a bounce each. Only syscalls whose meaning does not depend on the
// calling thread, and that do not block for long (no pipes, sockets or
// terminals: hostfs opens only regular files and directories), come here.
package hostcall
