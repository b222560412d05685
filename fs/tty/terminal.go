package tty

import (
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// Buffer bounds, as Linux's n_tty: the input queue holds 4 KiB and a
// canonical line at most 4095 characters plus its end.
const (
	inputMax  = 4096
	lineMax   = 4095
	outputMax = 16 << 10
	// echoSlack lets echo go beyond a full output buffer by this much
	// rather than lose input.
	echoSlack = 4 << 10
)

// disabled is _POSIX_VDISABLE: a control character set to it is off.
const disabled = 0

// SignalFunc delivers a signal to a process group.
type SignalFunc func(pgrp int32, sig unix.Signal)

// Terminal is one pseudo-terminal pair's shared state.
type Terminal struct {
	// Index is N of /dev/pts/N.
	Index int
	// Dev is the st_dev of its devpts.
	Dev uint64

	mu      sync.Mutex
	tio     Termios
	ws      unix.Winsize
	locked  bool // TIOCSPTLCK: the slave cannot be opened
	line    []byte
	in      []byte // input the slave may read
	lines   []int  // canonical mode: lengths of the complete lines at the front of in
	out     []byte // output the master may read
	stopped bool   // output stopped by the STOP character (IXON)
	// Packet mode (TIOCPKT): the master's reads start with a status
	// byte, pktStatus's pending TIOCPKT_* bits or TIOCPKT_DATA (0).
	pkt       bool
	pktStatus byte
	column    int // output column, for erasing a tab

	// The slave node's owner and mode (chown and chmod of /dev/pts/N),
	// and its times once set (utimensat; the current time before).
	uid, gid   uint32
	perm       uint32
	atim, mtim unix.Timespec

	masterOpen bool
	slaves     int
	slaveEver  bool // a slave was opened once: the master sees hang-ups from then on

	sid, pgrp int32
	signal    SignalFunc

	mq waiter.Queue // master's waiters
	sq waiter.Queue // slaves' waiters
}

// New makes a terminal with index n and an open master.
func New(n int) *Terminal {
	return &Terminal{Index: n, tio: DefaultTermios(), masterOpen: true, perm: 0o620}
}

// Termios returns the settings.
func (t *Terminal) Termios() Termios {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tio
}

// SetTermios changes the settings; flush discards pending input
// (TCSETSF). Leaving canonical mode makes the edited line readable.
func (t *Terminal) SetTermios(tio Termios, flush bool) {
	t.mu.Lock()
	old := t.tio
	t.tio = tio
	if flush {
		t.in, t.lines, t.line = nil, nil, nil
	}
	if old.Lflag&unix.ICANON != 0 && tio.Lflag&unix.ICANON == 0 {
		t.in = append(t.in, t.line...)
		t.line, t.lines = nil, nil
	} else if old.Lflag&unix.ICANON == 0 && tio.Lflag&unix.ICANON != 0 && len(t.in) > 0 {
		// Raw input already queued reads as one line.
		t.lines = []int{len(t.in)}
	}
	if tio.Iflag&unix.IXON == 0 {
		t.setStoppedLocked(false)
	}
	if t.pkt && ((old.Iflag^tio.Iflag)&unix.IXON != 0 || old.Cc[VSTOP] != tio.Cc[VSTOP] || old.Cc[VSTART] != tio.Cc[VSTART]) {
		// Whether the master's side may do flow control itself.
		t.pktStatus &^= pktDoStop | pktNoStop
		if tio.Iflag&unix.IXON != 0 && tio.Cc[VSTOP] == 0o23 && tio.Cc[VSTART] == 0o21 {
			t.pktStatus |= pktDoStop
		} else {
			t.pktStatus |= pktNoStop
		}
	}
	t.mu.Unlock()
	t.notifyAll()
}

// Winsize returns the window size.
func (t *Terminal) Winsize() unix.Winsize {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ws
}

// SetWinsize changes the window size; a change sends SIGWINCH to the
// foreground process group.
func (t *Terminal) SetWinsize(ws unix.Winsize) {
	t.mu.Lock()
	changed := ws != t.ws
	t.ws = ws
	pgrp, sig := t.pgrp, t.signal
	t.mu.Unlock()
	if changed && pgrp > 0 && sig != nil {
		sig(pgrp, unix.SIGWINCH)
	}
}

// Session returns the session the terminal controls (0: none) and its
// foreground process group.
func (t *Terminal) Session() (sid, pgrp int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid, t.pgrp
}

// SetSession makes the terminal the controlling terminal of session sid
// with foreground group pgrp, whose signals go through fn; sid 0 detaches
// it.
func (t *Terminal) SetSession(sid, pgrp int32, fn SignalFunc) {
	t.mu.Lock()
	t.sid, t.pgrp, t.signal = sid, pgrp, fn
	if sid == 0 {
		t.pgrp, t.signal = 0, nil
	}
	t.mu.Unlock()
}

// ControllerExited is the exit of the session leader: the terminal is
// detached from the session and the foreground group gets SIGHUP and
// SIGCONT.
func (t *Terminal) ControllerExited() {
	t.mu.Lock()
	pgrp, fn := t.pgrp, t.signal
	t.sid, t.pgrp, t.signal = 0, 0, nil
	t.mu.Unlock()
	if pgrp > 0 && fn != nil {
		fn(pgrp, unix.SIGHUP)
		fn(pgrp, unix.SIGCONT)
	}
}

// SetForeground changes the foreground process group.
func (t *Terminal) SetForeground(pgrp int32) {
	t.mu.Lock()
	t.pgrp = pgrp
	t.mu.Unlock()
}

// Locked reports TIOCGPTLCK.
func (t *Terminal) Locked() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.locked
}

// SetLocked is TIOCSPTLCK.
func (t *Terminal) SetLocked(on bool) {
	t.mu.Lock()
	t.locked = on
	t.mu.Unlock()
}

// notifyAll wakes both ends' waiters.
func (t *Terminal) notifyAll() {
	t.mq.Notify(waiter.AllEvents)
	t.sq.Notify(waiter.AllEvents)
}

// ctl reports whether c is the control character at index i.
func (t *Terminal) ctl(c byte, i int) bool {
	v := t.tio.Cc[i]
	return v != disabled && c == v
}

// output appends b to the master's queue with output processing. mu held.
func (t *Terminal) outputLocked(b []byte) {
	post := t.tio.Oflag&unix.OPOST != 0
	for _, c := range b {
		switch {
		case post && c == '\n' && t.tio.Oflag&unix.ONLCR != 0:
			t.out = append(t.out, '\r', '\n')
			t.column = 0
			continue
		case post && c == '\r' && t.tio.Oflag&unix.OCRNL != 0:
			c = '\n'
		}
		t.out = append(t.out, c)
		switch {
		case c == '\r' || c == '\n':
			t.column = 0
		case c == '\b':
			t.column = max(t.column-1, 0)
		case c == '\t':
			t.column = (t.column | 7) + 1
		case c >= 0x20 && (c < 0x80 || c >= 0xc0):
			t.column++
		}
	}
}

// echoLocked echoes c: ^X for a control character with ECHOCTL.
func (t *Terminal) echoLocked(c byte) {
	if t.tio.Lflag&unix.ECHOCTL != 0 && (c < 0x20 || c == 0x7f) && c != '\t' && c != '\n' && c != '\r' {
		t.outputLocked([]byte{'^', c ^ 0x40})
		return
	}
	t.outputLocked([]byte{c})
}

// eraseLocked removes the last character of the line, echoing its
// erasure; word erases a word (WERASE).
func (t *Terminal) eraseLocked(word bool) {
	echo := t.tio.Lflag&unix.ECHO != 0
	seenWord := false
	for len(t.line) > 0 {
		// The last character, whole when IUTF8.
		n := 1
		if t.tio.Iflag&unix.IUTF8 != 0 {
			_, n = utf8.DecodeLastRune(t.line)
		}
		c := t.line[len(t.line)-n]
		if word {
			space := c == ' ' || c == '\t'
			if space && seenWord {
				return
			}
			seenWord = seenWord || !space
		}
		t.line = t.line[:len(t.line)-n]
		if echo {
			if t.tio.Lflag&unix.ECHOE != 0 {
				w := 1
				if t.tio.Lflag&unix.ECHOCTL != 0 && (c < 0x20 || c == 0x7f) && c != '\t' {
					w = 2
				}
				for range w {
					t.outputLocked([]byte("\b \b"))
				}
			} else {
				t.echoLocked(t.tio.Cc[VERASE])
			}
		}
		if !word {
			return
		}
	}
}

// pushLineLocked makes the edited line readable.
func (t *Terminal) pushLineLocked() {
	t.in = append(t.in, t.line...)
	t.lines = append(t.lines, len(t.line))
	t.line = t.line[:0:0]
}

// inputRoomLocked reports whether the line discipline takes another
// character: the slave has not left a full queue unread.
func (t *Terminal) inputRoomLocked() bool { return len(t.in) < inputMax }

// Input is a write to the master: each byte goes through the line
// discipline. It returns how many bytes it took, with EAGAIN when the
// input queue is full.
func (t *Terminal) Input(b []byte) (int, error) {
	type pending struct {
		pgrp int32
		sig  unix.Signal
	}
	var sigs []pending
	t.mu.Lock()
	n := 0
	for _, c := range b {
		if !t.inputRoomLocked() {
			break
		}
		n++
		t.inputByteLocked(c, func(s unix.Signal) {
			if t.pgrp > 0 && t.signal != nil {
				sigs = append(sigs, pending{t.pgrp, s})
			}
		})
	}
	fn := t.signal
	t.mu.Unlock()
	t.notifyAll()
	for _, s := range sigs {
		fn(s.pgrp, s.sig)
	}
	if n == 0 && len(b) > 0 {
		return 0, unix.EAGAIN
	}
	return n, nil
}

// inputByteLocked processes one input character.
func (t *Terminal) inputByteLocked(c byte, signal func(unix.Signal)) {
	tio := &t.tio
	if tio.Iflag&unix.ISTRIP != 0 {
		c &= 0x7f
	}
	switch {
	case c == '\r' && tio.Iflag&unix.IGNCR != 0:
		return
	case c == '\r' && tio.Iflag&unix.ICRNL != 0:
		c = '\n'
	case c == '\n' && tio.Iflag&unix.INLCR != 0:
		c = '\r'
	}
	if tio.Iflag&unix.IXON != 0 {
		switch {
		case t.ctl(c, VSTOP):
			t.setStoppedLocked(true)
			return
		case t.ctl(c, VSTART):
			t.setStoppedLocked(false)
			return
		case t.stopped && tio.Iflag&unix.IXANY != 0:
			t.setStoppedLocked(false)
		}
	}
	lflag := tio.Lflag
	echo := lflag&unix.ECHO != 0
	if lflag&unix.ISIG != 0 {
		var sig unix.Signal
		switch {
		case t.ctl(c, VINTR):
			sig = unix.SIGINT
		case t.ctl(c, VQUIT):
			sig = unix.SIGQUIT
		case t.ctl(c, VSUSP):
			sig = unix.SIGTSTP
		}
		if sig != 0 {
			if lflag&unix.NOFLSH == 0 {
				// Pending input goes; output already queued for the
				// master stays (the user should see it).
				t.in, t.lines, t.line = nil, nil, nil
			}
			t.setStoppedLocked(false)
			if echo {
				t.echoLocked(c)
			}
			signal(sig)
			return
		}
	}
	if lflag&unix.ICANON != 0 {
		iexten := lflag&unix.IEXTEN != 0
		switch {
		case t.ctl(c, VERASE):
			t.eraseLocked(false)
			return
		case iexten && t.ctl(c, VWERASE):
			t.eraseLocked(true)
			return
		case t.ctl(c, VKILL):
			if echo && lflag&unix.ECHOKE != 0 && lflag&unix.ECHOE != 0 {
				for len(t.line) > 0 {
					t.eraseLocked(false)
				}
				return
			}
			t.line = t.line[:0]
			if echo {
				t.echoLocked(c)
				if lflag&unix.ECHOK != 0 {
					t.outputLocked([]byte{'\n'})
				}
			}
			return
		case t.ctl(c, VEOF):
			t.pushLineLocked()
			return
		case c == '\n' || t.ctl(c, VEOL) || iexten && t.ctl(c, VEOL2):
			t.line = append(t.line, c)
			if echo || c == '\n' && lflag&unix.ECHONL != 0 {
				t.echoLocked(c)
			}
			t.pushLineLocked()
			return
		case iexten && t.ctl(c, VREPRINT):
			if echo {
				t.echoLocked(c)
				t.outputLocked([]byte{'\n'})
				t.outputLocked(t.line)
			}
			return
		}
		if len(t.line) >= lineMax {
			return // the line is full: only its end is taken
		}
		t.line = append(t.line, c)
		if echo {
			t.echoLocked(c)
		}
		return
	}
	t.in = append(t.in, c)
	if echo {
		t.echoLocked(c)
	}
}

// slaveReadableLocked reports whether a slave read would return data.
func (t *Terminal) slaveReadableLocked() bool {
	if t.tio.Lflag&unix.ICANON != 0 {
		return len(t.lines) > 0
	}
	return len(t.in) > 0
}

// ReadTimeout returns, for a blocking slave read in non-canonical mode,
// how long to wait before returning what is there (VTIME), or -1 to wait
// without a deadline. A timer runs only with VTIME set, and with VMIN set
// only once some input arrived.
func (t *Terminal) ReadTimeout() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tio.Lflag&unix.ICANON != 0 || t.tio.Cc[VTIME] == 0 {
		return -1
	}
	if t.tio.Cc[VMIN] > 0 && len(t.in) == 0 {
		return -1
	}
	return time.Duration(t.tio.Cc[VTIME]) * 100 * time.Millisecond
}

// SlaveRead reads what the line discipline has for the slave: one line
// (or part of it) in canonical mode; in non-canonical mode what VMIN and
// VTIME allow, where expired says the VTIME timer ran out. It returns 0
// at end of file (the EOF character at the start of a line, or the
// master gone) and EAGAIN when the reader must wait.
func (t *Terminal) SlaveRead(dst []byte, expired bool) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	t.mu.Lock()
	n, err := t.slaveReadLocked(dst, expired)
	t.mu.Unlock()
	if n > 0 {
		t.mq.Notify(waiter.WritableEvents)
	}
	return n, err
}

func (t *Terminal) slaveReadLocked(dst []byte, expired bool) (int, error) {
	if t.tio.Lflag&unix.ICANON != 0 {
		if len(t.lines) == 0 {
			if !t.masterOpen {
				return 0, nil
			}
			return 0, unix.EAGAIN
		}
		n := copy(dst, t.in[:t.lines[0]])
		t.in = t.in[n:]
		t.lines[0] -= n
		if t.lines[0] == 0 {
			t.lines = t.lines[1:]
		}
		return n, nil
	}
	vmin, vtime := int(t.tio.Cc[VMIN]), t.tio.Cc[VTIME]
	avail := len(t.in)
	switch {
	case avail == 0 && !t.masterOpen:
		return 0, nil
	case expired || vmin == 0 && vtime == 0:
		// Whatever is there, possibly nothing.
	case avail == 0:
		return 0, unix.EAGAIN
	case vmin > 0 && avail < min(vmin, len(dst)):
		return 0, unix.EAGAIN
	}
	n := copy(dst, t.in)
	t.in = t.in[n:]
	return n, nil
}

// SlaveWrite is output from the program: processed into the master's
// queue. It returns EIO once the master is closed and EAGAIN (with the
// count taken) when the queue is full or output is stopped.
func (t *Terminal) SlaveWrite(b []byte) (int, error) {
	t.mu.Lock()
	if !t.masterOpen {
		t.mu.Unlock()
		return 0, unix.EIO
	}
	if t.stopped {
		t.mu.Unlock()
		return 0, unix.EAGAIN
	}
	n := min(len(b), max(outputMax-len(t.out), 0))
	t.outputLocked(b[:n])
	t.mu.Unlock()
	if n > 0 {
		t.mq.Notify(waiter.ReadableEvents)
	}
	if n < len(b) {
		return n, unix.EAGAIN
	}
	return n, nil
}

// MasterRead reads the processed output. With no slave open any more it
// returns EIO, as Linux does. In packet mode a pending status is read
// alone, as one byte, and data comes after a TIOCPKT_DATA byte.
func (t *Terminal) MasterRead(dst []byte) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	t.mu.Lock()
	if t.pkt && t.pktStatus != 0 {
		dst[0], t.pktStatus = t.pktStatus, 0
		t.mu.Unlock()
		return 1, nil
	}
	head := 0
	if t.pkt && len(t.out) > 0 {
		dst[0], head = 0, 1
	}
	n := copy(dst[head:], t.out)
	t.out = t.out[n:]
	hup := t.slaves == 0 && t.slaveEver
	t.mu.Unlock()
	if n+head > 0 {
		t.sq.Notify(waiter.WritableEvents)
		return n + head, nil
	}
	if hup {
		return 0, unix.EIO
	}
	return 0, unix.EAGAIN
}

// MasterReadiness returns the master's ready events among mask.
func (t *Terminal) MasterReadiness(mask waiter.EventMask) waiter.EventMask {
	t.mu.Lock()
	defer t.mu.Unlock()
	var m waiter.EventMask
	if len(t.out) > 0 {
		m |= waiter.ReadableEvents
	}
	if t.pkt && t.pktStatus != 0 {
		m |= waiter.ReadableEvents | waiter.EventPri
	}
	if t.inputRoomLocked() {
		m |= waiter.WritableEvents
	}
	if t.slaves == 0 && t.slaveEver {
		m |= waiter.EventHup
	}
	return m & (mask | waiter.EventHup | waiter.EventErr)
}

// SlaveReadiness returns the slave's ready events among mask.
func (t *Terminal) SlaveReadiness(mask waiter.EventMask) waiter.EventMask {
	t.mu.Lock()
	defer t.mu.Unlock()
	var m waiter.EventMask
	if t.slaveReadableLocked() {
		m |= waiter.ReadableEvents
	}
	if len(t.out) < outputMax && !t.stopped {
		m |= waiter.WritableEvents
	}
	if !t.masterOpen {
		m |= waiter.EventHup | waiter.ReadableEvents
	}
	return m & (mask | waiter.EventHup | waiter.EventErr)
}

// InputQueued is FIONREAD on the slave: bytes readable now.
func (t *Terminal) InputQueued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tio.Lflag&unix.ICANON != 0 {
		n := 0
		for _, l := range t.lines {
			n += l
		}
		return n
	}
	return len(t.in)
}

// OutputQueued is FIONREAD on the master and TIOCOUTQ on the slave.
func (t *Terminal) OutputQueued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.out)
}

// Flush discards input, output or both (TCFLSH: TCIFLUSH 0, TCOFLUSH 1,
// TCIOFLUSH 2), as seen from the slave.
func (t *Terminal) Flush(queue int) error {
	if queue < 0 || queue > 2 {
		return unix.EINVAL
	}
	t.mu.Lock()
	if queue != 1 {
		t.in, t.lines, t.line = nil, nil, nil
		t.pktLocked(pktFlushRead)
	}
	if queue != 0 {
		t.out = nil
		t.pktLocked(pktFlushWrite)
	}
	t.mu.Unlock()
	t.notifyAll()
	return nil
}

// SlaveStat returns the slave node's attributes, on devpts dev.
func (t *Terminal) SlaveStat(dev uint64) unix.Stat_t {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := charStat(dev, slaveIno(t.Index), unix.Mkdev(ptsMajor, uint32(t.Index)), t.perm)
	st.Uid, st.Gid = t.uid, t.gid
	if t.mtim != (unix.Timespec{}) {
		st.Atim, st.Mtim = t.atim, t.mtim
	}
	return st
}

// SetOwner gives the slave node an owner (^0 keeps an ID), as chown does
// and as opening /dev/ptmx does for its opener.
func (t *Terminal) SetOwner(uid, gid uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if uid != ^uint32(0) {
		t.uid = uid
	}
	if gid != ^uint32(0) {
		t.gid = gid
	}
}

// SetPerm sets the slave node's permission bits.
func (t *Terminal) SetPerm(perm uint32) {
	t.mu.Lock()
	t.perm = perm & 0o7777
	t.mu.Unlock()
}

// SetTimes sets the slave node's times (UTIME_NOW and UTIME_OMIT as
// utimensat).
func (t *Terminal) SetTimes(atime, mtime unix.Timespec) {
	now := unix.NsecToTimespec(time.Now().UnixNano())
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mtim == (unix.Timespec{}) {
		t.atim, t.mtim = now, now
	}
	for _, c := range []struct{ set, to *unix.Timespec }{{&atime, &t.atim}, {&mtime, &t.mtim}} {
		switch c.set.Nsec {
		case unix.UTIME_OMIT:
		case unix.UTIME_NOW:
			*c.to = now
		default:
			*c.to = *c.set
		}
	}
}

// The status bits of packet mode (linux/tty.h TIOCPKT_*).
const (
	pktFlushRead  = 1
	pktFlushWrite = 2
	pktStop       = 4
	pktStart      = 8
	pktNoStop     = 16
	pktDoStop     = 32
)

// SetPacket is TIOCPKT on the master: packet mode on or off (which
// drops the pending status).
func (t *Terminal) SetPacket(on bool) {
	t.mu.Lock()
	t.pkt, t.pktStatus = on, 0
	t.mu.Unlock()
}

// Packet is TIOCGPKT.
func (t *Terminal) Packet() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pkt
}

// pktLocked records a status for the master in packet mode.
func (t *Terminal) pktLocked(bits byte) {
	if t.pkt {
		t.pktStatus |= bits
	}
}

// setStoppedLocked stops or restarts output (IXON), telling a master in
// packet mode.
func (t *Terminal) setStoppedLocked(stop bool) {
	if stop == t.stopped {
		return
	}
	t.stopped = stop
	if stop {
		t.pktStatus &^= pktStart
		t.pktLocked(pktStop)
	} else {
		t.pktStatus &^= pktStop
		t.pktLocked(pktStart)
	}
}

// OpenSlave counts a new open of the slave: EIO while locked or after
// the master closed.
func (t *Terminal) OpenSlave() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.locked || !t.masterOpen {
		return unix.EIO
	}
	t.slaves++
	t.slaveEver = true
	return nil
}

// CloseSlave drops an open of the slave.
func (t *Terminal) CloseSlave() {
	t.mu.Lock()
	t.slaves--
	t.mu.Unlock()
	t.notifyAll()
}

// CloseMaster hangs the terminal up: slaves read end of file, writes
// fail with EIO, and the foreground group gets SIGHUP and SIGCONT.
func (t *Terminal) CloseMaster() {
	t.mu.Lock()
	t.masterOpen = false
	pgrp, fn := t.pgrp, t.signal
	t.mu.Unlock()
	t.notifyAll()
	if pgrp > 0 && fn != nil {
		fn(pgrp, unix.SIGHUP)
		fn(pgrp, unix.SIGCONT)
	}
}

// MasterOpen reports whether the master is still open.
func (t *Terminal) MasterOpen() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.masterOpen
}
