package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The data file layout the C programs share (progs/bench.h): 4 KiB blocks,
// each starting with its file offset as a little-endian uint64 and filled up
// with 0xA5 bytes, read and written in 1 MiB chunks.
const (
	chunkSize = 1 << 20
	blockSize = 4096
)

// dirEntries is the size of the getdents row's directory.
const dirEntries = 10_000

// files are what the file-system rows work on. All of it lies under the
// bench's temporary directory, except shm, which the bench removes too.
type files struct {
	data  string // bound with --mount at its own path: small, big, dir
	small string // a 4 KiB file: the open+close and stat rows
	big   string // bigBytes of stamped data: the read row
	dir   string // dirEntries empty files: the getdents row
	rw    string // empty, bound read-write at its own path: a write row
	mnt   string // empty, the --tmpfs mount point of the other write row
	shm   string // the native side of the --tmpfs write row, in /dev/shm

	bigBytes int64
}

// makeFiles creates the rows' files under dir and a directory in shmRoot (a
// tmpfs: /dev/shm) for the native side of the --tmpfs write row, which it
// checks has room for a file of size bytes.
func makeFiles(dir, shmRoot string, size int64, entries int) (*files, error) {
	f := &files{
		data:     filepath.Join(dir, "data"),
		rw:       filepath.Join(dir, "rw"),
		mnt:      filepath.Join(dir, "tmpfs"),
		bigBytes: size,
	}
	f.small = filepath.Join(f.data, "small")
	f.big = filepath.Join(f.data, "big")
	f.dir = filepath.Join(f.data, "dir")
	for _, d := range []string{f.data, f.rw, f.mnt, f.dir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := checkTmpfs(shmRoot, size); err != nil {
		return nil, err
	}
	shm, err := os.MkdirTemp(shmRoot, "ringbox-bench-")
	if err != nil {
		return nil, err
	}
	f.shm = shm
	if err := os.WriteFile(f.small, make([]byte, blockSize), 0o644); err != nil {
		return f, err
	}
	for i := range entries {
		e, err := os.OpenFile(filepath.Join(f.dir, fmt.Sprintf("f%05d", i)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return f, err
		}
		if err := e.Close(); err != nil {
			return f, err
		}
	}
	return f, writeDataFile(f.big, size)
}

// remove deletes the directory in /dev/shm; the rest goes with the bench's
// temporary directory.
func (f *files) remove() {
	if f != nil && f.shm != "" {
		os.RemoveAll(f.shm)
	}
}

// checkTmpfs fails unless dir is on a tmpfs with room for size bytes and
// 64 MiB more.
func checkTmpfs(dir string, size int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("the --tmpfs write row writes natively to %s: %v", dir, err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("the --tmpfs write row writes natively to %s, which is not a tmpfs", dir)
	}
	if free := int64(st.Bavail) * st.Bsize; free < size+64<<20 {
		return fmt.Errorf("the --tmpfs write row writes natively to %s, which has %d MiB free; it needs %d MiB",
			dir, free>>20, size>>20+64)
	}
	return nil
}

// writeDataFile writes size bytes (a multiple of 1 MiB) of stamped blocks to
// path and syncs it, so that no write-back of it runs during the rows.
func writeDataFile(path string, size int64) error {
	if size%chunkSize != 0 {
		return fmt.Errorf("data file size %d is not a multiple of 1 MiB", size)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	for i := range buf {
		buf[i] = 0xA5
	}
	for off := int64(0); off < size; off += chunkSize {
		for b := 0; b < chunkSize; b += blockSize {
			binary.LittleEndian.PutUint64(buf[b:], uint64(off)+uint64(b))
		}
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fsName names the file system dir is on, for the table's header.
func fsName(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown file system"
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("file system 0x%x", st.Type)
}

// sizeName is a data size in MiB or GiB.
func sizeName(bytes int64) string {
	if bytes >= 1<<30 && bytes%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", bytes>>30)
	}
	return fmt.Sprintf("%d MiB", bytes>>20)
}
