package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
)

// RLIMIT_FSIZE, as Linux applies it to regular files: a write that
// starts at or past the limit fails with EFBIG and sends the thread
// SIGXFSZ (whose default action ends the process); one that would cross
// it is cut short at the limit; truncate, ftruncate and fallocate that
// would grow a file past it fail the same way. Pipes, sockets and devices
// have no size. Nothing is checked while the limit is RLIM_INFINITY.

// fsizeLimit returns the soft RLIMIT_FSIZE, ok false when there is none.
func fsizeLimit(t *kernel.Task) (int64, bool) {
	l := t.TG.Limit(unix.RLIMIT_FSIZE).Cur
	if l == unix.RLIM_INFINITY || l > 1<<62 {
		return 0, false
	}
	return int64(l), true
}

// sendSIGXFSZ sends SIGXFSZ to t, as a write past the limit does.
func sendSIGXFSZ(t *kernel.Task) {
	t.SendSignalInfo(kernel.SigInfo{Signo: int32(unix.SIGXFSZ), Code: kernel.SIUser, PID: t.TG.PID,
		UID: t.TG.Creds().UID})
}

// fsizeWrite returns how many of n bytes may be written at pos of f (pos
// < 0: at the file's position, or its end under O_APPEND): n, fewer up to
// the limit, or EFBIG at or past it.
func fsizeWrite(t *kernel.Task, f *fs.File, pos int64, n uintptr) (uintptr, error) {
	lim, ok := fsizeLimit(t)
	if !ok || n == 0 {
		return n, nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return n, nil
	}
	if pos < 0 {
		if f.Flags()&unix.O_APPEND != 0 {
			pos = st.Size
		} else if pos, err = f.Seek(0, unix.SEEK_CUR); err != nil {
			return n, nil
		}
	}
	if pos >= lim {
		sendSIGXFSZ(t)
		return 0, unix.EFBIG
	}
	return min(n, uintptr(lim-pos)), nil
}

// fsizeGrow checks growing a regular file from size to end (truncate,
// fallocate) against the limit.
func fsizeGrow(t *kernel.Task, size, end int64) error {
	if lim, ok := fsizeLimit(t); ok && end > size && end > lim {
		sendSIGXFSZ(t)
		return unix.EFBIG
	}
	return nil
}

// clampIovecs cuts iov to n bytes in all.
func clampIovecs(iov []iovec, n uintptr) []iovec {
	for i := range iov {
		if iov[i].len >= n {
			iov[i].len = n
			return iov[:i+1]
		}
		n -= iov[i].len
	}
	return iov
}
