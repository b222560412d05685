// Package unix implements AF_UNIX sockets for the sandbox's kernel:
// SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET, as Linux has them. Nothing
// here touches the host: a socket is a Go object, its name lives in the
// sandbox's file tree (a socket node that bind makes through
// fs.NodeMaker) or in the sandbox's abstract namespace.
//
// # Names
//
// A Namespace holds one sandbox's names: abstract names (a sun_path
// starting with a NUL byte, autobind's "\0" + 5 hex digits among them)
// and the sockets bound to path nodes, keyed by the node's st_dev and
// st_ino, so that a renamed or hard-linked node still reaches its socket
// and an unlinked one no longer does (a new bind at that path makes a new
// node). bind on an existing name is EADDRINUSE; connect to a node with
// no socket listening, or to a name nobody has, is ECONNREFUSED. A
// socket is autobound by bind with only the family, and, as on Linux, by
// connect or an unconnected send of a socket with SO_PASSCRED.
//
// # Connections
//
// connect of a stream or seqpacket socket makes the server's end at
// once (as Linux's "embryo") and queues it on the listener, at most
// backlog+1 of them; the client is connected before accept, and what it
// sends waits in the new socket. A full backlog blocks the connect (or
// EAGAIN). Closing a listener resets the connections it never accepted
// (ECONNRESET); closing a socket with unread data resets its peer; a
// closed peer is end of file (and EPIPE, with SIGPIPE for streams, for
// writers). Datagram sockets may connect to a peer (AF_UNSPEC
// disconnects); a datagram to a socket connected elsewhere is EPERM.
//
// # Data
//
// A stream's data is a queue of the sends (each at most about 36 KiB,
// as Linux's skbs); a receive reads across them, but never past one that
// carried descriptors, nor, with SO_PASSCRED, across data of another
// sender. Datagrams and seqpackets keep their boundaries; a short buffer
// truncates one (MSG_TRUNC). Every message charges its sender's send
// buffer (SO_SNDBUF, with Linux's per-message overhead) until it is read:
// a sender blocks, or gets EAGAIN, once the charge reaches the buffer; a
// stream is writable (POLLOUT) when at most a quarter is used, as Linux.
// A datagram receiver also holds at most max_dgram_qlen+1 (11) messages
// from senders it is not connected to.
//
// SCM_RIGHTS passes open files: a message holds a reference on each (at
// most SCM_MAX_FD, 253, per message; the sandbox's files in flight are
// bounded by the sender's RLIMIT_NOFILE, ETOOMANYREFS beyond); they go to
// the receiver or are dropped when the message is. SCM_CREDENTIALS and
// SO_PEERCRED carry process IDs and credentials. Cycles of sockets in
// flight in each other's queues are not collected (Linux has a garbage
// collector for them); the in-flight bound limits what they can hold.
//
// # Locking
//
// Namespace.mu serializes every change of names and connections (bind,
// connect, listen, accept, shutdown, release). Each socket's mu guards
// its own fields; whoever changes a field that another path reads holds
// both. No path holds two sockets' locks at once, and nothing notifies a
// queue or drops a file reference with a lock held.
package unix
