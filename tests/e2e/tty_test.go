package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// hostPTY is a pseudo-terminal of the host that the test drives.
type hostPTY struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
	mark          int // expect looks past this offset
}

func openHostPTY(t *testing.T) *hostPTY {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	p := &hostPTY{master: m, slave: s}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			p.mu.Lock()
			p.out.Write(b[:max(n, 0)])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *hostPTY) send(t *testing.T, s string) {
	t.Helper()
	_, err := p.master.Write([]byte(s))
	require.NoError(t, err)
}

// expect waits until the output past the mark holds want, and moves the
// mark past it.
func (p *hostPTY) expect(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	if tail, ok := p.seen(want, timeout); !ok {
		t.Fatalf("no %q within %v; the terminal shows:\n%s", want, timeout, indent(tail))
	}
}

// seen is expect without failing: whether want came within timeout, and
// the end of the output.
func (p *hostPTY) seen(want string, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		s := p.out.String()
		i := strings.Index(s[p.mark:], want)
		if i >= 0 {
			p.mark += i + len(want)
		}
		p.mu.Unlock()
		if i >= 0 {
			return "", true
		}
		if time.Now().After(deadline) {
			return s[max(0, len(s)-2000):], false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *hostPTY) setSize(t *testing.T, rows, cols uint16) {
	t.Helper()
	require.NoError(t, unix.IoctlSetWinsize(int(p.slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}))
}

// TestInteractiveShell runs `ringbox run -it -- bash -i` on a terminal:
// commands, ^C of a foreground sleep, ^Z and fg, the window size and its
// change, tty's name, and the terminal's modes restored after the exit.
func TestInteractiveShell(t *testing.T) {
	recordInputs(t)
	shell := "/bin/bash"
	if _, err := os.Stat(shell); err != nil {
		t.Skip("no bash on this host")
	}
	p := openHostPTY(t)
	defer p.master.Close()
	p.setSize(t, 37, 91)
	before, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	require.NoError(t, err)

	s := sandboxed([]string{"-it"}, []string{"PATH=/usr/bin:/bin", "HOME=/", "TERM=dumb", "PS1=PROMPT$ "},
		shell, []string{"--norc", "--noprofile", "-i"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path)
	cmd.Args = s.Argv
	cmd.Env = s.environ()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, p.slave, p.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, cmd.Start(), "starting %s", s)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	slow := 90 * time.Second
	p.expect(t, "PROMPT$ ", slow)
	p.send(t, "echo $((6*7))\r")
	p.expect(t, "42\r\n", slow)
	p.expect(t, "PROMPT$ ", slow)

	p.send(t, "tty; stty size\r")
	p.expect(t, "/dev/pts/0\r\n37 91\r\n", slow)
	p.expect(t, "PROMPT$ ", slow)

	// ^C interrupts the foreground sleep; the shell survives.
	p.send(t, "sleep 100\r")
	p.expect(t, "sleep 100\r\n", slow)
	time.Sleep(2 * time.Second)
	p.send(t, "\x03")
	p.expect(t, "PROMPT$ ", slow)
	p.send(t, "echo alive $?\r")
	p.expect(t, "alive 130\r\n", slow)

	// ^Z stops it, fg resumes it, ^C ends it.
	p.send(t, "sleep 100\r")
	p.expect(t, "sleep 100\r\n", slow)
	time.Sleep(2 * time.Second)
	p.send(t, "\x1a")
	p.expect(t, "Stopped", slow)
	p.expect(t, "PROMPT$ ", slow)
	p.send(t, "jobs\r")
	p.expect(t, "Stopped", slow)
	p.expect(t, "PROMPT$ ", slow)
	p.send(t, "fg\r")
	p.expect(t, "sleep 100\r\n", slow)
	time.Sleep(2 * time.Second)
	p.send(t, "\x03")
	p.expect(t, "PROMPT$ ", slow)
	p.send(t, "echo back $?\r")
	p.expect(t, "back 130\r\n", slow)

	// A resize reaches the sandbox's terminal.
	// The resize travels as SIGWINCH to ringbox, which copies the size
	// to the sandbox's terminal; on a loaded, emulated machine that can
	// take longer than a second, so ask again while it has not arrived.
	p.setSize(t, 50, 120)
	time.Sleep(time.Second)
	for attempt := 1; ; attempt++ {
		p.send(t, "stty size\r")
		tail, ok := p.seen("50 120\r\n", 15*time.Second)
		if ok {
			break
		}
		if attempt == 5 {
			t.Fatalf("the new size never reached the sandbox's terminal; it shows:\n%s", indent(tail))
		}
		t.Logf("stty size still shows the old size (attempt %d)", attempt)
	}

	p.send(t, "exit 3\r")
	select {
	case <-done:
	case <-time.After(slow):
		t.Fatal("ringbox did not exit after the shell's exit")
	}
	code, _ := status(cmd.ProcessState)
	assert.Equal(t, 3, code, "the shell's exit status")
	after, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	require.NoError(t, err)
	assert.Equal(t, *before, *after, "the terminal's modes are restored")
}
