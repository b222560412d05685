// Package seccomp owns the pure part of seccomp(2) filter mode: the
// validation of classic BPF filters with the rules Linux applies to seccomp
// filters (Check), the interpreter that evaluates a checked filter against a
// struct seccomp_data (Program.Run), the immutable per-task stacks of
// filters with Linux's path-length limit and action precedence (Chain), and a
// per-syscall-number cache of results that depend only on the syscall
// number and architecture.
//
// Nothing here touches tasks, registers or signals. The kernel builds a Data
// from the trapping task's registers, calls Chain.Evaluate and then carries
// out the action it returns (errno, SIGSYS, ptrace event, kill, log). Like
// Linux, it should treat any action value it does not know as
// SECCOMP_RET_KILL_PROCESS. no_new_privs, TSYNC, user notification and the
// flag checks of seccomp(2) are also the caller's business.
//
// Errors are unix.Errno values, as seccomp(2) would return them: EINVAL for
// a filter Linux refuses, ENOMEM for a stack whose total length would pass
// MAX_INSNS_PER_PATH.
package seccomp
