package hostfs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

const secretText = "HOST SECRET 5d41402abc4b2a76"

// tree is a test layout: base/outside holds what must stay unreachable,
// base/tree is given to the filesystem.
type tree struct {
	base, root, outside, secret string
}

func newTree(t *testing.T) *tree {
	t.Helper()
	base := t.TempDir()
	tr := &tree{
		base:    base,
		root:    filepath.Join(base, "tree"),
		outside: filepath.Join(base, "outside"),
		secret:  filepath.Join(base, "outside", "secret"),
	}
	mkdir := func(p string) { require.NoError(t, os.MkdirAll(p, 0o755)) }
	write := func(p, s string) { require.NoError(t, os.WriteFile(p, []byte(s), 0o644)) }
	link := func(target, p string) { require.NoError(t, os.Symlink(target, p)) }
	mkdir(filepath.Join(tr.outside, "dir"))
	write(tr.secret, secretText)
	write(filepath.Join(tr.outside, "dir", "secret"), secretText)
	mkdir(filepath.Join(tr.root, "dir", "sub"))
	mkdir(filepath.Join(tr.root, "empty"))
	mkdir(filepath.Join(tr.root, "etc"))
	write(filepath.Join(tr.root, "file"), "hello")
	write(filepath.Join(tr.root, "dir", "inner"), "inner")
	write(filepath.Join(tr.root, "dir", "sub", "nested"), "nested")
	write(filepath.Join(tr.root, "etc", "passwd"), "inside passwd")
	link(tr.secret, filepath.Join(tr.root, "abs"))
	link(tr.outside, filepath.Join(tr.root, "absdir"))
	link("../outside/secret", filepath.Join(tr.root, "rel"))
	link("../outside", filepath.Join(tr.root, "reldir"))
	link(strings.Repeat("../", 12)+strings.TrimPrefix(tr.secret, "/"), filepath.Join(tr.root, "reldeep"))
	link("../../outside", filepath.Join(tr.root, "dir", "up"))
	link("/", filepath.Join(tr.root, "slash"))
	link("/etc/passwd", filepath.Join(tr.root, "etcpw"))
	link("loop", filepath.Join(tr.root, "loop"))
	link("loopb", filepath.Join(tr.root, "loopa"))
	link("loopa", filepath.Join(tr.root, "loopb"))
	link("file", filepath.Join(tr.root, "tofile"))
	return tr
}

func (tr *tree) fs(t *testing.T, readOnly bool) *FS {
	t.Helper()
	f, err := New(tr.root, readOnly)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(p, &st))
	return st
}

// walk looks up a slash-separated path one component at a time.
func walk(t *testing.T, n rfs.Node, p string) rfs.Node {
	t.Helper()
	for _, name := range strings.Split(p, "/") {
		var err error
		n, err = n.Lookup(name)
		require.NoError(t, err, "lookup %q of %q", name, p)
	}
	return n
}

func readAll(t *testing.T, impl rfs.Impl) string {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := impl.Read(buf)
		require.NoError(t, err)
		if n == 0 {
			return b.String()
		}
		b.Write(buf[:n])
	}
}

func readFile(t *testing.T, n rfs.Node) string {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	return readAll(t, impl)
}

func readDir(t *testing.T, n rfs.Node) []rfs.DirEntry {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	defer impl.Release()
	dr, ok := impl.(rfs.DirReader)
	require.True(t, ok, "a directory's Impl is a DirReader")
	var all []rfs.DirEntry
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 3)
		require.NoError(t, err)
		if len(ents) == 0 {
			return all
		}
		all = append(all, ents...)
		off += len(ents)
	}
}

func names(ents []rfs.DirEntry) []string {
	var s []string
	for _, e := range ents {
		s = append(s, e.Name)
	}
	return s
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

func TestNew(t *testing.T) {
	tr := newTree(t)
	_, err := New(filepath.Join(tr.root, "nope"), true)
	assert.Error(t, err)
	_, err = New(filepath.Join(tr.root, "file"), true)
	assert.Error(t, err, "not a directory")
	if _, err := os.Stat("/proc/self"); err == nil {
		_, err = New("/proc", true)
		assert.ErrorContains(t, err, "pseudo-filesystem")
	}
	f := tr.fs(t, true)
	assert.True(t, f.ReadOnly())
	require.NoError(t, f.Close())
	_, err = f.Root().Stat()
	assert.Equal(t, unix.EIO, err, "a closed filesystem")
	require.NoError(t, f.Close())
}

func TestLookupStat(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	root := f.Root()

	st, err := root.Stat()
	require.NoError(t, err)
	host := lstat(t, tr.root)
	assert.Equal(t, uint32(unix.S_IFDIR), st.Mode&unix.S_IFMT)
	assert.Equal(t, host.Ino, st.Ino)
	assert.NotEqual(t, host.Dev, st.Dev, "the host's device number is not shown")
	dev := st.Dev

	file := walk(t, root, "file")
	st, err = file.Stat()
	require.NoError(t, err)
	host = lstat(t, filepath.Join(tr.root, "file"))
	assert.Equal(t, host.Ino, st.Ino)
	assert.Equal(t, dev, st.Dev, "one st_dev per mount (and host device)")
	assert.Equal(t, host.Mode, st.Mode)
	assert.Equal(t, int64(5), st.Size)
	assert.Equal(t, host.Mtim, st.Mtim)
	assert.Equal(t, host.Uid, st.Uid)
	assert.Equal(t, host.Nlink, st.Nlink)

	nested := walk(t, root, "dir/sub/nested")
	st, err = nested.Stat()
	require.NoError(t, err)
	assert.Equal(t, lstat(t, filepath.Join(tr.root, "dir/sub/nested")).Ino, st.Ino)
	assert.Equal(t, "nested", readFile(t, nested))

	// Errors pass through as bare errnos.
	_, err = root.Lookup("missing")
	assert.Equal(t, unix.ENOENT, err)
	_, err = file.Lookup("x")
	assert.Equal(t, unix.ENOTDIR, err)

	// Only single plain components.
	for _, bad := range []string{"", ".", "..", "dir/inner", "/file", "dir/", "../outside", "file\x00x", "/"} {
		_, err = root.Lookup(bad)
		assert.Equal(t, unix.EINVAL, err, "Lookup(%q)", bad)
	}
	_, err = root.Lookup(strings.Repeat("n", 300))
	assert.Equal(t, unix.ENAMETOOLONG, err)

	// The same host file is the same node while it lives.
	again, err := root.Lookup("file")
	require.NoError(t, err)
	assert.Same(t, file, again)
}

func TestSymlinks(t *testing.T) {
	tr := newTree(t)
	root := tr.fs(t, true).Root()
	cases := map[string]string{
		"abs":     tr.secret,
		"absdir":  tr.outside,
		"rel":     "../outside/secret",
		"reldir":  "../outside",
		"dir/up":  "../../outside",
		"slash":   "/",
		"loop":    "loop",
		"loopa":   "loopb",
		"tofile":  "file",
		"reldeep": strings.Repeat("../", 12) + strings.TrimPrefix(tr.secret, "/"),
	}
	for p, target := range cases {
		n := walk(t, root, p)
		st, err := n.Stat()
		require.NoError(t, err)
		assert.Equal(t, uint32(unix.S_IFLNK), st.Mode&unix.S_IFMT, "%s: the link itself, not its target", p)
		assert.Equal(t, lstat(t, filepath.Join(tr.root, p)).Ino, st.Ino)
		got, err := n.Readlink()
		require.NoError(t, err)
		assert.Equal(t, target, got, p)
		// Never followed by the host.
		for _, flags := range []int{unix.O_RDONLY, unix.O_RDONLY | unix.O_DIRECTORY, unix.O_PATH, unix.O_RDONLY | unix.O_NONBLOCK} {
			_, err = n.Open(flags)
			assert.Equal(t, unix.ELOOP, err, "open %s %#x", p, flags)
		}
		for _, name := range []string{"secret", "dir", "etc", "file"} {
			_, err = n.Lookup(name)
			assert.Equal(t, unix.ENOTDIR, err, "lookup below symlink %s", p)
		}
	}
	// Readlink of what is no symlink.
	for _, p := range []string{"file", "dir"} {
		_, err := walk(t, root, p).Readlink()
		assert.Equal(t, unix.EINVAL, err, p)
	}
	_, err := root.Readlink()
	assert.Equal(t, unix.EINVAL, err)
}

func TestOpenRead(t *testing.T) {
	tr := newTree(t)
	root := tr.fs(t, true).Root()
	file := walk(t, root, "file")
	impl, err := file.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	buf := make([]byte, 3)
	n, err := impl.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hel", string(buf[:n]))
	n, err = impl.Pread(buf, 2)
	require.NoError(t, err)
	assert.Equal(t, "llo", string(buf[:n]))
	off, err := impl.Seek(1, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(1), off)
	assert.Equal(t, "ello", readAll(t, impl))
	off, err = impl.Seek(0, 2)
	require.NoError(t, err)
	assert.Equal(t, int64(5), off)
	_, err = impl.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err, "opened read-only")
	st, err := impl.Stat()
	require.NoError(t, err)
	nst, err := file.Stat()
	require.NoError(t, err)
	assert.Equal(t, nst, st, "the open file's stat is the node's")
	assert.False(t, impl.IsTerminal())
	rev, err := impl.Poll(unix.POLLIN|unix.POLLOUT|unix.POLLPRI, -1)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN|unix.POLLOUT), rev)
	_, ok := impl.(rfs.DirReader)
	assert.False(t, ok, "a regular file is no DirReader")

	_, err = file.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	assert.Equal(t, unix.ENOTDIR, err)
	_, err = file.Open(unix.O_ACCMODE)
	assert.Equal(t, unix.EINVAL, err)
	_, err = root.Open(unix.O_TMPFILE | unix.O_RDWR)
	assert.Equal(t, unix.EOPNOTSUPP, err)

	// A directory reads as one.
	dimpl, err := walk(t, root, "dir").Open(unix.O_RDONLY)
	require.NoError(t, err)
	_, err = dimpl.Read(buf)
	assert.Equal(t, unix.EISDIR, err)
	dimpl.Release()
}

func TestReadDir(t *testing.T) {
	tr := newTree(t)
	root := tr.fs(t, true).Root()
	ents := readDir(t, root)
	want := []string{"abs", "absdir", "dir", "empty", "etc", "etcpw", "file", "loop", "loopa", "loopb", "rel", "reldeep", "reldir", "slash", "tofile"}
	assert.ElementsMatch(t, want, names(ents), "no . or ..")
	for _, e := range ents {
		host := lstat(t, filepath.Join(tr.root, e.Name))
		assert.Equal(t, host.Ino, e.Ino, e.Name)
		assert.Equal(t, uint8(host.Mode>>12), e.Type, e.Name)
	}
	assert.Equal(t, names(ents), names(readDir(t, root)), "a stable order")
	assert.Empty(t, readDir(t, walk(t, root, "empty")))
	assert.ElementsMatch(t, []string{"inner", "sub", "up"}, names(readDir(t, walk(t, root, "dir"))))

	// The listing is read once: offsets stay valid while the directory
	// changes, and a read from 0 (rewinddir) sees the change.
	impl, err := walk(t, root, "dir").Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	dr := impl.(rfs.DirReader)
	first, err := dr.ReadDir(0, 1)
	require.NoError(t, err)
	require.Len(t, first, 1)
	require.NoError(t, os.WriteFile(filepath.Join(tr.root, "dir", "zzz"), nil, 0o644))
	rest, err := dr.ReadDir(1, 100)
	require.NoError(t, err)
	assert.Len(t, rest, 2)
	ents, err = dr.ReadDir(0, 100)
	require.NoError(t, err)
	assert.Len(t, ents, 4)
	ents, err = dr.ReadDir(10, 100)
	require.NoError(t, err)
	assert.Empty(t, ents)
	_, err = dr.ReadDir(-1, 1)
	assert.Equal(t, unix.EINVAL, err)
}

// TestNoEscape looks up everything reachable from the root, with every
// name a directory lists and names meant to get out, and checks that
// each node is a file of the tree and no read returns the secret.
func TestNoEscape(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	f.maxFDs = 8 // reopen from parents all the time

	inTree := map[uint64]string{}
	require.NoError(t, filepath.WalkDir(tr.root, func(p string, _ fs.DirEntry, err error) error {
		require.NoError(t, err)
		inTree[lstat(t, p).Ino] = p
		return nil
	}))
	outside := map[uint64]bool{lstat(t, tr.base).Ino: true}
	require.NoError(t, filepath.WalkDir(tr.outside, func(p string, _ fs.DirEntry, err error) error {
		outside[lstat(t, p).Ino] = true
		return err
	}))

	evil := []string{"..", ".", "../outside", "../outside/secret", "/", "/etc", "outside", "secret",
		"tree", "..\x00", strings.Repeat("../", 20) + "etc", "dir/../../outside", "abs/", "absdir/secret"}
	type item struct {
		n    rfs.Node
		path string
	}
	queue := []item{{f.Root(), "/"}}
	seen := 0
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		seen++
		st, err := it.n.Stat()
		require.NoError(t, err)
		_, ok := inTree[st.Ino]
		require.True(t, ok, "%s: ino %d is not in the tree", it.path, st.Ino)
		require.False(t, outside[st.Ino], it.path)

		var try []string
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			try = append(names(readDir(t, it.n)), evil...)
		case unix.S_IFREG:
			got := readFile(t, it.n)
			require.NotContains(t, got, "SECRET", it.path)
			try = evil
		case unix.S_IFLNK:
			try = append([]string{"secret", "dir", "outside"}, evil...)
		}
		for _, name := range try {
			c, err := it.n.Lookup(name)
			if err != nil {
				continue
			}
			require.NotContains(t, evil, name, "%s: Lookup(%q) must fail", it.path, name)
			queue = append(queue, item{c, it.path + name + "/"})
		}
	}
	assert.Equal(t, len(inTree), seen, "every file of the tree was reached once")
}

// TestSwapAfterLookup replaces entries between Lookup and Open (and
// between a directory's Lookup and its children's).
func TestSwapAfterLookup(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	root := f.Root()
	p := func(s string) string { return filepath.Join(tr.root, s) }

	// A file becomes a symlink to the secret: ELOOP.
	file := walk(t, root, "file")
	require.NoError(t, os.Rename(p("file"), p("file.old")))
	require.NoError(t, os.Symlink(tr.secret, p("file")))
	_, err := file.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)

	// ... then a directory: opening it is opening an in-tree directory.
	require.NoError(t, os.Remove(p("file")))
	require.NoError(t, os.Mkdir(p("file"), 0o755))
	if impl, err := file.Open(unix.O_RDONLY); err == nil {
		st, err := impl.Stat()
		require.NoError(t, err)
		assert.Equal(t, lstat(t, p("file")).Ino, st.Ino)
		impl.Release()
	}

	// A directory becomes a symlink to the outside directory. While the
	// node's fd is open it still is the (moved, in-tree) directory; once
	// evicted and reopened by name it is a symlink: nothing below it.
	dir := walk(t, root, "dir")
	require.NoError(t, os.Rename(p("dir"), p("dir.old")))
	require.NoError(t, os.Symlink(tr.outside, p("dir")))
	c, err := dir.Lookup("inner")
	require.NoError(t, err)
	assert.Equal(t, "inner", readFile(t, c))
	_, err = dir.Lookup("secret")
	assert.Equal(t, unix.ENOENT, err)
	f.mu.Lock()
	f.maxFDs = 0
	f.evictLocked()
	f.maxFDs = DefaultMaxFDs
	f.mu.Unlock()
	for _, name := range []string{"secret", "dir", "inner"} {
		_, err = dir.Lookup(name)
		assert.Equal(t, unix.ENOTDIR, err, name)
	}
	_, err = dir.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)
}

// TestSwapRace flips entries between in-tree files and symlinks out while
// they are looked up and opened, with a tiny fd cache so that nodes are
// reopened by name all the time.
func TestSwapRace(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	f.maxFDs = 2
	root := f.Root()
	p := func(s string) string { return filepath.Join(tr.root, s) }
	require.NoError(t, os.WriteFile(p("race"), []byte("in tree"), 0o644))
	require.NoError(t, os.Symlink(tr.secret, p("race.alt")))
	require.NoError(t, os.Mkdir(p("racedir"), 0o755))
	require.NoError(t, os.WriteFile(p("racedir/secret"), []byte("in tree"), 0o644))
	require.NoError(t, os.Symlink(tr.outside, p("racedir.alt")))

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			_ = unix.Renameat2(unix.AT_FDCWD, p("race"), unix.AT_FDCWD, p("race.alt"), unix.RENAME_EXCHANGE)
			_ = unix.Renameat2(unix.AT_FDCWD, p("racedir"), unix.AT_FDCWD, p("racedir.alt"), unix.RENAME_EXCHANGE)
		}
	}()
	opened := 0
	check := func(n rfs.Node) {
		impl, err := n.Open(unix.O_RDONLY)
		if err != nil {
			return
		}
		defer impl.Release()
		buf := make([]byte, 64)
		k, err := impl.Pread(buf, 0)
		if err == nil {
			opened++
			require.NotContains(t, string(buf[:k]), "SECRET")
		}
	}
	for i := 0; i < 3000; i++ {
		if n, err := root.Lookup("race"); err == nil {
			check(n)
		}
		if d, err := root.Lookup("racedir"); err == nil {
			if n, err := d.Lookup("secret"); err == nil {
				check(n)
			}
		}
		for _, name := range []string{"race.alt", "racedir.alt"} {
			if n, err := root.Lookup(name); err == nil {
				check(n)
				if c, err := n.Lookup("secret"); err == nil {
					check(c)
				}
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	assert.NotZero(t, opened, "the in-tree files were read some of the time")
}

func TestSpecialFiles(t *testing.T) {
	tr := newTree(t)
	p := func(s string) string { return filepath.Join(tr.root, s) }
	require.NoError(t, unix.Mkfifo(p("fifo"), 0o666))
	haveDev := unix.Mknod(p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) == nil
	root := tr.fs(t, false).Root()

	fifo := walk(t, root, "fifo")
	st, err := fifo.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFIFO), st.Mode&unix.S_IFMT)
	for _, flags := range []int{unix.O_RDONLY, unix.O_WRONLY, unix.O_RDWR} {
		_, err = fifo.Open(flags) // and does not block
		assert.Equal(t, unix.ENXIO, err)
	}
	if haveDev {
		null := walk(t, root, "null")
		st, err := null.Stat()
		require.NoError(t, err)
		assert.Equal(t, uint32(unix.S_IFCHR), st.Mode&unix.S_IFMT)
		assert.Equal(t, unix.Mkdev(1, 3), st.Rdev)
		_, err = null.Open(unix.O_RDONLY)
		assert.Equal(t, unix.EACCES, err, "nodev")
	}
}

// TestPseudoFilesystems: with the host's / as the tree, /proc and /sys are
// mount points that cannot be entered.
func TestPseudoFilesystems(t *testing.T) {
	var sfs unix.Statfs_t
	if unix.Statfs("/proc", &sfs) != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
		t.Skip("no procfs at /proc")
	}
	f, err := New("/", true)
	require.NoError(t, err)
	defer f.Close()
	proc, err := f.Root().Lookup("proc")
	require.NoError(t, err)
	st, err := proc.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFDIR), st.Mode&unix.S_IFMT)
	for _, name := range []string{"self", "1", "kcore", "version"} {
		_, err = proc.Lookup(name)
		assert.Equal(t, unix.EACCES, err, name)
	}
	_, err = proc.Open(unix.O_RDONLY)
	assert.Equal(t, unix.EACCES, err)
	// The tree's ordinary directories are fine.
	etc, err := f.Root().Lookup("etc")
	require.NoError(t, err)
	_, err = etc.Open(unix.O_RDONLY)
	require.NoError(t, err)
}

func TestReadOnly(t *testing.T) {
	tr := newTree(t)
	root := tr.fs(t, true).Root()
	file := walk(t, root, "file")
	for _, flags := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_TRUNC, unix.O_WRONLY | unix.O_APPEND} {
		_, err := file.Open(flags)
		assert.Equal(t, unix.EROFS, err, "%#x", flags)
	}
	_, err := root.Open(unix.O_RDWR)
	assert.Equal(t, unix.EROFS, err)

	m := root.(Mutable)
	fm := file.(Mutable)
	ts := unix.Timespec{Sec: 1}
	_, _, err = m.Create("new", unix.O_RDWR, 0o644)
	assert.Equal(t, unix.EROFS, err)
	for what, err := range map[string]error{
		"mkdir":         m.Mkdir("newdir", 0o755),
		"unlink":        m.Unlink("file"),
		"rmdir":         m.Rmdir("empty"),
		"symlink":       m.Symlink("x", "newlink"),
		"rename":        m.Rename("file", root, "moved", 0),
		"link":          m.Link(file, "hard"),
		"chmod":         fm.Chmod(0o777),
		"truncate":      fm.Truncate(0),
		"utimens":       fm.Utimens(ts, ts),
		"chmod dir":     m.Chmod(0o777),
		"utimens dir":   m.Utimens(ts, ts),
		"truncate dir":  m.Truncate(0),
		"unlink absent": m.Unlink("absent"),
	} {
		assert.Equal(t, unix.EROFS, err, what)
	}
	impl, err := file.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	ops := impl.(FileOps)
	assert.Equal(t, unix.EROFS, ops.Truncate(0))
	assert.Equal(t, unix.EROFS, ops.Chmod(0o777))
	assert.Equal(t, unix.EROFS, ops.Utimens(ts, ts))
	assert.NoError(t, ops.Sync(false))

	b, err := os.ReadFile(filepath.Join(tr.root, "file"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	assert.Equal(t, os.FileMode(0o644), lstat2(t, filepath.Join(tr.root, "file")).Mode().Perm())
}

func lstat2(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	return fi
}

func TestReadWrite(t *testing.T) {
	old := unix.Umask(0o077) // the host's umask must not show
	defer unix.Umask(old)
	tr := newTree(t)
	root := tr.fs(t, false).Root()
	m := root.(Mutable)
	p := func(s string) string { return filepath.Join(tr.root, s) }
	secretMode := lstat2(t, tr.secret).Mode()

	// Create, write, read back on the host.
	n, impl, err := m.Create("new", unix.O_RDWR, 0o664)
	require.NoError(t, err)
	_, err = impl.Write([]byte("hello world"))
	require.NoError(t, err)
	_, err = impl.Pwrite([]byte("W"), 6)
	require.NoError(t, err)
	buf := make([]byte, 5)
	k, err := impl.Pread(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:k]))
	impl.Release()
	b, err := os.ReadFile(p("new"))
	require.NoError(t, err)
	assert.Equal(t, "hello World", string(b))
	assert.Equal(t, os.FileMode(0o664), lstat2(t, p("new")).Mode().Perm())
	st, err := n.Stat()
	require.NoError(t, err)
	assert.Equal(t, lstat(t, p("new")).Ino, st.Ino)
	c, err := root.Lookup("new")
	require.NoError(t, err)
	assert.Same(t, n, c, "the created node is the looked-up one")

	// O_EXCL, existing files, what is no file.
	_, _, err = m.Create("new", unix.O_RDWR|unix.O_EXCL, 0o600)
	assert.Equal(t, unix.EEXIST, err)
	_, impl, err = m.Create("new", unix.O_WRONLY|unix.O_TRUNC, 0o600)
	require.NoError(t, err)
	impl.Release()
	assert.Equal(t, int64(0), lstat2(t, p("new")).Size())
	assert.Equal(t, os.FileMode(0o664), lstat2(t, p("new")).Mode().Perm(), "an existing file keeps its mode")
	_, _, err = m.Create("dir", unix.O_RDWR, 0o600)
	assert.Equal(t, unix.EISDIR, err)
	_, _, err = m.Create("abs", unix.O_RDWR, 0o600)
	assert.Equal(t, unix.ELOOP, err, "never through a symlink")
	_, err = os.Stat(tr.secret)
	require.NoError(t, err)
	_, _, err = m.Create("../escape", unix.O_RDWR, 0o600)
	assert.Equal(t, unix.EINVAL, err)
	_, _, err = m.Create("suid", unix.O_RDWR, 0o4755|unix.S_ISGID)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), lstat2(t, p("suid")).Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid))

	// Open for writing, O_APPEND, O_TRUNC.
	impl, err = walk(t, root, "file").Open(unix.O_WRONLY | unix.O_APPEND)
	require.NoError(t, err)
	_, err = impl.Write([]byte("!"))
	require.NoError(t, err)
	impl.Release()
	b, _ = os.ReadFile(p("file"))
	assert.Equal(t, "hello!", string(b))

	// Mkdir with the exact mode, rmdir.
	require.NoError(t, m.Mkdir("newdir", 0o775))
	assert.Equal(t, os.ModeDir|0o775, lstat2(t, p("newdir")).Mode())
	assert.Equal(t, unix.EEXIST, m.Mkdir("newdir", 0o755))
	assert.Equal(t, unix.EEXIST, m.Mkdir("abs", 0o755))
	assert.Equal(t, unix.EINVAL, m.Mkdir("a/b", 0o755))
	nd := walk(t, root, "newdir")
	require.NoError(t, nd.(Mutable).Mkdir("child", 0o700))
	assert.DirExists(t, p("newdir/child"))
	assert.Equal(t, unix.ENOTEMPTY, m.Rmdir("newdir"))
	require.NoError(t, nd.(Mutable).Rmdir("child"))
	require.NoError(t, m.Rmdir("newdir"))
	assert.NoDirExists(t, p("newdir"))
	assert.Equal(t, unix.ENOTDIR, m.Rmdir("file"))

	// Symlink: created as given, never followed.
	require.NoError(t, m.Symlink(tr.secret, "mylink"))
	target, err := os.Readlink(p("mylink"))
	require.NoError(t, err)
	assert.Equal(t, tr.secret, target)
	assert.Equal(t, unix.ENOENT, m.Symlink("", "x"))
	assert.Equal(t, unix.EEXIST, m.Symlink("x", "file"))

	// Unlink: of a symlink removes the link, not its target.
	require.NoError(t, m.Unlink("mylink"))
	require.NoError(t, m.Unlink("abs"))
	assert.FileExists(t, tr.secret)
	assert.NoFileExists(t, p("abs"))
	assert.Equal(t, unix.ENOENT, m.Unlink("abs"))
	assert.Equal(t, unix.EISDIR, m.Unlink("dir"))
	assert.Equal(t, unix.EINVAL, m.Unlink(".."))

	// Rename within and across directories.
	require.NoError(t, m.Rename("new", root, "renamed", 0))
	assert.FileExists(t, p("renamed"))
	dir := walk(t, root, "dir")
	require.NoError(t, m.Rename("renamed", dir, "moved", 0))
	assert.FileExists(t, p("dir/moved"))
	require.NoError(t, dir.(Mutable).Rename("moved", root, "new", 0))
	st, err = n.Stat()
	require.NoError(t, err)
	assert.Equal(t, lstat(t, p("new")).Ino, st.Ino)
	assert.Equal(t, unix.EINVAL, m.Rename("..", root, "x", 0))
	assert.Equal(t, unix.EINVAL, m.Rename("new", root, "../x", 0))
	assert.Equal(t, unix.EXDEV, m.Rename("new", newTree(t).fs(t, false).Root(), "x", 0))

	// Link.
	require.NoError(t, m.Link(walk(t, root, "file"), "hard"))
	assert.Equal(t, lstat(t, p("file")).Ino, lstat(t, p("hard")).Ino)
	assert.Equal(t, unix.EPERM, m.Link(dir, "dirlink"))
	require.NoError(t, m.Link(walk(t, root, "rel"), "rel2"), "a link to the symlink itself")
	assert.Equal(t, lstat(t, p("rel")).Ino, lstat(t, p("rel2")).Ino)

	// Chmod: no set-user-ID; set-group-ID only on directories; symlinks
	// have no mode.
	file := walk(t, root, "file")
	require.NoError(t, file.(Mutable).Chmod(0o600))
	assert.Equal(t, os.FileMode(0o600), lstat2(t, p("file")).Mode())
	require.NoError(t, file.(Mutable).Chmod(0o6755))
	assert.Equal(t, os.FileMode(0o755), lstat2(t, p("file")).Mode())
	require.NoError(t, dir.(Mutable).Chmod(0o2750))
	assert.Equal(t, os.ModeDir|os.ModeSetgid|0o750, lstat2(t, p("dir")).Mode())
	assert.Equal(t, unix.EOPNOTSUPP, walk(t, root, "rel").(Mutable).Chmod(0o777))
	assert.Equal(t, secretMode, lstat2(t, tr.secret).Mode())

	// Truncate.
	require.NoError(t, file.(Mutable).Truncate(2))
	b, _ = os.ReadFile(p("file"))
	assert.Equal(t, "he", string(b))
	require.NoError(t, file.(Mutable).Truncate(10))
	assert.Equal(t, int64(10), lstat2(t, p("file")).Size())
	assert.Equal(t, unix.EISDIR, dir.(Mutable).Truncate(0))
	assert.Equal(t, unix.EINVAL, file.(Mutable).Truncate(-1))
	assert.Equal(t, unix.EINVAL, walk(t, root, "rel").(Mutable).Truncate(0))
	assert.Equal(t, int64(len(secretText)), lstat2(t, tr.secret).Size())

	// Utimens, of a symlink itself too.
	at := unix.Timespec{Sec: 1_000_000, Nsec: 5}
	mt := unix.Timespec{Sec: 2_000_000, Nsec: 7}
	require.NoError(t, file.(Mutable).Utimens(at, mt))
	hs := lstat(t, p("file"))
	assert.Equal(t, at, hs.Atim)
	assert.Equal(t, mt, hs.Mtim)
	secretBefore := lstat(t, tr.secret)
	require.NoError(t, walk(t, root, "rel").(Mutable).Utimens(at, mt))
	assert.Equal(t, mt, lstat(t, p("rel")).Mtim)
	assert.Equal(t, secretBefore.Mtim, lstat(t, tr.secret).Mtim)
	require.NoError(t, file.(Mutable).Utimens(unix.Timespec{Nsec: unix.UTIME_OMIT}, unix.Timespec{Nsec: unix.UTIME_NOW}))
	hs = lstat(t, p("file"))
	assert.Equal(t, at, hs.Atim)
	assert.Greater(t, hs.Mtim.Sec, mt.Sec)

	// Through an open file.
	impl, err = file.Open(unix.O_RDWR)
	require.NoError(t, err)
	ops := impl.(FileOps)
	require.NoError(t, ops.Truncate(1))
	require.NoError(t, ops.Chmod(0o4640))
	require.NoError(t, ops.Utimens(at, mt))
	require.NoError(t, ops.Sync(true))
	impl.Release()
	assert.Equal(t, int64(1), lstat2(t, p("file")).Size())
	assert.Equal(t, os.FileMode(0o640), lstat2(t, p("file")).Mode())
	assert.Equal(t, mt, lstat(t, p("file")).Mtim)
}

// TestRenameKeepsNodes: nodes of a renamed directory keep working after
// their fds were evicted.
func TestRenameKeepsNodes(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, false)
	root := f.Root()
	dir := walk(t, root, "dir")
	nested := walk(t, dir, "sub/nested")
	require.NoError(t, root.(Mutable).Rename("dir", walk(t, root, "etc"), "moved", 0))
	require.NoError(t, os.Mkdir(filepath.Join(tr.root, "dir"), 0o755)) // a decoy at the old name
	f.mu.Lock()
	f.maxFDs = 0
	f.evictLocked()
	f.maxFDs = DefaultMaxFDs
	f.mu.Unlock()
	assert.Zero(t, f.openFDs())
	st, err := nested.Stat()
	require.NoError(t, err)
	assert.Equal(t, lstat(t, filepath.Join(tr.root, "etc/moved/sub/nested")).Ino, st.Ino)
	assert.Equal(t, "inner", readFile(t, walk(t, dir, "inner")))
}

// TestFDBound opens 3000 nodes and checks that the host fds stay bounded,
// and that evicted nodes are reopened.
func TestFDBound(t *testing.T) {
	tr := newTree(t)
	many := filepath.Join(tr.root, "many")
	require.NoError(t, os.Mkdir(many, 0o755))
	const count = 3000
	for i := range count {
		require.NoError(t, os.WriteFile(filepath.Join(many, fmt.Sprint(i)), []byte(fmt.Sprint(i)), 0o644))
	}
	f := tr.fs(t, true)
	before := countFDs(t)
	dir := walk(t, f.Root(), "many")
	nodes := make([]rfs.Node, count)
	inos := make([]uint64, count)
	for i := range count {
		n, err := dir.Lookup(fmt.Sprint(i))
		require.NoError(t, err)
		st, err := n.Stat()
		require.NoError(t, err)
		nodes[i], inos[i] = n, st.Ino
	}
	assert.LessOrEqual(t, f.openFDs(), DefaultMaxFDs)
	assert.LessOrEqual(t, countFDs(t), before+DefaultMaxFDs+16)
	for i, n := range nodes {
		st, err := n.Stat()
		require.NoError(t, err)
		require.Equal(t, inos[i], st.Ino)
		if i%100 == 0 {
			require.Equal(t, fmt.Sprint(i), readFile(t, n))
		}
	}
	assert.LessOrEqual(t, countFDs(t), before+DefaultMaxFDs+16)
	f.Close()
	assert.LessOrEqual(t, countFDs(t), before+4, "Close releases them")
}

// TestDeepTree reopens a node 400 directories deep whose ancestors were
// all evicted.
func TestDeepTree(t *testing.T) {
	tr := newTree(t)
	p := tr.root
	for range 400 {
		p = filepath.Join(p, "d")
	}
	require.NoError(t, os.MkdirAll(p, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p, "leaf"), []byte("leaf"), 0o644))
	f := tr.fs(t, true)
	f.maxFDs = 4
	n := f.Root()
	for range 400 {
		var err error
		n, err = n.Lookup("d")
		require.NoError(t, err)
	}
	leaf, err := n.Lookup("leaf")
	require.NoError(t, err)
	f.mu.Lock()
	f.maxFDs = 0
	f.evictLocked()
	f.maxFDs = 4
	f.mu.Unlock()
	assert.Equal(t, "leaf", readFile(t, leaf))
	assert.LessOrEqual(t, f.openFDs(), 4)
}

// TestConcurrent looks up, stats and reads from many goroutines with a
// small fd cache (run with -race).
func TestConcurrent(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	f.maxFDs = 3
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				p := []string{"dir/sub/nested", "dir/inner", "file", "etc/passwd"}[(g+i)%4]
				n := f.Root()
				for _, name := range strings.Split(p, "/") {
					var err error
					n, err = n.Lookup(name)
					if !assert.NoError(t, err) {
						return
					}
				}
				if _, err := n.Stat(); !assert.NoError(t, err) {
					return
				}
				impl, err := n.Open(unix.O_RDONLY)
				if !assert.NoError(t, err) {
					return
				}
				impl.Release()
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, f.openFDs(), 3)
}

// TestChown: the owner the sandbox gives a host file is shown in its
// place (the host file keeps its own), symlinks included, -1 keeps an
// ID, the host's owner again is no entry; removing or replacing the
// file forgets it; a read-only tree is EROFS.
func TestChown(t *testing.T) {
	dir := t.TempDir()
	f, err := New(dir, false)
	require.NoError(t, err)
	defer f.Close()
	root := f.Root().(rfs.Mutable)
	for _, name := range []string{"a", "b"} {
		_, impl, err := root.Create(name, unix.O_RDWR, 0o644)
		require.NoError(t, err)
		impl.Release()
	}
	require.NoError(t, root.Symlink("a", "l"))
	assert.True(t, f.Root().(rfs.OwnerOfNew).CreatesAs(uint32(os.Geteuid()), uint32(os.Getegid())))
	owner := func(name string) [2]uint32 {
		n, err := f.Root().Lookup(name)
		require.NoError(t, err)
		st, err := n.Stat()
		require.NoError(t, err)
		return [2]uint32{st.Uid, st.Gid}
	}
	var host unix.Stat_t
	require.NoError(t, unix.Lstat(filepath.Join(dir, "a"), &host))
	for _, name := range []string{"a", "l"} {
		n, err := f.Root().Lookup(name)
		require.NoError(t, err)
		require.NoError(t, n.(rfs.Chowner).Chown(1234, 5678))
		assert.Equal(t, [2]uint32{1234, 5678}, owner(name), name)
		require.NoError(t, n.(rfs.Chowner).Chown(^uint32(0), 9), "-1 keeps the user")
		assert.Equal(t, [2]uint32{1234, 9}, owner(name), name)
		var st unix.Stat_t
		require.NoError(t, unix.Lstat(filepath.Join(dir, name), &st))
		assert.Equal(t, [2]uint32{host.Uid, host.Gid}, [2]uint32{st.Uid, st.Gid}, "the host file keeps its owner")
	}
	assert.Equal(t, int64(2), f.own.n.Load())
	require.NoError(t, root.Rename("b", f.Root(), "a", 0), "a replaced")
	assert.Equal(t, [2]uint32{host.Uid, host.Gid}, owner("a"))
	l, err := f.Root().Lookup("l")
	require.NoError(t, err)
	require.NoError(t, l.(rfs.Chowner).Chown(host.Uid, host.Gid))
	assert.Equal(t, int64(0), f.own.n.Load(), "the host's owner again: no entry")
	n, err := f.Root().Lookup("a")
	require.NoError(t, err)
	require.NoError(t, n.(rfs.Chowner).Chown(7, 7))
	require.NoError(t, root.Unlink("a"))
	assert.Equal(t, int64(0), f.own.n.Load(), "removed: forgotten")

	// A socket node's mode changes (on the host with fchmodat2, else in
	// the tree's own view).
	require.NoError(t, f.Root().(rfs.NodeMaker).MakeNode("s", unix.S_IFSOCK|0o755))
	s, err := f.Root().Lookup("s")
	require.NoError(t, err)
	require.NoError(t, s.(rfs.Mutable).Chmod(0o700))
	st, err := s.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFSOCK|0o700), st.Mode)

	ro, err := New(dir, true)
	require.NoError(t, err)
	defer ro.Close()
	n, err = ro.Root().Lookup("l")
	require.NoError(t, err)
	assert.Equal(t, unix.EROFS, n.(rfs.Chowner).Chown(1, 1))
}
