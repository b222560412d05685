package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
)

// PidFD is the fs.Impl of a pidfd (pidfd_open, CLONE_PIDFD): a handle on a
// process that becomes readable when the process exits, that
// pidfd_send_signal signals and that waitid(P_PIDFD) waits for.
type PidFD struct {
	TG *ThreadGroup
}

var (
	_ fs.Impl     = (*PidFD)(nil)
	_ fs.Waitable = (*PidFD)(nil)
	_ fs.Namer    = (*PidFD)(nil)
)

// NewPidFD makes a pidfd for tg.
func NewPidFD(tg *ThreadGroup) *PidFD { return &PidFD{TG: tg} }

// exitedNow reports whether the process has exited (a zombie or reaped).
func (p *PidFD) exitedNow() bool { return p.TG.Exited() }

// Exited reports whether the process has exited (a zombie or reaped).
func (tg *ThreadGroup) Exited() bool {
	select {
	case <-tg.done:
		return true
	default:
		return false
	}
}

// Readiness implements fs.Waitable: readable once the process has exited.
func (p *PidFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	if p.exitedNow() {
		return mask & waiter.ReadableEvents
	}
	return 0
}

// EventRegister implements fs.Waitable.
func (p *PidFD) EventRegister(e *waiter.Entry) { p.TG.pidfdQ.Register(e) }

// EventUnregister implements fs.Waitable.
func (p *PidFD) EventUnregister(e *waiter.Entry) { p.TG.pidfdQ.Unregister(e) }

// Name implements fs.Namer (/proc/PID/fd links).
func (p *PidFD) Name() string { return "anon_inode:[pidfd]" }

// Read implements fs.Impl: a pidfd cannot be read.
func (p *PidFD) Read([]byte) (int, error) { return 0, unix.EINVAL }

// Write implements fs.Impl.
func (p *PidFD) Write([]byte) (int, error) { return 0, unix.EINVAL }

// Pread implements fs.Impl.
func (p *PidFD) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (p *PidFD) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl.
func (p *PidFD) Seek(int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements fs.Impl: an anonymous inode.
func (p *PidFD) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Mode: 0o600, Nlink: 1, Ino: 1, Blksize: 4096}, nil
}

// IsTerminal implements fs.Impl.
func (p *PidFD) IsTerminal() bool { return false }

// Poll implements fs.Impl (waits go through the queue).
func (p *PidFD) Poll(mask int16, timeoutMs int) (int16, error) {
	return int16(uint16(p.Readiness(waiter.EventMask(uint16(mask))))), nil
}

// Release implements fs.Impl.
func (p *PidFD) Release() {}

// PidFDTarget returns the process of the pidfd at descriptor fd of t's
// process: EBADF for no file or one that is not a pidfd (as Linux's
// pidfd_send_signal, pidfd_getfd and waitid(P_PIDFD)).
func (t *Task) PidFDTarget(fd int) (*ThreadGroup, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	p, ok := f.Impl.(*PidFD)
	if !ok {
		return nil, unix.EBADF
	}
	return p.TG, nil
}

// String describes the pidfd.
func (p *PidFD) String() string { return fmt.Sprintf("pidfd of %d", p.TG.PID) }
