package tmpfs

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// TestConcurrent runs writers, readers, renamers and listers at once (run
// with -race), then checks the accounting.
func TestConcurrent(t *testing.T) {
	f, root := setup(t, 64<<20)
	require.NoError(t, root.Mkdir("shared", 0o755))
	shared := lookup(t, f.Root(), "shared")
	sm := mut(t, shared)
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirName := fmt.Sprintf("w%d", w)
			if err := root.Mkdir(dirName, 0o755); err != nil {
				fail(err)
				return
			}
			dn, err := f.Root().Lookup(dirName)
			if err != nil {
				fail(err)
				return
			}
			dm := dn.(rfs.Mutable)
			data := bytes.Repeat([]byte{byte('a' + w)}, 5000)
			for i := range rounds {
				name := fmt.Sprintf("f%d", i)
				n, h, err := dm.Create(name, unix.O_RDWR, 0o644)
				if err != nil {
					fail(err)
					return
				}
				if _, err := h.Pwrite(data, int64(i)*4096); err != nil {
					fail(err)
				}
				buf := make([]byte, len(data))
				if k, err := h.Pread(buf, int64(i)*4096); err != nil || k != len(data) || !bytes.Equal(buf, data) {
					fail(fmt.Errorf("read back %d %v", k, err))
				}
				h.Release()
				// Into the shared directory and out again; some stay.
				if err := dm.Rename(name, shared, fmt.Sprintf("%s-%s", dirName, name), 0); err != nil {
					fail(err)
				}
				if i%2 == 0 {
					if err := sm.Unlink(fmt.Sprintf("%s-%s", dirName, name)); err != nil {
						fail(err)
					}
				}
				if st, err := n.Stat(); err != nil || st.Size != int64(i)*4096+5000 {
					fail(fmt.Errorf("stat %v %v", st.Size, err))
				}
			}
		}()
		// A lister of the shared directory and a reader of its files.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				h, err := shared.Open(unix.O_RDONLY)
				if err != nil {
					fail(err)
					return
				}
				dr := h.(rfs.DirReader)
				for off := 0; ; {
					ents, err := dr.ReadDir(off, 7)
					if err != nil {
						fail(err)
						break
					}
					if len(ents) == 0 {
						break
					}
					for _, e := range ents {
						n, err := shared.Lookup(e.Name)
						if err != nil {
							continue // removed meanwhile
						}
						if fh, err := n.Open(unix.O_RDONLY); err == nil {
							buf := make([]byte, 100)
							fh.Read(buf)
							fh.Seek(0, unix.SEEK_DATA)
							fh.Release()
						}
					}
					off += len(ents)
				}
				h.Release()
			}
		}()
	}
	// Chmod and utimens of the shared directory meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range rounds * 4 {
			if err := sm.Chmod(uint32(0o700 + i%8)); err != nil {
				fail(err)
			}
			if err := sm.Utimens(ts(int64(i)), ts(int64(i))); err != nil {
				fail(err)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, names(t, shared), workers*rounds/2)

	// The pages in use are the pages of the files left.
	var pages int64
	for _, name := range names(t, shared) {
		pages += stat(t, lookup(t, shared, name)).Blocks / 8
	}
	b, nodes := f.Usage()
	assert.Equal(t, pages*PageSize, b)
	assert.Equal(t, int64(1+1+workers+workers*rounds/2), nodes)
	removeAll(t, f.Root())
	assert.Equal(t, [2]int64{0, 1}, usage(f))
}

// TestConcurrentSameFile has several open files of one file write and
// append at once.
func TestConcurrentSameFile(t *testing.T) {
	f, root := setup(t, 1<<20)
	n := create(t, root, "f", "")
	const workers, writes = 4, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := n.Open(unix.O_WRONLY | unix.O_APPEND)
			if !assert.NoError(t, err) {
				return
			}
			defer h.Release()
			for range writes {
				_, err := h.Write([]byte{byte('0' + w)})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		h, err := n.Open(unix.O_RDONLY)
		if !assert.NoError(t, err) {
			return
		}
		defer h.Release()
		for range writes {
			h.Pread(make([]byte, 64), 0)
			h.Stat()
		}
	}()
	wg.Wait()
	got := content(t, n)
	assert.Len(t, got, workers*writes, "appends never overwrite each other")
	for w := range workers {
		assert.Equal(t, writes, bytes.Count([]byte(got), []byte{byte('0' + w)}))
	}
	assert.Equal(t, [2]int64{4096, 2}, usage(f))
}
