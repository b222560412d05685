package fs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// DefaultNoFile is the default RLIMIT_NOFILE soft limit.
const DefaultNoFile = 1024

// MaxNoFile is the hard cap of descriptors per table (nr_open).
const MaxNoFile = 1 << 20

type fdEntry struct {
	file    *File
	cloexec bool
}

// FDTable maps descriptor numbers to open files.
type FDTable struct {
	mu    sync.Mutex
	fds   []fdEntry
	limit int
	// onDrop, if set, is told of each file the table lets go of, before
	// the table's reference is dropped (the kernel releases the table's
	// POSIX locks on the file then). Fork copies it.
	onDrop func(*FDTable, *File)
}

// SetDropHook sets the function told of every file the table (and every
// table forked from it) lets go of: closed, replaced by dup2, closed on
// exec or at the table's release.
func (t *FDTable) SetDropHook(fn func(*FDTable, *File)) {
	t.mu.Lock()
	t.onDrop = fn
	t.mu.Unlock()
}

// drop lets go of f.
func (t *FDTable) drop(f *File) {
	if t.onDrop != nil {
		t.onDrop(t, f)
	}
	f.DecRef()
}

// NewFDTable makes an empty table with the given RLIMIT_NOFILE.
func NewFDTable(limit int) *FDTable {
	if limit <= 0 || limit > MaxNoFile {
		limit = DefaultNoFile
	}
	return &FDTable{limit: limit}
}

// SetLimit changes the descriptor limit (RLIMIT_NOFILE).
func (t *FDTable) SetLimit(n int) {
	t.mu.Lock()
	t.limit = min(max(n, 0), MaxNoFile)
	t.mu.Unlock()
}

// Limit returns the descriptor limit.
func (t *FDTable) Limit() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit
}

// Get returns the file at fd (without a new reference) or EBADF.
func (t *FDTable) Get(fd int) (*File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		return nil, unix.EBADF
	}
	return t.fds[fd].file, nil
}

// CloseOnExec reports the FD_CLOEXEC flag of fd.
func (t *FDTable) CloseOnExec(fd int) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		return false, unix.EBADF
	}
	return t.fds[fd].cloexec, nil
}

// SetCloseOnExec sets FD_CLOEXEC of fd.
func (t *FDTable) SetCloseOnExec(fd int, on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		return unix.EBADF
	}
	t.fds[fd].cloexec = on
	return nil
}

// Install puts f at the lowest free descriptor >= min; the table takes the
// caller's reference. EMFILE when the limit is reached.
func (t *FDTable) Install(f *File, minFD int, cloexec bool) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if minFD < 0 || minFD >= t.limit {
		return -1, unix.EINVAL
	}
	fd := minFD
	for fd < len(t.fds) && t.fds[fd].file != nil {
		fd++
	}
	if fd >= t.limit {
		return -1, unix.EMFILE
	}
	t.setLocked(fd, f, cloexec)
	return fd, nil
}

// InstallAt puts f at fd, closing what was there (dup2). The table takes
// the caller's reference.
func (t *FDTable) InstallAt(fd int, f *File, cloexec bool) error {
	t.mu.Lock()
	if fd < 0 || fd >= t.limit {
		t.mu.Unlock()
		return unix.EBADF
	}
	var old *File
	if fd < len(t.fds) {
		old = t.fds[fd].file
	}
	t.setLocked(fd, f, cloexec)
	t.mu.Unlock()
	if old != nil {
		t.drop(old)
	}
	return nil
}

func (t *FDTable) setLocked(fd int, f *File, cloexec bool) {
	for fd >= len(t.fds) {
		t.fds = append(t.fds, fdEntry{})
	}
	t.fds[fd] = fdEntry{file: f, cloexec: cloexec}
}

// Remove takes fd out of the table and drops its reference.
func (t *FDTable) Remove(fd int) error {
	t.mu.Lock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		t.mu.Unlock()
		return unix.EBADF
	}
	f := t.fds[fd].file
	t.fds[fd] = fdEntry{}
	t.mu.Unlock()
	t.drop(f)
	return nil
}

// RemoveRange closes descriptors in [lo, hi] (close_range); with cloexec
// it only marks them close-on-exec.
func (t *FDTable) RemoveRange(lo, hi int, cloexec bool) {
	t.mu.Lock()
	var drop []*File
	for fd := max(lo, 0); fd < len(t.fds) && fd <= hi; fd++ {
		if t.fds[fd].file == nil {
			continue
		}
		if cloexec {
			t.fds[fd].cloexec = true
			continue
		}
		drop = append(drop, t.fds[fd].file)
		t.fds[fd] = fdEntry{}
	}
	t.mu.Unlock()
	for _, f := range drop {
		t.drop(f)
	}
}

// Release closes every descriptor.
func (t *FDTable) Release() { t.RemoveRange(0, MaxNoFile, false) }

// CloseOnExecAll closes every descriptor marked close-on-exec (execve).
func (t *FDTable) CloseOnExecAll() {
	t.mu.Lock()
	var drop []*File
	for fd := range t.fds {
		if t.fds[fd].file != nil && t.fds[fd].cloexec {
			drop = append(drop, t.fds[fd].file)
			t.fds[fd] = fdEntry{}
		}
	}
	t.mu.Unlock()
	for _, f := range drop {
		t.drop(f)
	}
}

// Each calls fn for every open descriptor, in increasing order.
func (t *FDTable) Each(fn func(fd int, f *File, cloexec bool)) {
	t.mu.Lock()
	type ent struct {
		fd      int
		f       *File
		cloexec bool
	}
	var ents []ent
	for fd, e := range t.fds {
		if e.file != nil {
			ents = append(ents, ent{fd, e.file, e.cloexec})
		}
	}
	t.mu.Unlock()
	for _, e := range ents {
		fn(e.fd, e.f, e.cloexec)
	}
}
