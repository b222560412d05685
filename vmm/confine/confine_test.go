package confine

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMain is also the confined child of TestRunAndEnter.
func TestMain(m *testing.M) {
	if child, ok := Inside(); child {
		os.Exit(checkInside(ok))
	}
	if os.Getenv("RINGBOX_FILTER_CHILD") == "1" {
		os.Exit(filterChild())
	}
	os.Exit(m.Run())
}

// TestRunAndEnter re-executes this test binary through Run; the child
// (this same test, seeing the marker) calls Enter and checks from its own
// /proc that every layer holds, and exits with what it found. No KVM
// needed: this runs wherever the host grants the namespaces.
func TestRunAndEnter(t *testing.T) {
	st, err := Run(Spec{})
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("this host refuses the namespaces: %v", err)
	}
	require.NoError(t, err)
	require.Equal(t, 0, st, "the confined child found a layer missing (its output is above)")
}

// TestRunInNetNS: Spec.NetNS starts the child in that network namespace
// (an OCI container's), and the parent stays in its own.
func TestRunInNetNS(t *testing.T) {
	holder := exec.Command("unshare", "-n", "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	path := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	var want string
	for range 100 {
		want, _ = os.Readlink(path)
		if own, _ := os.Readlink("/proc/self/ns/net"); want != "" && want != own {
			break
		}
		time.Sleep(20 * time.Millisecond) // unshare has not run yet
	}
	own, _ := os.Readlink("/proc/self/ns/net")
	if want == own {
		t.Skip("unshare -n did not make a network namespace (not root?)")
	}
	t.Setenv("RINGBOX_WANT_NETNS", want)
	st, err := Run(Spec{NetNS: path})
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("this host refuses the namespaces: %v", err)
	}
	require.NoError(t, err)
	require.Equal(t, 0, st, "the child is not in the namespace (its output is above)")
	after, _ := os.Readlink("/proc/thread-self/ns/net")
	require.Equal(t, own, after, "the parent's threads stay in their own network namespace")
	_, err = Run(Spec{NetNS: "/nonexistent/ns"})
	require.ErrorContains(t, err, "/nonexistent/ns")
}

func checkInside(ok bool) int {
	if !ok {
		fmt.Println("child: the namespaces did not check out")
		return 1
	}
	if want := os.Getenv("RINGBOX_WANT_NETNS"); want != "" {
		if got, _ := os.Readlink("/proc/self/ns/net"); got != want {
			fmt.Printf("child: network namespace %s, want %s\n", got, want)
			return 1
		}
	}
	r := Enter(Limits{Files: 1000, Tasks: 100})
	fmt.Println("child:", r.String())
	bad := 0
	fail := func(format string, args ...any) {
		fmt.Printf("child: "+format+"\n", args...)
		bad = 1
	}
	if cgoBuild {
		// This test binary links cgo (go test's default): the layers
		// that need every thread must say why they are missing.
		if !strings.Contains(strings.Join(r.Missing, "; "), "CGO_ENABLED=0") {
			fail("a cgo build must name CGO_ENABLED=0: %v", r.Missing)
		}
		r.Missing = nil
	}
	if len(r.Missing) > 0 && os.Getuid() == 0 {
		fail("missing layers as root: %v", r.Missing)
	}
	ents, err := os.ReadDir("/")
	if err != nil || len(ents) != 1 || ents[0].Name() != "proc" {
		fail("root holds %v (%v), want only proc", ents, err)
	}
	if err := os.WriteFile("/x", nil, 0o644); err == nil {
		fail("the root is writable")
	}
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail("no /proc: %v", err)
	}
	for _, want := range []string{"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1"} {
		if !cgoBuild && !strings.Contains(string(st), want) {
			fail("status lacks %q", want)
		}
	}
	if os.Getpid() != 1 {
		fail("pid %d, want 1 in a new PID namespace", os.Getpid())
	}
	return bad
}

func TestInsideRefusesAForgedMarker(t *testing.T) {
	// A marker in the environment alone must not make a process touch
	// mounts: this test process is neither PID 1 nor in a new namespace.
	mnt, err := os.Readlink("/proc/self/ns/mnt")
	require.NoError(t, err)
	for _, v := range []string{"mnt,pid;" + mnt, "mnt,pid;mnt:[1]", "mnt", ""} {
		t.Setenv(envMarker, v)
		child, ok := Inside()
		require.True(t, child, "marker %q", v)
		require.False(t, ok, "marker %q", v)
		_, still := os.LookupEnv(envMarker)
		require.False(t, still, "the marker stays out of the program's environment")
	}
}

func TestReportString(t *testing.T) {
	r := Report{Have: []string{"a", "b"}, Missing: []string{"c: no"}}
	require.Equal(t, "in force: a, b; missing: c: no", r.String())
}
