// Package netstack is the sandbox's network: the socket families its
// kernel implements in Go. The program never gets a host socket; every
// socket it makes is an object of this package's families.
//
// A family's socket is the fs.Impl of an open file (so read, write,
// fstat, poll and epoll work on it as on any file) and implements Socket
// for the socket system calls. Operations never block: one that cannot
// proceed returns unix.EAGAIN, meaning "wait until the socket's own file
// is ready for this operation" (readable for a receive or an accept,
// writable for a send), or a *Blocked, meaning "wait on this other queue"
// (a connect to a listener whose backlog is full, a datagram to a full
// receiver). The syscall layer (syscalls/sys_socket.go) does the waiting,
// with the socket's timeouts, signals and O_NONBLOCK, as it does for
// pipes (docs/waits.md).
//
// Families:
//
//   - AF_UNIX (netstack/unix): stream, datagram and seqpacket sockets,
//     names in the sandbox's file tree and in the abstract namespace,
//     descriptor and credential passing.
//
// Internet families (AF_INET, AF_INET6) and netlink come later, as more
// implementations of Socket registered in the syscall layer's family
// table.
package netstack
