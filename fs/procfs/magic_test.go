package procfs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// TestMagicFDLinks: fd/<n> of a pipe or socket opens the process's own
// open file (a reference taken); one naming a path, or a link other than
// fd/<n>, is followed as a path.
func TestMagicFDLinks(t *testing.T) {
	src := newFake()
	root := New(src).Root()
	pipe := fs.NewFile(fs.PathImpl{}, unix.O_WRONLY)
	p := src.procs[10]
	p.mu.Lock()
	p.files = map[int]*fs.File{1: pipe}
	p.mu.Unlock()

	n := walk(t, root, "10/fd/1")
	ml, ok := n.(fs.MagicLink)
	require.True(t, ok)
	f, ok := ml.OpenFile()
	require.True(t, ok, "a pipe's fd link opens the file")
	require.Same(t, pipe, f)
	f.DecRef()

	// fd 0 names /dev/null: a path, followed as usual.
	_, ok = walk(t, root, "10/fd/0").(fs.MagicLink).OpenFile()
	require.False(t, ok)
	// fd 2 is a socket the process no longer has a file for.
	_, ok = walk(t, root, "10/fd/2").(fs.MagicLink).OpenFile()
	require.False(t, ok)
	// Not an fd link.
	_, ok = walk(t, root, "10/exe").(fs.MagicLink).OpenFile()
	require.False(t, ok)
}

// TestMagicMarks: fd/<n>, exe, cwd and root are Linux's magic links
// (openat2's RESOLVE_NO_MAGICLINKS refuses them); self, thread-self and
// mounts are plain symlinks, and files are not links at all.
func TestMagicMarks(t *testing.T) {
	root := New(newFake()).ForTask(10, 11).Root()
	for path, want := range map[string]bool{
		"10/fd/0": true, "10/fd/1": true, "10/exe": true, "10/cwd": true, "10/root": true,
		"self": false, "thread-self": false, "mounts": false, "10/status": false, "10/ns/net": true,
	} {
		require.Equal(t, want, walk(t, root, path).(fs.MagicLink).Magic(), path)
	}
}

// TestNamespaceLinks: /proc/PID/ns's links read as Linux's do.
func TestNamespaceLinks(t *testing.T) {
	root := New(newFake()).ForTask(10, 11).Root()
	for name, want := range map[string]string{"pid": "pid:[4026531836]", "pid_for_children": "pid:[4026531836]",
		"user": "user:[4026531837]", "uts": "uts:[4026531838]", "net": "net:[4026531992]"} {
		n := walk(t, root, "10/ns/"+name)
		got, err := n.Readlink()
		require.NoError(t, err)
		require.Equal(t, want, got, name)
		// Followed (stat -L, open): the namespace's nsfs inode.
		f, ok := n.(fs.MagicLink).OpenFile()
		require.True(t, ok, name)
		st, err := f.Stat()
		require.NoError(t, err)
		require.Equal(t, want, fmt.Sprintf("%s:[%d]", strings.TrimSuffix(name, "_for_children"), st.Ino))
		require.Equal(t, uint32(unix.S_IFREG|0o444), st.Mode)
		require.Equal(t, unix.Mkdev(0, 4), st.Dev)
		_, err = f.Read(make([]byte, 8))
		require.Equal(t, unix.EINVAL, err)
		f.DecRef()
	}
}
