package procfs

import (
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Memory is a process's address space as /proc/<pid>/mem reads and
// writes it: at an offset that is the address, through the memory
// manager, as ptrace's PEEKDATA and POKEDATA (a private mapping is
// written even where the program may not write). Both return EIO when
// nothing at addr can be accessed, a short count at the first page that
// cannot. Values are comparable: two are equal when they are the same
// address space (what an open file checks it still reaches).
type Memory interface {
	ReadAt(p []byte, addr int64) (int, error)
	WriteAt(p []byte, addr int64) (int, error)
}

// memOps is /proc/<pid>/mem: opened, not read at once.
var memOps = &ops{open: func(n *node, p Process, flags int) (fs.Impl, error) {
	return &memImpl{p: p, mem: p.Mem(), st: n.stat(p), flags: flags}, nil
}}

// memImpl is an open /proc/<pid>/mem: the address space the process had
// when it was opened, as Linux's. Each access checks that the process
// still has it: after an execve (a set-user-ID program's memory is not
// for whoever opened the file before) or its exit, reads return nothing
// and writes EIO.
type memImpl struct {
	p     Process
	mem   Memory // as opened (nil: none)
	st    unix.Stat_t
	flags int
	mu    sync.Mutex
	off   int64
}

// current returns the memory opened if the process still has it.
func (m *memImpl) current() Memory {
	if m.mem == nil || m.p.Mem() != m.mem {
		return nil
	}
	return m.mem
}

var _ fs.Impl = (*memImpl)(nil)

func (m *memImpl) Read(b []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, err := m.Pread(b, m.off)
	m.off += int64(k)
	return k, err
}

func (m *memImpl) Write(b []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, err := m.Pwrite(b, m.off)
	m.off += int64(k)
	return k, err
}

func (m *memImpl) Pread(b []byte, off int64) (int, error) {
	mem := m.current()
	if mem == nil || len(b) == 0 {
		return 0, nil
	}
	return mem.ReadAt(b, off)
}

func (m *memImpl) Pwrite(b []byte, off int64) (int, error) {
	if m.flags&unix.O_ACCMODE == unix.O_RDONLY {
		return 0, unix.EBADF
	}
	mem := m.current()
	if mem == nil {
		return 0, unix.EIO
	}
	if len(b) == 0 {
		return 0, nil
	}
	return mem.WriteAt(b, off)
}

// Seek implements fs.Impl: SEEK_SET and SEEK_CUR to any address.
func (m *memImpl) Seek(off int64, whence int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		off += m.off
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	m.off = off
	return off, nil
}

func (m *memImpl) Stat() (unix.Stat_t, error) { return m.st, nil }
func (m *memImpl) IsTerminal() bool           { return false }
func (m *memImpl) Poll(mask int16, _ int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT), nil
}
func (m *memImpl) Release() {}
