package syscalls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
	"ringbox/netstack"
)

func init() {
	register(unix.SYS_SOCKET, sysSocket)
	register(unix.SYS_SOCKETPAIR, sysSocketpair)
	register(unix.SYS_BIND, sysBind)
	register(unix.SYS_CONNECT, sysConnect)
	register(unix.SYS_LISTEN, sysListen)
	register(unix.SYS_ACCEPT, func(t *kernel.Task, a Args) (uintptr, error) { return doAccept(t, a[0], a[1], a[2], 0) })
	register(unix.SYS_ACCEPT4, func(t *kernel.Task, a Args) (uintptr, error) { return doAccept(t, a[0], a[1], a[2], int(int32(a[3]))) })
	register(unix.SYS_SHUTDOWN, sysShutdown)
	register(unix.SYS_GETSOCKNAME, func(t *kernel.Task, a Args) (uintptr, error) { return sockName(t, a, false) })
	register(unix.SYS_GETPEERNAME, func(t *kernel.Task, a Args) (uintptr, error) { return sockName(t, a, true) })
	register(unix.SYS_GETSOCKOPT, sysGetsockopt)
	register(unix.SYS_SETSOCKOPT, sysSetsockopt)
	register(unix.SYS_SENDTO, sysSendto)
	register(unix.SYS_RECVFROM, sysRecvfrom)
	register(unix.SYS_SENDMSG, sysSendmsg)
	register(unix.SYS_RECVMSG, sysRecvmsg)
	register(unix.SYS_SENDMMSG, sysSendmmsg)
	register(unix.SYS_RECVMMSG, sysRecvmmsg)
}

// Limits of the socket calls, as Linux's.
const (
	// afMax is NPROTO: families at or above it are EAFNOSUPPORT.
	afMax = 46
	// sockMax is SOCK_MAX: types at or above it are EINVAL.
	sockMax = 11
	// sockaddrMax is sizeof(struct sockaddr_storage).
	sockaddrMax = 128
	// optMax bounds the option values setsockopt reads.
	optMax = 1024
	// controlMax is net.core.optmem_max: a bigger msg_controllen is
	// ENOBUFS.
	controlMax = 131072
	// dgramMax bounds the datagram a send copies in (more is EMSGSIZE).
	dgramMax = 8 << 20
	// mmsgMax is UIO_MAXIOV: sendmmsg and recvmmsg do at most this many.
	mmsgMax = 1024
	// msghdrSize and mmsghdrSize are the x86-64 struct sizes.
	msghdrSize  = 56
	mmsghdrSize = 64
	cmsgHdrSize = 16
)

// socketFamily makes the sockets of one address family.
type socketFamily struct {
	// create makes a socket of type typ (SOCK_*, flags removed).
	create func(t *kernel.Task, typ, protocol int) (netstack.Socket, error)
	// pair makes two connected sockets (socketpair); nil: EOPNOTSUPP.
	pair func(t *kernel.Task, typ, protocol int) (netstack.Socket, netstack.Socket, error)
}

// socketFamilies are the address families the sandbox has, by AF_*; the
// others are EAFNOSUPPORT. Each family's sys_socket_<family>.go adds
// itself with registerFamily.
var socketFamilies = map[int]socketFamily{}

func registerFamily(af int, f socketFamily) {
	if _, dup := socketFamilies[af]; dup {
		panic("socket family registered twice")
	}
	socketFamilies[af] = f
}

// sockCtx is a task in a socket call: what netstack.Context asks of it.
// The file-tree operations of AF_UNIX are in sys_socket_unix.go.
type sockCtx struct{ t *kernel.Task }

// Cred implements netstack.Context.
func (c sockCtx) Cred() netstack.Cred {
	cr := c.t.TG.Creds()
	return netstack.Cred{PID: c.t.TG.PID, UID: cr.UID, EUID: cr.EUID, SUID: cr.SUID,
		GID: cr.GID, EGID: cr.EGID, SGID: cr.SGID}
}

// FileLimit implements netstack.Context.
func (c sockCtx) FileLimit() int { return c.t.TG.FDs.Limit() }

// socketArgs splits socket(2)'s type into the type and the flags, and
// checks the family and type ranges as Linux does.
func socketArgs(domain, typ int) (int, int, error) {
	flags := typ &^ 0xf
	typ &= 0xf
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, 0, unix.EINVAL
	}
	if domain < 0 || domain >= afMax {
		return 0, 0, unix.EAFNOSUPPORT
	}
	if typ >= sockMax {
		return 0, 0, unix.EINVAL
	}
	return typ, flags, nil
}

// installSocket gives s a file and a descriptor.
func installSocket(t *kernel.Task, s netstack.Socket, flags int) (int, error) {
	f := fs.NewFile(s, unix.O_RDWR|flags&unix.SOCK_NONBLOCK)
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.SOCK_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return fd, nil
}

func sysSocket(t *kernel.Task, a Args) (uintptr, error) {
	typ, flags, err := socketArgs(int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	fam, ok := socketFamilies[int(int32(a[0]))]
	if !ok {
		return 0, unix.EAFNOSUPPORT
	}
	s, err := fam.create(t, typ, int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	fd, err := installSocket(t, s, flags)
	return uintptr(fd), err
}

func sysSocketpair(t *kernel.Task, a Args) (uintptr, error) {
	typ, flags, err := socketArgs(int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	fam, ok := socketFamilies[int(int32(a[0]))]
	if !ok {
		return 0, unix.EAFNOSUPPORT
	}
	if fam.pair == nil {
		return 0, unix.EOPNOTSUPP
	}
	s1, s2, err := fam.pair(t, typ, int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	fd1, err := installSocket(t, s1, flags)
	if err != nil {
		s2.Release()
		return 0, err
	}
	fd2, err := installSocket(t, s2, flags)
	if err != nil {
		_ = t.TG.FDs.Remove(fd1)
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(fd1))
	binary.LittleEndian.PutUint32(b[4:], uint32(fd2))
	if _, err := t.MM.CopyOut(a[3], b[:]); err != nil {
		_ = t.TG.FDs.Remove(fd1)
		_ = t.TG.FDs.Remove(fd2)
		return 0, unix.EFAULT
	}
	return 0, nil
}

// socketFile returns the socket at fd: EBADF, or ENOTSOCK for another
// file.
func socketFile(t *kernel.Task, fd uintptr) (*fs.File, netstack.Socket, error) {
	f, err := t.File(int(int32(fd)))
	if err != nil {
		return nil, nil, err
	}
	s, ok := f.Impl.(netstack.Socket)
	if !ok {
		return nil, nil, unix.ENOTSOCK
	}
	return f, s, nil
}

// copySockaddr reads an address argument of addrlen bytes (bind, connect,
// sendto): EINVAL when the length is negative or too big.
func copySockaddr(t *kernel.Task, addr uintptr, addrlen int) ([]byte, error) {
	if addrlen < 0 || addrlen > sockaddrMax {
		return nil, unix.EINVAL
	}
	b := make([]byte, addrlen)
	if addrlen > 0 {
		if _, err := t.MM.CopyIn(addr, b); err != nil {
			return nil, unix.EFAULT
		}
	}
	return b, nil
}

// putSockaddr writes an address for a result: at most *lenAddr bytes of
// it at addr, and its whole length at lenAddr (EINVAL for a negative
// length, as Linux).
func putSockaddr(t *kernel.Task, sa []byte, addr, lenAddr uintptr) error {
	var lb [4]byte
	if _, err := t.MM.CopyIn(lenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return unix.EINVAL
	}
	if k := min(int(n), len(sa)); k > 0 {
		if _, err := t.MM.CopyOut(addr, sa[:k]); err != nil {
			return unix.EFAULT
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(sa)))
	if _, err := t.MM.CopyOut(lenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

func sysBind(t *kernel.Task, a Args) (uintptr, error) {
	_, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	sa, err := copySockaddr(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	return 0, s.Bind(sockCtx{t}, sa)
}

func sysConnect(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	sa, err := copySockaddr(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	_, sndTimeo := s.Timeouts()
	w := newSockWaiter(t, sndTimeo, nonBlocking(f))
	defer w.stop()
	for {
		err := s.Connect(sockCtx{t}, sa)
		if err == unix.EINPROGRESS || err == unix.EALREADY {
			// A connection on its way (TCP): a nonblocking socket says
			// so; a blocking one waits until the socket is writable (or
			// failed) and asks again, as Linux's, even when a restarted
			// connect finds it still on its way.
			if w.nonblock {
				return 0, err
			}
			if err := w.wait(f, s, waiter.WritableEvents, unix.EAGAIN); err != nil {
				if err == unix.EAGAIN {
					return 0, unix.EINPROGRESS // SO_SNDTIMEO passed
				}
				return 0, err
			}
			continue
		}
		if !errors.Is(err, unix.EAGAIN) {
			return 0, err
		}
		if err := w.wait(f, s, waiter.WritableEvents, err); err != nil {
			return 0, err
		}
	}
}

func sysListen(t *kernel.Task, a Args) (uintptr, error) {
	_, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, s.Listen(sockCtx{t}, int(int32(a[1])))
}

// doAccept is accept and accept4.
func doAccept(t *kernel.Task, fd, addr, lenAddr uintptr, flags int) (uintptr, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	f, s, err := socketFile(t, fd)
	if err != nil {
		return 0, err
	}
	rcvTimeo, _ := s.Timeouts()
	w := newSockWaiter(t, rcvTimeo, nonBlocking(f))
	defer w.stop()
	for {
		ns, peer, err := s.Accept(sockCtx{t})
		if err == nil {
			if addr != 0 {
				if err := putSockaddr(t, peer, addr, lenAddr); err != nil {
					ns.Release()
					return 0, err
				}
			}
			nfd, err := installSocket(t, ns, flags)
			return uintptr(nfd), err
		}
		if !errors.Is(err, unix.EAGAIN) {
			return 0, err
		}
		if err := w.wait(f, s, waiter.ReadableEvents, err); err != nil {
			return 0, err
		}
	}
}

func sysShutdown(t *kernel.Task, a Args) (uintptr, error) {
	_, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, s.Shutdown(sockCtx{t}, int(int32(a[1])))
}

// sockName is getsockname and getpeername.
func sockName(t *kernel.Task, a Args, peer bool) (uintptr, error) {
	_, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	var sa []byte
	if peer {
		if sa, err = s.PeerName(); err != nil {
			return 0, err
		}
	} else {
		sa = s.SockName()
	}
	return 0, putSockaddr(t, sa, a[1], a[2])
}

func sysGetsockopt(t *kernel.Task, a Args) (uintptr, error) {
	_, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	level, name, valAddr, lenAddr := int(int32(a[1])), int(int32(a[2])), a[3], a[4]
	var lb [4]byte
	if _, err := t.MM.CopyIn(lenAddr, lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return 0, unix.EINVAL
	}
	val, err := s.GetSockOpt(sockCtx{t}, level, name)
	if err != nil {
		if err == unix.ENOPROTOOPT {
			logOnce(t, fmt.Sprintf("getsockopt: family %d level %d option %d: ENOPROTOOPT", s.Family(), level, name))
		}
		return 0, err
	}
	k := min(int(n), len(val))
	if k > 0 {
		if _, err := t.MM.CopyOut(valAddr, val[:k]); err != nil {
			return 0, unix.EFAULT
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(k))
	if _, err := t.MM.CopyOut(lenAddr, lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

func sysSetsockopt(t *kernel.Task, a Args) (uintptr, error) {
	_, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	level, name, valAddr, n := int(int32(a[1])), int(int32(a[2])), a[3], int(int32(a[4]))
	if n < 0 {
		return 0, unix.EINVAL
	}
	val := make([]byte, min(n, optMax))
	if len(val) > 0 {
		if _, err := t.MM.CopyIn(valAddr, val); err != nil {
			return 0, unix.EFAULT
		}
	}
	err = s.SetSockOpt(sockCtx{t}, level, name, val)
	if err == unix.ENOPROTOOPT {
		logOnce(t, fmt.Sprintf("setsockopt: family %d level %d option %d: ENOPROTOOPT", s.Family(), level, name))
	}
	return 0, err
}

// socketIoctl answers the socket ioctls (SIOCINQ/FIONREAD, SIOCOUTQ) of
// f; ok is false when f is not a socket or req is not one of them.
func socketIoctl(t *kernel.Task, f *fs.File, req uint, arg uintptr) (r uintptr, ok bool, err error) {
	s, isSock := f.Impl.(netstack.Socket)
	if !isSock {
		return 0, false, nil
	}
	switch req {
	case unix.SIOCINQ, unix.SIOCOUTQ:
		v, err := s.Ioctl(req)
		if err != nil {
			return 0, true, err
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(int32(min(v, 1<<31-1))))
		_, err = t.MM.CopyOut(arg, b[:])
		return 0, true, err
	}
	if ok, err := ifIoctl(t, req, arg); ok {
		return 0, true, err
	}
	return 0, false, nil
}

// sockWaiter blocks a socket call: on the socket's own readiness or on
// what a *netstack.Blocked names, until a deadline (SO_RCVTIMEO,
// SO_SNDTIMEO) or a signal.
type sockWaiter struct {
	t        *kernel.Task
	s        *sleeper
	nonblock bool
	timed    bool
}

// newSockWaiter starts a wait with the socket's timeout (0: none;
// negative: do not wait).
func newSockWaiter(t *kernel.Task, timeout time.Duration, nonblock bool) *sockWaiter {
	w := &sockWaiter{t: t, nonblock: nonblock || timeout < 0, timed: timeout > 0}
	if timeout <= 0 {
		timeout = -1
	}
	w.s = newSleeper(t, timeout)
	return w
}

func (w *sockWaiter) stop() { w.s.stop() }

// wait waits after an operation failed with cause (EAGAIN or a
// *netstack.Blocked): until f is ready for mask, or the blocked
// condition clears. It returns nil to try again; EAGAIN when the socket
// must not wait or the timeout passed; on a signal ErrRestartSys, or
// EINTR when a timeout is set (Linux's sock_intr_errno).
func (w *sockWaiter) wait(f *fs.File, s netstack.Socket, mask waiter.EventMask, cause error) error {
	if w.nonblock {
		return unix.EAGAIN
	}
	var ready func() bool
	var blocked *netstack.Blocked
	if errors.As(cause, &blocked) {
		e, ch := waiter.NewChannelEntry(blocked.Mask | waiter.EventErr | waiter.EventHup)
		blocked.Queue.Register(e)
		defer blocked.Queue.Unregister(e)
		return w.sleepUntil(ch, blocked.Ready)
	}
	mask |= waiter.EventErr | waiter.EventHup
	e, ch := waiter.NewChannelEntry(mask)
	s.EventRegister(e)
	defer s.EventUnregister(e)
	ready = func() bool { return s.Readiness(mask) != 0 }
	return w.sleepUntil(ch, ready)
}

// sleepUntil sleeps on ch until ready reports true.
func (w *sockWaiter) sleepUntil(ch <-chan struct{}, ready func() bool) error {
	for !ready() {
		switch w.s.sleep(ch, false) {
		case wakeSignal:
			if w.timed {
				return unix.EINTR
			}
			return kernel.ErrRestartSys
		case wakeTimeout:
			return unix.EAGAIN
		}
	}
	return nil
}

// msgIn is a message to send as the program described it.
type msgIn struct {
	name, nameLen    uintptr // sockaddr
	iov              []iovec
	control, ctrlLen uintptr
}

// readMsghdr reads a struct msghdr.
func readMsghdr(t *kernel.Task, addr uintptr) (msgIn, error) {
	var b [msghdrSize]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return msgIn{}, unix.EFAULT
	}
	le := binary.LittleEndian
	m := msgIn{name: uintptr(le.Uint64(b[0:])), nameLen: uintptr(le.Uint32(b[8:])),
		control: uintptr(le.Uint64(b[32:])), ctrlLen: uintptr(le.Uint64(b[40:]))}
	iovAddr, iovLen := uintptr(le.Uint64(b[16:])), le.Uint64(b[24:])
	if iovLen > iovMax {
		return msgIn{}, unix.EMSGSIZE
	}
	if int32(m.nameLen) < 0 {
		return msgIn{}, unix.EINVAL
	}
	iov, err := readIovecs(t, iovAddr, int(iovLen))
	if err != nil {
		return msgIn{}, err
	}
	m.iov = iov
	return m, nil
}

// iovTotal is the bytes of iov, at most maxRW.
func iovTotal(iov []iovec) int {
	var n uintptr
	for _, v := range iov {
		n += v.len
	}
	return int(min(n, maxRW))
}

// gather copies n bytes of iov from offset off into a new buffer (fewer
// at a bad address: EFAULT when none).
func gather(t *kernel.Task, iov []iovec, off, n int) ([]byte, error) {
	return gatherInto(t, iov, off, make([]byte, n))
}

// gatherInto is gather into dst (n = len(dst)); the result shares dst.
func gatherInto(t *kernel.Task, iov []iovec, off int, dst []byte) ([]byte, error) {
	n := len(dst)
	buf := dst[:0]
	pos := 0
	for _, v := range iov {
		if len(buf) == n {
			break
		}
		l := int(v.len)
		if pos+l <= off {
			pos += l
			continue
		}
		skip := max(off-pos, 0)
		k := min(l-skip, n-len(buf))
		start := len(buf)
		buf = buf[:start+k]
		c, err := t.MM.CopyIn(v.base+uintptr(skip), buf[start:])
		pos += l
		if err != nil {
			buf = buf[:start+c]
			if len(buf) == 0 {
				return nil, unix.EFAULT
			}
			break
		}
	}
	return buf, nil
}

// scatter copies data into iov from offset off: EFAULT when nothing could
// be written.
func scatter(t *kernel.Task, iov []iovec, off int, data []byte) (int, error) {
	done, pos := 0, 0
	for _, v := range iov {
		if done == len(data) {
			break
		}
		l := int(v.len)
		if pos+l <= off {
			pos += l
			continue
		}
		skip := max(off-pos, 0)
		k := min(l-skip, len(data)-done)
		c, err := t.MM.CopyOut(v.base+uintptr(skip), data[done:done+k])
		done += c
		pos += l
		if err != nil {
			if done == 0 {
				return 0, unix.EFAULT
			}
			break
		}
	}
	return done, nil
}

// readControl parses the ancillary data of a send: SCM_RIGHTS (the
// files, held by the syscall) and SCM_CREDENTIALS; other SOL_SOCKET
// types are EINVAL, other levels are skipped.
func readControl(t *kernel.Task, s netstack.Socket, addr, n uintptr) (*netstack.Control, error) {
	if n == 0 {
		return nil, nil
	}
	if n > controlMax {
		return nil, unix.ENOBUFS
	}
	b := make([]byte, n)
	if _, err := t.MM.CopyIn(addr, b); err != nil {
		return nil, unix.EFAULT
	}
	le := binary.LittleEndian
	ctl := &netstack.Control{}
	for off := 0; off+cmsgHdrSize <= len(b); {
		clen := le.Uint64(b[off:])
		level, typ := int32(le.Uint32(b[off+8:])), int32(le.Uint32(b[off+12:]))
		if clen < cmsgHdrSize || clen > uint64(len(b)-off) {
			return nil, unix.EINVAL
		}
		data := b[off+cmsgHdrSize : off+int(clen)]
		off += int(clen+7) &^ 7
		if level != unix.SOL_SOCKET {
			continue
		}
		if s.Family() != unix.AF_UNIX {
			return nil, unix.EINVAL
		}
		switch typ {
		case unix.SCM_RIGHTS:
			k := len(data) / 4
			if len(ctl.Rights)+k > netstack.ScmMaxFD {
				return nil, unix.EINVAL
			}
			for i := range k {
				f, err := t.File(int(int32(le.Uint32(data[4*i:]))))
				if err != nil {
					return nil, err
				}
				ctl.Rights = append(ctl.Rights, f)
			}
		case unix.SCM_CREDENTIALS:
			if len(data) != 12 {
				return nil, unix.EINVAL
			}
			ctl.Cred = &netstack.UCred{PID: int32(le.Uint32(data)), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
		default:
			return nil, unix.EINVAL
		}
	}
	return ctl, nil
}

// sendFlags are the send flags that matter here (others are accepted and
// ignored, as most of them by Linux's AF_UNIX).
const sendFlagsKnown = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL | unix.MSG_OOB

// sendMsg sends one message; to is the destination address (nil: none).
func sendMsg(t *kernel.Task, f *fs.File, s netstack.Socket, to []byte, iov []iovec, ctl *netstack.Control, flags int) (int, error) {
	total := iovTotal(iov)
	_, sndTimeo := s.Timeouts()
	w := newSockWaiter(t, sndTimeo, flags&unix.MSG_DONTWAIT != 0 || nonBlocking(f))
	defer w.stop()
	sflags := flags & sendFlagsKnown &^ unix.MSG_DONTWAIT
	ctx := sockCtx{t}
	stream := s.Type() == unix.SOCK_STREAM
	var data []byte
	if !stream {
		if total > dgramMax {
			return 0, unix.EMSGSIZE
		}
		var err error
		if data, err = gather(t, iov, 0, total); err != nil {
			return 0, err
		}
	}
	sent := 0
	var ib ioBuf
	if stream {
		// One staging buffer for every chunk of the stream (a socket
		// copies what it takes: io.Writer's rule).
		ib = getIOBuf(uintptr(min(total, ioChunk)))
		defer ib.release()
	}
	for {
		if stream && len(data) == 0 && sent < total {
			var err error
			if data, err = gatherInto(t, iov, sent, ib.b[:min(total-sent, ioChunk)]); err != nil {
				if sent > 0 {
					return sent, nil
				}
				return 0, err
			}
		}
		n, err := s.SendMsg(ctx, data, to, ctl, sflags)
		if n > 0 {
			sent += n
			data = data[n:]
			ctl = nil
		}
		switch {
		case err == nil && (!stream || sent >= total):
			return sent, nil
		case err == nil:
			continue
		case errors.Is(err, unix.EPIPE):
			if sent > 0 {
				return sent, nil
			}
			if err == unix.EPIPE && flags&unix.MSG_NOSIGNAL == 0 {
				sendSIGPIPE(t)
			}
			return 0, unix.EPIPE
		case !errors.Is(err, unix.EAGAIN):
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
		if werr := w.wait(f, s, waiter.WritableEvents, err); werr != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, werr
		}
	}
}

// recvFlagsKnown are the receive flags handled here or by the socket.
const recvFlagsKnown = unix.MSG_PEEK | unix.MSG_DONTWAIT | unix.MSG_WAITALL | unix.MSG_TRUNC |
	unix.MSG_CMSG_CLOEXEC | unix.MSG_OOB | unix.MSG_ERRQUEUE | unix.MSG_WAITFORONE

// recvMsg receives one message into iov. It returns the count the call
// returns (the datagram's length with MSG_TRUNC) and what came with it.
func recvMsg(t *kernel.Task, f *fs.File, s netstack.Socket, iov []iovec, flags int) (int, netstack.RecvResult, error) {
	total := iovTotal(iov)
	rcvTimeo, _ := s.Timeouts()
	w := newSockWaiter(t, rcvTimeo, flags&unix.MSG_DONTWAIT != 0 || nonBlocking(f))
	defer w.stop()
	stream := s.Type() == unix.SOCK_STREAM
	if stream && total == 0 {
		return 0, netstack.RecvResult{}, nil
	}
	waitall := stream && flags&unix.MSG_WAITALL != 0 && flags&unix.MSG_PEEK == 0
	sflags := flags & (unix.MSG_PEEK | unix.MSG_OOB)
	ctx := sockCtx{t}
	ib := getIOBuf(uintptr(min(total, ioChunk)))
	defer ib.release()
	buf := ib.b
	var res netstack.RecvResult
	var prev *netstack.RecvResult
	got := 0
	for {
		step := buf[:min(total-got, len(buf))]
		r, err := s.RecvMsg(ctx, step, sflags, prev)
		if err == nil {
			if r.N > 0 {
				if _, cerr := scatter(t, iov, got, step[:r.N]); cerr != nil {
					r.Control.Release()
					if got > 0 {
						return got, res, nil
					}
					return 0, res, cerr
				}
			}
			got += r.N
			if prev == nil {
				res = r
			} else {
				res.N += r.N
				res.Len += r.N
				res.Boundary = r.Boundary
				res.Control.Rights = append(res.Control.Rights, r.Control.Rights...)
			}
			prev = &res
			if !waitall || got >= total || r.N == 0 || r.Boundary {
				break
			}
			continue
		}
		if !errors.Is(err, unix.EAGAIN) {
			if got > 0 {
				break
			}
			return 0, res, err
		}
		if werr := w.wait(f, s, waiter.ReadableEvents, err); werr != nil {
			if got > 0 {
				break
			}
			return 0, res, werr
		}
	}
	if !stream && flags&unix.MSG_TRUNC != 0 {
		return res.Len, res, nil
	}
	return got, res, nil
}

// socketRead is read and readv of a socket: a receive without flags
// (descriptors that came with the data are closed, as Linux's read).
func socketRead(t *kernel.Task, f *fs.File, s netstack.Socket, iov []iovec) (uintptr, error) {
	if iovTotal(iov) == 0 {
		return 0, nil
	}
	n, res, err := recvMsg(t, f, s, iov, 0)
	res.Control.Release()
	return uintptr(n), err
}

// socketWrite is write and writev of a socket: a send without flags.
func socketWrite(t *kernel.Task, f *fs.File, s netstack.Socket, iov []iovec) (uintptr, error) {
	if iovTotal(iov) == 0 && s.Type() == unix.SOCK_STREAM {
		return 0, nil
	}
	n, err := sendMsg(t, f, s, nil, iov, nil, 0)
	return uintptr(n), err
}

func sysSendto(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	var to []byte
	if a[4] != 0 {
		if to, err = copySockaddr(t, a[4], int(int32(a[5]))); err != nil {
			return 0, err
		}
		if len(to) == 0 {
			to = nil
		}
	}
	n, err := sendMsg(t, f, s, to, []iovec{{a[1], min(a[2], maxRW)}}, nil, int(int32(a[3])))
	return uintptr(n), err
}

func sysRecvfrom(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	flags := int(int32(a[3]))
	n, res, err := recvMsg(t, f, s, []iovec{{a[1], min(a[2], maxRW)}}, flags)
	res.Control.Release()
	if err != nil {
		return 0, err
	}
	if a[4] != 0 && a[5] != 0 {
		if err := putSockaddr(t, res.From, a[4], a[5]); err != nil {
			return 0, err
		}
	}
	return uintptr(n), nil
}

// doSendmsg sends the message described by the msghdr at addr.
func doSendmsg(t *kernel.Task, f *fs.File, s netstack.Socket, addr uintptr, flags int) (int, error) {
	m, err := readMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	var to []byte
	if m.name != 0 && m.nameLen > 0 {
		if to, err = copySockaddr(t, m.name, int(min(m.nameLen, sockaddrMax))); err != nil {
			return 0, err
		}
	}
	ctl, err := readControl(t, s, m.control, m.ctrlLen)
	if err != nil {
		return 0, err
	}
	return sendMsg(t, f, s, to, m.iov, ctl, flags)
}

func sysSendmsg(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	n, err := doSendmsg(t, f, s, a[1], int(int32(a[2])))
	return uintptr(n), err
}

// putControl writes a receive's ancillary data into the program's buffer
// as Linux's put_cmsg and scm_detach_fds do: credentials first, then as
// many descriptors as fit (installed with O_CLOEXEC for
// MSG_CMSG_CLOEXEC); whatever does not fit is dropped and sets
// MSG_CTRUNC. It returns the bytes used and the flags to add.
func putControl(t *kernel.Task, ctl *netstack.Control, addr, space uintptr, cloexec bool) (uintptr, int, error) {
	rights := ctl.Rights
	ctl.Rights = nil
	defer func() {
		for _, f := range rights {
			if f != nil {
				f.DecRef()
			}
		}
	}()
	flags := 0
	if addr == 0 {
		if ctl.Cred != nil || len(rights) > 0 {
			flags |= unix.MSG_CTRUNC
		}
		return 0, flags, nil
	}
	le := binary.LittleEndian
	var out []byte
	left := space
	if c := ctl.Cred; c != nil {
		if left < cmsgHdrSize {
			flags |= unix.MSG_CTRUNC
		} else {
			cmlen := uintptr(cmsgHdrSize + 12)
			if left < cmlen {
				flags |= unix.MSG_CTRUNC
				cmlen = left
			}
			var msg [cmsgHdrSize + 16]byte
			le.PutUint64(msg[0:], uint64(cmlen))
			le.PutUint32(msg[8:], unix.SOL_SOCKET)
			le.PutUint32(msg[12:], unix.SCM_CREDENTIALS)
			le.PutUint32(msg[16:], uint32(c.PID))
			le.PutUint32(msg[20:], c.UID)
			le.PutUint32(msg[24:], c.GID)
			adv := min(uintptr(cmsgHdrSize+16), left)
			out = append(out, msg[:adv]...)
			left -= adv
		}
	}
	var fds []int
	if len(rights) > 0 {
		fdmax := 0
		if left > cmsgHdrSize {
			fdmax = int(left-cmsgHdrSize) / 4
		}
		for i := 0; i < min(fdmax, len(rights)); i++ {
			fd, err := t.TG.FDs.Install(rights[i], 0, cloexec)
			if err != nil {
				break
			}
			rights[i] = nil // the descriptor has the reference now
			fds = append(fds, fd)
		}
		if len(fds) < len(rights) {
			flags |= unix.MSG_CTRUNC
		}
		if k := len(fds); k > 0 {
			msg := make([]byte, cmsgHdrSize+(4*k+7)&^7)
			le.PutUint64(msg[0:], uint64(cmsgHdrSize+4*k))
			le.PutUint32(msg[8:], unix.SOL_SOCKET)
			le.PutUint32(msg[12:], unix.SCM_RIGHTS)
			for i, fd := range fds {
				le.PutUint32(msg[cmsgHdrSize+4*i:], uint32(fd))
			}
			adv := min(uintptr(len(msg)), left)
			out = append(out, msg[:adv]...)
			left -= adv
		}
	}
	if len(out) > 0 {
		if _, err := t.MM.CopyOut(addr, out); err != nil {
			for _, fd := range fds {
				_ = t.TG.FDs.Remove(fd)
			}
			return 0, 0, unix.EFAULT
		}
	}
	return space - left, flags, nil
}

// doRecvmsg receives into the msghdr at addr and returns the count.
func doRecvmsg(t *kernel.Task, f *fs.File, s netstack.Socket, addr uintptr, flags int) (int, error) {
	m, err := readMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	n, res, err := recvMsg(t, f, s, m.iov, flags)
	if err != nil {
		return 0, err
	}
	used, cflags, err := putControl(t, &res.Control, m.control, m.ctrlLen, flags&unix.MSG_CMSG_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	var b [4]byte
	if m.name != 0 {
		if k := min(len(res.From), int(m.nameLen)); k > 0 {
			if _, err := t.MM.CopyOut(m.name, res.From[:k]); err != nil {
				return 0, unix.EFAULT
			}
		}
		le.PutUint32(b[:], uint32(len(res.From)))
		if _, err := t.MM.CopyOut(addr+8, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	var c [8]byte
	le.PutUint64(c[:], uint64(used))
	if _, err := t.MM.CopyOut(addr+40, c[:]); err != nil {
		return 0, unix.EFAULT
	}
	le.PutUint32(b[:], uint32(res.Flags|cflags|flags&unix.MSG_CMSG_CLOEXEC))
	if _, err := t.MM.CopyOut(addr+48, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return n, nil
}

func sysRecvmsg(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	n, err := doRecvmsg(t, f, s, a[1], int(int32(a[2])))
	return uintptr(n), err
}

// putMsgLen writes an mmsghdr's msg_len.
func putMsgLen(t *kernel.Task, addr uintptr, n int) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	if _, err := t.MM.CopyOut(addr+msghdrSize, b[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

func sysSendmmsg(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	vec, vlen, flags := a[1], min(int(uint32(a[2])), mmsgMax), int(int32(a[3]))
	done := 0
	for ; done < vlen; done++ {
		m := vec + uintptr(done)*mmsghdrSize
		n, err := doSendmsg(t, f, s, m, flags)
		if err == nil {
			err = putMsgLen(t, m, n)
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
	}
	return uintptr(done), nil
}

func sysRecvmmsg(t *kernel.Task, a Args) (uintptr, error) {
	f, s, err := socketFile(t, a[0])
	if err != nil {
		return 0, err
	}
	vec, vlen, flags, tsAddr := a[1], min(int(uint32(a[2])), mmsgMax), int(int32(a[3])), a[4]
	var deadline time.Time
	if tsAddr != 0 {
		var b [16]byte
		if _, err := t.MM.CopyIn(tsAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, unix.EINVAL
		}
		deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	done := 0
	for done < vlen {
		m := vec + uintptr(done)*mmsghdrSize
		n, err := doRecvmsg(t, f, s, m, flags&^unix.MSG_WAITFORONE)
		if err == nil {
			err = putMsgLen(t, m, n)
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		done++
		if flags&unix.MSG_WAITFORONE != 0 {
			flags |= unix.MSG_DONTWAIT
		}
		// As Linux, the timeout is only looked at between messages.
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			break
		}
	}
	if tsAddr != 0 {
		left := max(time.Until(deadline), 0)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second))
		if _, err := t.MM.CopyOut(tsAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return uintptr(done), nil
}
