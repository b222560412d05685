package syscalls

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/mqueue"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

// POSIX message queues (fs/mqueue): mq_open, mq_unlink, mq_timedsend,
// mq_timedreceive, mq_notify and mq_getsetattr on the sandbox's queue
// namespace, which /dev/mqueue also shows.

func init() {
	register(unix.SYS_MQ_OPEN, sysMqOpen)
	register(unix.SYS_MQ_UNLINK, sysMqUnlink)
	register(unix.SYS_MQ_TIMEDSEND, sysMqTimedsend)
	register(unix.SYS_MQ_TIMEDRECEIVE, sysMqTimedreceive)
	register(unix.SYS_MQ_NOTIFY, sysMqNotify)
	register(unix.SYS_MQ_GETSETATTR, sysMqGetsetattr)
}

var mqNamespaces sync.Map // *kernel.Kernel -> *mqueue.Namespace

// MqueueNamespace returns the message queues of k's sandbox.
func MqueueNamespace(k *kernel.Kernel) *mqueue.Namespace {
	if ns, ok := mqNamespaces.Load(k); ok {
		return ns.(*mqueue.Namespace)
	}
	ns, _ := mqNamespaces.LoadOrStore(k, mqueue.NewNamespace())
	return ns.(*mqueue.Namespace)
}

// MqueueOwner is the calling process as the creator of a queue through
// /dev/mqueue.
func MqueueOwner(k *kernel.Kernel) func() mqueue.Owner {
	return func() mqueue.Owner {
		if t := k.Caller(); t != nil {
			return mqOwner(t)
		}
		return mqueue.Owner{Budget: 819200}
	}
}

func mqOwner(t *kernel.Task) mqueue.Owner {
	c := t.TG.Creds()
	return mqueue.Owner{UID: c.EUID, GID: c.EGID, Privileged: c.HasCap(kernel.CapSysResource),
		Budget: t.TG.Limit(unix.RLIMIT_MSGQUEUE).Cur}
}

// mqName reads a queue name; glibc has taken the leading slash off.
func mqName(t *kernel.Task, addr uintptr) (string, error) {
	name, err := t.MM.CopyInString(addr, mqueue.NameMax+2)
	if err != nil {
		return "", err
	}
	if len(name) > mqueue.NameMax {
		return "", unix.ENAMETOOLONG
	}
	return name, nil
}

// mqAccess is what an open mode asks of the queue's permission bits.
func mqAccess(flags int) int {
	switch flags & unix.O_ACCMODE {
	case unix.O_WRONLY:
		return 2
	case unix.O_RDWR:
		return 6
	}
	return 4
}

func sysMqOpen(t *kernel.Task, a Args) (uintptr, error) {
	name, err := mqName(t, a[0])
	if err != nil {
		return 0, err
	}
	flags, mode := int(int32(a[1])), uint32(a[2])
	if flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return 0, unix.EINVAL
	}
	var attr *mqueue.Attr
	if flags&unix.O_CREAT != 0 && a[3] != 0 {
		var b [32]byte
		if _, err := t.MM.CopyIn(a[3], b[:]); err != nil {
			return 0, err
		}
		attr = &mqueue.Attr{MaxMsg: int64(binary.LittleEndian.Uint64(b[8:])), MsgSize: int64(binary.LittleEndian.Uint64(b[16:]))}
	}
	mode &^= t.TG.CurrentUmask()
	q, err := MqueueNamespace(t.K).Open(name, flags, mode, attr, mqOwner(t), func(st unix.Stat_t) error {
		return permitted(t, &st, mqAccess(flags))
	})
	if err != nil {
		return 0, err
	}
	f := fs.NewFile(mqueue.NewFile(q), flags&(unix.O_ACCMODE|unix.O_NONBLOCK))
	pid := t.TG.PID
	f.OnRelease(q, func() { q.Forget(pid) })
	// mq descriptors are close-on-exec, as Linux makes them.
	fd, err := t.TG.FDs.Install(f, 0, true)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

func sysMqUnlink(t *kernel.Task, a Args) (uintptr, error) {
	name, err := mqName(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, MqueueNamespace(t.K).Unlink(name, func(st unix.Stat_t) error {
		// The directory is sticky and world-writable: the owner (or
		// CAP_FOWNER) may remove a queue.
		c := t.TG.Creds()
		if st.Uid != c.EUID && !c.HasCap(kernel.CapFowner) {
			return unix.EACCES
		}
		return nil
	})
}

// mqFile returns the queue of descriptor fd; EBADF if it is not one.
func mqFile(t *kernel.Task, fd int) (*fs.File, *mqueue.Queue, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, nil, err
	}
	mf, ok := f.Impl.(*mqueue.File)
	if !ok {
		return nil, nil, unix.EBADF
	}
	return f, mf.Q, nil
}

// mqDeadline reads an absolute CLOCK_REALTIME timeout (0: none) as the
// time left, or -1 without one. A bad timespec is EINVAL only when the
// call would wait, as Linux checks it then.
func mqDeadline(t *kernel.Task, addr uintptr) (time.Duration, error) {
	if addr == 0 {
		return -1, nil
	}
	ts, err := getTimespec(t, addr)
	if err != nil {
		return 0, err
	}
	now, err := clockNow(t, unix.CLOCK_REALTIME)
	if err != nil {
		return 0, err
	}
	return max(ts-now, 0), nil
}

// mqWait waits until the queue has one of mask's events, a signal or
// the timeout (an absolute timespec at addr, or none).
func mqWait(t *kernel.Task, f *fs.File, mask waiter.EventMask, addr uintptr) error {
	left, err := mqDeadline(t, addr)
	if err != nil {
		return err
	}
	return waitReadyFor(t, f, mask, left)
}

func sysMqTimedsend(t *kernel.Task, a Args) (uintptr, error) {
	f, q, err := mqFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if !f.Writable() {
		return 0, unix.EBADF
	}
	attr, _ := q.Attr()
	n := a[2]
	if n > uintptr(attr.MsgSize) {
		return 0, unix.EMSGSIZE
	}
	if uint32(a[3]) >= mqueue.PrioMax {
		return 0, unix.EINVAL
	}
	msg := make([]byte, n)
	if _, err := t.MM.CopyIn(a[1], msg); err != nil {
		return 0, err
	}
	for {
		fire, err := q.Send(msg, uint32(a[3]))
		if err == nil {
			if fire != nil {
				mqDeliver(t, fire)
			}
			return 0, nil
		}
		if !errors.Is(err, unix.EAGAIN) || nonBlocking(f) {
			return 0, err
		}
		if err := mqWait(t, f, waiter.WritableEvents, a[4]); err != nil {
			return 0, err
		}
	}
}

// mqDeliver sends a fired notification's signal (SI_MESGQ, with the
// sender and the registered value) to the process that registered.
func mqDeliver(t *kernel.Task, n *mqueue.Notification) {
	if n.Signo == 0 {
		return // SIGEV_NONE
	}
	if g := t.K.Group(n.PID); g != nil {
		g.SendSignalInfo(kernel.SigInfo{Signo: n.Signo, Code: -3, PID: t.TG.PID, UID: t.TG.Creds().UID, Value: n.Value})
	}
}

func sysMqTimedreceive(t *kernel.Task, a Args) (uintptr, error) {
	f, q, err := mqFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if !f.Readable() {
		return 0, unix.EBADF
	}
	for {
		data, prio, err := q.Receive(int64(a[2]))
		if err == nil {
			if _, err := t.MM.CopyOut(a[1], data); err != nil {
				return 0, err
			}
			if a[3] != 0 {
				var b [4]byte
				binary.LittleEndian.PutUint32(b[:], prio)
				if _, err := t.MM.CopyOut(a[3], b[:]); err != nil {
					return 0, err
				}
			}
			return uintptr(len(data)), nil
		}
		if !errors.Is(err, unix.EAGAIN) || nonBlocking(f) {
			return 0, err
		}
		q.Waiting(1)
		err = mqWait(t, f, waiter.ReadableEvents, a[4])
		q.Waiting(-1)
		if err != nil {
			return 0, err
		}
	}
}

// sigevent's sigev_notify values.
const (
	sigevSignal = 0
	sigevNone   = 1
	sigevThread = 2
)

func sysMqNotify(t *kernel.Task, a Args) (uintptr, error) {
	_, q, err := mqFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, q.SetNotify(t.TG.PID, nil)
	}
	var b [16]byte
	if _, err := t.MM.CopyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	value := binary.LittleEndian.Uint64(b[0:])
	signo := int32(binary.LittleEndian.Uint32(b[8:]))
	n := &mqueue.Notification{PID: t.TG.PID, Value: value}
	switch binary.LittleEndian.Uint32(b[12:]) {
	case sigevNone:
	case sigevSignal:
		if signo < 1 || signo > 64 {
			return 0, unix.EINVAL
		}
		n.Signo = signo
	case sigevThread:
		// glibc's SIGEV_THREAD asks the kernel to write to a netlink
		// socket of its own; the sandbox's netlink is NETLINK_ROUTE
		// only.
		logOnce(t, "mq_notify: SIGEV_THREAD (a netlink socket) is not supported")
		return 0, unix.EINVAL
	default:
		return 0, unix.EINVAL
	}
	return 0, q.SetNotify(t.TG.PID, n)
}

func sysMqGetsetattr(t *kernel.Task, a Args) (uintptr, error) {
	f, q, err := mqFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	var newFlags int64
	if a[1] != 0 {
		var b [32]byte
		if _, err := t.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		newFlags = int64(binary.LittleEndian.Uint64(b[0:]))
		if newFlags&^unix.O_NONBLOCK != 0 {
			return 0, unix.EINVAL
		}
	}
	if a[2] != 0 {
		attr, cur := q.Attr()
		var b [64]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(f.Flags()&unix.O_NONBLOCK))
		binary.LittleEndian.PutUint64(b[8:], uint64(attr.MaxMsg))
		binary.LittleEndian.PutUint64(b[16:], uint64(attr.MsgSize))
		binary.LittleEndian.PutUint64(b[24:], uint64(cur))
		if _, err := t.MM.CopyOut(a[2], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		f.SetFlags(f.Flags()&^unix.O_NONBLOCK | int(newFlags))
	}
	return 0, nil
}
