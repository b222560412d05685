package hostfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// TestVFSResolve resolves paths through fs.VFS over a hostfs root: ..,
// symlinks pointing out of the tree resolve inside the VFS root, limits.
func TestVFSResolve(t *testing.T) {
	tr := newTree(t)
	// A decoy at the secret's host path inside the tree: where absolute
	// links pointing out must land.
	decoy := filepath.Join(tr.root, tr.secret)
	require.NoError(t, os.MkdirAll(filepath.Dir(decoy), 0o755))
	require.NoError(t, os.WriteFile(decoy, []byte("decoy"), 0o644))
	v := rfs.NewVFS(tr.fs(t, true), true)
	root := v.Root()
	resolve := func(p string, follow bool) (*rfs.Dentry, error) { return v.Resolve(root, root, p, follow) }
	content := func(p string) string {
		t.Helper()
		d, err := resolve(p, true)
		require.NoError(t, err, p)
		return readFile(t, d.Node())
	}

	for p, want := range map[string]string{
		"/file":                      "hello",
		"file":                       "hello",
		"/dir/../file":               "hello",
		"/../../../file":             "hello",
		"/dir/sub/../../dir/inner":   "inner",
		"/tofile":                    "hello",
		"/abs":                       "decoy",
		"/rel":                       mustNotExist,
		"/reldeep":                   "decoy",
		"/etcpw":                     "inside passwd",
		"/slash/file":                "hello",
		"/slash/../slash/etc/passwd": "inside passwd",
		"/absdir/secret":             "decoy",
		"/dir/up/secret":             mustNotExist,
		"/reldir/secret":             mustNotExist,
		"/" + strings.Repeat("./", 2000) + "file":   "hello",
		"/" + strings.Repeat("d/../", 800) + "file": mustNotExist,
	} {
		if want == mustNotExist {
			_, err := resolve(p, true)
			assert.Equal(t, unix.ENOENT, err, p)
			continue
		}
		assert.Equal(t, want, content(p), p)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(tr.root, "d"), 0o755))
	assert.Equal(t, "hello", content("/"+strings.Repeat("d/../", 800)+"file"))

	// Not following the last component: the link itself.
	d, err := resolve("/abs", false)
	require.NoError(t, err)
	target, err := d.Node().Readlink()
	require.NoError(t, err)
	assert.Equal(t, tr.secret, target)
	_, err = d.Node().Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)

	// Limits.
	for p, want := range map[string]error{
		"/" + strings.Repeat("a/", 5000):          unix.ENAMETOOLONG, // 5000 components
		"/" + strings.Repeat("d/../", 1000) + "f": unix.ENAMETOOLONG,
		"/" + strings.Repeat("n", 300):            unix.ENAMETOOLONG,
		"/dir/" + strings.Repeat("n", 256):        unix.ENAMETOOLONG,
		"/loop":                                   unix.ELOOP,
		"/loopa":                                  unix.ELOOP,
		"/loopb/x":                                unix.ELOOP,
		"/file/x":                                 unix.ENOTDIR,
		"/file/":                                  unix.ENOTDIR,
		"/missing":                                unix.ENOENT,
		"":                                        unix.ENOENT,
	} {
		_, err := resolve(p, true)
		assert.Equal(t, want, err, "%.40s", p)
	}
	// A name of 255 bytes is fine (and absent).
	_, err = resolve("/"+strings.Repeat("n", 255), true)
	assert.Equal(t, unix.ENOENT, err)

	// Nothing resolved is outside the tree.
	secret := lstat(t, tr.secret).Ino
	for _, p := range []string{"/abs", "/rel", "/reldeep", "/absdir/secret", "/slash" + tr.secret, tr.secret, "/../" + tr.secret} {
		d, err := resolve(p, true)
		if err != nil {
			continue
		}
		st, err := d.Node().Stat()
		require.NoError(t, err)
		assert.NotEqual(t, secret, st.Ino, p)
	}
}

// mustNotExist marks paths that resolve to ENOENT.
const mustNotExist = "\x00ENOENT"
