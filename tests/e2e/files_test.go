package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDynamicPrograms: dynamically linked programs load ld.so and their
// libraries from the sandbox's root (the host's /, read-only).
func TestDynamicPrograms(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	for _, name := range []string{"hello", "args"} {
		out := filepath.Join(dir, name+"-dyn")
		b, err := exec.Command("gcc", "-O1", "-o", out, filepath.Join(moduleRoot, "tests", "progs", name+".c")).CombinedOutput()
		require.NoError(t, err, "%s", b)
		t.Run(name, func(t *testing.T) {
			args := []string{"x", "y z"}
			want := execute(t, native(out, args, baseEnv, nil))
			got := execute(t, sandboxed(nil, baseEnv, out, args, nil))
			if !checkSandboxStatus(t, got) {
				return
			}
			require.Equal(t, want.Code, got.Code, "status; stderr: %s", got.Stderr)
			if name == "args" {
				// ld.so's load address (AT_BASE) is randomized natively.
				require.Equal(t, dropLine(string(want.Stdout), "getauxval(AT_BASE)="), dropLine(string(got.Stdout), "getauxval(AT_BASE)="))
			} else {
				require.Equal(t, string(want.Stdout), string(got.Stdout))
				require.Equal(t, string(want.Stderr), string(got.Stderr))
			}
		})
	}
}

// TestHostTools runs programs of the host's / in the sandbox and compares
// them with native runs.
func TestHostTools(t *testing.T) {
	recordInputs(t)
	cases := [][]string{
		{"/bin/true"},
		{"/bin/echo", "hello", "world"},
		{"/bin/cat", "/etc/os-release"},
		{"/usr/bin/sha256sum", "/bin/ls"},
		{"/bin/ls", "-la", "-I", "hosts", "/etc"}, // the sandbox's hosts names it
		{"/bin/ls", "-R", "/usr/include/linux/netfilter"},
		{"/usr/bin/head", "-c", "100", "/etc/services"},
		{"/bin/sh", "-c", "echo $((6*7)); read x < /etc/hostname && echo read"},
		{"/usr/bin/python3", "-c", "print(1)"},
		{"/usr/bin/python3", "-c", "import os, hashlib; n = sum(len(f) for _, _, f in os.walk('/usr/include/linux')); h = hashlib.sha256(open('/etc/os-release', 'rb').read()).hexdigest(); print(n, h)"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c, " "), func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(c[0]); err != nil {
				t.Fatalf("%s is not on this host (.ci/run installs what the tests run)", c[0])
			}
			want := execute(t, native(c[0], c[1:], baseEnv, nil))
			got := execute(t, sandboxed(nil, baseEnv, c[0], c[1:], nil))
			if !checkSandboxStatus(t, got) {
				return
			}
			require.Equal(t, want.Code, got.Code, "status; stderr: %s", got.Stderr)
			require.Equal(t, string(want.Stdout), string(got.Stdout))
		})
	}
}

// TestEscape runs a program in a --rootfs tree full of ways out and checks
// that none reaches the host file next to the tree.
func TestEscape(t *testing.T) {
	recordInputs(t)
	base := t.TempDir()
	root := filepath.Join(base, "root")
	secret := filepath.Join(base, "secret")
	const secretText = "HOST SECRET 1f3870be274f6c49b3e31a0c6728957f"
	require.NoError(t, os.WriteFile(secret, []byte(secretText+"\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "inside"), []byte("inside\n"), 0o644))
	exe, err := os.ReadFile(prog("escape"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "escape"), exe, 0o755))
	// Symlinks that would leave the tree if the host followed them.
	require.NoError(t, os.Symlink(secret, filepath.Join(root, "abs")))
	require.NoError(t, os.Symlink("../secret", filepath.Join(root, "rel")))
	require.NoError(t, os.Symlink("../../../../../../"+strings.TrimPrefix(secret, "/"), filepath.Join(root, "d", "deep")))
	require.NoError(t, os.Symlink("/", filepath.Join(root, "slash")))
	require.NoError(t, os.Symlink("loop", filepath.Join(root, "loop")))
	long := strings.Repeat("d/../", 1000) + "inside"
	name300 := strings.Repeat("n", 300)

	args := []string{
		"/inside",                        // a file of the tree: readable
		"/../secret", "/../../../secret", // .. past the root stays at the root
		"/abs", "/rel", "/d/deep", // symlinks resolve inside the root
		"/slash/../secret",
		"/proc/self/root/../secret", // no host /proc behind the sandbox
		"/loop",                     // ELOOP
		"/" + long,                  // 5000 components: ENAMETOOLONG
		"/" + name300,               // a 300-byte name: ENAMETOOLONG
		secret,                      // the host path itself
	}
	r := execute(t, sandboxed([]string{"--rootfs", root}, []string{"PATH=/bin"}, "/bin/escape", args, nil))
	if !checkSandboxStatus(t, r) {
		return
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	out := string(r.Stdout)
	require.NotContains(t, out, "HOST SECRET", "a file outside the root was read")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(args)+1)
	want := []string{
		"/inside: open=ok stat=ok data=inside",
		"/../secret: open=No such file or directory",
		"/../../../secret: open=No such file or directory",
		"/abs: open=No such file or directory",
		"/rel: open=No such file or directory",
		"/d/deep: open=No such file or directory",
		"/slash/../secret: open=No such file or directory",
		"/proc/self/root/../secret: open=No such file or directory",
		"/loop: open=Too many levels of symbolic links",
		"/" + long + ": open=File name too long",
		"/" + name300 + ": open=File name too long",
		secret + ": open=No such file or directory",
		"openat(/, ../../../../secret): No such file or directory",
	}
	for i, w := range want {
		require.True(t, strings.HasPrefix(lines[i], w), "line %d: got %q, want prefix %q", i, lines[i], w)
	}
	// Nothing was written on the host side either.
	b, err := os.ReadFile(secret)
	require.NoError(t, err)
	require.Equal(t, secretText+"\n", string(b))
}

// dropLine removes the lines starting with prefix.
func dropLine(s, prefix string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestFileOps runs the same file-system program natively in an empty
// directory and in the sandbox in an empty directory mounted read-write.
func TestFileOps(t *testing.T) {
	recordInputs(t)
	nativeDir, sandboxDir := t.TempDir(), t.TempDir()
	n := native(prog("fileops"), nil, baseEnv, nil)
	n.Dir = nativeDir
	want := execute(t, n)
	require.Equal(t, 0, want.Code, "native: %s", want.Stderr)
	// Mounted at its own path: a directory that exists in the host's root.
	got := execute(t, sandboxed([]string{"--mount", sandboxDir + ":" + sandboxDir + ":rw", "--workdir", sandboxDir}, baseEnv, prog("fileops"), nil, nil))
	if !checkSandboxStatus(t, got) {
		return
	}
	require.Equal(t, 0, got.Code, "stderr: %s", got.Stderr)
	require.Equal(t, string(want.Stdout), string(got.Stdout))
}

// TestShellExec: the shell writes a file in a read-write mount, then execs
// cat on it (a #! script too).
func TestShellExec(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.sh"), []byte("#!/bin/sh\necho script \"$@\"\n"), 0o755))
	mnt := []string{"--mount", dir + ":" + dir + ":rw"}
	r := execute(t, sandboxed(mnt, baseEnv, "/bin/sh",
		[]string{"-c", "echo hi > " + dir + "/x && exec cat " + dir + "/x"}, nil))
	if !checkSandboxStatus(t, r) {
		return
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "hi\n", string(r.Stdout))
	b, err := os.ReadFile(filepath.Join(dir, "x"))
	require.NoError(t, err)
	require.Equal(t, "hi\n", string(b))
	r = execute(t, sandboxed(mnt, baseEnv, dir+"/s.sh", []string{"a", "b c"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "script a b c\n", string(r.Stdout))
	// The issue's own example, on the default writable layer.
	r = execute(t, sandboxed(nil, baseEnv, "/bin/sh", []string{"-c", "echo hi > /tmp/x && exec cat /tmp/x"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "hi\n", string(r.Stdout))
	// Writes to the root land in the sandbox's memory, never on the host.
	r = execute(t, sandboxed(nil, baseEnv, "/bin/sh", []string{"-c", "echo x > /etc/ringbox-test && exec cat /etc/ringbox-test"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "x\n", string(r.Stdout))
	_, err = os.Stat("/etc/ringbox-test")
	require.True(t, os.IsNotExist(err), "the sandbox wrote to the host's /etc")
	// With --read-only there is no writable layer.
	r = execute(t, sandboxed([]string{"--read-only"}, baseEnv, "/bin/sh", []string{"-c", "echo x > /etc/ringbox-test"}, nil))
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, string(r.Stderr), "Read-only file system")
}

// TestSandboxMounts: the sandbox's own /dev and /proc, and --tmpfs.
func TestSandboxMounts(t *testing.T) {
	recordInputs(t)
	r := execute(t, sandboxed([]string{"--tmpfs", "/tmp"}, baseEnv, "/bin/sh", []string{"-c",
		`echo hi > /tmp/x; read y < /tmp/x; echo "$y"; echo gone > /dev/null; read n < /proc/self/comm; echo "$n"`}, nil))
	if !checkSandboxStatus(t, r) {
		return
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "hi\nsh\n", string(r.Stdout))
	_, err := os.Stat("/tmp/x")
	if err == nil {
		b, _ := os.ReadFile("/tmp/x")
		require.NotEqual(t, "hi\n", string(b), "the sandbox's /tmp wrote to the host's")
	}

	r = execute(t, sandboxed(nil, baseEnv, "/bin/cat", []string{"/proc/self/status"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Contains(t, string(r.Stdout), "Name:\tcat\n")
	require.Contains(t, string(r.Stdout), "\nPid:\t1\n")

	r = execute(t, sandboxed(nil, baseEnv, "/bin/ls", []string{"-l", "/dev/null", "/dev/zero"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Regexp(t, `(?m)^crw-rw-rw- 1 root root 1, 3 .* /dev/null$`, string(r.Stdout))
	require.Regexp(t, `(?m)^crw-rw-rw- 1 root root 1, 5 .* /dev/zero$`, string(r.Stdout))

	// The hostname resolves: /etc/hosts is the root's with a line for
	// it, in memory (writable; the host's is untouched).
	hostsBefore, err := os.ReadFile("/etc/hosts")
	require.NoError(t, err)
	r = execute(t, sandboxed([]string{"--hostname", "web1"}, baseEnv, "/bin/sh", []string{"-c",
		`getent hosts web1; grep -c localhost /etc/hosts; echo "10.9.8.7 other" >> /etc/hosts && getent hosts other; grep -c " /etc/hosts " /proc/mounts`}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Regexp(t, `^127\.0\.1\.1\s+web1\n[1-9]\n10\.9\.8\.7\s+other\n1\n$`, string(r.Stdout))
	hostsAfter, err := os.ReadFile("/etc/hosts")
	require.NoError(t, err)
	require.Equal(t, string(hostsBefore), string(hostsAfter), "the host's /etc/hosts changed")

	// /proc/self/exe is the resolved path (/bin may be a link to usr/bin).
	want := execute(t, native("/bin/readlink", []string{"/proc/self/exe"}, baseEnv, nil))
	r = execute(t, sandboxed(nil, baseEnv, "/bin/readlink", []string{"/proc/self/exe"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, string(want.Stdout), string(r.Stdout))
}

// TestMountOptions: --tmpfs's options (size, mode, noexec) and --mount's
// noexec hold, /proc/mounts shows them, the command line's root and binds
// are nosuid, and a bad option is a usage error.
func TestMountOptions(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.sh"), []byte("echo script ran\n"), 0o755))
	r := execute(t, sandboxed([]string{"--tmpfs", "/t:size=1m,mode=700,noexec", "-v", dir + ":/h:noexec"}, baseEnv, "/bin/sh", []string{"-c", `
cp /bin/true /t/x; /t/x 2>/dev/null; echo "exec on noexec tmpfs: $?"; rm /t/x
/h/s.sh 2>/dev/null; echo "exec on noexec bind: $?"
sh /h/s.sh
stat -c %a /t
dd if=/dev/zero of=/t/big bs=64k count=32 2>/dev/null; echo "dd: $?"; echo "size $(stat -c %s /t/big)"
grep " /t " /proc/mounts
grep " /h " /proc/mounts | cut -d" " -f4
grep -c " / .*nosuid" /proc/mounts`}, nil))
	if !checkSandboxStatus(t, r) {
		return
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "exec on noexec tmpfs: 126\nexec on noexec bind: 126\nscript ran\n700\ndd: 1\nsize 1048576\n"+
		"tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1m,mode=700 0 0\n"+
		"rw,nosuid,nodev,noexec,relatime\n1\n", string(r.Stdout))

	for _, bad := range [][]string{{"--tmpfs", "/t:bogus"}, {"--tmpfs", "/t:size=1q"}, {"-v", dir + ":/h:suid"}} {
		r = execute(t, sandboxed(bad, baseEnv, "/bin/true", nil, nil))
		require.Equal(t, 2, r.Code, "%v: stderr: %s", bad, r.Stderr)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(string(r.Stderr)), "\n")+1, "one line: %s", r.Stderr)
	}
}

// TestCoreutils runs a sequence of coreutils commands on a prepared tree,
// natively on one copy and in the sandbox on another (mounted read-write at
// its own path, commands run in it), comparing each step.
func TestCoreutils(t *testing.T) {
	recordInputs(t)
	mk := func() string {
		d := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(d, "src", "sub", "deep"), 0o755))
		for i, name := range []string{"a.txt", "src/b.txt", "src/sub/c.txt", "src/sub/deep/d.bin"} {
			content := strings.Repeat(name+" line\n", 50*(i+1))
			require.NoError(t, os.WriteFile(filepath.Join(d, name), []byte(content), 0o644))
		}
		require.NoError(t, os.Symlink("b.txt", filepath.Join(d, "src", "link")))
		return d
	}
	nativeDir, sandboxDir := mk(), mk()
	steps := [][]string{
		{"/bin/ls", "-la", "--time-style=+", "src"},
		{"/bin/cat", "a.txt"},
		{"/bin/cp", "-r", "src", "copy"},
		{"/bin/ls", "-R", "copy"},
		{"/bin/mv", "copy", "moved"},
		{"/bin/ls"},
		{"/usr/bin/find", "moved", "-name", "*.txt"},
		{"/bin/rm", "-r", "moved"},
		{"/bin/ls"},
		{"/bin/tar", "cf", "t.tar", "src"},
		{"/bin/tar", "tf", "t.tar"},
		{"/bin/mkdir", "out"},
		{"/bin/tar", "xf", "t.tar", "-C", "out"},
		{"/usr/bin/diff", "-r", "src", "out/src"},
		{"/bin/gzip", "-k", "a.txt"},
		{"/bin/gunzip", "-c", "a.txt.gz"},
		{"/usr/bin/sha256sum", "a.txt", "src/sub/deep/d.bin"},
		{"/bin/ln", "-s", "a.txt", "l"},
		{"/bin/readlink", "l"},
		{"/bin/chmod", "+x", "a.txt"},
		{"/usr/bin/test", "-x", "a.txt"},
		{"/usr/bin/test", "-x", "src/b.txt"},
		{"/usr/bin/touch", "-d", "@1700000000", "a.txt"},
		{"/usr/bin/stat", "-c", "%s %Y %a %F %N", "a.txt"},
		// No %Y for entries the step sequence created: the native and the
		// sandboxed runs made them at different seconds.
		{"/usr/bin/stat", "-c", "%s %a %F %N", "l", "src"},
		{"/usr/bin/du", "-s", "--apparent-size", "src"},
		{"/bin/rm", "-f", "a.txt.gz", "l"},
		{"/bin/ls", "-a"},
	}
	for i, c := range steps {
		if _, err := os.Stat(c[0]); err != nil {
			t.Fatalf("%s is not on this host (.ci/run installs what the tests run)", c[0])
		}
		n := native(c[0], c[1:], baseEnv, nil)
		n.Dir = nativeDir
		want := execute(t, n)
		got := execute(t, sandboxed([]string{"--mount", sandboxDir + ":" + sandboxDir + ":rw", "--workdir", sandboxDir}, baseEnv, c[0], c[1:], nil))
		if !checkSandboxStatus(t, got) {
			return
		}
		require.Equal(t, want.Code, got.Code, "step %d %v: status; stderr: %s", i, c, got.Stderr)
		require.Equal(t, string(want.Stdout), string(got.Stdout), "step %d %v", i, c)
	}
}

// TestFileAndNewMounts: -v binds a single host file (read-only or
// read-write, writes reaching the host file), and a destination the
// sandbox lacks is made, as Docker makes it: in the root's memory layer,
// never on the host. A read-only root cannot have it made: a one-line
// error and status 125.
func TestFileAndNewMounts(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	conf, data := filepath.Join(dir, "app.conf"), filepath.Join(dir, "data")
	require.NoError(t, os.WriteFile(conf, []byte("setting=1\n"), 0o644))
	require.NoError(t, os.Mkdir(data, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "in"), []byte("inside\n"), 0o644))
	log := filepath.Join(dir, "log.txt")
	require.NoError(t, os.WriteFile(log, []byte("one\n"), 0o644))
	// A path that exists nowhere on the host.
	fresh := fmt.Sprintf("/ringbox-mp-%d", os.Getpid())
	script := `cat /etc/app.conf; echo nope > /etc/app.conf 2>/dev/null || echo "ro file: refused";
cat ` + fresh + `/d/in; echo two >> ` + fresh + `/log/log.txt; cat ` + fresh + `/log/log.txt;
stat -c '%F %a' ` + fresh + ` ` + fresh + `/log/log.txt; rm ` + fresh + `/log/log.txt 2>/dev/null || echo "mount point: not removed"`
	r := execute(t, sandboxed([]string{"-v", conf + ":/etc/app.conf:ro", "-v", data + ":" + fresh + "/d:ro", "-v", log + ":" + fresh + "/log/log.txt"},
		baseEnv, "/bin/sh", []string{"-c", script}, nil))
	if !checkSandboxStatus(t, r) {
		return
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "setting=1\nro file: refused\ninside\none\ntwo\ndirectory 755\nregular file 644\nmount point: not removed\n", string(r.Stdout))
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	require.Equal(t, "one\ntwo\n", string(b), "the write reaches the host file")
	b, _ = os.ReadFile(conf)
	require.Equal(t, "setting=1\n", string(b))
	_, err = os.Stat(fresh)
	require.True(t, os.IsNotExist(err), "the mount point was made on the host")

	r = execute(t, sandboxed([]string{"--read-only", "-v", data + ":" + fresh + "/d"}, baseEnv, "/bin/true", nil, nil))
	require.Equal(t, 125, r.Code)
	require.Contains(t, string(r.Stderr), "no directory there in the sandbox and none can be made")
	require.Equal(t, 1, strings.Count(strings.TrimSpace(string(r.Stderr)), "\n")+1, "one line: %s", r.Stderr)
}
