package tty

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

type sigRec struct {
	pgrp int32
	sig  unix.Signal
}

func newTerm(t *testing.T) (*Terminal, *[]sigRec) {
	t.Helper()
	term := New(0)
	require.NoError(t, term.OpenSlave())
	var sigs []sigRec
	term.SetSession(1, 7, func(p int32, s unix.Signal) { sigs = append(sigs, sigRec{p, s}) })
	return term, &sigs
}

func masterOut(term *Terminal) string {
	b := make([]byte, 4096)
	n, _ := term.MasterRead(b)
	return string(b[:n])
}

func slaveIn(term *Terminal, n int) (string, error) {
	b := make([]byte, n)
	k, err := term.SlaveRead(b, false)
	return string(b[:k]), err
}

func input(t *testing.T, term *Terminal, s string) {
	t.Helper()
	n, err := term.Input([]byte(s))
	require.NoError(t, err)
	require.Equal(t, len(s), n)
}

func TestCanonicalLineAndEcho(t *testing.T) {
	term, _ := newTerm(t)
	input(t, term, "hel")
	_, err := slaveIn(term, 100)
	assert.Equal(t, unix.EAGAIN, err, "no complete line yet")
	assert.Zero(t, term.SlaveReadiness(waiter.ReadableEvents))
	input(t, term, "lo\r")
	assert.Equal(t, "hello\r\n", masterOut(term), "echo with ICRNL and ONLCR")
	assert.NotZero(t, term.SlaveReadiness(waiter.ReadableEvents))
	assert.Equal(t, 6, term.InputQueued())
	got, err := slaveIn(term, 3)
	require.NoError(t, err)
	assert.Equal(t, "hel", got, "a short read takes part of the line")
	got, _ = slaveIn(term, 100)
	assert.Equal(t, "lo\n", got)
	input(t, term, "a\nb\n")
	got, _ = slaveIn(term, 100)
	assert.Equal(t, "a\n", got, "one line per read")
}

func TestEraseKillWerase(t *testing.T) {
	term, _ := newTerm(t)
	input(t, term, "abc\x7f")
	assert.Equal(t, "abc\b \b", masterOut(term), "ECHOE erases visually")
	input(t, term, "one two\x17x\n")
	got, _ := slaveIn(term, 100)
	assert.Equal(t, "abone x\n", got)
	masterOut(term)

	input(t, term, "junk\x15ok\n")
	got, _ = slaveIn(term, 100)
	assert.Equal(t, "ok\n", got, "KILL drops the line")
	assert.Equal(t, "junk\b \b\b \b\b \b\b \bok\r\n", masterOut(term), "ECHOKE erases each character")

	tio := term.Termios()
	tio.Lflag &^= unix.ECHOKE
	term.SetTermios(tio, false)
	input(t, term, "zz\x15")
	assert.Equal(t, "zz^U\r\n", masterOut(term), "ECHOK: kill character then newline")

	input(t, term, "\x01\x7f")
	assert.Equal(t, "^A\b \b\b \b", masterOut(term), "a ^X echo takes two erasures")
}

func TestEOF(t *testing.T) {
	term, _ := newTerm(t)
	input(t, term, "ab\x04")
	got, err := slaveIn(term, 100)
	require.NoError(t, err)
	assert.Equal(t, "ab", got, "EOF ends the line without itself")
	input(t, term, "\x04")
	got, err = slaveIn(term, 100)
	require.NoError(t, err)
	assert.Equal(t, "", got, "EOF at the start of a line reads 0")
	assert.Equal(t, "ab", masterOut(term), "EOF is not echoed")
}

func TestSignals(t *testing.T) {
	term, sigs := newTerm(t)
	input(t, term, "partial\x03")
	assert.Equal(t, []sigRec{{7, unix.SIGINT}}, *sigs)
	assert.Equal(t, "partial^C", masterOut(term))
	input(t, term, "\n")
	got, _ := slaveIn(term, 100)
	assert.Equal(t, "\n", got, "the interrupted line was flushed")
	input(t, term, "\x1a\x1c")
	assert.Equal(t, []sigRec{{7, unix.SIGINT}, {7, unix.SIGTSTP}, {7, unix.SIGQUIT}}, *sigs)

	tio := term.Termios()
	tio.Lflag &^= unix.ISIG
	term.SetTermios(tio, false)
	input(t, term, "\x03\n")
	got, _ = slaveIn(term, 100)
	assert.Equal(t, "\x03\n", got, "without ISIG ^C is data")
	assert.Len(t, *sigs, 3)

	term.SetWinsize(unix.Winsize{Row: 24, Col: 80})
	term.SetWinsize(unix.Winsize{Row: 24, Col: 80})
	assert.Equal(t, sigRec{7, unix.SIGWINCH}, (*sigs)[3])
	assert.Len(t, *sigs, 4, "SIGWINCH only on a change")
	assert.Equal(t, unix.Winsize{Row: 24, Col: 80}, term.Winsize())
}

func TestRawVMINVTIME(t *testing.T) {
	term, _ := newTerm(t)
	tio := term.Termios()
	tio.Lflag &^= unix.ICANON | unix.ECHO
	tio.Cc[VMIN], tio.Cc[VTIME] = 3, 0
	term.SetTermios(tio, false)
	input(t, term, "ab")
	_, err := slaveIn(term, 10)
	assert.Equal(t, unix.EAGAIN, err, "VMIN 3 waits for 3 bytes")
	got, _ := slaveIn(term, 1)
	assert.Equal(t, "a", got, "or as many as asked")
	input(t, term, "cd")
	got, _ = slaveIn(term, 10)
	assert.Equal(t, "bcd", got)
	assert.Empty(t, masterOut(term), "no echo")
	assert.Equal(t, time.Duration(-1), term.ReadTimeout())

	tio.Cc[VMIN], tio.Cc[VTIME] = 0, 0
	term.SetTermios(tio, false)
	got, err = slaveIn(term, 10)
	assert.NoError(t, err, "VMIN 0 VTIME 0 polls")
	assert.Equal(t, "", got)

	tio.Cc[VMIN], tio.Cc[VTIME] = 0, 5
	term.SetTermios(tio, false)
	_, err = slaveIn(term, 10)
	assert.Equal(t, unix.EAGAIN, err)
	assert.Equal(t, 500*time.Millisecond, term.ReadTimeout())
	b := make([]byte, 10)
	n, err := term.SlaveRead(b, true)
	assert.NoError(t, err)
	assert.Zero(t, n, "the timer ran out: 0")

	input(t, term, "\r")
	got, _ = slaveIn(term, 10)
	assert.Equal(t, "\n", got, "ICRNL in raw mode too")
}

func TestModeSwitchKeepsInput(t *testing.T) {
	term, _ := newTerm(t)
	input(t, term, "half")
	tio := term.Termios()
	tio.Lflag &^= unix.ICANON
	term.SetTermios(tio, false)
	got, _ := slaveIn(term, 10)
	assert.Equal(t, "half", got)
	input(t, term, "xy")
	tio.Lflag |= unix.ICANON
	term.SetTermios(tio, true)
	_, err := slaveIn(term, 10)
	assert.Equal(t, unix.EAGAIN, err, "TCSETSF flushed")
}

func TestOutputAndHangup(t *testing.T) {
	term, sigs := newTerm(t)
	n, err := term.SlaveWrite([]byte("a\nb"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 4, term.OutputQueued())
	assert.Equal(t, "a\r\nb", masterOut(term))
	tio := term.Termios()
	tio.Oflag &^= unix.OPOST
	term.SetTermios(tio, false)
	term.SlaveWrite([]byte("c\n"))
	assert.Equal(t, "c\n", masterOut(term))

	_, err = term.MasterRead(make([]byte, 10))
	assert.Equal(t, unix.EAGAIN, err)
	term.CloseSlave()
	_, err = term.MasterRead(make([]byte, 10))
	assert.Equal(t, unix.EIO, err, "no slave left")
	assert.NotZero(t, term.MasterReadiness(0)&waiter.EventHup)

	require.NoError(t, term.OpenSlave())
	term.CloseMaster()
	assert.Equal(t, []sigRec{{7, unix.SIGHUP}, {7, unix.SIGCONT}}, *sigs)
	_, err = term.SlaveWrite([]byte("x"))
	assert.Equal(t, unix.EIO, err)
	got, err := slaveIn(term, 10)
	assert.NoError(t, err)
	assert.Equal(t, "", got, "end of file after the hang-up")
	assert.Equal(t, unix.EIO, term.OpenSlave())
}

func TestFlowControl(t *testing.T) {
	term, _ := newTerm(t)
	input(t, term, "\x13")
	_, err := term.SlaveWrite([]byte("x"))
	assert.Equal(t, unix.EAGAIN, err, "^S stops output")
	assert.Zero(t, term.SlaveReadiness(waiter.WritableEvents))
	input(t, term, "\x11")
	_, err = term.SlaveWrite([]byte("x"))
	assert.NoError(t, err, "^Q resumes it")
}

func TestInputBound(t *testing.T) {
	term, _ := newTerm(t)
	tio := term.Termios()
	tio.Lflag &^= unix.ICANON | unix.ECHO
	term.SetTermios(tio, false)
	big := make([]byte, inputMax+100)
	n, err := term.Input(big)
	assert.NoError(t, err)
	assert.Equal(t, inputMax, n)
	_, err = term.Input([]byte("x"))
	assert.Equal(t, unix.EAGAIN, err)
	assert.Zero(t, term.MasterReadiness(waiter.WritableEvents))
}

func TestDevpts(t *testing.T) {
	d := NewDevpts(42)
	m0, err := d.Alloc()
	require.NoError(t, err)
	m1, err := d.Alloc()
	require.NoError(t, err)
	assert.Equal(t, 0, m0.T.Index)
	assert.Equal(t, 1, m1.T.Index)
	_, err = d.Dir(1).Lookup("1")
	require.NoError(t, err)
	sn, _ := d.Dir(1).Lookup("0")
	_, err = sn.Open(unix.O_RDWR)
	assert.Equal(t, unix.EIO, err, "locked until unlockpt")
	m0.T.SetLocked(false)
	s, err := sn.Open(unix.O_RDWR)
	require.NoError(t, err)
	st, err := s.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(136), unix.Major(st.Rdev))
	m0.Release()
	_, err = d.Dir(1).Lookup("0")
	assert.Equal(t, unix.ENOENT, err, "gone with its master")
	s.Release()
	m2, _ := d.Alloc()
	assert.Equal(t, 0, m2.T.Index, "the index is reused")
}

func TestControllerExited(t *testing.T) {
	term, sigs := newTerm(t)
	term.ControllerExited()
	assert.Equal(t, []sigRec{{7, unix.SIGHUP}, {7, unix.SIGCONT}}, *sigs)
	sid, pgrp := term.Session()
	assert.Zero(t, sid, "detached")
	assert.Zero(t, pgrp)
	input(t, term, "\x03")
	assert.Len(t, *sigs, 2, "no session: no signals")
}

func TestPacketMode(t *testing.T) {
	term, _ := newTerm(t)
	tio := term.Termios()
	tio.Oflag &^= unix.OPOST
	term.SetTermios(tio, false)
	term.SetPacket(true)
	assert.True(t, term.Packet())
	assert.Zero(t, term.MasterReadiness(waiter.ReadableEvents), "nothing to read yet")
	_, err := term.SlaveWrite([]byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, "\x00abc", masterOut(term), "data after TIOCPKT_DATA")

	require.NoError(t, term.Flush(2))
	assert.NotZero(t, term.MasterReadiness(waiter.EventPri), "a status is exceptional")
	assert.Equal(t, "\x03", masterOut(term), "FLUSHREAD|FLUSHWRITE, alone")
	input(t, term, "\x13")
	assert.Equal(t, "\x04", masterOut(term), "STOP")
	input(t, term, "\x11")
	assert.Equal(t, "\x08", masterOut(term), "START")
	tio.Iflag &^= unix.IXON
	term.SetTermios(tio, false)
	assert.Equal(t, "\x10", masterOut(term), "NOSTOP: IXON off")
	tio.Iflag |= unix.IXON
	term.SetTermios(tio, false)
	assert.Equal(t, "\x20", masterOut(term), "DOSTOP: IXON with ^S/^Q")

	_, err = term.SlaveWrite([]byte("xy"))
	require.NoError(t, err)
	b := make([]byte, 1)
	n, _ := term.MasterRead(b)
	assert.Equal(t, []byte{0}, b[:n], "a one-byte read gets the header only")
	term.SetPacket(false)
	assert.Equal(t, "xy", masterOut(term), "off again: plain data")
	require.NoError(t, term.Flush(2))
	assert.Zero(t, term.MasterReadiness(waiter.ReadableEvents), "no status outside packet mode")
}
