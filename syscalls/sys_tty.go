package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tty"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

// Terminal ioctls that x/sys/unix names under other spellings or not at all.
const (
	tcgets2     = 0x802c542a
	tcsets2     = 0x402c542b
	tcsetsw2    = 0x402c542c
	tcsetsf2    = 0x402c542d
	tcflsh      = unix.TCFLSH
	tcxonc      = unix.TCXONC
	tcsbrk      = unix.TCSBRK
	tcsbrkp     = 0x5425
	tiocoutq    = unix.TIOCOUTQ
	tiocsctty   = unix.TIOCSCTTY
	tiocnotty   = unix.TIOCNOTTY
	tiocspgrp   = unix.TIOCSPGRP
	tiocgsid    = unix.TIOCGSID
	tiocswinsz  = unix.TIOCSWINSZ
	tiocgptn    = 0x80045430
	tiocsptlck  = 0x40045431
	tiocgptlck  = 0x80045439
	tiocgptpeer = 0x5441
	tiocgdev    = 0x80045432
	tiocexcl    = unix.TIOCEXCL
	tiocnxcl    = unix.TIOCNXCL
	tiocpkt     = unix.TIOCPKT
	tiocgpkt    = 0x80045438
)

// ttyOf returns the terminal of a master or slave file, and whether the
// file is the master.
func ttyOf(f *fs.File) (*tty.Terminal, bool) {
	switch i := f.Impl.(type) {
	case *tty.Master:
		return i.T, true
	case *tty.Slave:
		return i.T, false
	}
	return nil, false
}

// ttyOpened finishes an open of a terminal: /dev/tty becomes the caller's
// controlling terminal (ENXIO without one), and a session leader without
// one that opens a slave without O_NOCTTY acquires it.
func ttyOpened(t *kernel.Task, impl fs.Impl, flags int) (fs.Impl, error) {
	switch i := impl.(type) {
	case *tty.Master:
		// The new slave belongs to its opener, group tty (5), mode
		// 0620: devpts as Docker and systemd mount it (gid=5,mode=620).
		c := t.TG.Creds()
		i.T.SetOwner(c.EUID, tty.GroupTTY)
	case tty.Current:
		c, ok := t.TG.CTTY().(*tty.Terminal)
		if !ok || c == nil {
			return nil, unix.ENXIO
		}
		return tty.NewSlave(c, c.Dev)
	case *tty.Slave:
		if flags&unix.O_NOCTTY == 0 {
			acquireCTTY(t, i.T, false)
		}
	}
	return impl, nil
}

// acquireCTTY makes term the controlling terminal of t's session if t
// leads a session without one and term controls no session (or steal,
// TIOCSCTTY by root, takes it from another). It reports whether it did.
func acquireCTTY(t *kernel.Task, term *tty.Terminal, steal bool) bool {
	tg := t.TG
	sid, pgid := tg.SID(), tg.PGID()
	if sid != tg.PID || tg.CTTY() != nil {
		return false
	}
	if s, _ := term.Session(); s != 0 && !steal {
		return false
	}
	k := t.K
	term.SetSession(sid, pgid, k.SignalPgrp)
	tg.SetCTTY(term)
	return true
}

// isCTTY reports whether term is t's controlling terminal.
func isCTTY(t *kernel.Task, term *tty.Terminal) bool {
	c, _ := t.TG.CTTY().(*tty.Terminal)
	return c == term
}

// jobCheck applies job control to t using its controlling terminal term
// from a background process group: sig (SIGTTIN or SIGTTOU) goes to the
// group and the call restarts; with sig ignored or blocked it proceeds
// (ok true) for SIGTTOU and fails with EIO for SIGTTIN; an orphaned group
// gets EIO.
func jobCheck(t *kernel.Task, term *tty.Terminal, sig unix.Signal) (bool, error) {
	if !isCTTY(t, term) {
		return true, nil
	}
	_, fg := term.Session()
	pgid := t.TG.PGID()
	if fg == 0 || pgid == fg {
		return true, nil
	}
	if t.SignalIgnoredOrBlocked(sig) {
		if sig == unix.SIGTTIN {
			return false, unix.EIO
		}
		return true, nil
	}
	if t.K.OrphanedPgrp(pgid) {
		return false, unix.EIO
	}
	t.K.SignalPgrp(pgid, sig)
	return false, kernel.ErrRestartSys
}

// ttyRead is the read of a slave: job control, then the line
// discipline's wait with VMIN and VTIME.
func ttyRead(t *kernel.Task, f *fs.File, s *tty.Slave) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		if ok, err := jobCheck(t, s.T, unix.SIGTTIN); !ok {
			return 0, err
		}
		expired := false
		for {
			var n int
			var err error
			if expired {
				n, err = s.ReadExpired(b)
			} else {
				n, err = s.Read(b)
			}
			if err != unix.EAGAIN || nonBlocking(f) {
				return n, err
			}
			timeout := s.ReadTimeout()
			e, ch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHup)
			s.EventRegister(e)
			sl := newSleeper(t, timeout)
			w := wakeNotified
			if s.Readiness(waiter.ReadableEvents|waiter.EventHup) == 0 {
				w = sl.sleep(ch, false)
			}
			sl.stop()
			s.EventUnregister(e)
			switch w {
			case wakeSignal:
				return 0, kernel.ErrRestartSys
			case wakeTimeout:
				expired = true
			}
		}
	}
}

// ttyWrite is the write of a slave: with TOSTOP, a background group gets
// SIGTTOU.
func ttyWrite(t *kernel.Task, f *fs.File, s *tty.Slave) func([]byte) (int, error) {
	w := blockingWriteFile(t, f)
	return func(b []byte) (int, error) {
		if s.T.Termios().Lflag&unix.TOSTOP != 0 {
			if ok, err := jobCheck(t, s.T, unix.SIGTTOU); !ok {
				return 0, err
			}
		}
		return w(b)
	}
}

func ttyPutU32(t *kernel.Task, addr uintptr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	_, err := t.MM.CopyOut(addr, b[:])
	return err
}

func ttyGetU32(t *kernel.Task, addr uintptr) (uint32, error) {
	var b [4]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// ttyIoctl answers the terminal ioctls of a pty end; ok is false for
// other files.
func ttyIoctl(t *kernel.Task, f *fs.File, req uint, arg uintptr) (r uintptr, ok bool, err error) {
	term, master := ttyOf(f)
	if term == nil {
		return 0, false, nil
	}
	// Changes from a background process group of the controlling
	// terminal get SIGTTOU.
	switch req {
	case tcsets, tcsetsw, tcsetsf, tcsets2, tcsetsw2, tcsetsf2, tiocspgrp, tiocswinsz, tcflsh, tcxonc:
		if !master {
			if ok, err := jobCheck(t, term, unix.SIGTTOU); !ok {
				return 0, true, err
			}
		}
	}
	switch req {
	case tcgets, tcgets2:
		tio := term.Termios()
		n := tty.TermiosSize
		if req == tcgets2 {
			n = tty.Termios2Size
		}
		_, err := t.MM.CopyOut(arg, tio.Encode(n))
		return 0, true, err
	case tcsets, tcsetsw, tcsetsf, tcsets2, tcsetsw2, tcsetsf2:
		n := tty.TermiosSize
		if req == tcsets2 || req == tcsetsw2 || req == tcsetsf2 {
			n = tty.Termios2Size
		}
		b := make([]byte, n)
		if _, err := t.MM.CopyIn(arg, b); err != nil {
			return 0, true, err
		}
		term.SetTermios(tty.DecodeTermios(b), req == tcsetsf || req == tcsetsf2)
		return 0, true, nil
	case tiocgwinsz:
		ws := term.Winsize()
		var b [8]byte
		binary.LittleEndian.PutUint16(b[0:], ws.Row)
		binary.LittleEndian.PutUint16(b[2:], ws.Col)
		binary.LittleEndian.PutUint16(b[4:], ws.Xpixel)
		binary.LittleEndian.PutUint16(b[6:], ws.Ypixel)
		_, err := t.MM.CopyOut(arg, b[:])
		return 0, true, err
	case tiocswinsz:
		var b [8]byte
		if _, err := t.MM.CopyIn(arg, b[:]); err != nil {
			return 0, true, err
		}
		le := binary.LittleEndian
		term.SetWinsize(unix.Winsize{Row: le.Uint16(b[0:]), Col: le.Uint16(b[2:]), Xpixel: le.Uint16(b[4:]), Ypixel: le.Uint16(b[6:])})
		return 0, true, nil
	case tiocoutq:
		n := term.OutputQueued()
		if master {
			n = 0
		}
		return 0, true, ttyPutU32(t, arg, uint32(n))
	case tcflsh:
		q := int(arg)
		if master && q != 2 {
			q = 1 - q // the master's input is the slave's output
		}
		return 0, true, term.Flush(q)
	case tcxonc, tcsbrk, tcsbrkp:
		return 0, true, nil
	case tiocgptn:
		if !master {
			return 0, true, unix.ENOTTY
		}
		return 0, true, ttyPutU32(t, arg, uint32(term.Index))
	case tiocsptlck:
		if !master {
			return 0, true, unix.ENOTTY
		}
		v, err := ttyGetU32(t, arg)
		if err != nil {
			return 0, true, err
		}
		term.SetLocked(v != 0)
		return 0, true, nil
	case tiocgptlck:
		if !master {
			return 0, true, unix.ENOTTY
		}
		v := uint32(0)
		if term.Locked() {
			v = 1
		}
		return 0, true, ttyPutU32(t, arg, v)
	case tiocgptpeer:
		if !master {
			return 0, true, unix.ENOTTY
		}
		flags := int(arg)
		if flags&^(unix.O_ACCMODE|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC) != 0 {
			return 0, true, unix.EINVAL
		}
		m := f.Impl.(*tty.Master)
		s, err := tty.NewSlave(term, m.Dev())
		if err != nil {
			return 0, true, err
		}
		impl, err := ttyOpened(t, s, flags)
		if err != nil {
			s.Release()
			return 0, true, err
		}
		nf := fs.NewFile(impl, flags&^(unix.O_NOCTTY|unix.O_CLOEXEC))
		fd, err := t.TG.FDs.Install(nf, 0, flags&unix.O_CLOEXEC != 0)
		if err != nil {
			nf.DecRef()
			return 0, true, err
		}
		return uintptr(fd), true, nil
	case tiocsctty:
		if master {
			return 0, true, unix.ENOTTY
		}
		if isCTTY(t, term) {
			return 0, true, nil
		}
		tg := t.TG
		if tg.SID() != tg.PID || tg.CTTY() != nil {
			return 0, true, unix.EPERM
		}
		steal := arg == 1 && func() bool { c := tg.Creds(); return c.HasCap(kernel.CapSysAdmin) }()
		if sid, _ := term.Session(); sid != 0 && !steal {
			return 0, true, unix.EPERM
		}
		acquireCTTY(t, term, steal)
		return 0, true, nil
	case tiocnotty:
		if !isCTTY(t, term) {
			return 0, true, unix.ENOTTY
		}
		tg := t.TG
		if tg.SID() == tg.PID {
			// The session leader gives it up: the foreground group hears
			// SIGHUP and SIGCONT.
			_, fg := term.Session()
			term.SetSession(0, 0, nil)
			tg.SetCTTY(nil)
			if fg > 0 {
				t.K.SignalPgrp(fg, unix.SIGHUP)
				t.K.SignalPgrp(fg, unix.SIGCONT)
			}
		}
		return 0, true, nil
	case tiocgpgrp, tiocgsid:
		sid, fg := term.Session()
		if !master && !isCTTY(t, term) {
			return 0, true, unix.ENOTTY
		}
		if sid == 0 {
			return 0, true, unix.ENOTTY
		}
		v := fg
		if req == tiocgsid {
			v = sid
		}
		return 0, true, ttyPutU32(t, arg, uint32(v))
	case tiocspgrp:
		if master || !isCTTY(t, term) {
			return 0, true, unix.ENOTTY
		}
		v, err := ttyGetU32(t, arg)
		if err != nil {
			return 0, true, err
		}
		pgrp := int32(v)
		if pgrp < 0 {
			return 0, true, unix.EINVAL
		}
		sid, _ := term.Session()
		if s := t.K.SessionOf(pgrp); s == 0 {
			return 0, true, unix.ESRCH
		} else if s != sid {
			return 0, true, unix.EPERM
		}
		term.SetForeground(pgrp)
		return 0, true, nil
	case tiocexcl, tiocnxcl:
		return 0, true, nil
	case tiocgdev:
		return 0, true, ttyPutU32(t, arg, uint32(unix.Mkdev(136, uint32(term.Index))))
	case tiocpkt:
		if !master {
			return 0, true, unix.ENOTTY
		}
		v, err := ttyGetU32(t, arg)
		if err != nil {
			return 0, true, err
		}
		term.SetPacket(v != 0)
		return 0, true, nil
	case tiocgpkt:
		if !master {
			return 0, true, unix.ENOTTY
		}
		v := uint32(0)
		if term.Packet() {
			v = 1
		}
		return 0, true, ttyPutU32(t, arg, v)
	case unix.TIOCSTI:
		// Faking input is refused, as Linux does with
		// dev.tty.legacy_tiocsti=0 (its default since 6.2 on most
		// distributions): a sandboxed program must not type into the
		// terminal it shares.
		return 0, true, unix.EIO
	}
	return 0, true, unix.ENOTTY
}
