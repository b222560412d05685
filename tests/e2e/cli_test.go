package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ringbox runs `ringbox ARGS...` with the test process's environment plus
// hostEnv, from dir ("" = a new temporary directory).
func ringbox(t *testing.T, dir string, hostEnv []string, args ...string) result {
	t.Helper()
	s := spec{Path: ringboxBin, Argv: append([]string{ringboxBin}, args...), Env: hostEnv, InheritEnv: true, Dir: dir}
	r := execute(t, s)
	t.Cleanup(func() {
		if t.Failed() {
			logRun(t, "ringbox", s, r)
			t.Logf("stdout:\n%s", indent(tail(r.Stdout, 4096)))
		}
	})
	return r
}

// platformFlags is --platform=P when the run asks for one.
func platformFlags() []string {
	if platform != "" {
		return []string{"--platform=" + platform}
	}
	return nil
}

// TestCLIHelp: every way of asking for help prints it on stdout, with
// every flag of run, and exits 0.
func TestCLIHelp(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	flags := []string{"-e, --env", "--env-file", "--clearenv", "--unsetenv", "--user", "--hostname",
		"--seccomp", "--platform", "--backend", "--rootfs", "-v, --mount", "--tmpfs", "--read-only", "-w, --workdir",
		"-m, --memory", "--pids", "--cpus", "--strace", "--debug", "-h, --help"}
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"}, {"help", "run"}, {"run", "--help"}, {"run", "-h"},
		{"run", "--strace", "-h", "--", "prog"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			r := ringbox(t, "", nil, args...)
			if !checkSandboxStatus(t, r) {
				return
			}
			assert.Equal(t, 0, r.Code, "exit status")
			assert.Empty(t, string(r.Stderr), "stderr")
			out := string(r.Stdout)
			for _, g := range []string{"Sandbox:", "Files:", "Resources:", "Debugging:", "Examples:"} {
				assert.Contains(t, out, "\n"+g+"\n")
			}
			for _, f := range flags {
				assert.Contains(t, out, f)
			}
			assert.Contains(t, out, "(default: 8G)")
		})
	}
	for _, args := range [][]string{{"version", "--help"}, {"help", "version"}, {"completion", "-h"}, {"help", "completion"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			r := ringbox(t, "", nil, args...)
			if checkSandboxStatus(t, r) {
				assert.Equal(t, 0, r.Code, "exit status")
				name := args[0]
				if name == "help" {
					name = args[1]
				}
				assert.Contains(t, string(r.Stdout), "Usage: ringbox "+name)
			}
		})
	}
}

// TestCLICompletion: the completion scripts are valid bash (and zsh, when
// there is a zsh) and name run's flags.
func TestCLICompletion(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	for _, sh := range []string{"bash", "zsh"} {
		t.Run(sh, func(t *testing.T) {
			r := ringbox(t, "", nil, "completion", sh)
			if !checkSandboxStatus(t, r) {
				return
			}
			require.Equal(t, 0, r.Code, "exit status")
			assert.Contains(t, string(r.Stdout), "--env-file")
			assert.Contains(t, string(r.Stdout), "ringbox")
		})
	}
}

// envLines is env(1)'s output as sorted lines.
func envLines(out []byte) []string {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	sort.Strings(lines)
	return lines
}

// TestCLIEnvInherit: by default the program gets ringbox's own
// environment, as env(1) shows natively with the same one.
func TestCLIEnvInherit(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	host := []string{"RINGBOX_E2E_MARK=inherited value", "TZ=Europe/Paris"}
	nspec := spec{Path: "/usr/bin/env", Argv: []string{"env"}, Env: host, InheritEnv: true}
	want := execute(t, nspec)
	require.Equal(t, 0, want.Code, "native env: %s", want.Stderr)

	// env without a slash: found on the inherited PATH.
	got := ringbox(t, "", host, append(append([]string{"run"}, platformFlags()...), "env")...)
	if checkSandboxStatus(t, got) {
		assert.Equal(t, 0, got.Code, "exit status")
		assert.Equal(t, envLines(want.Stdout), envLines(got.Stdout))
	}
}

// TestCLIEnvRules: --clearenv, -e K=V, -e K (copied from ringbox's
// environment, or nothing), --env-file (comments, -e wins), --unsetenv.
func TestCLIEnvRules(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "ci.env")
	require.NoError(t, os.WriteFile(envFile, []byte(
		"# a comment\n\n  FROM_FILE=a b  \nOVERRIDDEN=file\nRINGBOX_E2E_COPIED\nDROPPED=x\nNOT_IN_RINGBOX_ENV\n"), 0o644))
	host := []string{"RINGBOX_E2E_COPIED=copied", "RINGBOX_E2E_SECRET=secret"}
	// --clearenv starts from the standard PATH, HOME and HOSTNAME.
	home := "/"
	if os.Getuid() == 0 {
		home = "/root"
	}
	minimal := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "HOSTNAME=ringbox"}
	cases := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"clearenv", []string{"--clearenv"}, minimal},
		{"clearenv-empty", []string{"--clearenv", "--unsetenv", "PATH", "--unsetenv", "HOME", "--unsetenv", "HOSTNAME"}, nil},
		{"set-and-copy", []string{"--clearenv", "-e", "A=1", "--env=B=2=3", "-eC=", "-e", "RINGBOX_E2E_COPIED", "-e", "NOT_IN_RINGBOX_ENV"},
			append(minimal[:3:3], "A=1", "B=2=3", "C=", "RINGBOX_E2E_COPIED=copied")},
		{"env-file", []string{"-e", "OVERRIDDEN=flag", "--clearenv", "--env-file", envFile, "--unsetenv", "DROPPED"},
			append(minimal[:3:3], "FROM_FILE=a b  ", "OVERRIDDEN=flag", "RINGBOX_E2E_COPIED=copied")},
		{"later-wins", []string{"--clearenv", "-e", "A=1", "-e", "A=2"}, append(minimal[:3:3], "A=2")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append(append(append([]string{"run"}, platformFlags()...), tc.flags...), "--", "/usr/bin/env")
			r := ringbox(t, "", host, args...)
			if checkSandboxStatus(t, r) {
				assert.Equal(t, 0, r.Code, "exit status")
				want := slices.Clone(tc.want)
				sort.Strings(want) // envLines sorts
				if len(want) == 0 {
					want = nil
				}
				assert.Equal(t, want, envLines(r.Stdout))
			}
		})
	}
	t.Run("unsetenv-inherited", func(t *testing.T) {
		t.Parallel()
		args := append(append([]string{"run"}, platformFlags()...), "--unsetenv", "RINGBOX_E2E_SECRET", "/usr/bin/env")
		r := ringbox(t, "", host, args...)
		if checkSandboxStatus(t, r) {
			assert.Equal(t, 0, r.Code, "exit status")
			assert.Contains(t, string(r.Stdout), "RINGBOX_E2E_COPIED=copied\n")
			assert.NotContains(t, string(r.Stdout), "RINGBOX_E2E_SECRET")
		}
	})
}

// TestCLIFlagOrder: flags in any order, docker's short forms, and the
// program starting at the first argument that is not a flag: what follows
// it is the program's, flags or not.
func TestCLIFlagOrder(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "data"), []byte("from the host\n"), 0o644))
	pf := platformFlags()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"short-forms", append([]string{"run", "-m", "1G", "-v", host + ":/mnt:ro", "-w", "/mnt", "--clearenv"}, append(pf,
			"--", "/bin/sh", "-c", `pwd; cat data; echo x > data || echo read-only`)...), "/mnt\nfrom the host\nread-only\n"},
		{"long-forms", append([]string{"run", "--workdir=/mnt", "--mount=" + host + ":/mnt", "--memory=1G", "--clearenv=true"}, append(pf,
			"/bin/sh", "-c", `pwd; echo "[$0] [$1] [$FOO]"`, "-e", "FOO=bar", "--")...), "/mnt\n[-e] [FOO=bar] []\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := ringbox(t, "", nil, tc.args...)
			if checkSandboxStatus(t, r) {
				assert.Equal(t, 0, r.Code, "exit status")
				assert.Equal(t, tc.want, string(r.Stdout))
			}
		})
	}
}

// TestCLIUser: --user sets the IDs the program sees; the group defaults to
// the user's in /etc/passwd.
func TestCLIUser(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	pf := platformFlags()
	for _, tc := range []struct{ user, want string }{
		{"1234:5678", "1234 5678\n"},
		{"0", "0 0\n"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"run", "--user", tc.user}, pf...), "/bin/sh", "-c", `echo "$(id -u) $(id -g)"`)
			r := ringbox(t, "", nil, args...)
			if checkSandboxStatus(t, r) {
				assert.Equal(t, 0, r.Code, "exit status")
				assert.Equal(t, tc.want, string(r.Stdout))
			}
		})
	}
}

// TestTimeout: --timeout ends the program as timeout(1) does: SIGTERM,
// then SIGKILL after --kill-after for one that ignores it; status 124 and
// one line on stderr.
func TestTimeout(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	r := execute(t, sandboxed([]string{"--timeout", "1s"}, baseEnv, "/bin/sleep", []string{"30"}, nil))
	require.False(t, r.TimedOut, "ringbox itself timed out")
	require.Equal(t, 124, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "ringbox: timed out after 1s\n", string(r.Stderr))
	require.Less(t, r.Elapsed, 25*time.Second)

	r = execute(t, sandboxed([]string{"--timeout", "1s", "--kill-after", "1s"}, baseEnv, "/bin/sh",
		[]string{"-c", `trap "" TERM; echo started; while :; do sleep 1; done`}, nil))
	require.Equal(t, 124, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "started\n", string(r.Stdout))
	require.Contains(t, string(r.Stderr), "timed out after 1s")

	// A program that ends in time keeps its own status.
	r = execute(t, sandboxed([]string{"--timeout", "60s"}, baseEnv, "/bin/sh", []string{"-c", "exit 7"}, nil))
	require.Equal(t, 7, r.Code, "stderr: %s", r.Stderr)

	r = execute(t, sandboxed([]string{"--timeout", "soon"}, baseEnv, "/bin/true", nil, nil))
	require.Equal(t, 2, r.Code)
}

// TestResourceFlags: --files is the hard RLIMIT_NOFILE no process can
// raise; --disk bounds the writable layer (ENOSPC past it).
func TestResourceFlags(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	r := execute(t, sandboxed([]string{"--files", "64"}, baseEnv, "/bin/sh", []string{"-c",
		"ulimit -Hn; ulimit -Sn; ulimit -Hn 65 2>/dev/null && echo raised || echo refused"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "64\n64\nrefused\n", string(r.Stdout))

	r = execute(t, sandboxed([]string{"--disk", "1M"}, baseEnv, "/bin/sh", []string{"-c",
		"head -c 500000 /dev/zero > /tmp/a && echo small ok; head -c 2000000 /dev/zero > /tmp/b || echo big refused"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "small ok\nbig refused\n", string(r.Stdout))
	require.Contains(t, string(r.Stderr), "No space left on device")
}

// TestUlimitFlag: --ulimit sets the program's limits: a stack room of
// 256 MiB lets a 100 MiB deep recursion through (the default 8 MiB does
// not: SIGSEGV), RLIMIT_AS gives Python a MemoryError, RLIMIT_FSIZE stops
// a file with SIGXFSZ, and the shell's ulimit shows them.
func TestUlimitFlag(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	r := execute(t, sandboxed([]string{"--ulimit", "stack=268435456"}, baseEnv, prog("rlimits"), []string{"deep", "102400"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Contains(t, string(r.Stdout), "recursed")
	r = execute(t, sandboxed(nil, baseEnv, prog("rlimits"), []string{"deep", "102400"}, nil))
	require.Equal(t, 128+int(syscall.SIGSEGV), r.Code, "stderr: %s", r.Stderr)

	r = execute(t, sandboxed([]string{"--ulimit", "as=268435456:unlimited"}, baseEnv, "/usr/bin/python3",
		[]string{"-c", "import resource\nprint(resource.getrlimit(resource.RLIMIT_AS))\nx = bytearray(400 << 20)"}, nil))
	require.Equal(t, 1, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "(268435456, -1)\n", string(r.Stdout))
	require.Contains(t, string(r.Stderr), "MemoryError")

	r = execute(t, sandboxed([]string{"--ulimit", "fsize=100000", "--ulimit", "nofile=50:60"}, baseEnv, "/bin/sh",
		[]string{"-c", "ulimit -f; ulimit -Sn; ulimit -Hn; head -c 200000 /dev/zero > /tmp/f; echo $?; wc -c < /tmp/f"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "195\n50\n60\n153\n100000\n", string(r.Stdout), "ulimit -f counts 512-byte blocks; head dies of SIGXFSZ (128+25)")
}

// TestOutOfMemory: past --memory the program is killed (137) with one
// line naming the limit, or its allocation fails (MemoryError).
func TestOutOfMemory(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	r := execute(t, sandboxed([]string{"--memory", "64M"}, baseEnv, "/usr/bin/python3", []string{"-c", "x = bytearray(200 << 20)"}, nil))
	if !checkSandboxStatus(t, r) {
		return
	}
	if r.Code == 137 {
		require.Regexp(t, `(?m)^ringbox: out of memory \(limit 64M\): process \d+ killed$`, string(r.Stderr))
	} else {
		require.Equal(t, 1, r.Code, "stderr: %s", r.Stderr)
		require.Contains(t, string(r.Stderr), "MemoryError")
	}
}
