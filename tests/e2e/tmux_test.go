package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tmux drives a terminal the way a person does: keys in, the screen out.
type tmux struct {
	t    *testing.T
	sock string
}

func (m *tmux) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", m.sock}, args...)...).CombinedOutput()
	require.NoError(m.t, err, "tmux %v: %s", args, out)
	return string(out)
}

// keys sends tmux key names (Enter, C-c ...) or literal text.
func (m *tmux) keys(keys ...string) {
	m.t.Helper()
	m.run(append([]string{"send-keys", "-t", "rb"}, keys...)...)
}

// line types s and Enter.
func (m *tmux) line(s string) { m.t.Helper(); m.run("send-keys", "-t", "rb", "-l", s); m.keys("Enter") }

func (m *tmux) screen() string { return m.run("capture-pane", "-p", "-t", "rb") }

// waitFor waits until the screen shows want, n times at least.
func (m *tmux) waitFor(want string, n int, timeout time.Duration) {
	m.t.Helper()
	if s, ok := m.shows(want, n, timeout); !ok {
		m.t.Fatalf("the screen does not show %q (x%d) within %v:\n%s", want, n, timeout, indent(s))
	}
}

// shows reports whether the screen shows want, n times at least, within
// timeout, and the last screen it saw.
func (m *tmux) shows(want string, n int, timeout time.Duration) (string, bool) {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := m.screen()
		if strings.Count(s, want) >= n {
			return s, true
		}
		if time.Now().After(deadline) {
			return s, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTmux (issue 13): tmux drives `ringbox run -it -- bash`: tty and TERM,
// ^C of a sleep, ^Z and fg, a window resize seen by stty, python3's REPL,
// less, vim and top, and at the end the host terminal's settings as they
// were before.
func TestTmux(t *testing.T) {
	recordInputs(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed (.ci/run installs it): %v", err)
	}
	dir := t.TempDir()
	m := &tmux{t: t, sock: filepath.Join(dir, "sock")}
	// A plain sh in a 100x30 window without a status line.
	m.run("-f", "/dev/null", "new-session", "-d", "-s", "rb", "-x", "100", "-y", "30",
		"env", "-i", "PATH=/usr/bin:/bin", "HOME=/", "TERM=tmux-256color", "PS1=host$ ", "/bin/sh")
	defer exec.Command("tmux", "-S", m.sock, "kill-server").Run()
	m.run("set-option", "-t", "rb", "status", "off")
	m.waitFor("host$", 1, 30*time.Second)
	m.line("stty -g > " + dir + "/before; echo TERM=$TERM")
	m.waitFor("TERM=tmux-256color", 1, 30*time.Second)

	m.line(ringboxBin + " run -it -e PS1='rb$ ' -- /bin/bash --norc --noprofile")
	m.waitFor("rb$", 1, 2*time.Minute)
	m.line("tty; echo term=$TERM")
	m.waitFor("/dev/pts/0", 1, 30*time.Second)
	m.waitFor("term=tmux-256color", 1, 30*time.Second)
	// The terminal belongs to the program's user, group tty, 0620.
	m.line("stat -c owner=%u:%g:%a $(tty)")
	m.waitFor("owner=0:5:620", 1, 30*time.Second)

	// ^C interrupts the foreground job.
	m.line("sleep 100")
	time.Sleep(time.Second)
	m.keys("C-c")
	m.line("echo status=$?")
	m.waitFor("status=130", 1, 30*time.Second)

	// ^Z stops it, fg resumes it.
	m.line("sleep 2; echo slept")
	time.Sleep(500 * time.Millisecond)
	m.keys("C-z")
	m.waitFor("Stopped", 1, 30*time.Second)
	m.line("fg")
	m.waitFor("slept", 1, 30*time.Second)

	// The window size follows a resize (SIGWINCH).
	m.line("stty size")
	m.waitFor("30 100", 1, 30*time.Second)
	m.run("resize-window", "-t", "rb", "-x", "90", "-y", "25")
	time.Sleep(500 * time.Millisecond)
	m.line("clear; stty size")
	m.waitFor("25 90", 1, 30*time.Second)

	// python3's REPL.
	m.line("clear; python3 -q")
	m.waitFor(">>>", 1, time.Minute)
	m.line("print(6 * 7)")
	m.waitFor("42", 1, 30*time.Second)
	m.keys("C-d")
	m.line("clear; echo back-$((1+1))")
	m.waitFor("back-2", 1, 30*time.Second)

	// less pages and quits.
	m.line("seq 1000 | less")
	m.waitFor("24", 1, 30*time.Second)
	m.keys("Space")
	m.waitFor("48", 1, 30*time.Second)
	m.keys("q")
	m.line("clear; echo less-$((1+1))")
	m.waitFor("less-2", 1, 30*time.Second)

	// vim edits and writes a file.
	m.line("clear; vim -u NONE -N /tmp/v.txt")
	m.waitFor(`"/tmp/v.txt"`, 1, time.Minute)
	// vim asks the terminal questions as it starts (cursor position,
	// version); keys typed before the answers arrive are taken for them.
	// Under emulation (the x86 lane) the answers can come later still, and
	// vim then drops what was typed: type again, at most three times.
	time.Sleep(3 * time.Second)
	for attempt := 1; ; attempt++ {
		m.keys("i")
		m.run("send-keys", "-t", "rb", "-l", "hello from vim")
		s, ok := m.shows("hello from vim", 1, 20*time.Second)
		if ok {
			break
		}
		if attempt == 3 {
			t.Fatalf("vim does not show what was typed, three times:\n%s", indent(s))
		}
		t.Logf("vim dropped the typed text (attempt %d); typing again", attempt)
		m.keys("Escape")
		time.Sleep(time.Second)
	}
	// A pause after Escape, or vim may read Escape and ':' as one key.
	m.keys("Escape")
	time.Sleep(time.Second)
	m.run("send-keys", "-t", "rb", "-l", ":wq")
	m.keys("Enter")
	m.line("clear; cat /tmp/v.txt; echo cat-$((1+1))")
	m.waitFor("cat-2", 1, 30*time.Second)
	require.Contains(t, m.screen(), "hello from vim")

	// top draws its screen and quits on q.
	m.line("clear; top -d 1")
	m.waitFor("PID", 1, time.Minute)
	m.keys("q")
	m.line("clear; echo top-$((1+1))")
	m.waitFor("top-2", 1, 30*time.Second)

	// exit, and the host terminal is as it was.
	m.line("clear; exit 7")
	m.waitFor("host$", 1, time.Minute)
	m.line("echo rc=$?; stty -g > " + dir + "/after; cmp " + dir + "/before " + dir + "/after && echo same-$((1+1))")
	m.waitFor("rc=7", 1, 30*time.Second)
	m.waitFor("same-2", 1, 30*time.Second)
	before, err := os.ReadFile(filepath.Join(dir, "before"))
	require.NoError(t, err)
	require.NotEmpty(t, before)
}
