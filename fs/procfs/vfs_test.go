package procfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// memDir is a test root: a read-only directory of fixed children.
type memDir struct {
	ino      uint64
	children map[string]fs.Node
}

func (d *memDir) Root() fs.Node { return d }

func (d *memDir) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: d.ino, Mode: unix.S_IFDIR | 0o755, Nlink: 2}, nil
}

func (d *memDir) Lookup(name string) (fs.Node, error) {
	if c, ok := d.children[name]; ok {
		return c, nil
	}
	return nil, unix.ENOENT
}

func (d *memDir) Readlink() (string, error) { return "", unix.EINVAL }

func (d *memDir) Open(int) (fs.Impl, error) { return fs.PathImpl{Node: d}, nil }

func newRoot() *memDir {
	return &memDir{ino: 2, children: map[string]fs.Node{
		"proc": &memDir{ino: 3},
		"tmp":  &memDir{ino: 4},
	}}
}

// TestVFS resolves paths through fs.VFS with a process's view of procfs
// mounted at /proc: self, thread-self, the links of a process followed
// in the sandbox's tree, "..", and processes going away.
func TestVFS(t *testing.T) {
	src := newFake()
	procFS := New(src)
	root := newRoot()
	vfsOf := func(view fs.FS) *fs.VFS {
		v := fs.NewVFS(root, true)
		require.NoError(t, v.MountAt("/proc", view, true))
		return v
	}
	v := vfsOf(procFS.ForTask(10, 11))
	r := v.Root()
	resolve := func(p string, follow bool) (*fs.Dentry, error) { return v.Resolve(r, r, p, follow) }
	content := func(p string) string {
		t.Helper()
		d, err := resolve(p, true)
		require.NoError(t, err, p)
		return read(t, d.Node())
	}

	d, err := resolve("/proc/self", false)
	require.NoError(t, err)
	target, err := d.Node().Readlink()
	require.NoError(t, err)
	assert.Equal(t, "10", target)
	d, err = resolve("/proc/self", true)
	require.NoError(t, err)
	assert.Equal(t, "/proc/10", d.Path(r))
	assert.True(t, d.IsDir())

	m, _ := statusMap(t, content("/proc/self/status"))
	assert.Equal(t, "10", m["Pid"])
	m, _ = statusMap(t, content("/proc/thread-self/status"))
	assert.Equal(t, "11", m["Pid"])
	assert.Equal(t, "worker\n", content("/proc/thread-self/comm"))
	assert.Equal(t, "worker\n", content("/proc/self/task/11/comm"))
	assert.Equal(t, content("/proc/10/mounts"), content("/proc/mounts"))
	assert.Contains(t, content("/proc/mounts"), "proc /proc proc ")
	assert.Equal(t, "Linux\n", content("/proc/sys/kernel/ostype"))
	assert.Equal(t, "Linux\n", content("proc/./sys/../sys/kernel/ostype"))

	// Links are followed in the sandbox's tree: fd/3 is /proc/version, the
	// root link is /, so /proc/self/root/proc is /proc again.
	assert.Equal(t, content("/proc/version"), content("/proc/self/fd/3"))
	assert.Equal(t, "10", statFields(t, content("/proc/self/root/proc/self/task/10/../../stat"))[0])
	d, err = resolve("/proc/1/cwd", true)
	require.NoError(t, err)
	assert.Equal(t, "/", d.Path(r))
	_, err = resolve("/proc/self/cwd", true) // /home/u is not in the tree
	assert.Equal(t, unix.ENOENT, err)
	_, err = resolve("/proc/self/fd/1", true) // pipe:[42]
	assert.Equal(t, unix.ENOENT, err)

	// ".." leaves /proc for the tree.
	d, err = resolve("/proc/10/task/..", true)
	require.NoError(t, err)
	assert.Equal(t, "/proc/10", d.Path(r))
	d, err = resolve("/proc/..", true)
	require.NoError(t, err)
	assert.Equal(t, "/", d.Path(r))
	st, err := d.Node().Stat()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), st.Ino)

	// The mount's root is procfs's.
	d, err = resolve("/proc", true)
	require.NoError(t, err)
	st, err = d.Node().Stat()
	require.NoError(t, err)
	assert.Equal(t, Dev, st.Dev)
	assert.Equal(t, uint64(1), st.Ino)

	for p, want := range map[string]error{
		"/proc/99":            unix.ENOENT,
		"/proc/99/stat":       unix.ENOENT,
		"/proc/self/nope":     unix.ENOENT,
		"/proc/10/stat/x":     unix.ENOTDIR,
		"/proc/10/stat/":      unix.ENOTDIR,
		"/proc/self/task/12":  unix.ENOENT,
		"/proc/sys/kernel/no": unix.ENOENT,
	} {
		_, err := resolve(p, true)
		assert.Equal(t, want, err, p)
	}

	// A process goes: its cached dentries no longer resolve.
	assert.NotEmpty(t, content("/proc/20/stat"))
	src.remove(20)
	_, err = resolve("/proc/20/stat", true)
	assert.Equal(t, unix.ENOENT, err)
	_, err = resolve("/proc/20", true)
	assert.Equal(t, unix.ENOENT, err)

	// Another process's view over the same tree and procfs.
	v1 := vfsOf(procFS.ForPID(1))
	d, err = v1.Resolve(v1.Root(), v1.Root(), "/proc/self/stat", true)
	require.NoError(t, err)
	assert.Equal(t, "1", statFields(t, read(t, d.Node()))[0])
	d, err = v1.Resolve(v1.Root(), v1.Root(), "/proc/thread-self", true)
	require.NoError(t, err)
	assert.Equal(t, "/proc/1/task/1", d.Path(v1.Root()))

	// The view of no process has no self.
	v0 := vfsOf(procFS)
	_, err = v0.Resolve(v0.Root(), v0.Root(), "/proc/self/stat", true)
	assert.Equal(t, unix.ENOENT, err)
	_, err = v0.Resolve(v0.Root(), v0.Root(), "/proc/mounts", true)
	assert.Equal(t, unix.ENOENT, err)
	d, err = v0.Resolve(v0.Root(), v0.Root(), "/proc/10/status", true)
	require.NoError(t, err)
	m, _ = statusMap(t, read(t, d.Node()))
	assert.Equal(t, "10", m["Pid"])
}
