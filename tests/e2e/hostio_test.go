package e2e

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHostIOThread runs file-heavy programs with --hostio=thread: in ring0
// mode the Go kernel's host file calls then go through the host I/O thread
// (guestkernel/hostcall) instead of a VM exit each. Output must match the
// native run, and the counters must show calls made by the thread.
func TestHostIOThread(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	cases := [][]string{
		{"/bin/ls", "-laR", "/usr/include/linux/netfilter"},
		{"/usr/bin/sha256sum", "/bin/ls", "/bin/sh"},
		{"/bin/sh", "-c", "cd " + dir + " && mkdir -p a/b && echo hi > a/b/f && mv a/b/f a/g && ln -s g a/l && cat a/l && ls -R a && rm -r a && ls"},
		{"/usr/bin/python3", "-c", "import json, os, email.parser; print(len(os.listdir('/usr/lib/python3')) > 0)"},
	}
	for _, c := range cases {
		want := execute(t, native(c[0], c[1:], baseEnv, nil))
		require.Equal(t, 0, want.Code, "native %v: %s", c, want.Stderr)
		got := execute(t, sandboxed([]string{"--hostio=thread", "--debug", "--mount", dir + ":" + dir + ":rw"}, baseEnv, c[0], c[1:], nil))
		if !checkSandboxStatus(t, got) {
			return
		}
		require.Equal(t, 0, got.Code, "%v: stderr %s", c, tail(got.Stderr, 4096))
		require.Equal(t, string(want.Stdout), string(got.Stdout), "%v", c)
		m := regexp.MustCompile(`hostcall\.worker=(\d+)`).FindSubmatch(got.Stderr)
		// The debug log names the mode: platform=kvm/BACKEND (ring0) or
		// kvm-exit/BACKEND.
		pm := regexp.MustCompile(`platform=(\S+)/`).FindSubmatch(got.Stderr)
		require.NotNil(t, pm, "no platform= in the debug log: %s", tail(got.Stderr, 2048))
		if string(pm[1]) == "kvm" {
			require.NotNil(t, m, "--debug prints the hostcall counters: %s", tail(got.Stderr, 2048))
			n, _ := strconv.Atoi(string(m[1]))
			require.Greater(t, n, 0, "%v: no host call went through the thread in ring0 mode", c)
		} else {
			require.Nil(t, m, "%v: exit mode makes its host calls directly, with no thread", c)
		}
	}
}
