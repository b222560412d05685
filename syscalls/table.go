package syscalls

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/mm"
)

// Args are the six syscall arguments.
type Args [6]uintptr

// Handler implements one system call. It returns the result or an error;
// a unix.Errno error is returned to the program as -errno, any other error
// as EIO (and logged).
type Handler func(t *kernel.Task, a Args) (uintptr, error)

// tableSize bounds the table.
const tableSize = 512

// Table is the syscall table.
type Table struct {
	handlers [tableSize]Handler
}

// NewTable builds the table with every implemented syscall.
func NewTable() *Table {
	t := &Table{}
	for nr, h := range registry {
		t.handlers[nr] = h
	}
	return t
}

// registry is filled by the sys_*.go files' init functions.
var registry = map[uintptr]Handler{}

func register(nr uintptr, h Handler) {
	if _, dup := registry[nr]; dup {
		panic(fmt.Sprintf("syscall %s registered twice", Name(nr)))
	}
	registry[nr] = h
}

// Implemented reports whether nr has a handler.
func (tb *Table) Implemented(nr uintptr) bool { return nr < tableSize && tb.handlers[nr] != nil }

// errnoOf converts a handler error to an errno.
func errnoOf(t *kernel.Task, nr uintptr, err error) unix.Errno {
	var e unix.Errno
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, mm.ErrStringTooLong):
		return unix.ENAMETOOLONG
	case errors.Is(err, mm.ErrOutOfMemory):
		return unix.ENOMEM
	}
	t.K.Log.Warn("syscall failed inside ringbox", "syscall", Name(nr), "err", err)
	return unix.EIO
}

// memReader adapts the task's memory to the strace formatter.
type memReader struct{ m *mm.MM }

func (r memReader) CopyIn(addr uintptr, dst []byte) (int, error) { return r.m.CopyIn(addr, dst) }
func (r memReader) CopyInString(addr uintptr, max int) (string, error) {
	return r.m.CopyInString(addr, max)
}

// Dispatch implements kernel.SyscallTable.
func (tb *Table) Dispatch(t *kernel.Task, nr uintptr, args [6]uintptr) uintptr {
	var h Handler
	if nr < tableSize {
		h = tb.handlers[nr]
	}
	if t.K.Strace != nil && (nr == unix.SYS_EXIT || nr == unix.SYS_EXIT_GROUP) {
		fmt.Fprintf(t.K.Strace, "[pid %d] %s = ?\n", t.TID, FormatCall(nr, args, memReader{t.MM}))
	}
	var ret uintptr
	if h == nil {
		if t.K.FirstUnknown(nr) {
			t.K.Log.Debug("unimplemented syscall", "nr", nr, "name", Name(nr))
		}
		ret = negErrno(unix.ENOSYS)
	} else {
		r, err := h(t, Args(args))
		if err != nil {
			ret = negErrno(errnoOf(t, nr, err))
		} else {
			ret = r
		}
	}
	if t.K.Strace != nil && nr != unix.SYS_EXIT && nr != unix.SYS_EXIT_GROUP {
		fmt.Fprintf(t.K.Strace, "[pid %d] %s\n", t.TID, FormatSyscall(nr, args, ret, memReader{t.MM}))
	}
	return ret
}

func negErrno(e unix.Errno) uintptr { return uintptr(-int64(e)) }
