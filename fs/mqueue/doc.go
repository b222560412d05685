// Package mqueue is POSIX message queues (mq_overview(7)): a sandbox's
// Namespace of named queues, each a priority-ordered list of messages
// bounded in count and size, and the mqueue filesystem that shows them
// (mounted at /dev/mqueue).
//
// As the package's other files, a Queue never blocks: a send to a full
// queue or a receive from an empty one is EAGAIN, and the syscall layer
// (syscalls/sys_mqueue.go) waits on the open queue's readiness with the
// caller's timeout and signals (docs/waits.md). Notification (mq_notify)
// is a registration the queue keeps; Send reports when it fires, and the
// syscall layer sends the signal.
//
// Limits: every queue's messages are charged to its creator's
// RLIMIT_MSGQUEUE as Linux counts them (the message bytes plus a pointer
// per message), and a namespace holds at most QueuesMax queues.
package mqueue
