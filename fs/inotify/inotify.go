package inotify

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
)

// Limits per sandbox (Linux's are per user: max_user_instances 128,
// max_user_watches, max_queued_events 16384). MaxQueuedBytes bounds the
// memory of one instance's queue as well (Linux has no such cap; its
// queue of 16,384 events with long names holds about 4.5 MiB): the bytes
// a read would return, headers and names.
const (
	MaxInstances   = 128
	MaxWatches     = 65536
	MaxQueued      = 16384
	MaxQueuedBytes = 1 << 20
)

// AllEvents are the events a watch may ask for (IN_ALL_EVENTS).
const AllEvents = unix.IN_ALL_EVENTS

// ChildEvents are the events of a file that a watch on its directory
// hears as well, with the file's name.
const ChildEvents = unix.IN_ACCESS | unix.IN_MODIFY | unix.IN_ATTRIB |
	unix.IN_CLOSE_WRITE | unix.IN_CLOSE_NOWRITE | unix.IN_OPEN

// WatchFlags are the bits of inotify_add_watch's mask besides events.
const WatchFlags = unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK |
	unix.IN_MASK_ADD | unix.IN_ONESHOT | unix.IN_MASK_CREATE

// eventHeader is the size of struct inotify_event without its name.
const eventHeader = 16

// Key identifies a file as the sandbox names it: its st_dev and st_ino.
type Key struct{ Dev, Ino uint64 }

// KeyOf returns n's key and whether n is a directory.
func KeyOf(n fs.Node) (k Key, isDir bool, err error) {
	st, err := n.Stat()
	if err != nil {
		return Key{}, false, err
	}
	return Key{uint64(st.Dev), st.Ino}, st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// Hub carries events to the watches of every instance of one sandbox.
type Hub struct {
	mu        sync.Mutex
	watches   map[Key][]*watch
	nwatches  int
	instances int
	cookie    uint32
	// active: some watch exists; events for nobody cost one load.
	active atomic.Bool
}

// NewHub makes a hub with no watches.
func NewHub() *Hub { return &Hub{watches: map[Key][]*watch{}} }

// Active reports whether any watch exists (a nil hub has none).
func (h *Hub) Active() bool { return h != nil && h.active.Load() }

// Cookie returns a new value that ties an IN_MOVED_FROM to its
// IN_MOVED_TO.
func (h *Hub) Cookie() uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cookie++
	if h.cookie == 0 {
		h.cookie++
	}
	return h.cookie
}

// Event reports mask (one event bit, with IN_ISDIR when the file is a
// directory, which IN_DELETE_SELF and IN_MOVE_SELF drop as on Linux) to
// the watches on the file k that asked for it; name is the name of the
// child it happened to when k is its directory, "" when it happened to k
// itself. Each instance that queued the event is woken.
func (h *Hub) Event(k Key, mask, cookie uint32, name string) {
	if !h.Active() {
		return
	}
	if mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
		// Linux's inotify never reports IN_ISDIR with these two.
		mask &^= unix.IN_ISDIR
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// removeLocked (IN_ONESHOT) puts a new slice in h.watches[k]: the
	// one walked here stays as it was.
	for _, w := range h.watches[k] {
		if w.mask&mask&AllEvents == 0 {
			continue
		}
		w.inst.deliver(event{wd: w.wd, mask: mask, cookie: cookie, name: name})
		if w.mask&unix.IN_ONESHOT != 0 {
			h.removeLocked(w)
			w.inst.deliver(event{wd: w.wd, mask: unix.IN_IGNORED})
		}
	}
}

// FileEvent raises mask (IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_OPEN, ...)
// for the file at d: to the watches on its directory, with its name, when
// the event is one of ChildEvents, then to the watches on the file
// itself. IN_ISDIR is added for a directory.
func (h *Hub) FileEvent(d *fs.Dentry, mask uint32) {
	if !h.Active() || d == nil {
		return
	}
	k, isDir, err := KeyOf(d.Node())
	if err != nil {
		return
	}
	if isDir {
		mask |= unix.IN_ISDIR
	}
	if p := d.Parent(); p != nil && mask&ChildEvents != 0 {
		if pk, _, err := KeyOf(p.Node()); err == nil {
			h.Event(pk, mask, 0, d.Name())
		}
	}
	h.Event(k, mask, 0, "")
}

// SelfEvent raises mask for the file n, to the watches on n only (a
// link count that changed: IN_ATTRIB).
func (h *Hub) SelfEvent(n fs.Node, mask uint32) {
	if !h.Active() {
		return
	}
	k, isDir, err := KeyOf(n)
	if err != nil {
		return
	}
	if isDir {
		mask |= unix.IN_ISDIR
	}
	h.Event(k, mask, 0, "")
}

// Closed implements fs.CloseWatcher: the last close of a file opened by
// path raises IN_CLOSE_WRITE if it was open for writing, else
// IN_CLOSE_NOWRITE (none for O_PATH).
func (h *Hub) Closed(f *fs.File) {
	if !h.Active() || f.Dentry == nil {
		return
	}
	if _, ok := f.Impl.(fs.PathImpl); ok {
		return
	}
	mask := uint32(unix.IN_CLOSE_NOWRITE)
	if f.Writable() {
		mask = unix.IN_CLOSE_WRITE
	}
	h.OpenFileEvent(f, mask)
}

// OpenFileEvent is FileEvent for the file f was opened from (nothing for
// a file opened otherwise, or O_PATH). The keys are asked of the
// filesystem once per open file (fs.WatchKeys): reads and writes of a
// watched sandbox cost no Stat each.
func (h *Hub) OpenFileEvent(f *fs.File, mask uint32) {
	if !h.Active() || f.Dentry == nil {
		return
	}
	if _, ok := f.Impl.(fs.PathImpl); ok {
		return
	}
	wk := f.WatchKeys()
	if wk == nil {
		k, isDir, err := KeyOf(f.Dentry.Node())
		if err != nil {
			return
		}
		wk = &fs.WatchKeys{File: [2]uint64{k.Dev, k.Ino}, IsDir: isDir}
		if p := f.Dentry.Parent(); p != nil {
			if pk, _, err := KeyOf(p.Node()); err == nil {
				wk.Dir, wk.HasDir = [2]uint64{pk.Dev, pk.Ino}, true
			}
		}
		f.SetWatchKeys(wk)
	}
	if wk.IsDir {
		mask |= unix.IN_ISDIR
	}
	if wk.HasDir && mask&ChildEvents != 0 {
		h.Event(Key{wk.Dir[0], wk.Dir[1]}, mask, 0, f.Dentry.Name())
	}
	h.Event(Key{wk.File[0], wk.File[1]}, mask, 0, "")
}

// Gone drops every watch on the file k, which has no name left (after
// its IN_DELETE_SELF): each instance reads IN_IGNORED for it.
func (h *Hub) Gone(k Key) {
	if !h.Active() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := append([]*watch(nil), h.watches[k]...)
	for _, w := range ws {
		h.removeLocked(w)
		w.inst.deliver(event{wd: w.wd, mask: unix.IN_IGNORED})
	}
}

// removeLocked takes w off the hub and its instance.
func (h *Hub) removeLocked(w *watch) {
	ws := h.watches[w.key]
	for i, o := range ws {
		if o == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(h.watches, w.key)
	} else {
		h.watches[w.key] = ws
	}
	h.nwatches--
	h.active.Store(h.nwatches > 0)
	w.inst.mu.Lock()
	delete(w.inst.byWD, w.wd)
	delete(w.inst.byKey, w.key)
	w.inst.mu.Unlock()
}

// watch is one inotify watch: an instance's interest in a file.
type watch struct {
	inst *Instance
	wd   int32
	key  Key
	mask uint32 // events and IN_ONESHOT, IN_EXCL_UNLINK
}

// event is one queued struct inotify_event.
type event struct {
	wd           int32
	mask, cookie uint32
	name         string
}

// nameLen is the length of the event's name field: the name, its NUL
// and padding to a multiple of the header's size, as Linux pads it.
func (e *event) nameLen() int {
	if e.name == "" {
		return 0
	}
	return (len(e.name) + 1 + eventHeader - 1) &^ (eventHeader - 1)
}

func (e *event) size() int { return eventHeader + e.nameLen() }

// Instance is the fs.Impl of an inotify file: its watches and the queue
// of events they caught. Read never blocks (EAGAIN while the queue is
// empty: the syscall layer waits on the file, fs.Waitable).
type Instance struct {
	hub *Hub

	mu     sync.Mutex
	byWD   map[int32]*watch
	byKey  map[Key]*watch
	nextWD int32
	queue  []event
	bytes  int // the size of the queued events
	// overflowed: an IN_Q_OVERFLOW marker is queued (there is at most
	// one at a time; it stands for every event lost until it is read).
	overflowed bool
	q          waiter.Queue
}

// NewInstance makes an instance on hub: EMFILE past MaxInstances.
func NewInstance(h *Hub) (*Instance, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.instances >= MaxInstances {
		return nil, unix.EMFILE
	}
	h.instances++
	return &Instance{hub: h, byWD: map[int32]*watch{}, byKey: map[Key]*watch{}}, nil
}

// AddWatch watches the file k for the events in mask (with the
// WatchFlags that apply here: IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT,
// IN_EXCL_UNLINK) and returns the watch descriptor: the one k already has
// in this instance (its mask replaced, or added to with IN_MASK_ADD;
// EEXIST with IN_MASK_CREATE), else a new one (ENOSPC past MaxWatches).
func (in *Instance) AddWatch(k Key, mask uint32) (int32, error) {
	if mask&AllEvents == 0 {
		return 0, unix.EINVAL
	}
	if mask&unix.IN_MASK_ADD != 0 && mask&unix.IN_MASK_CREATE != 0 {
		return 0, unix.EINVAL
	}
	keep := mask & (AllEvents | unix.IN_ONESHOT | unix.IN_EXCL_UNLINK)
	h := in.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	if w := in.byKey[k]; w != nil {
		switch {
		case mask&unix.IN_MASK_CREATE != 0:
			return 0, unix.EEXIST
		case mask&unix.IN_MASK_ADD != 0:
			w.mask |= keep
		default:
			w.mask = keep
		}
		return w.wd, nil
	}
	if h.nwatches >= MaxWatches {
		return 0, unix.ENOSPC
	}
	in.nextWD++
	w := &watch{inst: in, wd: in.nextWD, key: k, mask: keep}
	in.byWD[w.wd] = w
	in.byKey[k] = w
	h.watches[k] = append(h.watches[k], w)
	h.nwatches++
	h.active.Store(true)
	return w.wd, nil
}

// RmWatch removes the watch wd (EINVAL if there is none); the instance
// reads IN_IGNORED for it.
func (in *Instance) RmWatch(wd int32) error {
	h := in.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	in.mu.Lock()
	w := in.byWD[wd]
	in.mu.Unlock()
	if w == nil {
		return unix.EINVAL
	}
	h.removeLocked(w)
	in.deliver(event{wd: wd, mask: unix.IN_IGNORED})
	return nil
}

// Watches returns the instance's watch descriptors with their keys and
// masks, for /proc/PID/fdinfo.
func (in *Instance) Watches() []WatchInfo {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]WatchInfo, 0, len(in.byWD))
	for _, w := range in.byWD {
		out = append(out, WatchInfo{WD: w.wd, Key: w.key, Mask: w.mask})
	}
	return out
}

// WatchInfo describes one watch.
type WatchInfo struct {
	WD   int32
	Key  Key
	Mask uint32
}

// FDInfo implements fs.FDInfoer: a line per watch, in descriptor order,
// as Linux writes them (sdev in the kernel's own encoding of the device,
// major << 20 | minor; no file handle).
func (in *Instance) FDInfo() string {
	ws := in.Watches()
	slices.SortFunc(ws, func(a, b WatchInfo) int { return int(a.WD) - int(b.WD) })
	var b strings.Builder
	for _, w := range ws {
		sdev := uint64(unix.Major(w.Key.Dev))<<20 | uint64(unix.Minor(w.Key.Dev))
		fmt.Fprintf(&b, "inotify wd:%x ino:%x sdev:%x mask:%x ignored_mask:0\n", w.WD, w.Key.Ino, sdev, w.Mask)
	}
	return b.String()
}

// deliver queues e and wakes the instance's readers if it was queued.
func (in *Instance) deliver(e event) {
	if in.push(e) {
		in.q.Notify(waiter.ReadableEvents)
	}
}

// push queues e and reports whether it was appended (readers to wake,
// for every event queued, as Linux wakes them: an edge-triggered epoll
// reader that reads one batch per wakeup must hear each one). An event
// equal to the last one queued is merged into it (never an IN_IGNORED,
// as on Linux). While the queue is full (MaxQueued events, the overflow
// marker counted, or MaxQueuedBytes) events are dropped, and the first
// one dropped queues an IN_Q_OVERFLOW marker unless one is queued
// already; once a read made room, events are queued again, after the
// marker.
func (in *Instance) push(e event) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := len(in.queue)
	switch {
	case n >= MaxQueued || in.bytes+e.size() > MaxQueuedBytes:
		if in.overflowed {
			return false
		}
		e = event{wd: -1, mask: unix.IN_Q_OVERFLOW}
		in.overflowed = true
	case n > 0 && in.queue[n-1].mask&unix.IN_IGNORED == 0 && in.queue[n-1] == e:
		return false
	}
	in.queue = append(in.queue, e)
	in.bytes += e.size()
	return true
}

// Read implements fs.Impl: as many whole events as dst holds (EINVAL if
// it cannot hold the first), EAGAIN while none is queued.
func (in *Instance) Read(dst []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queue) == 0 {
		return 0, unix.EAGAIN
	}
	n, i := 0, 0
	for ; i < len(in.queue); i++ {
		e := &in.queue[i]
		sz := e.size()
		if n+sz > len(dst) {
			break
		}
		b := dst[n : n+sz]
		binary.LittleEndian.PutUint32(b[0:], uint32(e.wd))
		binary.LittleEndian.PutUint32(b[4:], e.mask)
		binary.LittleEndian.PutUint32(b[8:], e.cookie)
		binary.LittleEndian.PutUint32(b[12:], uint32(e.nameLen()))
		clear(b[eventHeader:])
		copy(b[eventHeader:], e.name)
		n += sz
		in.bytes -= sz
		if e.mask == unix.IN_Q_OVERFLOW {
			in.overflowed = false
		}
	}
	if i == 0 {
		return 0, unix.EINVAL
	}
	in.queue = append(in.queue[:0], in.queue[i:]...)
	if len(in.queue) == 0 && cap(in.queue) > 64 {
		in.queue = nil
	}
	return n, nil
}

// ReadAvailable implements fs.ReadAvailabler (FIONREAD): the bytes of the
// queued events.
func (in *Instance) ReadAvailable() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.bytes
}

// Write implements fs.Impl: an inotify file is not written (EINVAL).
func (in *Instance) Write([]byte) (int, error) { return 0, unix.EINVAL }

// Pread implements fs.Impl.
func (in *Instance) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (in *Instance) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl: seeking does nothing.
func (in *Instance) Seek(int64, int) (int64, error) { return 0, nil }

// Stat implements fs.Impl: an anonymous inode, mode 0600.
func (in *Instance) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: 1, Nlink: 1, Mode: 0o600, Blksize: 4096}, nil
}

// IsTerminal implements fs.Impl.
func (in *Instance) IsTerminal() bool { return false }

// Poll implements fs.Impl without waiting.
func (in *Instance) Poll(mask int16, _ int) (int16, error) {
	return int16(in.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable: readable while events are queued.
func (in *Instance) Readiness(mask waiter.EventMask) waiter.EventMask {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queue) > 0 {
		return waiter.ReadableEvents & mask
	}
	return 0
}

// EventRegister implements fs.Waitable.
func (in *Instance) EventRegister(e *waiter.Entry) { in.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (in *Instance) EventUnregister(e *waiter.Entry) { in.q.Unregister(e) }

// Name implements fs.Namer.
func (in *Instance) Name() string { return "anon_inode:inotify" }

// Release implements fs.Impl: the instance's watches go (no events).
func (in *Instance) Release() {
	h := in.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	in.mu.Lock()
	ws := make([]*watch, 0, len(in.byWD))
	for _, w := range in.byWD {
		ws = append(ws, w)
	}
	in.mu.Unlock()
	for _, w := range ws {
		h.removeLocked(w)
	}
	h.instances--
	in.mu.Lock()
	in.queue, in.bytes, in.overflowed = nil, 0, false
	in.mu.Unlock()
}
