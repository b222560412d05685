package fs

// Fork returns a copy of the table for a new process (fork without
// CLONE_FILES): the same open file descriptions, each with one more
// reference, and the same close-on-exec flags and limit.
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &FDTable{limit: t.limit, fds: make([]fdEntry, len(t.fds))}
	for i, e := range t.fds {
		if e.file != nil {
			e.file.IncRef()
			n.fds[i] = e
		}
	}
	return n
}
