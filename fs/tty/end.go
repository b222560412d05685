package tty

import (
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
)

// Device numbers, as on Linux.
const (
	ptmxMajor, ptmxMinor = 5, 2
	ptsMajor             = 136
)

// Master is an open /dev/ptmx: the fs.Impl of the master end.
type Master struct {
	T        *Terminal
	dev      uint64
	ino      uint64
	released atomic.Bool
}

var (
	_ fs.Impl     = (*Master)(nil)
	_ fs.Waitable = (*Master)(nil)
)

// Read implements fs.Impl.
func (m *Master) Read(p []byte) (int, error) { return m.T.MasterRead(p) }

// Write implements fs.Impl: input for the line discipline.
func (m *Master) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return m.T.Input(p)
}

// Pread implements fs.Impl.
func (m *Master) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (m *Master) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl.
func (m *Master) Seek(int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements fs.Impl: the character device 5:2.
func (m *Master) Stat() (unix.Stat_t, error) {
	return charStat(m.dev, m.ino, unix.Mkdev(ptmxMajor, ptmxMinor), 0o666), nil
}

// IsTerminal implements fs.Impl.
func (m *Master) IsTerminal() bool { return true }

// Poll implements fs.Impl without waiting.
func (m *Master) Poll(mask int16, _ int) (int16, error) {
	return int16(m.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable.
func (m *Master) Readiness(mask waiter.EventMask) waiter.EventMask { return m.T.MasterReadiness(mask) }

// EventRegister implements fs.Waitable.
func (m *Master) EventRegister(e *waiter.Entry) { m.T.mq.Register(e) }

// EventUnregister implements fs.Waitable.
func (m *Master) EventUnregister(e *waiter.Entry) { m.T.mq.Unregister(e) }

// ReadAvailable implements fs.ReadAvailabler (FIONREAD).
func (m *Master) ReadAvailable() int { return m.T.OutputQueued() }

// Release implements fs.Impl: the master's close hangs up the terminal.
func (m *Master) Release() {
	if !m.released.Swap(true) {
		m.T.CloseMaster()
	}
}

// Slave is an open /dev/pts/N.
type Slave struct {
	T        *Terminal
	dev      uint64
	released atomic.Bool
}

var (
	_ fs.Impl     = (*Slave)(nil)
	_ fs.Waitable = (*Slave)(nil)
)

// NewSlave opens the slave of t (TIOCGPTPEER, or a host-side opener);
// dev is the st_dev of its devpts.
func NewSlave(t *Terminal, dev uint64) (*Slave, error) {
	if err := t.OpenSlave(); err != nil {
		return nil, err
	}
	return &Slave{T: t, dev: dev}, nil
}

// Read implements fs.Impl; blocking readers use ReadExpired with the
// terminal's ReadTimeout.
func (s *Slave) Read(p []byte) (int, error) { return s.T.SlaveRead(p, false) }

// ReadExpired reads as after the VTIME timer ran out.
func (s *Slave) ReadExpired(p []byte) (int, error) { return s.T.SlaveRead(p, true) }

// ReadTimeout returns the VTIME wait of a blocking read (-1: none).
func (s *Slave) ReadTimeout() time.Duration { return s.T.ReadTimeout() }

// Write implements fs.Impl.
func (s *Slave) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return s.T.SlaveWrite(p)
}

// Pread implements fs.Impl.
func (s *Slave) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (s *Slave) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl.
func (s *Slave) Seek(int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements fs.Impl: the character device 136:N, with the owner
// and mode of /dev/pts/N.
func (s *Slave) Stat() (unix.Stat_t, error) { return s.T.SlaveStat(s.dev), nil }

// IsTerminal implements fs.Impl.
func (s *Slave) IsTerminal() bool { return true }

// Poll implements fs.Impl without waiting.
func (s *Slave) Poll(mask int16, _ int) (int16, error) {
	return int16(s.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable.
func (s *Slave) Readiness(mask waiter.EventMask) waiter.EventMask { return s.T.SlaveReadiness(mask) }

// EventRegister implements fs.Waitable.
func (s *Slave) EventRegister(e *waiter.Entry) { s.T.sq.Register(e) }

// EventUnregister implements fs.Waitable.
func (s *Slave) EventUnregister(e *waiter.Entry) { s.T.sq.Unregister(e) }

// ReadAvailable implements fs.ReadAvailabler (FIONREAD).
func (s *Slave) ReadAvailable() int { return s.T.InputQueued() }

// Name implements fs.Namer.
func (s *Slave) Name() string { return "/dev/pts/" + strconv.Itoa(s.T.Index) }

// Release implements fs.Impl.
func (s *Slave) Release() {
	if !s.released.Swap(true) {
		s.T.CloseSlave()
	}
}

func charStat(dev, ino, rdev uint64, perm uint32) unix.Stat_t {
	now := unix.NsecToTimespec(time.Now().UnixNano())
	return unix.Stat_t{Dev: dev, Ino: ino, Nlink: 1, Mode: unix.S_IFCHR | perm, Rdev: rdev,
		Blksize: 1024, Atim: now, Mtim: now, Ctim: now}
}

// Dev returns the st_dev of the devpts the master belongs to.
func (m *Master) Dev() uint64 { return m.dev }
