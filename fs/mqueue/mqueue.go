package mqueue

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
)

// Linux's defaults and limits (fs.mqueue.* sysctls and the hard caps).
const (
	DefaultMaxMsg  = 10
	DefaultMsgSize = 8192
	MsgMax         = 10      // fs.mqueue.msg_max: the most an unprivileged creator may ask
	MsgSizeMax     = 8192    // fs.mqueue.msgsize_max
	HardMsgMax     = 65536   // the most anyone may ask
	HardMsgSizeMax = 1 << 24 // 16 MiB
	QueuesMax      = 256     // fs.mqueue.queues_max
	PrioMax        = 32768   // MQ_PRIO_MAX
	NameMax        = 255
)

// Attr are a queue's sizes.
type Attr struct {
	MaxMsg, MsgSize int64
}

// Owner is who creates a queue, and with what privilege and budget.
type Owner struct {
	UID, GID uint32
	// Privileged (CAP_SYS_RESOURCE) may exceed MsgMax and MsgSizeMax.
	Privileged bool
	// Budget is the creator's RLIMIT_MSGQUEUE (bytes).
	Budget uint64
}

type message struct {
	prio uint32
	data []byte
}

// Notification is an mq_notify registration.
type Notification struct {
	PID   int32 // who registered (and gets the signal)
	Signo int32 // 0: SIGEV_NONE
	Value uint64
}

// Queue is one message queue.
type Queue struct {
	ns    *Namespace
	name  string
	attr  Attr
	ino   uint64
	uid   uint32
	gid   uint32
	mode  uint32
	owner uint32 // whose budget the queue is charged to
	cost  uint64
	times unix.Timespec

	mu       sync.Mutex
	msgs     []message // highest priority first, FIFO within one
	bytes    int64
	notify   *Notification
	waiting  int // receivers blocked on the queue
	q        waiter.Queue
	unlinked bool
	opens    int // open Files: the budget comes back when the last closes after unlink
}

// Namespace is a sandbox's message queues.
type Namespace struct {
	dev     uint64
	nextIno atomic.Uint64
	mu      sync.Mutex
	queues  map[string]*Queue
	charged map[uint32]uint64 // bytes charged per user
	created unix.Timespec
}

var nextDev atomic.Uint64

// NewNamespace makes an empty namespace.
func NewNamespace() *Namespace {
	now := unix.NsecToTimespec(time.Now().UnixNano())
	ns := &Namespace{dev: unix.Mkdev(0, 0x2a00+uint32(nextDev.Add(1))), queues: map[string]*Queue{},
		charged: map[uint32]uint64{}, created: now}
	ns.nextIno.Store(2)
	return ns
}

// ValidName checks a queue name as mq_open's argument after glibc has
// taken its leading slash off: not empty, no slash, at most NameMax.
func ValidName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return unix.EINVAL
	case len(name) > NameMax:
		return unix.ENAMETOOLONG
	case slices.Contains([]byte(name), '/'):
		return unix.EACCES
	}
	return nil
}

// cost is what Linux charges a queue against RLIMIT_MSGQUEUE: the
// messages' bytes plus a pointer each.
func (a Attr) cost() uint64 { return uint64(a.MaxMsg)*8 + uint64(a.MaxMsg)*uint64(a.MsgSize) }

// Open finds or creates the queue name (mq_open): flags are open(2)'s
// (O_CREAT, O_EXCL, the access mode); attr nil means the defaults.
// mayOpen checks the caller's permission on an existing queue.
func (ns *Namespace) Open(name string, flags int, mode uint32, attr *Attr, o Owner, mayOpen func(st unix.Stat_t) error) (*Queue, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if q, ok := ns.queues[name]; ok {
		if flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0 {
			return nil, unix.EEXIST
		}
		if err := mayOpen(q.stat()); err != nil {
			return nil, err
		}
		return q, nil
	}
	if flags&unix.O_CREAT == 0 {
		return nil, unix.ENOENT
	}
	a := Attr{MaxMsg: DefaultMaxMsg, MsgSize: DefaultMsgSize}
	if attr != nil {
		if attr.MaxMsg <= 0 || attr.MsgSize <= 0 || attr.MaxMsg > HardMsgMax || attr.MsgSize > HardMsgSizeMax {
			return nil, unix.EINVAL
		}
		if !o.Privileged && (attr.MaxMsg > MsgMax || attr.MsgSize > MsgSizeMax) {
			return nil, unix.EINVAL
		}
		a = *attr
	}
	if len(ns.queues) >= QueuesMax {
		return nil, unix.ENOSPC
	}
	cost := a.cost()
	if ns.charged[o.UID]+cost > o.Budget {
		return nil, unix.EMFILE
	}
	ns.charged[o.UID] += cost
	q := &Queue{ns: ns, name: name, attr: a, ino: ns.nextIno.Add(1), uid: o.UID, gid: o.GID, mode: mode & 0o777,
		owner: o.UID, cost: cost, times: unix.NsecToTimespec(time.Now().UnixNano())}
	ns.queues[name] = q
	return q, nil
}

// Unlink removes the name; the queue lives on while it is open.
func (ns *Namespace) Unlink(name string, mayUnlink func(st unix.Stat_t) error) error {
	if err := ValidName(name); err != nil {
		return err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.queues[name]
	if !ok {
		return unix.ENOENT
	}
	if err := mayUnlink(q.stat()); err != nil {
		return err
	}
	delete(ns.queues, name)
	q.mu.Lock()
	q.unlinked = true
	free := q.opens == 0
	q.mu.Unlock()
	if free {
		ns.charged[q.owner] -= q.cost
	}
	return nil
}

// refund gives q's charge back to its creator: the queue is gone (no name,
// no open File).
func (ns *Namespace) refund(q *Queue) {
	ns.mu.Lock()
	ns.charged[q.owner] -= q.cost
	ns.mu.Unlock()
}

// names lists the queues by name.
func (ns *Namespace) names() []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	out := make([]string, 0, len(ns.queues))
	for n := range ns.queues {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (ns *Namespace) lookup(name string) *Queue {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.queues[name]
}

// Attr returns the queue's sizes and current message count.
func (q *Queue) Attr() (Attr, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.attr, int64(len(q.msgs))
}

// Send queues data at prio (mq_timedsend): EMSGSIZE over the message
// size, EINVAL for a priority past PrioMax, EAGAIN when full. It returns
// the notification to deliver, when this message fires one (the queue
// was empty, a process registered, and no receiver waits).
func (q *Queue) Send(data []byte, prio uint32) (*Notification, error) {
	if prio >= PrioMax {
		return nil, unix.EINVAL
	}
	if int64(len(data)) > q.attr.MsgSize {
		return nil, unix.EMSGSIZE
	}
	q.mu.Lock()
	if int64(len(q.msgs)) >= q.attr.MaxMsg {
		q.mu.Unlock()
		return nil, unix.EAGAIN
	}
	i := len(q.msgs)
	for i > 0 && q.msgs[i-1].prio < prio {
		i--
	}
	wasEmpty := len(q.msgs) == 0
	q.msgs = slices.Insert(q.msgs, i, message{prio: prio, data: slices.Clone(data)})
	q.bytes += int64(len(data))
	q.times = unix.NsecToTimespec(time.Now().UnixNano())
	var fire *Notification
	if wasEmpty && q.notify != nil && q.waiting == 0 {
		fire, q.notify = q.notify, nil
	}
	q.mu.Unlock()
	q.q.Notify(waiter.ReadableEvents)
	return fire, nil
}

// Receive takes the oldest message of the highest priority
// (mq_timedreceive): EMSGSIZE when bufLen is under the message size,
// EAGAIN when empty.
func (q *Queue) Receive(bufLen int64) ([]byte, uint32, error) {
	if bufLen < q.attr.MsgSize {
		return nil, 0, unix.EMSGSIZE
	}
	q.mu.Lock()
	if len(q.msgs) == 0 {
		q.mu.Unlock()
		return nil, 0, unix.EAGAIN
	}
	m := q.msgs[0]
	q.msgs = q.msgs[1:]
	q.bytes -= int64(len(m.data))
	q.times = unix.NsecToTimespec(time.Now().UnixNano())
	q.mu.Unlock()
	q.q.Notify(waiter.WritableEvents)
	return m.data, m.prio, nil
}

// Waiting counts a receiver that blocks on the queue (+1) or stops (-1):
// a notification fires only when none waits.
func (q *Queue) Waiting(delta int) {
	q.mu.Lock()
	q.waiting += delta
	q.mu.Unlock()
}

// SetNotify registers n (nil: unregisters pid's) for mq_notify: EBUSY
// when another process holds the registration.
func (q *Queue) SetNotify(pid int32, n *Notification) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case n == nil:
		if q.notify != nil && q.notify.PID == pid {
			q.notify = nil
		}
	case q.notify != nil && q.notify.PID != pid:
		return unix.EBUSY
	default:
		q.notify = n
	}
	return nil
}

// Forget drops pid's notification registration (its last descriptor of
// the queue closed, or it exited).
func (q *Queue) Forget(pid int32) { q.SetNotify(pid, nil) }

// Readiness implements fs.Waitable.
func (q *Queue) Readiness(mask waiter.EventMask) waiter.EventMask {
	q.mu.Lock()
	defer q.mu.Unlock()
	var r waiter.EventMask
	if len(q.msgs) > 0 {
		r |= waiter.ReadableEvents
	}
	if int64(len(q.msgs)) < q.attr.MaxMsg {
		r |= waiter.WritableEvents
	}
	return r & mask
}

// EventRegister implements fs.Waitable.
func (q *Queue) EventRegister(e *waiter.Entry) { q.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (q *Queue) EventUnregister(e *waiter.Entry) { q.q.Unregister(e) }

func (q *Queue) stat() unix.Stat_t {
	q.mu.Lock()
	defer q.mu.Unlock()
	return unix.Stat_t{Dev: q.ns.dev, Ino: q.ino, Nlink: 1, Mode: unix.S_IFREG | q.mode, Uid: q.uid, Gid: q.gid,
		Size: q.bytes, Blksize: 4096, Atim: q.times, Mtim: q.times, Ctim: q.times}
}

// status is what reading the queue's file gives, as Linux writes it.
func (q *Queue) status() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	notify, signo, pid := 0, 0, int32(0)
	if q.notify != nil {
		pid = q.notify.PID
		if q.notify.Signo == 0 {
			notify = 1 // SIGEV_NONE
		} else {
			signo = int(q.notify.Signo)
		}
	}
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", q.bytes, notify, signo, pid)
}

// File is an open queue (an mq descriptor, or the queue's file opened in
// /dev/mqueue).
type File struct {
	Q   *Queue
	off int64
}

var (
	_ fs.Impl     = (*File)(nil)
	_ fs.Waitable = (*File)(nil)
)

// NewFile opens q; its Release closes it. An unlinked queue's charge
// against RLIMIT_MSGQUEUE is given back when its last File closes, as
// Linux frees the queue then.
func NewFile(q *Queue) *File {
	q.mu.Lock()
	q.opens++
	q.mu.Unlock()
	return &File{Q: q}
}

func (f *File) Read(p []byte) (int, error) {
	n, err := f.Pread(p, f.off)
	f.off += int64(n)
	return n, err
}

func (f *File) Pread(p []byte, off int64) (int, error) {
	s := f.Q.status()
	if off >= int64(len(s)) {
		return 0, nil
	}
	return copy(p, s[off:]), nil
}

func (f *File) Write([]byte) (int, error)         { return 0, unix.EINVAL }
func (f *File) Pwrite([]byte, int64) (int, error) { return 0, unix.EINVAL }
func (f *File) Seek(off int64, whence int) (int64, error) {
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	f.off = off
	return off, nil
}
func (f *File) Stat() (unix.Stat_t, error) { return f.Q.stat(), nil }
func (f *File) IsTerminal() bool           { return false }
func (f *File) Poll(mask int16, _ int) (int16, error) {
	var r int16
	ready := f.Q.Readiness(waiter.ReadableEvents | waiter.WritableEvents)
	if ready&waiter.ReadableEvents != 0 {
		r |= unix.POLLIN | 0x40
	}
	if ready&waiter.WritableEvents != 0 {
		r |= unix.POLLOUT | 0x100
	}
	return r & mask, nil
}
func (f *File) Release() {
	q := f.Q
	q.mu.Lock()
	q.opens--
	free := q.opens == 0 && q.unlinked
	q.mu.Unlock()
	if free {
		q.ns.refund(q)
	}
}

func (f *File) Readiness(mask waiter.EventMask) waiter.EventMask { return f.Q.Readiness(mask) }
func (f *File) EventRegister(e *waiter.Entry)                    { f.Q.EventRegister(e) }
func (f *File) EventUnregister(e *waiter.Entry)                  { f.Q.EventUnregister(e) }
