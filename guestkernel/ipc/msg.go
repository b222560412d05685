package ipc

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// Message queue limits (Linux's defaults), flags and msgctl commands
// (linux/msg.h).
const (
	MsgMNI = 32000 // queues
	MsgMax = 8192  // bytes per message
	MsgMNB = 16384 // bytes per queue (the default msg_qbytes)

	MsgNoError = 0o10000 // MSG_NOERROR
	MsgExcept  = 0o20000 // MSG_EXCEPT
	MsgCopy    = 0o40000 // MSG_COPY

	MsgStat    = 11
	MsgInfo    = 12
	MsgStatAny = 13
)

// msgCost is what a message costs beyond its text.
const msgCost = 64

// Message is one message.
type Message struct {
	Type int64
	Text []byte
}

// Queue is a message queue.
type Queue struct {
	objBase
	ns                  *Namespace
	msgs                []*Message
	cbytes, qbytes      int
	stime, rtime, ctime int64
	lspid, lrpid        int32
	// receivers are the blocked msgrcv calls, oldest first: a new
	// message goes to the first that takes it.
	receivers []*msgReceiver
	// space is closed and replaced when room is made (or the queue is
	// removed): blocked senders try again.
	space   chan struct{}
	removed bool
}

// Search modes of msgrcv.
const (
	searchAny = iota
	searchEqual
	searchNotEqual
	searchLessEqual
	searchNumber // MSG_COPY: the n-th message
)

type msgReceiver struct {
	mode    int
	typ     int64
	maxSize int // the receiver's buffer, MaxInt with MSG_NOERROR
	pid     int32
	done    chan struct{}
	msg     *Message
	err     error
}

// MsgDS is a queue's msqid_ds.
type MsgDS struct {
	Perm                Perm
	Stime, Rtime, Ctime int64
	Cbytes, Qnum        uint64
	Qbytes              uint64
	LSPID, LRPID        int32
}

// MsgInfoData is struct msginfo.
type MsgInfoData struct {
	MsgPool, MsgMap, MsgMax, MsgMNB, MsgMNI, MsgSSZ, MsgTQL int32
	MsgSeg                                                  uint16
}

// MsgGet is msgget(2).
func (ns *Namespace) MsgGet(c Caller, key int32, flags int) (int32, error) {
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	make := func() (*Queue, error) {
		if err := ns.charge(objectCost); err != nil {
			return nil, err
		}
		return &Queue{ns: ns, qbytes: MsgMNB, ctime: now(), space: make(chan struct{})}, nil
	}
	drop := func(*Queue) { ns.uncharge(objectCost) }
	return getOrCreate(&ns.msgs, c, key, flags, nil, make, drop)
}

// matches reports whether m is what a receiver in mode/typ wants.
func matches(m *Message, mode int, typ int64) bool {
	switch mode {
	case searchEqual:
		return m.Type == typ
	case searchNotEqual:
		return m.Type != typ
	case searchLessEqual:
		return m.Type <= typ
	}
	return true
}

// MsgSend is msgsnd(2); text is the message (at most MSGMAX bytes). When
// the queue is full (msg_qbytes bytes, or as many messages) it fails
// with EAGAIN under IPC_NOWAIT, else waits for room; EIDRM if the queue is
// removed meanwhile, EINTR on a signal.
func (ns *Namespace) MsgSend(w Waiter, c Caller, id int32, typ int64, text []byte, flags int) error {
	if len(text) > MsgMax || id < 0 || typ < 1 {
		return unix.EINVAL
	}
	m := &Message{Type: typ, Text: text}
	// The message is charged first, as Linux allocates it first.
	cost := msgCost + int64(len(text))
	if err := ns.charge(cost); err != nil {
		return err
	}
	queued := false
	defer func() {
		if !queued {
			ns.uncharge(cost)
		}
	}()
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	q, ok := ns.msgs.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	for {
		if !q.perm.allowed(c, accWrite) {
			return unix.EACCES
		}
		if q.removed {
			return unix.EIDRM
		}
		if len(text)+q.cbytes <= q.qbytes && 1+len(q.msgs) <= q.qbytes {
			break
		}
		if flags&NoWait != 0 {
			return unix.EAGAIN
		}
		space := q.space
		ns.msgMu.Unlock()
		r := sleep(w, space, time.Time{})
		ns.msgMu.Lock()
		if r != woken {
			return unix.EINTR
		}
	}
	q.lspid, q.stime = c.PID, now()
	// A blocked receiver that wants it gets it directly; one whose
	// buffer is too small fails with E2BIG, as on Linux.
	for i := 0; i < len(q.receivers); i++ {
		r := q.receivers[i]
		if !matches(m, r.mode, r.typ) {
			continue
		}
		q.receivers = append(q.receivers[:i], q.receivers[i+1:]...)
		i--
		if len(text) > r.maxSize {
			r.err = unix.E2BIG
			close(r.done)
			continue
		}
		r.msg = m
		q.lrpid, q.rtime = r.pid, now()
		close(r.done)
		return nil
	}
	queued = true
	q.msgs = append(q.msgs, m)
	q.cbytes += len(text)
	ns.msgCount++
	ns.msgBytes += len(text)
	return nil
}

// MsgReceive is msgrcv(2): typ 0 takes the first message, typ > 0 the
// first of that type (of another type with MSG_EXCEPT), typ < 0 the first
// of the lowest type up to -typ. A message longer than maxSize fails with
// E2BIG (and stays) unless MSG_NOERROR, which truncates it. With none
// there it fails with ENOMSG under IPC_NOWAIT, else waits; EIDRM if the
// queue is removed meanwhile, EINTR on a signal. MSG_COPY (with
// IPC_NOWAIT) returns a copy of message number typ and leaves it queued.
func (ns *Namespace) MsgReceive(w Waiter, c Caller, id int32, maxSize int, typ int64, flags int) (*Message, error) {
	if id < 0 || maxSize < 0 {
		return nil, unix.EINVAL
	}
	mode := searchAny
	switch {
	case flags&MsgCopy != 0:
		if flags&MsgExcept != 0 || flags&NoWait == 0 {
			return nil, unix.EINVAL
		}
		mode = searchNumber
		maxSize = min(maxSize, MsgMax)
	case typ < 0:
		mode = searchLessEqual
		if typ == math.MinInt64 {
			typ = math.MaxInt64
		} else {
			typ = -typ
		}
	case typ > 0 && flags&MsgExcept != 0:
		mode = searchNotEqual
	case typ > 0:
		mode = searchEqual
	}
	limit := maxSize
	if flags&MsgNoError != 0 {
		limit = math.MaxInt
	}
	ns.msgMu.Lock()
	q, ok := ns.msgs.lookup(id)
	if !ok {
		ns.msgMu.Unlock()
		return nil, unix.EINVAL
	}
	if !q.perm.allowed(c, accRead) {
		ns.msgMu.Unlock()
		return nil, unix.EACCES
	}
	if i := q.findLocked(mode, typ); i >= 0 {
		m := q.msgs[i]
		if len(m.Text) > limit {
			ns.msgMu.Unlock()
			return nil, unix.E2BIG
		}
		if mode == searchNumber {
			ns.msgMu.Unlock()
			return truncated(m, maxSize), nil
		}
		q.takeLocked(i, c.PID)
		ns.msgMu.Unlock()
		return truncated(m, maxSize), nil
	}
	if flags&NoWait != 0 {
		ns.msgMu.Unlock()
		return nil, unix.ENOMSG
	}
	r := &msgReceiver{mode: mode, typ: typ, maxSize: limit, pid: c.PID, done: make(chan struct{})}
	q.receivers = append(q.receivers, r)
	ns.msgMu.Unlock()

	sleep(w, r.done, time.Time{})
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	select {
	case <-r.done:
		if r.err != nil {
			return nil, r.err
		}
		return truncated(r.msg, maxSize), nil
	default:
	}
	for i, x := range q.receivers {
		if x == r {
			q.receivers = append(q.receivers[:i], q.receivers[i+1:]...)
			break
		}
	}
	return nil, unix.EINTR
}

func truncated(m *Message, n int) *Message {
	if len(m.Text) <= n {
		return m
	}
	return &Message{Type: m.Type, Text: m.Text[:n]}
}

// findLocked returns the index of the message a receiver wants, or -1.
func (q *Queue) findLocked(mode int, typ int64) int {
	switch mode {
	case searchNumber:
		if typ >= 0 && typ < int64(len(q.msgs)) {
			return int(typ)
		}
		return -1
	case searchLessEqual:
		best := -1
		for i, m := range q.msgs {
			if m.Type <= typ && (best < 0 || m.Type < q.msgs[best].Type) {
				best = i
			}
		}
		return best
	}
	for i, m := range q.msgs {
		if matches(m, mode, typ) {
			return i
		}
	}
	return -1
}

// takeLocked removes message i for a receiver and lets senders retry.
func (q *Queue) takeLocked(i int, pid int32) {
	m := q.msgs[i]
	q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
	q.cbytes -= len(m.Text)
	q.lrpid, q.rtime = pid, now()
	q.ns.msgCount--
	q.ns.msgBytes -= len(m.Text)
	q.ns.uncharge(msgCost + int64(len(m.Text)))
	q.wakeSendersLocked()
}

func (q *Queue) wakeSendersLocked() {
	close(q.space)
	q.space = make(chan struct{})
}

// MsgStatCmd is IPC_STAT, or with byIndex MSG_STAT (any: MSG_STAT_ANY),
// which name the queue by index and return its ID.
func (ns *Namespace) MsgStatCmd(c Caller, id int32, byIndex, any bool) (MsgDS, int32, error) {
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	var q *Queue
	var ok bool
	if byIndex {
		q, ok = ns.msgs.at(int(id))
	} else {
		q, ok = ns.msgs.lookup(id)
	}
	if !ok {
		return MsgDS{}, 0, unix.EINVAL
	}
	if !any && !q.perm.allowed(c, accRead) {
		return MsgDS{}, 0, unix.EACCES
	}
	return MsgDS{Perm: q.perm, Stime: q.stime, Rtime: q.rtime, Ctime: q.ctime, Cbytes: uint64(q.cbytes),
		Qnum: uint64(len(q.msgs)), Qbytes: uint64(q.qbytes), LSPID: q.lspid, LRPID: q.lrpid}, q.id, nil
}

// MsgSetCmd is IPC_SET: the owner may change the IDs, the mode and
// msg_qbytes, but not raise msg_qbytes above MSGMNB (EPERM).
func (ns *Namespace) MsgSetCmd(c Caller, id int32, p SetPerm, qbytes uint64) error {
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	q, ok := ns.msgs.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !q.perm.owner(c) {
		return unix.EPERM
	}
	if qbytes > MsgMNB {
		return unix.EPERM
	}
	if err := q.perm.apply(p); err != nil {
		return err
	}
	q.qbytes = int(qbytes)
	q.ctime = now()
	q.wakeSendersLocked()
	return nil
}

// MsgRemove is IPC_RMID: blocked calls fail with EIDRM and the messages
// are dropped.
func (ns *Namespace) MsgRemove(c Caller, id int32) error {
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	q, ok := ns.msgs.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !q.perm.owner(c) {
		return unix.EPERM
	}
	q.removed = true
	ns.msgs.remove(q)
	for _, r := range q.receivers {
		r.err = unix.EIDRM
		close(r.done)
	}
	q.receivers = nil
	for _, m := range q.msgs {
		ns.uncharge(msgCost + int64(len(m.Text)))
		ns.msgBytes -= len(m.Text)
	}
	ns.msgCount -= len(q.msgs)
	q.msgs, q.cbytes = nil, 0
	ns.uncharge(objectCost)
	q.wakeSendersLocked()
	return nil
}

// MsgInfoCmd is IPC_INFO (usage false: the limits) and MSG_INFO (usage:
// msgpool is the number of queues, msgmap the messages, msgtql their
// bytes); it also returns the highest index in use.
func (ns *Namespace) MsgInfoCmd(usage bool) (MsgInfoData, int) {
	ns.msgMu.Lock()
	defer ns.msgMu.Unlock()
	d := MsgInfoData{MsgPool: MsgMNI * MsgMNB / 1024, MsgMap: MsgMNB, MsgMax: MsgMax, MsgMNB: MsgMNB,
		MsgMNI: MsgMNI, MsgSSZ: 16, MsgTQL: MsgMNB, MsgSeg: 0xffff}
	if usage {
		d.MsgPool = int32(ns.msgs.inUse)
		d.MsgMap = int32(ns.msgCount)
		d.MsgTQL = int32(ns.msgBytes)
	}
	return d, ns.msgs.maxIdx()
}
