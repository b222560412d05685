// Package kernel owns the running sandbox: the Kernel (platform, memory
// file, clocks, syscall table), tasks (threads), thread groups (processes),
// their signal state and exit statuses, and the task loop that runs user
// code, dispatches its syscalls and faults, and delivers signals.
package kernel
