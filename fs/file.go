package fs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Impl is what a file implementation provides. Errors are unix.Errno
// values, returned to the program as they are.
type Impl interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Pread(p []byte, off int64) (int, error)
	Pwrite(p []byte, off int64) (int, error)
	Seek(off int64, whence int) (int64, error)
	Stat() (unix.Stat_t, error)
	// Ioctl handles the terminal and FIO* requests that need no user
	// memory; the syscall layer copies arguments.
	IsTerminal() bool
	// Poll returns the ready events among mask, waiting at most
	// timeoutMs (-1: forever, 0: not at all).
	Poll(mask int16, timeoutMs int) (int16, error)
	Release()
}

// Namespace is implemented by an open namespace (a /proc/PID/ns link
// followed), which nsfs's ioctls ask for its kind.
type Namespace interface {
	// NamespaceType is the namespace's CLONE_NEW* flag.
	NamespaceType() int
}

// File is an open file description: shared by dup'ed descriptors.
type File struct {
	Impl
	// Dentry is where the file was opened (nil for host stdio).
	Dentry *Dentry
	mu     sync.Mutex
	flags  int // O_APPEND, O_NONBLOCK, access mode ...
	refs   atomic.Int32
	dirOff int // getdents position: the next entry index

	// Watcher hears of the file's last close (inotify), if set.
	Watcher CloseWatcher
	// watchKeys caches who the file is for inotify (WatchKeys).
	watchKeys atomic.Pointer[WatchKeys]

	// owner and sig are F_SETOWN(_EX)'s and F_SETSIG's, under mu.
	owner FileOwner
	sig   int

	// hooks run when the last reference goes (epoll sets drop the file).
	hooks    map[any]func()
	released bool
}

// WatchKeys identify an open file and the directory it was opened in as
// inotify keys watches (st_dev, st_ino), so that the events of its reads
// and writes need not ask the filesystem each time. A file keeps them
// through renames, as its inode does; the directory is the one it was
// opened in.
type WatchKeys struct {
	File, Dir [2]uint64
	IsDir     bool
	HasDir    bool
}

// WatchKeys returns the keys set with SetWatchKeys, or nil.
func (f *File) WatchKeys() *WatchKeys { return f.watchKeys.Load() }

// SetWatchKeys caches k.
func (f *File) SetWatchKeys(k *WatchKeys) { f.watchKeys.Store(k) }

// CloseWatcher is told of an open file's last close, before its Impl is
// released (inotify's IN_CLOSE_WRITE and IN_CLOSE_NOWRITE).
type CloseWatcher interface {
	Closed(f *File)
}

// DirOffset returns the getdents position.
func (f *File) DirOffset() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dirOff
}

// SetDirOffset moves the getdents position.
func (f *File) SetDirOffset(off int) {
	f.mu.Lock()
	f.dirOff = off
	f.mu.Unlock()
}

// NewFile makes an open file description with open flags.
func NewFile(impl Impl, flags int) *File {
	f := &File{Impl: impl, flags: flags}
	f.refs.Store(1)
	return f
}

// Flags returns the file status flags (F_GETFL).
func (f *File) Flags() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flags
}

// SetFlags sets the changeable status flags (F_SETFL).
func (f *File) SetFlags(flags int) {
	const changeable = unix.O_APPEND | unix.O_NONBLOCK | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME
	f.mu.Lock()
	f.flags = f.flags&^changeable | flags&changeable
	f.mu.Unlock()
}

// FileOwner is who is to get the file's SIGIO (F_SETOWN, F_SETOWN_EX):
// Type is F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP, ID 0 for no one.
type FileOwner struct {
	Type int32
	ID   int32
}

// Owner returns the file's owner for signals (F_GETOWN).
func (f *File) Owner() FileOwner {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.owner
}

// SetOwner sets the file's owner for signals (F_SETOWN).
func (f *File) SetOwner(o FileOwner) {
	f.mu.Lock()
	f.owner = o
	f.mu.Unlock()
}

// Sig returns F_SETSIG's signal (0: SIGIO).
func (f *File) Sig() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sig
}

// SetSig sets F_SETSIG's signal.
func (f *File) SetSig(sig int) {
	f.mu.Lock()
	f.sig = sig
	f.mu.Unlock()
}

// Readable reports whether the access mode allows reading.
func (f *File) Readable() bool {
	m := f.Flags() & unix.O_ACCMODE
	return m == unix.O_RDONLY || m == unix.O_RDWR
}

// Writable reports whether the access mode allows writing.
func (f *File) Writable() bool {
	m := f.Flags() & unix.O_ACCMODE
	return m == unix.O_WRONLY || m == unix.O_RDWR
}

// IncRef adds a reference (dup, fork).
func (f *File) IncRef() { f.refs.Add(1) }

// DecRef drops a reference; the last one runs the release hooks and
// releases the file.
func (f *File) DecRef() {
	if f.refs.Add(-1) != 0 {
		return
	}
	f.mu.Lock()
	hooks := f.hooks
	f.hooks, f.released = nil, true
	f.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	if f.Watcher != nil {
		f.Watcher.Closed(f)
	}
	f.Impl.Release()
}

// OnRelease arranges for fn to run when the file's last reference is
// dropped, before its Impl is released (an epoll set watching the file
// forgets it then). key identifies the hook for CancelRelease; a second
// hook with the same key replaces the first. It reports false, and does
// nothing, when the file is already released.
func (f *File) OnRelease(key any, fn func()) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.released {
		return false
	}
	if f.hooks == nil {
		f.hooks = map[any]func(){}
	}
	f.hooks[key] = fn
	return true
}

// CancelRelease removes the hook registered with key.
func (f *File) CancelRelease(key any) {
	f.mu.Lock()
	delete(f.hooks, key)
	f.mu.Unlock()
}
