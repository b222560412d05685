package main

import (
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/mm"
	"ringbox/vmm"
)

func usageError(t *testing.T, err error) string {
	t.Helper()
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T) is not an exitError", err, err)
	}
	if ee.status != exitUsage {
		t.Errorf("exit status %d, want %d (%s)", ee.status, exitUsage, ee.msg)
	}
	if strings.ContainsAny(ee.msg, "\n\r") || ee.msg == "" {
		t.Errorf("message not one non-empty line: %q", ee.msg)
	}
	return ee.msg
}

func TestParseRunForms(t *testing.T) {
	base := defaultRunOpts()
	for _, tc := range []struct {
		args  []string
		check func(o *runOpts) bool
		argv  []string
	}{
		{[]string{"ls"}, func(o *runOpts) bool { return reflect.DeepEqual(o.env, base.env) && o.memory == 8<<30 }, []string{"ls"}},
		{[]string{"--", "-x", "y"}, nil, []string{"-x", "y"}},
		{[]string{"-", "y"}, nil, []string{"-", "y"}},
		{[]string{"--strace", "prog", "--debug", "--", "-e"}, func(o *runOpts) bool { return o.strace && !o.debug }, []string{"prog", "--debug", "--", "-e"}},
		{[]string{"-e", "A=1", "-eB=2", "-e=C=3", "--env", "D", "--env=E=", "p"},
			func(o *runOpts) bool { return reflect.DeepEqual(o.env, []string{"A=1", "B=2", "C=3", "D", "E="}) }, []string{"p"}},
		{[]string{"-w", "/tmp", "-m", "2g", "-v", "/a:/b:ro", "--mount=/c:/d", "-v", "/e:/f:noexec,ro,rw", "p"}, func(o *runOpts) bool {
			host := fs.NoSuid | fs.NoDev
			return o.workdir == "/tmp" && o.memory == 2<<30 &&
				reflect.DeepEqual(o.mounts, mountList{{"/a", "/b", mountAccess{true, host}}, {"/c", "/d", mountAccess{false, host}},
					{"/e", "/f", mountAccess{false, host | fs.NoExec}}})
		}, []string{"p"}},
		{[]string{"-m512M", "-w=/x", "--pids", "7", "--cpus=1", "p"}, func(o *runOpts) bool {
			return o.memory == 512<<20 && o.workdir == "/x" && o.pids == 7 && o.cpus == 1
		}, []string{"p"}},
		{[]string{"--clearenv", "--read-only=false", "--strace=1", "p"}, func(o *runOpts) bool { return o.clearEnv && !o.readOnly && o.strace }, []string{"p"}},
		{[]string{"--platform", "kvm-exit", "--platform=kvm", "--backend=x86", "p"}, func(o *runOpts) bool { return o.platform == "kvm" && o.backend == "x86" }, []string{"p"}},
		{[]string{"p"}, func(o *runOpts) bool { return o.hostFirst == vmm.HostFirstAuto }, []string{"p"}},
		{[]string{"--host-first", "0", "p"}, func(o *runOpts) bool { return o.hostFirst == 0 }, []string{"p"}},
		{[]string{"--host-first=7", "--host-first", "auto", "--host-first=300", "p"}, func(o *runOpts) bool { return o.hostFirst == 300 }, []string{"p"}},
		{[]string{"--env-file", "a", "--env-file=b", "--unsetenv", "K", "p"}, func(o *runOpts) bool {
			return reflect.DeepEqual(o.envFiles, []string{"a", "b"}) && reflect.DeepEqual(o.unsetEnv, []string{"K"})
		}, []string{"p"}},
		{[]string{"--user", "1:2", "p"}, func(o *runOpts) bool { return o.user == userSpec{set: true, uid: 1, gid: 2, hasGID: true} }, []string{"p"}},
		{[]string{"--user=0", "--hostname", "box", "--tmpfs", "/t", "--rootfs=/r", "p"}, func(o *runOpts) bool {
			return o.user == userSpec{set: true} && o.hostname == "box" && reflect.DeepEqual(o.tmpfs, []tmpfsSpec{{dst: "/t"}}) && o.rootfs == "/r"
		}, []string{"p"}},
		{[]string{"--ulimit", "stack=unlimited", "--ulimit=nofile=100:200", "--ulimit", "AS=1000:-1", "p"}, func(o *runOpts) bool {
			return reflect.DeepEqual(o.rlimits, map[int]unix.Rlimit{
				unix.RLIMIT_STACK:  {Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY},
				unix.RLIMIT_NOFILE: {Cur: 100, Max: 200},
				unix.RLIMIT_AS:     {Cur: 1000, Max: unix.RLIM_INFINITY},
			}) && o.files == 200 && o.memRlimits() == mm.Rlimits{AS: 1000, Data: unix.RLIM_INFINITY, Stack: unix.RLIM_INFINITY}
		}, []string{"p"}},
		// A value that looks like a flag is still the value.
		{[]string{"-it", "p"}, func(o *runOpts) bool { return o.tty && o.interactive }, []string{"p"}},
		{[]string{"-t", "--interactive=false", "p"}, func(o *runOpts) bool { return o.tty && !o.interactive }, []string{"p"}},
		{[]string{"-w", "--strace", "p"}, func(o *runOpts) bool { return o.workdir == "--strace" && !o.strace }, []string{"p"}},
	} {
		o, err := parseRun(tc.args)
		if err != nil {
			t.Errorf("parseRun(%q): %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(o.argv, tc.argv) {
			t.Errorf("parseRun(%q): argv %q, want %q", tc.args, o.argv, tc.argv)
		}
		if tc.check != nil && !tc.check(o) {
			t.Errorf("parseRun(%q): got %+v", tc.args, *o)
		}
	}
}

func TestParseRunErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the message
	}{
		{nil, "missing PROGRAM"},
		{[]string{"--strace"}, "missing PROGRAM"},
		{[]string{"--strace", "--"}, "missing PROGRAM"},
		{[]string{"--", ""}, "empty PROGRAM"},
		{[]string{"--no-such-flag", "p"}, "unknown flag --no-such-flag"},
		{[]string{"-Z", "p"}, "unknown flag -Z"},
		{[]string{"-itx", "p"}, "short flags cannot be combined"},
		{[]string{"-strace", "p"}, "unknown flag -strace (long flags take two dashes: --strace)"},
		{[]string{"-platform=kvm", "p"}, "--platform=kvm"},
		{[]string{"-hv", "p"}, "short flags cannot be combined"},
		{[]string{"-p", "80", "p"}, "want HOSTPORT:PORT"},
		{[]string{"--host-first", "-1", "p"}, "want auto or a count"},
		{[]string{"--host-first=x", "p"}, "want auto or a count"},
		{[]string{"--publish=80:0", "p"}, "bad port"},
		{[]string{"-p", "0.0.0.0:80:80", "p"}, "must be a loopback one"},
		{[]string{"--net=host", "p"}, "--net: want none or sandbox, got host"},
		{[]string{"--ulimit", "stack", "p"}, "want NAME=SOFT[:HARD]"},
		{[]string{"--ulimit", "nosuch=1", "p"}, "want NAME=SOFT[:HARD]"},
		{[]string{"--ulimit", "as=lots", "p"}, "not a number or unlimited"},
		{[]string{"--ulimit", "fsize=10:5", "p"}, "above the hard limit"},
		{[]string{"--ulimit", "nofile=2000000", "p"}, "at most 1048576"},
		{[]string{"--allow-net", "1.2.3.4", "p"}, "--allow-net needs --net=sandbox"},
		{[]string{"--net=sandbox", "--allow-net", "1.2.3.4:99999", "p"}, "bad port"},
		{[]string{"--net=sandbox", "--allow-net", "no spaces", "p"}, "not an address, a CIDR or a host name"},
		{[]string{"--workdir"}, "flag --workdir needs a value (DIR)"},
		{[]string{"-e"}, "flag -e needs a value (K=V|K)"},
		{[]string{"-e", "=x", "p"}, "-e: want K=V or K"},
		{[]string{"--env=", "p"}, "--env: want K=V or K"},
		{[]string{"--unsetenv", "A=1", "p"}, "contains '='"},
		{[]string{"-m", "lots", "p"}, "-m: bad size lots"},
		{[]string{"--memory=0", "p"}, "bad size 0"},
		{[]string{"--memory=100000G", "p"}, "bad size"},
		{[]string{"--pids=0", "p"}, "--pids: want 1 to"},
		{[]string{"--cpus", "x", "p"}, "--cpus: want 1 to 1024, got x"},
		{[]string{"--platform=qemu", "p"}, "--platform: want kvm or kvm-exit, got qemu"},
		{[]string{"--backend=vmx", "p"}, "--backend: want auto or pvm or x86"},
		{[]string{"--strace=maybe", "p"}, "want true or false"},
		{[]string{"--vdso=fast", "p"}, "--vdso: want auto, host, stubs or off"},
		{[]string{"-v", "nodst", "p"}, "want SRC:DST"},
		{[]string{"-v", "/a:rel", "p"}, "not an absolute path"},
		{[]string{"-v", "/a:/b:rx", "p"}, "want ro, rw, noexec or exec"},
		{[]string{"--tmpfs", "tmp", "p"}, "not an absolute path"},
		{[]string{"--user", "root", "p"}, "want UID[:GID]"},
		{[]string{"--user", "1:", "p"}, "want UID[:GID]"},
		{[]string{"--user", "4294967295", "p"}, "want UID[:GID]"},
		{[]string{"--hostname=", "p"}, "--hostname: want 1 to 64 bytes"},
		{[]string{"--env-file=", "p"}, "empty file name"},
		{[]string{"-w", "", "p"}, "empty directory name"},
		{[]string{"-e", "A\x00B=1", "p"}, "NUL"},
		{[]string{"--\xff", "p"}, `unknown flag "--\xff"`},
	} {
		_, err := parseRun(tc.args)
		if err == nil {
			t.Errorf("parseRun(%q): no error", tc.args)
			continue
		}
		msg := usageError(t, err)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("parseRun(%q): %q does not contain %q", tc.args, msg, tc.want)
		}
		if !strings.HasPrefix(msg, "run: ") || !strings.HasSuffix(msg, "; see 'ringbox run --help'") {
			t.Errorf("parseRun(%q): %q: want run: ...; see 'ringbox run --help'", tc.args, msg)
		}
	}
}

func TestHelpWins(t *testing.T) {
	// Help wins over bad values and a missing program, not over an
	// unknown flag before it.
	for _, args := range [][]string{{"-h"}, {"--help"}, {"--memory=lots", "--help"}, {"--strace", "-h", "--", "p"}, {"--help=x"}} {
		if _, err := parseRun(args); err != errHelp {
			t.Errorf("parseRun(%q): %v, want help", args, err)
		}
	}
	for _, args := range [][]string{{"--nope", "--help"}, {"p", "--help"}} {
		if _, err := parseRun(args); err == errHelp {
			t.Errorf("parseRun(%q): help, want no help", args)
		}
	}
}

func TestParseCommandLine(t *testing.T) {
	helps := map[string][]string{
		"main":       {"--help", "-h", "help", "help help"},
		"run":        {"help run", "run --help", "run -h", "run -e A=1 --help -- p"},
		"version":    {"version --help", "version -h", "help version", "--version -h"},
		"completion": {"completion --help", "help completion"},
	}
	want := map[string]string{"main": mainHelp(), "run": runHelp(), "version": versionHelp(), "completion": completionHelp()}
	for name, lines := range helps {
		for _, line := range lines {
			cmd, err := parseCommandLine(strings.Fields(line))
			if err != nil || cmd.help != want[name] {
				t.Errorf("%q: %v, help %.40q, want the %s help", line, err, cmd.help, name)
			}
		}
	}
	if cmd, err := parseCommandLine([]string{"version"}); err != nil || !cmd.version {
		t.Errorf("version: %+v %v", cmd, err)
	}
	if cmd, err := parseCommandLine([]string{"--version"}); err != nil || !cmd.version {
		t.Errorf("--version: %+v %v", cmd, err)
	}
	for _, sh := range []string{"bash", "zsh"} {
		if cmd, err := parseCommandLine([]string{"completion", sh}); err != nil || cmd.shell != sh {
			t.Errorf("completion %s: %+v %v", sh, cmd, err)
		}
	}
	if cmd, err := parseCommandLine([]string{"run", "-e", "A=1", "sh"}); err != nil || cmd.run == nil || cmd.run.argv[0] != "sh" {
		t.Errorf("run: %+v %v", cmd, err)
	}
	for _, line := range []string{"", "rnu", "--nope run", "-e A=1 run p", "help rnu", "help run version",
		"version now", "completion", "completion fish", "completion bash zsh", "run --nope p"} {
		_, err := parseCommandLine(strings.Fields(line))
		if err == nil {
			t.Errorf("%q: no error", line)
			continue
		}
		msg := usageError(t, err)
		if !strings.Contains(msg, "; see 'ringbox ") || !strings.HasSuffix(msg, " --help'") {
			t.Errorf("%q: %q does not name a help", line, msg)
		}
	}
}

func TestHelpTexts(t *testing.T) {
	for name, h := range map[string]string{"main": mainHelp(), "run": runHelp()} {
		for _, f := range runFlags {
			flag := "--" + f.long
			if f.short != "" {
				flag = "-" + f.short + ", " + flag
			}
			if !strings.Contains(h, "  "+flag) {
				t.Errorf("%s help lacks %s", name, flag)
			}
		}
		for _, g := range append(flagGroups, "Examples") {
			if !strings.Contains(h, "\n"+g+":\n") {
				t.Errorf("%s help lacks the group %s", name, g)
			}
		}
		for _, line := range strings.Split(h, "\n") {
			if len(line) > 100 {
				t.Errorf("%s help: line of %d bytes: %s", name, len(line), line)
			}
		}
	}
	for _, f := range runFlags {
		if f.group == "" || !contains(flagGroups, f.group) || f.usage == "" || strings.Contains(f.usage, "\n") {
			t.Errorf("flag --%s: bad group or usage", f.long)
		}
		if f.def != nil && f.arg == "" {
			t.Errorf("flag --%s: a default for a boolean", f.long)
		}
	}
}

func TestProgramEnv(t *testing.T) {
	host := []string{"PATH=/bin", "HOME=/root", "SECRET=s", "BAD", "=x", "EMPTY="}
	files := map[string]string{
		"a.env": "\xef\xbb\xbf# comment\n\n  FILE=1 \r\nHOME=/file\nSECRET\nMISSING\nOVER=file\n",
		"b.env": "FILE=2\n",
		"bad":   "A B=1\n",
		"nul":   "A=\x00\n",
		"bin":   "A=\xff\n",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	// --clearenv's minimal environment.
	home := "/"
	if os.Getuid() == 0 {
		home = "/root"
	}
	minimal := []string{"PATH=" + defaultPath, "HOME=" + home, "HOSTNAME=ringbox"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"inherit", nil, []string{"PATH=/bin", "HOME=/root", "SECRET=s", "EMPTY="}},
		{"clear", []string{"--clearenv"}, minimal},
		{"clear-with-terminal", []string{"--clearenv", "-t", "--hostname", "box"}, []string{"PATH=" + defaultPath, "HOME=" + home, "HOSTNAME=box", "TERM=xterm"}},
		{"clear-as-user", []string{"--clearenv", "--user", "1000"}, []string{"PATH=" + defaultPath, "HOME=/", "HOSTNAME=ringbox"}},
		{"set-override-in-place", []string{"-e", "HOME=/h", "-e", "NEW=1", "-e", "NEW=2"},
			[]string{"PATH=/bin", "HOME=/h", "SECRET=s", "EMPTY=", "NEW=2"}},
		{"copy", []string{"--clearenv", "-e", "SECRET", "-e", "MISSING", "-e", "EMPTY"}, append(minimal, "SECRET=s", "EMPTY=")},
		{"files-then-flags", []string{"--clearenv", "-e", "OVER=flag", "--env-file", "a.env", "--env-file", "b.env"},
			[]string{"PATH=" + defaultPath, "HOME=/file", "HOSTNAME=ringbox", "FILE=2", "SECRET=s", "OVER=flag"}},
		{"unset", []string{"--unsetenv", "SECRET", "-e", "SECRET=again", "--unsetenv", "NOPE", "--unsetenv", "PATH"},
			[]string{"HOME=/root", "EMPTY="}},
	} {
		o, err := parseRun(append(tc.args, "p"))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := programEnv(o, host, read)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	for file, want := range map[string]string{"nope": "does not exist", "bad": "line 1: variable name", "nul": "NUL", "bin": "not UTF-8"} {
		o, _ := parseRun([]string{"--env-file", file, "p"})
		_, err := programEnv(o, host, read)
		if err == nil {
			t.Errorf("--env-file %s: no error", file)
			continue
		}
		if msg := usageError(t, err); !strings.Contains(msg, want) || !strings.HasSuffix(msg, "see 'ringbox run --help'") {
			t.Errorf("--env-file %s: %q, want %q", file, msg, want)
		}
	}
}

func TestPasswdGroup(t *testing.T) {
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\nbad\nx:x:12:nan:::\nu:x:1000:100::/home/u:/bin/sh\nv:x:1000:5::/:/bin/sh\n")
	for _, tc := range []struct {
		uid, gid uint32
		ok       bool
	}{{0, 0, true}, {1000, 100, true}, {12, 0, false}, {7, 0, false}} {
		if g, ok := passwdGroup(passwd, tc.uid); g != tc.gid || ok != tc.ok {
			t.Errorf("uid %d: %d %v, want %d %v", tc.uid, g, ok, tc.gid, tc.ok)
		}
	}
}

// TestBashCompletion runs the bash completion function as bash would call
// it (COMP_WORDS split at COMP_WORDBREAKS, as bash does).
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	for _, d := range []string{"/srcdir", "/srcdir/sub", "/other"} {
		if err := os.MkdirAll(dir+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dir+"/srcdir/ci.env", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	script := dir + "/ringbox.bash"
	if err := os.WriteFile(script, []byte(bashCompletion()), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(line string) []string {
		// The word bash replaces: after the last word break (a run of
		// break characters is a word of its own).
		const breaks = " \t\n\"'><=;|&(:"
		i := len(line)
		for i > 0 && !strings.ContainsRune(breaks, rune(line[i-1])) {
			i--
		}
		bw := line[i:]
		if bw == "" && i > 0 && line[i-1] != ' ' {
			j := i
			for j > 0 && strings.ContainsRune(breaks[3:], rune(line[j-1])) {
				j--
			}
			bw = line[j:i]
		}
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c",
			`source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMP_WORDS=("$3"); COMP_CWORD=0; _ringbox; printf '%s\n' "${COMPREPLY[@]}"`,
			"bash", script, line, bw)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "RINGBOX_TEST_VAR=1"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v: %s", line, err, out)
		}
		s := strings.TrimSuffix(string(out), "\n")
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"ringbox ", []string{"run", "version", "completion", "help", "--help", "--version"}},
		{"ringbox ru", []string{"run"}},
		{"ringbox help ", []string{"run", "version", "completion", "help"}},
		{"ringbox completion ", []string{"bash", "zsh", "--help"}},
		{"ringbox run --str", []string{"--strace"}},
		{"ringbox run --env", []string{"--env", "--env-file"}},
		{"ringbox run -m 1G --pla", []string{"--platform"}},
		{"ringbox run --platform ", []string{"kvm", "kvm-exit"}},
		{"ringbox run --platform=kvm-", []string{"kvm-exit"}},
		{"ringbox run --platform=", []string{"=kvm", "=kvm-exit"}},
		{"ringbox run --backend ", []string{"auto", "pvm", "x86"}},
		{"ringbox run -e RINGBOX_TEST_", []string{"RINGBOX_TEST_VAR"}},
		{"ringbox run --unsetenv=RINGBOX_T", []string{"RINGBOX_TEST_VAR"}},
		{"ringbox run -e A=", nil},
		{"ringbox run -w src", []string{"srcdir"}},
		{"ringbox run --rootfs=src", []string{"srcdir"}},
		{"ringbox run --env-file srcdir/c", []string{"srcdir/ci.env"}},
		{"ringbox run -v srcdir:/oth", nil},
		{"ringbox run -v srcdir:oth", []string{"other"}},
		{"ringbox run -v srcdir:/x:r", []string{"ro", "rw"}},
		{"ringbox run --memory ", nil},
		{"ringbox run --strace -- --str", nil},
		{"ringbox run ls --str", nil},
		{"ringbox run -w /tmp ls --str", nil},
	} {
		got := complete(tc.line)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.line, got, tc.want)
		}
	}
	// The program: a command.
	if got := complete("ringbox run --strace bas"); !contains(got, "bash") || contains(got, "--strace") {
		t.Errorf("program: %q, want bash among them", got)
	}
}

func TestZshCompletionSyntax(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh")
	}
	cmd := exec.Command(zsh, "-n")
	cmd.Stdin = strings.NewReader(zshCompletion())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v: %s", err, out)
	}
	for _, f := range runFlags {
		if !strings.Contains(zshCompletion(), "--"+f.long) {
			t.Errorf("zsh completion lacks --%s", f.long)
		}
	}
}

// FuzzParseCommandLine: no panic, and every error is a one-line usage
// error (the arguments are NUL-separated).
func FuzzParseCommandLine(f *testing.F) {
	for _, s := range []string{"run\x00--\x00ls", "run\x00-e\x00A=1\x00-v\x00/a:/b:ro\x00p", "run\x00-m1G\x00-w=/\x00p",
		"help\x00run", "completion\x00zsh", "run\x00--env-file\x00f\x00--user\x001:2\x00p", "run\x00-strace", "--help", "run\x00-\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		cmd, err := parseCommandLine(args)
		if err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.status != exitUsage || ee.msg == "" || strings.ContainsAny(ee.msg, "\n\r") {
				t.Fatalf("%q: bad error %#v", args, err)
			}
			return
		}
		if cmd.run != nil {
			if len(cmd.run.argv) == 0 {
				t.Fatalf("%q: no program", args)
			}
			if _, err := programEnv(cmd.run, []string{"A=1"}, func(string) ([]byte, error) { return []byte(s), nil }); err != nil {
				usageError(t, err)
			}
		}
	})
}
