package syscalls

import (
	"io"

	"golang.org/x/sys/unix"

	"ringbox/fs"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/mm"
)

func init() {
	register(unix.SYS_BRK, sysBrk)
	register(unix.SYS_MMAP, sysMmap)
	register(unix.SYS_MUNMAP, sysMunmap)
	register(unix.SYS_MPROTECT, sysMprotect)
	register(unix.SYS_MREMAP, sysMremap)
	register(unix.SYS_MADVISE, sysMadvise)
}

func sysBrk(t *kernel.Task, a Args) (uintptr, error) { return t.MM.Brk(a[0]), nil }

const mapKnown = unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE | unix.MAP_FIXED |
	unix.MAP_ANONYMOUS | unix.MAP_GROWSDOWN | unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE |
	unix.MAP_LOCKED | unix.MAP_NORESERVE | unix.MAP_POPULATE | unix.MAP_NONBLOCK |
	unix.MAP_STACK | unix.MAP_HUGETLB | unix.MAP_SYNC | unix.MAP_FIXED_NOREPLACE | unix.MAP_32BIT |
	0x3f<<26 // MAP_HUGE_SHIFT size bits

func sysMmap(t *kernel.Task, a Args) (uintptr, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], int(a[2]), int(a[3]), int(int32(a[4])), a[5]
	typ := flags & (unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE)
	switch typ {
	case unix.MAP_SHARED, unix.MAP_PRIVATE:
	case unix.MAP_SHARED_VALIDATE:
		if flags&^mapKnown != 0 {
			return 0, unix.EOPNOTSUPP
		}
	default:
		return 0, unix.EINVAL
	}
	if off&(4096-1) != 0 || length == 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MAP_HUGETLB != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MAP_ANONYMOUS == 0 {
		return mmapFile(t, addr, length, prot, flags, fd, int64(off))
	}
	return t.MM.Mmap(mm.MmapOpts{
		Addr: addr, Len: length, Prot: prot,
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0 && flags&unix.MAP_FIXED == 0,
		Shared:    typ != unix.MAP_PRIVATE,
		GrowsDown: flags&unix.MAP_GROWSDOWN != 0,
		Populate:  flags&unix.MAP_POPULATE != 0 && flags&unix.MAP_NONBLOCK == 0,
	})
}

func sysMunmap(t *kernel.Task, a Args) (uintptr, error) { return 0, t.MM.Munmap(a[0], a[1]) }

func sysMprotect(t *kernel.Task, a Args) (uintptr, error) {
	return 0, t.MM.Mprotect(a[0], a[1], int(a[2]))
}

func sysMremap(t *kernel.Task, a Args) (uintptr, error) {
	return t.MM.Mremap(a[0], a[1], a[2], int(a[3]), a[4])
}

func sysMadvise(t *kernel.Task, a Args) (uintptr, error) {
	return 0, t.MM.Madvise(a[0], a[1], int(a[2]))
}

// fileReader adapts a file's Pread to io.ReaderAt.
type fileReader struct{ f *fs.File }

func (r fileReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.f.Pread(p, off)
	if n == 0 && err == nil && len(p) > 0 {
		return 0, io.EOF
	}
	return n, err
}

// mmapFile maps a file. Private mappings (and shared read-only ones, which
// behave the same while the file does not change) get a copy of the file's
// bytes; shared writable mappings are not supported yet (ENODEV).
func mmapFile(t *kernel.Task, addr, length uintptr, prot, flags, fd int, off int64) (uintptr, error) {
	f, err := t.File(fd)
	if err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, unix.ENODEV
	}
	if !f.Readable() {
		return 0, unix.EACCES
	}
	// A file of a noexec mount is never mapped executable (EPERM), nor
	// made so later (mprotect: EACCES).
	maxProt := mm.ProtRead | mm.ProtWrite | mm.ProtExec
	if f.Dentry != nil && f.Dentry.Mount().Has(fs.NoExec) {
		if prot&unix.PROT_EXEC != 0 {
			return 0, unix.EPERM
		}
		maxProt &^= mm.ProtExec
	}
	typ := flags & (unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE)
	shared := typ == unix.MAP_SHARED || typ == unix.MAP_SHARED_VALIDATE
	if shared && prot&unix.PROT_WRITE != 0 && !f.Writable() {
		return 0, unix.EACCES
	}
	// Files of the in-memory layer (and memfds), and the page cache of
	// read-only host trees, are mapped with their own pages: writes
	// through a shared mapping are the file's at once; a private mapping
	// maps them copy-on-write (one copy of libc for every process).
	if pg, ok := f.Impl.(fs.Pager); ok {
		if _, err := pg.PageAddr(0); err != unix.ENODEV && (shared || err == nil) {
			if off%4096 != 0 {
				return 0, unix.EINVAL
			}
			return mmapPager(t, f, pg, addr, length, prot, flags, off, shared, maxProt)
		}
	}
	if shared {
		// A host file of a read-write tree: the memory-file pages that
		// every shared mapping of it maps (hostfs/shared.go).
		if sm, ok := f.Impl.(fs.SharedMapper); ok {
			if off%4096 != 0 {
				return 0, unix.EINVAL
			}
			pg, err := sm.MapShared()
			if err == nil {
				return mmapPager(t, f, pg, addr, length, prot, flags, off, true, maxProt)
			}
			if err != unix.ENODEV {
				return 0, err
			}
		}
		if prot&unix.PROT_WRITE != 0 {
			// No pages to share with the program.
			return 0, unix.ENODEV
		}
	}
	if off < 0 || uintptr(off)+length < uintptr(off) {
		return 0, unix.EOVERFLOW
	}
	at, err := t.MM.Mmap(mm.MmapOpts{
		Addr: addr, Len: length, Prot: prot,
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0 && flags&unix.MAP_FIXED == 0,
		Populate:  true,
		Name:      fileName(t, f),
		MaxProt:   maxProt,
	})
	if err != nil {
		return 0, err
	}
	if err := t.MM.FillFrom(at, length, fileReader{f}, off); err != nil {
		t.MM.Munmap(at, length)
		return 0, err
	}
	return at, nil
}

// mmapPager maps file f's own pages from pg (off is page-aligned): shared,
// or copy-on-write for a private mapping; mprotect grants at most maxProt.
func mmapPager(t *kernel.Task, f *fs.File, pg fs.Pager, addr, length uintptr, prot, flags int, off int64, shared bool, maxProt int) (uintptr, error) {
	if shared && !f.Writable() {
		// No PROT_WRITE later either (mprotect: EACCES).
		maxProt &^= mm.ProtWrite
	}
	return t.MM.Mmap(mm.MmapOpts{
		Addr: addr, Len: length, Prot: prot, Shared: shared,
		Fixed:     flags&unix.MAP_FIXED != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0 && flags&unix.MAP_FIXED == 0,
		Name:      fileName(t, f),
		Pager:     &filePager{f: f, pg: pg}, PagerOff: off / 4096,
		MaxProt: maxProt,
	})
}

func init() {
	register(unix.SYS_MSYNC, sysMsync)
	register(unix.SYS_MINCORE, sysMincore)
}

// sysMsync writes back what shared mappings of host files in the range
// hold (fs.Flusher); other mappings have nothing to write back (in-memory
// files, private copies). The arguments are checked all the same.
func sysMsync(t *kernel.Task, a Args) (uintptr, error) {
	addr, length, flags := a[0], a[1], int(a[2])
	if addr&4095 != 0 || flags&^(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 ||
		flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return 0, unix.EINVAL
	}
	end := addr + (length+4095)&^4095
	if !t.MM.Mapped(addr, end-addr) {
		return 0, unix.ENOMEM
	}
	for _, v := range t.MM.VMAs() {
		if v.End <= addr || v.Start >= end || !v.Shared {
			continue
		}
		if p, ok := v.Pager.(*filePager); ok {
			if fl, ok := p.pg.(fs.Flusher); ok {
				if err := fl.Flush(); err != nil {
					return 0, unix.EIO
				}
			}
		}
	}
	return 0, nil
}

func sysMincore(t *kernel.Task, a Args) (uintptr, error) {
	addr, length, vec := a[0], a[1], a[2]
	if addr&4095 != 0 {
		return 0, unix.EINVAL
	}
	n := (length + 4095) / 4096
	if n > 1<<24 || !t.MM.Mapped(addr, n*4096) {
		return 0, unix.ENOMEM
	}
	res := t.MM.Resident(addr, int(n))
	b := make([]byte, n)
	for i, r := range res {
		if r {
			b[i] = 1
		}
	}
	_, err := t.MM.CopyOut(vec, b)
	return 0, err
}

// fileName is what /proc/pid/maps shows for a mapping of f.
func fileName(t *kernel.Task, f *fs.File) string {
	if f.Dentry != nil {
		return f.Dentry.Path(t.TG.FSRoot())
	}
	return "/memfd (deleted)"
}

// filePager is the memory object of a shared mapping of an in-memory file.
// Each VMA that maps it holds a reference on the open file, as Linux's
// vm_file does: the mapping outlives close(fd) (glibc's sem_open maps a
// file and closes it at once).
type filePager struct {
	f  *fs.File
	pg fs.Pager
}

// PageAddr implements mm.Pager.
func (p *filePager) PageAddr(idx int64) (uintptr, error) { return p.pg.PageAddr(idx) }

// CachedPage implements mm.CachedPager.
func (p *filePager) CachedPage(idx int64) uintptr {
	if c, ok := p.pg.(fs.CachedPager); ok {
		return c.CachedPage(idx)
	}
	return 0
}

// VMAOpened implements mm.CountedPager.
func (p *filePager) VMAOpened() { p.f.IncRef() }

// VMAClosed implements mm.CountedPager.
func (p *filePager) VMAClosed() { p.f.DecRef() }

func init() {
	register(unix.SYS_MLOCK, func(t *kernel.Task, a Args) (uintptr, error) { return 0, mlock(t, a[0], a[1], 0) })
	register(unix.SYS_MLOCK2, func(t *kernel.Task, a Args) (uintptr, error) { return 0, mlock(t, a[0], a[1], int(a[2])) })
	register(unix.SYS_MUNLOCK, func(t *kernel.Task, a Args) (uintptr, error) { return 0, mlockRange(t, a[0], a[1]) })
	register(unix.SYS_MLOCKALL, sysMlockall)
	register(unix.SYS_MUNLOCKALL, func(t *kernel.Task, a Args) (uintptr, error) { return 0, nil })
}

// The sandbox's memory is never swapped out by the sandbox (the memory
// file's pages stay while mapped), so the mlock family only checks what
// Linux checks: the range is mapped, the flags are known, and the bytes
// fit RLIMIT_MEMLOCK (each call on its own: locks are not counted up)
// unless the caller has CAP_IPC_LOCK. Without them, gpg warns of
// "insecure memory" and others refuse to start.
func mlock(t *kernel.Task, addr, length uintptr, flags int) error {
	if flags&^unix.MLOCK_ONFAULT != 0 {
		return unix.EINVAL
	}
	if err := mlockRange(t, addr, length); err != nil {
		return err
	}
	creds := t.TG.Creds()
	if !creds.HasCap(unix.CAP_IPC_LOCK) && uint64(length) > t.TG.Limit(unix.RLIMIT_MEMLOCK).Cur {
		if t.TG.Limit(unix.RLIMIT_MEMLOCK).Cur == 0 {
			return unix.EPERM
		}
		return unix.ENOMEM
	}
	return nil
}

// mlockRange checks that [addr, addr+length), widened to pages, is mapped.
func mlockRange(t *kernel.Task, addr, length uintptr) error {
	start := addr &^ 4095
	end := addr + length
	if end < addr {
		return unix.EINVAL
	}
	end = (end + 4095) &^ 4095
	if end <= start {
		return nil
	}
	if !t.MM.Mapped(start, end-start) {
		return unix.ENOMEM
	}
	return nil
}

func sysMlockall(t *kernel.Task, a Args) (uintptr, error) {
	flags := int(a[0])
	if flags == 0 || flags&^(unix.MCL_CURRENT|unix.MCL_FUTURE|unix.MCL_ONFAULT) != 0 || flags == unix.MCL_ONFAULT {
		return 0, unix.EINVAL
	}
	creds := t.TG.Creds()
	if !creds.HasCap(unix.CAP_IPC_LOCK) && t.TG.Limit(unix.RLIMIT_MEMLOCK).Cur == 0 {
		return 0, unix.EPERM
	}
	return 0, nil
}
