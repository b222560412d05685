package overlay

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// TestConcurrent runs copy-ups, reads of files being copied up,
// creations, removals, renames and listings in the same merged
// directories at once (run with -race).
func TestConcurrent(t *testing.T) {
	var entries []string
	for i := range 16 {
		entries = append(entries, fmt.Sprintf("d/f%d=%s", i, strings.Repeat(fmt.Sprint(i%10), 10000)))
	}
	o := newOverlay(t, append(entries, "d/sub/x=1", "e/")...)
	d := lookup(t, o.root, "d")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	report := func(err error) {
		if err != nil {
			select {
			case errs <- err:
			default:
			}
		}
	}
	// Readers of lower files that get copied up meanwhile: they always
	// read one of the two versions, whole.
	for i := range 16 {
		wg.Go(func() {
			n, err := d.Lookup(fmt.Sprintf("f%d", i))
			if err != nil {
				report(err)
				return
			}
			impl, err := n.Open(unix.O_RDONLY)
			if err != nil {
				report(err)
				return
			}
			defer impl.Release()
			buf := make([]byte, 10000)
			for range 50 {
				k, err := impl.Pread(buf, 0)
				if err != nil {
					report(err)
					return
				}
				s := string(buf[:k])
				if s != strings.Repeat(fmt.Sprint(i%10), 10000) && s != strings.Repeat("X", 10000) {
					report(fmt.Errorf("f%d: torn read %q...", i, s[:20]))
					return
				}
			}
		})
	}
	// Writers: copy up and overwrite whole.
	for i := range 16 {
		wg.Go(func() {
			n, err := d.Lookup(fmt.Sprintf("f%d", i))
			if err != nil {
				report(err)
				return
			}
			impl, err := n.Open(unix.O_WRONLY)
			if err != nil {
				report(err)
				return
			}
			defer impl.Release()
			_, err = impl.Pwrite([]byte(strings.Repeat("X", 10000)), 0)
			report(err)
		})
	}
	// Creators, removers, renamers, listers.
	for w := range 4 {
		wg.Go(func() {
			m := d.(rfs.Mutable)
			for i := range 50 {
				name := fmt.Sprintf("new%d-%d", w, i)
				_, impl, err := m.Create(name, unix.O_WRONLY|unix.O_EXCL, 0o644)
				if err != nil {
					report(err)
					return
				}
				impl.Release()
				if i%2 == 0 {
					report(m.Unlink(name))
				} else {
					e, _ := o.root.Lookup("e")
					report(m.Rename(name, e, name, 0))
				}
			}
		})
		wg.Go(func() {
			for range 30 {
				impl, err := d.Open(unix.O_RDONLY)
				if err != nil {
					report(err)
					return
				}
				seen := map[string]bool{}
				for off := 0; ; {
					ents, err := impl.(rfs.DirReader).ReadDir(off, 7)
					if err != nil {
						report(err)
						break
					}
					if len(ents) == 0 {
						break
					}
					for _, e := range ents {
						if seen[e.Name] {
							report(fmt.Errorf("%s listed twice", e.Name))
						}
						seen[e.Name] = true
					}
					off += len(ents)
				}
				impl.Release()
				runtime.Gosched()
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			runtime.GC()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 16 {
		assert.Equal(t, strings.Repeat("X", 10000), content(t, d, fmt.Sprintf("f%d", i)))
	}
	assert.Len(t, names(t, o.root, "e"), 100)
	assert.Len(t, names(t, o.root, "d"), 17)
	checkInos(t, o.root, "")
}

// TestSeekAcrossCopyUp: the offset of a read-only file carries over to
// the upper copy; seeking and polling work on both layers.
func TestSeekAcrossCopyUp(t *testing.T) {
	o := newOverlay(t, "f=0123456789")
	n := lookup(t, o.root, "f")
	ro, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer ro.Release()
	pos, err := ro.Seek(-3, unix.SEEK_END)
	require.NoError(t, err)
	assert.Equal(t, int64(7), pos)
	ev, err := ro.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN), ev)
	assert.False(t, ro.IsTerminal())
	writeFile(t, o.root, "f", unix.O_WRONLY|unix.O_APPEND, "abc")
	pos, err = ro.Seek(0, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(7), pos)
	pos, err = ro.Seek(0, unix.SEEK_END)
	require.NoError(t, err)
	assert.Equal(t, int64(13), pos, "the upper copy's size")
	assert.NoError(t, ro.(rfs.FileOps).Sync(true))

	// Directories keep a position for getdents.
	dir, err := o.root.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	pos, err = dir.Seek(5, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, int64(5), pos)
	pos, err = dir.Seek(2, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(7), pos)
	_, err = dir.Seek(0, unix.SEEK_END)
	assert.Equal(t, unix.EINVAL, err)
	_, err = dir.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err)
	ev, err = dir.Poll(unix.POLLIN|unix.POLLOUT, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN|unix.POLLOUT), ev)
	dir.Release()
	_, err = dir.(rfs.DirReader).ReadDir(0, 1)
	assert.Equal(t, unix.EBADF, err)
}

// TestInodeNumbers: lower devices get their own layer numbers; numbers
// that do not fit get stable synthetic ones.
func TestInodeNumbers(t *testing.T) {
	o := newOverlay(t)
	f := o.ov
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.lowerInoLocked(100, 42)
	b := f.lowerInoLocked(200, 42)
	assert.NotEqual(t, a, b, "same number on two lower devices")
	assert.Equal(t, a, f.lowerInoLocked(100, 42))
	assert.Equal(t, uint64(42), a&inoMask)
	big := f.lowerInoLocked(100, 1<<60)
	assert.Equal(t, uint64(synthLayer), big>>layerShift)
	assert.Equal(t, big, f.lowerInoLocked(100, 1<<60))
	assert.NotEqual(t, big, f.lowerInoLocked(200, 1<<60))
	assert.NotEqual(t, big, f.upperInoLocked(1<<60))
	assert.Equal(t, uint64(7), f.upperInoLocked(7))
	assert.Equal(t, f.upperInoLocked(1<<60), f.upperInoLocked(1<<60))
}
