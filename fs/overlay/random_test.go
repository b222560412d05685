package overlay

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

var (
	randomSeeds = flag.Int("overlay.seeds", 12, "seeds of TestRandomOps")
	randomOps   = flag.Int("overlay.ops", 300, "operations per seed of TestRandomOps")
)

// TestRandomOps applies random operations both to the overlay and, with
// the host's system calls, to a copy of the lower tree on the host, and
// compares the two trees (names, types, modes, sizes, contents, link
// targets; listing inode numbers against Stat's) and the errors after
// each one. The lower tree must not change (checked at the end).
// Renames (renameat2 with no flag, RENAME_NOREPLACE or RENAME_EXCHANGE)
// of a directory that exists in the lower layer are EXDEV in the overlay
// (documented), and then not done on the host copy.
func TestRandomOps(t *testing.T) {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for seed := 1; seed <= *randomSeeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runRandom(t, uint64(seed), *randomOps)
		})
	}
}

// pool is the names paths are made of: few, so that operations collide.
var pool = []string{"a", "b", "c", "d"}

type randomEnv struct {
	t     *testing.T
	rng   *rand.Rand
	o     *testOverlay
	real  string // the host copy
	log   []string
	exdev int
}

func runRandom(t *testing.T, seed uint64, ops int) {
	rng := rand.New(rand.NewPCG(seed, 0x6f7665726c6179))
	lower := t.TempDir()
	randomTree(rng, lower)
	real := t.TempDir()
	copyTree(t, lower, real)
	e := &randomEnv{t: t, rng: rng, o: overlayOn(t, lower), real: real}
	e.compare()
	for i := 0; i < ops; i++ {
		e.step()
		e.compare()
		if i%64 == 63 {
			runtime.GC() // nodes are a cache: collected ones come back
		}
	}
	t.Logf("seed %d: %d operations, %d EXDEV renames", seed, ops, e.exdev)
}

// randomTree fills dir with a few files, directories and dangling
// symlinks (never followed while making the tree).
func randomTree(rng *rand.Rand, dir string) {
	for range 24 {
		parts := strings.Split(randomPath(rng), "/")
		ok := true
		for i := range parts[:len(parts)-1] {
			ok = ok && mkdirNoFollow(filepath.Join(dir, filepath.Join(parts[:i+1]...)))
		}
		if !ok {
			continue
		}
		p := filepath.Join(dir, filepath.Join(parts...))
		switch rng.IntN(5) {
		case 0, 1:
			os.Mkdir(p, 0o755)
		case 2, 3:
			if _, err := os.Lstat(p); err != nil {
				os.WriteFile(p, randomData(rng), []os.FileMode{0o644, 0o600, 0o755}[rng.IntN(3)])
			}
		case 4:
			os.Symlink(fmt.Sprintf("zz-dangling-%d", rng.IntN(100)), p)
		}
	}
}

// mkdirNoFollow makes directory p (its parent exists) unless it is one,
// and reports whether p is a directory.
func mkdirNoFollow(p string) bool {
	fi, err := os.Lstat(p)
	if err == nil {
		return fi.IsDir()
	}
	return os.Mkdir(p, 0o755) == nil
}

func randomPath(rng *rand.Rand) string {
	k := 1 + rng.IntN(3)
	parts := make([]string, k)
	for i := range parts {
		parts[i] = pool[rng.IntN(len(pool))]
	}
	return strings.Join(parts, "/")
}

// randomData is data of a few sizes, sometimes with runs of zeros.
func randomData(rng *rand.Rand) []byte {
	sizes := []int{0, 1, 100, 4096, 5000, 9000, 70000}
	b := make([]byte, sizes[rng.IntN(len(sizes))])
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	if len(b) > 8192 && rng.IntN(2) == 0 {
		clear(b[4096:8192])
	}
	return b
}

// copyTree copies a host tree with its modes and times.
func copyTree(t *testing.T, from, to string) {
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case fi.IsDir():
			if rel != "." {
				if err := os.Mkdir(dst, 0o700); err != nil {
					return err
				}
			}
			return os.Chmod(dst, fi.Mode().Perm())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, fi.Mode().Perm())
		}
	})
	require.NoError(t, err)
}

// pick returns a path: mostly one that exists on the host copy.
func (e *randomEnv) pick() string {
	if e.rng.IntN(10) < 7 {
		var all []string
		filepath.Walk(e.real, func(p string, fi os.FileInfo, err error) error {
			if err == nil && p != e.real {
				rel, _ := filepath.Rel(e.real, p)
				all = append(all, rel)
			}
			return nil
		})
		if len(all) > 0 {
			sort.Strings(all)
			return all[e.rng.IntN(len(all))]
		}
	}
	return randomPath(e.rng)
}

// parent resolves all but the last component of p in the overlay, as the
// host does for these trees: an intermediate symlink dangles (ENOENT).
func (e *randomEnv) parent(p string) (rfs.Node, string, error) {
	parts := splitPath(p)
	n := e.o.root
	for _, name := range parts[:len(parts)-1] {
		c, err := n.Lookup(name)
		if err != nil {
			return nil, "", err
		}
		st, err := c.Stat()
		if err != nil {
			return nil, "", err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			return nil, "", unix.ENOENT
		case unix.S_IFDIR:
		default:
			return nil, "", unix.ENOTDIR
		}
		n = c
	}
	return n, parts[len(parts)-1], nil
}

// node resolves p in the overlay (the last component not followed).
func (e *randomEnv) node(p string) (rfs.Node, error) {
	dir, name, err := e.parent(p)
	if err != nil {
		return nil, err
	}
	return dir.Lookup(name)
}

func (e *randomEnv) isSymlink(p string) bool {
	n, err := e.node(p)
	if err != nil {
		return false
	}
	st, err := n.Stat()
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

func (e *randomEnv) hostPath(p string) string { return filepath.Join(e.real, p) }

func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	var en unix.Errno
	if ok := asErrno(err, &en); ok {
		return en
	}
	return err
}

func asErrno(err error, en *unix.Errno) bool {
	switch v := err.(type) {
	case unix.Errno:
		*en = v
		return true
	case *os.PathError:
		return asErrno(v.Err, en)
	case *os.LinkError:
		return asErrno(v.Err, en)
	case *os.SyscallError:
		return asErrno(v.Err, en)
	}
	return false
}

// step does one random operation on both trees and compares the errors.
func (e *randomEnv) step() {
	t, rng := e.t, e.rng
	var (
		desc         string
		ovErr, hoErr error
	)
	mut := func(n rfs.Node) rfs.Mutable { return n.(rfs.Mutable) }
	switch op := rng.IntN(12); op {
	case 0: // create
		p, data, mode := e.pick(), randomData(rng), []uint32{0o644, 0o600, 0o755}[rng.IntN(3)]
		desc = fmt.Sprintf("create %s (%d bytes, %o)", p, len(data), mode)
		dir, name, err := e.parent(p)
		if err == nil {
			var impl rfs.Impl
			if _, impl, err = mut(dir).Create(name, unix.O_WRONLY|unix.O_EXCL, mode); err == nil {
				_, err = impl.Write(data)
				impl.Release()
			}
		}
		ovErr = err
		fd, err := unix.Open(e.hostPath(p), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, mode)
		if err == nil {
			_, err = unix.Write(fd, data)
			unix.Close(fd)
		}
		hoErr = err
	case 1, 2: // write
		p := e.pick()
		if e.isSymlink(p) {
			return // the VFS follows links before opening
		}
		data, off := randomData(rng), int64(rng.IntN(12000))
		flags := unix.O_WRONLY
		switch rng.IntN(4) {
		case 0:
			flags |= unix.O_TRUNC
		case 1:
			flags |= unix.O_APPEND
		case 2:
			flags = unix.O_RDWR
		}
		desc = fmt.Sprintf("write %s flags %#x at %d (%d bytes)", p, flags, off, len(data))
		n, err := e.node(p)
		if err == nil {
			var impl rfs.Impl
			if impl, err = n.Open(flags); err == nil {
				if flags&unix.O_APPEND != 0 {
					_, err = impl.Write(data)
				} else {
					_, err = impl.Pwrite(data, off)
				}
				impl.Release()
			}
		}
		ovErr = err
		fd, err := unix.Open(e.hostPath(p), flags|unix.O_CLOEXEC, 0)
		if err == nil {
			if flags&unix.O_APPEND != 0 {
				_, err = unix.Write(fd, data)
			} else {
				_, err = unix.Pwrite(fd, data, off)
			}
			unix.Close(fd)
		}
		hoErr = err
	case 3: // truncate
		p, size := e.pick(), int64([]int{0, 1, 4095, 5000, 20000}[rng.IntN(5)])
		if e.isSymlink(p) {
			return
		}
		desc = fmt.Sprintf("truncate %s %d", p, size)
		n, err := e.node(p)
		if err == nil {
			err = mut(n).Truncate(size)
		}
		ovErr, hoErr = err, unix.Truncate(e.hostPath(p), size)
	case 4: // unlink
		p := e.pick()
		desc = "unlink " + p
		dir, name, err := e.parent(p)
		if err == nil {
			err = mut(dir).Unlink(name)
		}
		ovErr, hoErr = err, unix.Unlink(e.hostPath(p))
	case 5: // rmdir
		p := e.pick()
		desc = "rmdir " + p
		dir, name, err := e.parent(p)
		if err == nil {
			err = mut(dir).Rmdir(name)
		}
		ovErr, hoErr = err, unix.Rmdir(e.hostPath(p))
	case 6: // mkdir
		p, mode := e.pick(), []uint32{0o755, 0o700, 0o750}[rng.IntN(3)]
		desc = fmt.Sprintf("mkdir %s %o", p, mode)
		dir, name, err := e.parent(p)
		if err == nil {
			err = mut(dir).Mkdir(name, mode)
		}
		ovErr, hoErr = err, unix.Mkdir(e.hostPath(p), mode)
	case 7: // symlink
		p, target := e.pick(), fmt.Sprintf("zz-dangling-%d", rng.IntN(100))
		desc = fmt.Sprintf("symlink %s -> %s", p, target)
		dir, name, err := e.parent(p)
		if err == nil {
			err = mut(dir).Symlink(target, name)
		}
		ovErr, hoErr = err, unix.Symlink(target, e.hostPath(p))
	case 8: // link
		from, to := e.pick(), e.pick()
		desc = fmt.Sprintf("link %s %s", from, to)
		old, err := e.node(from)
		if err == nil {
			var dir rfs.Node
			var name string
			if dir, name, err = e.parent(to); err == nil {
				err = mut(dir).Link(old, name)
			}
		}
		ovErr, hoErr = err, unix.Linkat(unix.AT_FDCWD, e.hostPath(from), unix.AT_FDCWD, e.hostPath(to), 0)
	case 9, 10: // rename
		from, to := e.pick(), e.pick()
		if rng.IntN(3) == 0 {
			to = filepath.Join(filepath.Dir(from), pool[rng.IntN(len(pool))])
		}
		flags := []uint{0, 0, unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE}[rng.IntN(4)]
		desc = fmt.Sprintf("rename %s %s (flags %#x)", from, to, flags)
		odir, oname, err := e.parent(from)
		var src, dst rfs.Node
		if err == nil {
			src, _ = odir.Lookup(oname)
			var ndir rfs.Node
			var nname string
			if ndir, nname, err = e.parent(to); err == nil {
				dst, _ = ndir.Lookup(nname)
				err = mut(odir).Rename(oname, ndir, nname, flags)
			}
		}
		ovErr = err
		if err == unix.EXDEV {
			// Only for a directory that exists in the lower layer (either
			// one of an exchange).
			lowerDir := func(n rfs.Node) bool {
				s, ok := n.(*node)
				if !ok {
					return false
				}
				e.o.ov.mu.Lock()
				defer e.o.ov.mu.Unlock()
				return s.isDir() && s.lower != nil
			}
			require.True(t, lowerDir(src) || flags&unix.RENAME_EXCHANGE != 0 && lowerDir(dst),
				"%s: EXDEV for a file or upper directory", desc)
			e.exdev++
			e.log = append(e.log, desc+": EXDEV")
			return
		}
		hoErr = unix.Renameat2(unix.AT_FDCWD, e.hostPath(from), unix.AT_FDCWD, e.hostPath(to), flags)
	case 11: // chmod, utimens
		p := e.pick()
		n, err := e.node(p)
		if rng.IntN(2) == 0 {
			if e.isSymlink(p) {
				return
			}
			mode := []uint32{0o755, 0o700, 0o644, 0o600, 0o1777}[rng.IntN(5)] // no set-ID bits: Linux drops them on writes, tmpfs does not
			desc = fmt.Sprintf("chmod %s %o", p, mode)
			if err == nil {
				err = mut(n).Chmod(mode)
			}
			ovErr, hoErr = err, unix.Chmod(e.hostPath(p), mode)
			break
		}
		times := []unix.Timespec{{Sec: int64(rng.IntN(1e9)), Nsec: int64(rng.IntN(1e9))}, {Sec: int64(rng.IntN(1e9))}}
		desc = fmt.Sprintf("utimens %s %v", p, times)
		if err == nil {
			err = mut(n).Utimens(times[0], times[1])
		}
		ovErr = err
		hoErr = unix.UtimesNanoAt(unix.AT_FDCWD, e.hostPath(p), times, unix.AT_SYMLINK_NOFOLLOW)
		if ovErr == nil && hoErr == nil {
			var host unix.Stat_t
			require.NoError(t, unix.Lstat(e.hostPath(p), &host))
			st, err := n.Stat()
			require.NoError(t, err)
			require.Equal(t, host.Mtim, st.Mtim, "%s: mtime", desc)
			require.Equal(t, host.Atim, st.Atim, "%s: atime", desc)
		}
	}
	ovErr, hoErr = errnoOf(ovErr), errnoOf(hoErr)
	e.log = append(e.log, fmt.Sprintf("%s: %v", desc, ovErr))
	if ovErr != hoErr {
		t.Fatalf("%s: overlay %v, host %v\nlog:\n%s", desc, ovErr, hoErr, strings.Join(e.log, "\n"))
	}
}

// compare checks that the overlay shows the host copy.
func (e *randomEnv) compare() {
	e.compareDir("", e.o.root)
}

func (e *randomEnv) compareDir(path string, dir rfs.Node) {
	t := e.t
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nlog:\n%s", fmt.Sprintf(format, args...), strings.Join(e.log, "\n"))
	}
	hostEnts, err := os.ReadDir(e.hostPath(path))
	require.NoError(t, err)
	var want []string
	for _, he := range hostEnts {
		want = append(want, he.Name())
	}
	ents := readDir(t, dir)
	got := map[string]rfs.DirEntry{}
	var gotNames []string
	for _, de := range ents {
		if _, dup := got[de.Name]; dup {
			fail("%s: %q listed twice", path, de.Name)
		}
		got[de.Name] = de
		gotNames = append(gotNames, de.Name)
	}
	sort.Strings(gotNames)
	if fmt.Sprint(want) != fmt.Sprint(gotNames) {
		fail("/%s: listing %v, host %v", path, gotNames, want)
	}
	for _, name := range want {
		p := filepath.Join(path, name)
		var host unix.Stat_t
		require.NoError(t, unix.Lstat(e.hostPath(p), &host))
		c, err := dir.Lookup(name)
		if err != nil {
			fail("/%s: lookup: %v", p, err)
		}
		st, err := c.Stat()
		require.NoError(t, err)
		de := got[name]
		switch {
		case st.Mode&unix.S_IFMT != host.Mode&unix.S_IFMT:
			fail("/%s: type %o, host %o", p, st.Mode, host.Mode)
		case st.Mode&unix.S_IFMT != unix.S_IFLNK && st.Mode != host.Mode:
			fail("/%s: mode %o, host %o", p, st.Mode, host.Mode)
		case de.Ino != st.Ino:
			fail("/%s: listed inode %d, stat %d", p, de.Ino, st.Ino)
		case de.Type != uint8(st.Mode>>12):
			fail("/%s: listed type %d, mode %o", p, de.Type, st.Mode)
		case st.Dev != e.o.ov.dev:
			fail("/%s: dev %d", p, st.Dev)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			e.compareDir(p, c)
		case unix.S_IFLNK:
			target, err := c.Readlink()
			require.NoError(t, err)
			want, err := os.Readlink(e.hostPath(p))
			require.NoError(t, err)
			if target != want {
				fail("/%s: target %q, host %q", p, target, want)
			}
		case unix.S_IFREG:
			if st.Size != host.Size || uint64(st.Nlink) != uint64(host.Nlink) {
				fail("/%s: size %d nlink %d, host %d %d", p, st.Size, st.Nlink, host.Size, host.Nlink)
			}
			b, err := os.ReadFile(e.hostPath(p))
			require.NoError(t, err)
			impl, err := c.Open(unix.O_RDONLY)
			require.NoError(t, err)
			data := readAll(t, impl)
			impl.Release()
			if !bytes.Equal(b, []byte(data)) {
				fail("/%s: contents differ", p)
			}
		}
	}
}
