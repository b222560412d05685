package fs

import "golang.org/x/sys/unix"

// Fork returns a copy of the table for a new process (fork without
// CLONE_FILES): the same open file descriptions, each with one more
// reference, and the same close-on-exec flags and limit.
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &FDTable{limit: t.limit, fds: make([]fdEntry, len(t.fds)), onDrop: t.onDrop}
	for i, e := range t.fds {
		if e.file != nil {
			e.file.IncRef()
			n.fds[i] = e
		}
	}
	return n
}

// GetRef returns the file at fd with a new reference (the caller calls
// DecRef), or EBADF.
func (t *FDTable) GetRef(fd int) (*File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].file == nil {
		return nil, unix.EBADF
	}
	f := t.fds[fd].file
	f.IncRef()
	return f, nil
}
