package fs

import (
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"
)

// HostFD passes I/O through to a host descriptor the sandbox was given
// (its stdin, stdout and stderr). It never opens anything on the host.
type HostFD struct {
	fd int
	// kind is the file type (S_IFMT bits) of the open file, which never
	// changes: calls that cannot succeed on it (terminal requests on what
	// is not a character device, seeks on a pipe or socket) fail here
	// without a host call (a VM exit in ring0 mode). 0 when unknown.
	kind uint32
	// noTTY is set once the host said ENOTTY to TCGETS: a character
	// device that is not a terminal (/dev/null) never becomes one.
	noTTY atomic.Bool
}

// NewHostFD wraps a duplicate of host descriptor fd.
func NewHostFD(fd int) (*HostFD, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	h := &HostFD{fd: nfd}
	var st unix.Stat_t
	if unix.Fstat(nfd, &st) == nil {
		h.kind = st.Mode & unix.S_IFMT
	}
	return h, nil
}

// notTTY reports that the file cannot be a terminal.
func (h *HostFD) notTTY() bool {
	return h.kind != 0 && h.kind != unix.S_IFCHR || h.noTTY.Load()
}

// tcgets asks the host for the terminal settings, remembering a no.
func (h *HostFD) tcgets() (*unix.Termios, error) {
	if h.notTTY() {
		return nil, unix.ENOTTY
	}
	t, err := unix.IoctlGetTermios(h.fd, unix.TCGETS)
	if err == unix.ENOTTY {
		h.noTTY.Store(true)
	}
	if err != nil {
		return nil, unix.ENOTTY
	}
	return t, nil
}

func errno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return unix.EIO
	}
	return nil
}

func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, errno(err)
	}
}

// Read implements Impl.
func (h *HostFD) Read(p []byte) (int, error) {
	return retry(func() (int, error) { return unix.Read(h.fd, p) })
}

// Write implements Impl. Through the host I/O thread when it runs: a
// program's output (a pipe, a terminal, a file) is then written without a
// VM exit in ring0 mode (a busy thread makes callers go direct).
func (h *HostFD) Write(p []byte) (int, error) {
	return retry(func() (int, error) { return hostcall.Write(h.fd, p) })
}

// Pread implements Impl.
func (h *HostFD) Pread(p []byte, off int64) (int, error) {
	return retry(func() (int, error) { return unix.Pread(h.fd, p, off) })
}

// Pwrite implements Impl.
func (h *HostFD) Pwrite(p []byte, off int64) (int, error) {
	return retry(func() (int, error) { return hostcall.Pwrite(h.fd, p, off) })
}

// Seek implements Impl.
func (h *HostFD) Seek(off int64, whence int) (int64, error) {
	if h.kind == unix.S_IFIFO || h.kind == unix.S_IFSOCK {
		return 0, unix.ESPIPE
	}
	n, err := unix.Seek(h.fd, off, whence)
	return n, errno(err)
}

// Stat implements Impl.
func (h *HostFD) Stat() (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstat(h.fd, &st)
	return st, errno(err)
}

// IsTerminal implements Impl.
func (h *HostFD) IsTerminal() bool {
	_, err := h.tcgets()
	return err == nil
}

// Termios returns the terminal settings (TCGETS).
func (h *HostFD) Termios() (*unix.Termios, error) { return h.tcgets() }

// SetTermios changes the terminal settings (TCSETS*).
func (h *HostFD) SetTermios(req uint, t *unix.Termios) error {
	if h.notTTY() {
		return unix.ENOTTY
	}
	return errno(unix.IoctlSetTermios(h.fd, req, t))
}

// Winsize returns the terminal size (TIOCGWINSZ).
func (h *HostFD) Winsize() (*unix.Winsize, error) {
	if h.notTTY() {
		return nil, unix.ENOTTY
	}
	w, err := unix.IoctlGetWinsize(h.fd, unix.TIOCGWINSZ)
	if err != nil {
		return nil, unix.ENOTTY
	}
	return w, nil
}

// Poll implements Impl. It waits in short slices so that an interrupted
// task is never stuck for long in the host.
func (h *HostFD) Poll(mask int16, timeoutMs int) (int16, error) {
	deadline := time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	for {
		slice := 50
		if timeoutMs >= 0 {
			left := time.Until(deadline).Milliseconds()
			if left <= 0 {
				slice = 0
			} else {
				slice = int(min(left, 50))
			}
		}
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: mask}}
		n, err := unix.Poll(fds, slice)
		if err != nil && err != unix.EINTR {
			return 0, errno(err)
		}
		if n > 0 {
			return fds[0].Revents, nil
		}
		if timeoutMs >= 0 && slice == 0 {
			return 0, nil
		}
		if timeoutMs >= 0 && !time.Now().Before(deadline) {
			return 0, nil
		}
		return 0, ErrWouldBlock
	}
}

// ErrWouldBlock asks the caller to check for signals and poll again.
var ErrWouldBlock = errors.New("poll again")

// Release implements Impl.
func (h *HostFD) Release() { unix.Close(h.fd) }
