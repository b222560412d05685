// Package syscalls is the system-call table: number -> handler, argument
// decoding, errno mapping and strace-style tracing. One file per syscall
// family (sys_*.go); handlers reach user memory only through the task's
// memory manager.
package syscalls
