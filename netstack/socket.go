package netstack

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
)

// ScmMaxFD is SCM_MAX_FD: the most descriptors one message carries.
const ScmMaxFD = 253

// Cred is what a socket knows of a process: its ID and credentials.
type Cred struct {
	PID                              int32
	UID, EUID, SUID, GID, EGID, SGID uint32
}

// UCred is struct ucred: what SCM_CREDENTIALS and SO_PEERCRED carry.
type UCred struct {
	PID      int32
	UID, GID uint32
}

// NoUCred is the struct ucred of nobody (SO_PEERCRED of an unconnected
// socket): no process, IDs of -1.
var NoUCred = UCred{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}

// NodeKey identifies a socket node of the file tree (st_dev, st_ino).
type NodeKey struct {
	Dev, Ino uint64
}

// Context is what a socket operation knows of its caller (a task in a
// syscall).
type Context interface {
	// Cred returns the calling process's ID and credentials.
	Cred() Cred
	// FileLimit is the caller's RLIMIT_NOFILE: it bounds the files the
	// caller's sockets may have in flight (SCM_RIGHTS).
	FileLimit() int
	// BindPath makes a socket node at path in the file tree and returns
	// its identity, and a function that removes it again (when the bind
	// fails after all). EADDRINUSE when the name exists.
	BindPath(path string) (NodeKey, func(), error)
	// LookupPath finds the socket node at path (the caller needs write
	// permission on it): ECONNREFUSED when it is not a socket node.
	LookupPath(path string) (NodeKey, error)
}

// Control is the ancillary data of a message.
type Control struct {
	// Rights are the files of SCM_RIGHTS. A sent message holds a
	// reference on each; a received one hands its references to the
	// caller.
	Rights []*fs.File
	// Cred is SCM_CREDENTIALS, when present.
	Cred *UCred
}

// Release drops the references of c's files.
func (c *Control) Release() {
	for _, f := range c.Rights {
		f.DecRef()
	}
	c.Rights = nil
}

// RecvResult is what a receive got.
type RecvResult struct {
	// N is the number of bytes copied.
	N int
	// Len is the length of the message for datagram-like sockets (more
	// than N when it was truncated), N for streams.
	Len int
	// Flags are the msg_flags bits to report (MSG_TRUNC, MSG_CTRUNC ...).
	Flags int
	// From is the sender's address (nil: none known).
	From []byte
	// Control is the ancillary data; its references are the caller's.
	Control Control
	// Boundary says that the data may not be continued by more data
	// (descriptors came with it, or, with SO_PASSCRED, the next data is
	// from another sender): a MSG_WAITALL receive ends there.
	Boundary bool
}

// Socket is what a socket file of any family implements, beyond fs.Impl
// and fs.Waitable. Addresses are struct sockaddr bytes as the program
// passed them; errors are unix.Errno (or *Blocked, see the package doc).
type Socket interface {
	fs.Impl
	fs.Waitable

	// Family, Type and Protocol are SO_DOMAIN, SO_TYPE and SO_PROTOCOL.
	Family() int
	Type() int
	Protocol() int

	Bind(ctx Context, addr []byte) error
	Connect(ctx Context, addr []byte) error
	Listen(ctx Context, backlog int) error
	// Accept takes the next connection: the new socket and the peer's
	// address.
	Accept(ctx Context) (Socket, []byte, error)
	Shutdown(ctx Context, how int) error
	// SockName and PeerName are getsockname and getpeername.
	SockName() []byte
	PeerName() ([]byte, error)

	// SendMsg sends data (to the address to, if not nil) with the
	// ancillary data ctl (nil: none) and returns the bytes taken. A
	// stream may take part of data; ctl then went with the part taken.
	// flags are MSG_* bits.
	SendMsg(ctx Context, data []byte, to []byte, ctl *Control, flags int) (int, error)
	// RecvMsg receives into dst. prev is the result so far of the same
	// MSG_WAITALL receive (nil for the first step).
	RecvMsg(ctx Context, dst []byte, flags int, prev *RecvResult) (RecvResult, error)

	// GetSockOpt returns the value of an option (the caller truncates it
	// to the program's buffer); SetSockOpt sets one.
	GetSockOpt(ctx Context, level, name int) ([]byte, error)
	SetSockOpt(ctx Context, level, name int, val []byte) error
	// Ioctl answers the integer socket ioctls (SIOCINQ, SIOCOUTQ ...):
	// unix.ENOTTY for others.
	Ioctl(req uint) (int, error)
	// Timeouts are SO_RCVTIMEO and SO_SNDTIMEO (0: none).
	Timeouts() (recv, send time.Duration)
}

// Blocked is the error of an operation that must wait for something
// other than its own socket's readiness: the caller registers an entry
// for Mask on Queue, and retries once Ready reports true (or on a
// notification).
type Blocked struct {
	Queue *waiter.Queue
	Mask  waiter.EventMask
	Ready func() bool
}

func (b *Blocked) Error() string { return unix.EAGAIN.Error() }

// Unwrap makes errors.Is(b, unix.EAGAIN) true.
func (b *Blocked) Unwrap() error { return unix.EAGAIN }

// quietEPIPE is EPIPE without SIGPIPE: what writes to a datagram or
// seqpacket socket return, as Linux sends SIGPIPE only for streams. It is
// unix.EPIPE to errors.As, so the program sees EPIPE, but not == to it,
// so the generic write path sends no signal.
type quietEPIPE struct{}

func (quietEPIPE) Error() string { return unix.EPIPE.Error() }

// As makes errors.As(err, *unix.Errno) find EPIPE.
func (quietEPIPE) As(target any) bool {
	if e, ok := target.(*unix.Errno); ok {
		*e = unix.EPIPE
		return true
	}
	return false
}

// Is makes errors.Is(err, unix.EPIPE) true.
func (quietEPIPE) Is(target error) bool { return target == unix.EPIPE }

// ErrPipeNoSignal is EPIPE that must not send SIGPIPE.
var ErrPipeNoSignal error = quietEPIPE{}

// sockfsDev is the st_dev of sockets (Linux's sockfs is an anonymous
// superblock too).
const sockfsDev = 0x8

var nextIno atomic.Uint64

func init() { nextIno.Store(20000) }

// NewIno numbers a new socket ("socket:[N]", its st_ino).
func NewIno() uint64 { return nextIno.Add(1) }

// Stat is the fstat of a socket numbered ino, made by uid/gid at
// created.
func Stat(ino uint64, uid, gid uint32, created unix.Timespec) unix.Stat_t {
	st := unix.Stat_t{Dev: sockfsDev, Ino: ino, Nlink: 1, Mode: unix.S_IFSOCK | 0o777,
		Uid: uid, Gid: gid, Blksize: 4096, Atim: created, Mtim: created, Ctim: created}
	return st
}
