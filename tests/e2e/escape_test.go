package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEscapeSuite (issue 12) runs tests/progs/escapes.c in a sandbox whose
// root is a small tree, with a read-write bind mount beside a host secret,
// once with ringbox's own confinement and once with --no-confine: every
// attempt must fail or stay inside the sandbox either way. The memory and
// fork bombs have their own tests (TestOutOfMemory, TestPrograms/forkbomb).
func TestEscapeSuite(t *testing.T) {
	recordInputs(t)
	for _, mode := range []struct {
		name  string
		flags []string
	}{{"confined", nil}, {"no-confine", []string{"--no-confine"}}} {
		t.Run(mode.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "root")
			rw := filepath.Join(base, "rw")
			const secretText = "HOST SECRET 6f1ed002ab5595859014ebf0951522d9"
			secret := filepath.Join(base, "d", "secret")
			for _, d := range []string{"bin", "tmp", "m", "proc", "dev"} {
				require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
			}
			require.NoError(t, os.MkdirAll(rw, 0o755))
			require.NoError(t, os.MkdirAll(filepath.Dir(secret), 0o755))
			require.NoError(t, os.WriteFile(secret, []byte(secretText+"\n"), 0o644))
			exe, err := os.ReadFile(prog("escapes"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "escapes"), exe, 0o755))

			flags := append([]string{"--rootfs", root, "-v", rw + ":/m", "--disk", "16M", "--files", "4096"}, mode.flags...)
			// symrace=../d: on the host, rw/l -> ../d is the secret's
			// directory; in the sandbox, /m/l -> ../d is /d, which is not
			// there.
			args := []string{"procmem", "ptrace", "mmap", "ioctl", "mknod", "symrace=../d", "fdbomb", "diskbomb"}
			r := execute(t, sandboxed(flags, []string{"PATH=/bin"}, "/bin/escapes", args, nil))
			if !checkSandboxStatus(t, r) {
				return
			}
			require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
			out := string(r.Stdout)
			t.Logf("escapes (%s):\n%s", mode.name, out)
			require.NotContains(t, out, "HOST SECRET")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			want := []string{
				`^procmem: self=(ENOENT|EACCES|EPERM|inside) child=(ENOENT|EACCES|EPERM|written inside)$`,
				// ok: the sandbox's own ptrace, which reaches only
				// the sandbox's processes (here the program's child).
				`^ptrace: traceme=(ENOSYS|EPERM|ok) attach=(ENOSYS|EPERM|ESRCH|ok) process_vm_writev=(ENOSYS|EPERM|written inside)$`,
				`^mmap: 0xffff800000000000=(ENOMEM|EINVAL|EPERM) 0xffffff0000000000=(ENOMEM|EINVAL|EPERM) 0xfffffffffffff000=(ENOMEM|EINVAL|EPERM) 0x800000000000=(ENOMEM|EINVAL|EPERM) 0x7ffffffff000=(ENOMEM|EINVAL|EPERM) 0=(ENOMEM|EINVAL|EPERM|EACCES) own-text=EEXIST$`,
				`^ioctl: kvm requests that worked=0 open\(/dev/kvm\)=ENOENT$`,
				`^mknod:( /tmp/\w+=(ENOSYS|EPERM|EACCES)/-| /tmp/\w+=made/(ENXIO|ENODEV|EPERM|EACCES)){3}$`,
				`^symrace: leaks=0 read-inside=yes$`,
				`^fdbomb: EMFILE after more than 1000=yes$`,
				`^diskbomb: ENOSPC$`,
			}
			require.Len(t, lines, len(want), "output:\n%s", out)
			for i, w := range want {
				require.Regexp(t, regexp.MustCompile(w), lines[i])
			}
			b, err := os.ReadFile(secret)
			require.NoError(t, err)
			require.Equal(t, secretText+"\n", string(b), "the host secret changed")
		})
	}
}
