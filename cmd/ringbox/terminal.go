package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/devfs"
	"ringbox/fs/tty"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

// hostTerminal joins ringbox's own terminal to a sandbox pty (-t): the
// program's stdin, stdout and stderr are the pty's slave, what it writes
// is copied to ringbox's stdout, and with -i what is typed is copied to
// it. ringbox's terminal is in raw mode meanwhile (the sandbox's line
// discipline does the editing and the signals) and close restores it.
type hostTerminal struct {
	m *tty.Master
	// in and out are the host side: ringbox's stdin and stdout for
	// run -t, an exec caller's terminal for exec -t.
	in, out int
	log     *slog.Logger
	saved   *unix.Termios // the modes of ringbox's stdin, when it changed them
	winch   chan os.Signal
	done    chan struct{} // the output copy ended: no slave is open any more
	once    sync.Once
	// stop ends input and the size polling; inputDone is closed when
	// input no longer touches h.in.
	stop      chan struct{}
	inputDone chan struct{}
}

// newHostTerminal makes the pty and installs its slave as fds 0, 1 and 2,
// joined to ringbox's own stdin and stdout.
func newHostTerminal(dev *devfs.FS, fds *fs.FDTable, uid uint32, interactive bool, log *slog.Logger) (*hostTerminal, error) {
	return joinTerminal(dev, fds, uid, 0, 1, interactive, log)
}

// joinTerminal makes the pty, its slave /dev/pts/N owned by uid (group
// tty) as runc gives the container's user its console, and installs the
// slave as fds 0, 1 and 2, joined to the host terminal on in and out.
func joinTerminal(dev *devfs.FS, fds *fs.FDTable, uid uint32, in, out int, interactive bool, log *slog.Logger) (*hostTerminal, error) {
	if dev == nil {
		return nil, errors.New("the sandbox has no /dev for the terminal")
	}
	m, err := dev.Devpts().Alloc()
	if err != nil {
		return nil, err
	}
	m.T.SetLocked(false)
	m.T.SetOwner(uid, tty.GroupTTY)
	s, err := tty.NewSlave(m.T, dev.Devpts().Dev())
	if err != nil {
		m.Release()
		return nil, err
	}
	f := fs.NewFile(s, unix.O_RDWR)
	for fd := 0; fd < 3; fd++ {
		if fd > 0 {
			f.IncRef()
		}
		if err := fds.InstallAt(fd, f, false); err != nil {
			f.DecRef()
			m.Release()
			return nil, err
		}
	}
	h := &hostTerminal{m: m, in: in, out: out, log: log, done: make(chan struct{}), winch: make(chan os.Signal, 1),
		stop: make(chan struct{}), inputDone: make(chan struct{})}
	h.resize()
	signal.Notify(h.winch, syscall.SIGWINCH)
	go func() {
		for range h.winch {
			h.resize()
		}
	}()
	if interactive {
		if t, err := unix.IoctlGetTermios(in, unix.TCGETS); err == nil {
			raw := *t
			raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
			raw.Oflag &^= unix.OPOST
			raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
			raw.Cflag = raw.Cflag&^(unix.CSIZE|unix.PARENB) | unix.CS8
			raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
			if err := unix.IoctlSetTermios(in, unix.TCSETSW, &raw); err == nil {
				h.saved = t
			}
		}
		go h.input()
	} else {
		close(h.inputDone)
	}
	go h.output()
	return h, nil
}

// followSize polls the host terminal's window size until close: an exec
// caller's terminal (a pty the shim resizes through its master) sends
// ringbox no SIGWINCH.
func (h *hostTerminal) followSize() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.resize()
		}
	}
}

// attach makes the terminal the controlling terminal of the first
// process's session, with its group in the foreground.
func (h *hostTerminal) attach(k *kernel.Kernel, tg *kernel.ThreadGroup) {
	h.m.T.SetSession(tg.SID(), tg.PGID(), k.SignalPgrp)
	tg.SetCTTY(h.m.T)
}

// resize copies the window size of ringbox's terminal (SIGWINCH).
func (h *hostTerminal) resize() {
	for _, fd := range []int{h.in, h.out, 2} {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			if old := h.m.T.Winsize(); old != *ws {
				h.m.T.SetWinsize(*ws)
			}
			return
		}
	}
}

// wait blocks until the master has one of mask's events, or 100 ms pass.
func (h *hostTerminal) wait(mask waiter.EventMask) {
	e, ch := waiter.NewChannelEntry(mask | waiter.EventHup)
	h.m.EventRegister(e)
	defer h.m.EventUnregister(e)
	if h.m.Readiness(mask|waiter.EventHup) != 0 {
		return
	}
	select {
	case <-ch:
	case <-time.After(100 * time.Millisecond):
	}
}

// input copies the host terminal's input to the sandbox's until end of
// file or close. It polls rather than blocks in read, so that close can
// end it before the descriptor goes away.
func (h *hostTerminal) input() {
	defer close(h.inputDone)
	buf := make([]byte, 4096)
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(h.in), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 100); err == unix.EINTR || err == nil && n == 0 {
			continue
		}
		n, err := unix.Read(h.in, buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if n <= 0 {
			return
		}
		for b := buf[:n]; len(b) > 0; {
			k, err := h.m.Write(b)
			b = b[max(k, 0):]
			if err == unix.EAGAIN {
				h.wait(waiter.WritableEvents)
			} else if err != nil {
				return
			}
			if !h.m.T.MasterOpen() {
				return
			}
		}
	}
}

// output copies the terminal's output to ringbox's stdout until every
// slave is closed.
func (h *hostTerminal) output() {
	defer close(h.done)
	buf := make([]byte, 16<<10)
	for {
		n, err := h.m.Read(buf)
		if n > 0 {
			writeAll(h.out, buf[:n])
			continue
		}
		if err != unix.EAGAIN {
			return
		}
		h.wait(waiter.ReadableEvents)
	}
}

func writeAll(fd int, b []byte) {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return
		}
		b = b[n:]
	}
}

// drain waits a little for the program's last output to reach stdout
// (not forever: a background process may hold the terminal open).
func (h *hostTerminal) drain() {
	select {
	case <-h.done:
	case <-time.After(500 * time.Millisecond):
	}
}

// close restores ringbox's terminal and hangs up the sandbox's.
func (h *hostTerminal) close() {
	h.once.Do(func() {
		close(h.stop)
		<-h.inputDone
		signal.Stop(h.winch)
		close(h.winch)
		if h.saved != nil {
			if err := unix.IoctlSetTermios(h.in, unix.TCSETSW, h.saved); err != nil {
				h.log.Warn("restoring the terminal", "err", err)
			}
		}
		h.m.Release()
	})
}
