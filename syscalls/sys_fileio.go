package syscalls

import (
	"errors"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PREADV, afterIO(0, unix.IN_ACCESS, sysPreadv))
	register(unix.SYS_PWRITEV, afterIO(0, unix.IN_MODIFY, sysPwritev))
	register(unix.SYS_PREADV2, afterIO(0, unix.IN_ACCESS, sysPreadv2))
	register(unix.SYS_PWRITEV2, afterIO(0, unix.IN_MODIFY, sysPwritev2))
	register(unix.SYS_SENDFILE, afterIO(0, unix.IN_MODIFY, afterIO(1, unix.IN_ACCESS, sysSendfile)))
	register(unix.SYS_COPY_FILE_RANGE, afterIO(2, unix.IN_MODIFY, afterIO(0, unix.IN_ACCESS, sysCopyFileRange)))
	register(unix.SYS_MEMFD_CREATE, sysMemfdCreate)
	register(unix.SYS_FALLOCATE, afterOK(0, unix.IN_MODIFY, sysFallocate))
}

func sysPreadv(t *kernel.Task, a Args) (uintptr, error) {
	f, err := readFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return preadvFile(t, f, a)
}

// preadvFile is preadv on f, the file of a[0].
func preadvFile(t *kernel.Task, f *fs.File, a Args) (uintptr, error) {
	iov, err := readIovecs(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	off := int64(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	var done uintptr
	for _, v := range iov {
		if v.len == 0 {
			continue
		}
		at := off + int64(done)
		n, err := doRead(t, v.base, v.len, func(b []byte) (int, error) { return f.Pread(b, at) })
		done += n
		if err != nil || n < min(v.len, ioChunk) {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
	return done, nil
}

func sysPwritev(t *kernel.Task, a Args) (uintptr, error) {
	f, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return pwritevFile(t, f, a)
}

// pwritevFile is pwritev on f, the file of a[0].
func pwritevFile(t *kernel.Task, f *fs.File, a Args) (uintptr, error) {
	iov, err := readIovecs(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	off := int64(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	var total uintptr
	for _, v := range iov {
		total += v.len
	}
	if n, err := fsizeWrite(t, f, off, total); err != nil {
		return 0, err
	} else if n < total {
		iov = clampIovecs(iov, n)
	}
	var done uintptr
	for _, v := range iov {
		base := off + int64(done)
		n, err := doWrite(t, v.base, v.len, func(b []byte, at int64) (int, error) { return f.Pwrite(b, base+at) })
		done += n
		if err != nil || n < v.len {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
	return done, nil
}

// preadv2/pwritev2 flags (RWF_*, linux/fs.h) the sandbox knows: HIPRI
// (a polling hint), DSYNC and SYNC (sync after a write), NOWAIT (EAGAIN
// rather than wait), APPEND (write at the end). Others are EOPNOTSUPP.
const (
	rwfHIPRI  = 0x1
	rwfDSYNC  = 0x2
	rwfSYNC   = 0x4
	rwfNOWAIT = 0x8
	rwfAPPEND = 0x10
	rwfKnown  = rwfHIPRI | rwfDSYNC | rwfSYNC | rwfNOWAIT | rwfAPPEND
)

// sysPreadv2 is preadv2(fd, iov, iovcnt, offset, 0, flags): preadv, or
// readv at the file's position for offset -1.
func sysPreadv2(t *kernel.Task, a Args) (uintptr, error) {
	flags := a[5]
	if flags&^rwfKnown != 0 {
		return 0, unix.EOPNOTSUPP
	}
	f, err := readFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if int64(a[3]) != -1 {
		return preadvFile(t, f, a)
	}
	if _, ok := f.Impl.(fs.Waitable); ok && flags&rwfNOWAIT != 0 &&
		fs.Readiness(f, waiter.ReadableEvents|waiter.EventHup|waiter.EventErr) == 0 {
		return 0, unix.EAGAIN
	}
	return readvFile(t, f, a)
}

// sysPwritev2 is pwritev2(fd, iov, iovcnt, offset, 0, flags): pwritev, or
// writev at the file's position for offset -1; RWF_APPEND writes at the
// end whatever the offset, and RWF_DSYNC/RWF_SYNC sync what was written.
func sysPwritev2(t *kernel.Task, a Args) (uintptr, error) {
	flags := a[5]
	if flags&^rwfKnown != 0 {
		return 0, unix.EOPNOTSUPP
	}
	f, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	positional := int64(a[3]) != -1
	if flags&rwfAPPEND != 0 {
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			if !positional {
				if _, err := f.Seek(0, unix.SEEK_END); err != nil {
					return 0, err
				}
			} else {
				a[3] = uintptr(st.Size)
			}
		}
	}
	if _, ok := f.Impl.(fs.Waitable); ok && flags&rwfNOWAIT != 0 &&
		fs.Readiness(f, waiter.WritableEvents|waiter.EventErr) == 0 {
		return 0, unix.EAGAIN
	}
	var n uintptr
	if positional {
		n, err = pwritevFile(t, f, a)
	} else {
		n, err = writevFile(t, f, a)
	}
	if err == nil && n > 0 && flags&(rwfDSYNC|rwfSYNC) != 0 {
		if ops, ok := f.Impl.(fs.FileOps); ok {
			if err := ops.Sync(flags&rwfSYNC == 0); err != nil {
				return 0, err
			}
		}
	}
	return n, err
}

// copyBetween copies up to n bytes from in to out through a kernel
// buffer. inOff/outOff < 0 mean the files' own positions.
func copyBetween(in, out *fs.File, inOff, outOff int64, n uintptr) (uintptr, error) {
	n = min(n, maxRW)
	ib := getIOBuf(min(n, ioChunk))
	defer ib.release()
	buf := ib.b
	var done uintptr
	for done < n {
		k := min(n-done, uintptr(len(buf)))
		var r int
		var err error
		if inOff >= 0 {
			r, err = in.Pread(buf[:k], inOff+int64(done))
		} else {
			r, err = in.Read(buf[:k])
		}
		if r <= 0 {
			if done > 0 || err == nil {
				return done, nil
			}
			return 0, err
		}
		var w int
		if outOff >= 0 {
			w, err = out.Pwrite(buf[:r], outOff+int64(done))
		} else {
			w, err = out.Write(buf[:r])
		}
		done += uintptr(max(w, 0))
		if err != nil || w < r {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
	return done, nil
}

// offsetArg reads an optional loff_t* argument (-1 when NULL).
func offsetArg(t *kernel.Task, addr uintptr) (int64, error) {
	if addr == 0 {
		return -1, nil
	}
	v, err := t.MM.CopyInUint64(addr)
	if err != nil {
		return 0, err
	}
	if int64(v) < 0 {
		return 0, unix.EINVAL
	}
	return int64(v), nil
}

func sysSendfile(t *kernel.Task, a Args) (uintptr, error) {
	out, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	in, err := readFile(t, int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	off, err := offsetArg(t, a[2])
	if err != nil {
		return 0, err
	}
	if op := pipeEnd(out); op != nil && a[3] != 0 {
		// Into a pipe: read only what fits, as splice does.
		read := func(b []byte) (int, error) {
			if off >= 0 {
				return in.Pread(b, off)
			}
			return in.Read(b)
		}
		n, err := pipeLoop(t, in, out, nonBlocking(out), func() (int, error) {
			return op.Pipe().Fill(int(min(a[3], maxRW)), read)
		})
		if err == nil && a[2] != 0 {
			err = t.MM.CopyOutUint64(a[2], uint64(off)+uint64(n))
		}
		return n, err
	}
	count, err := fsizeWrite(t, out, -1, a[3])
	if err != nil {
		return 0, err
	}
	n, err := copyBetween(in, out, off, -1, count)
	if err == nil && a[2] != 0 {
		err = t.MM.CopyOutUint64(a[2], uint64(off)+uint64(n))
	}
	return n, err
}

func sysCopyFileRange(t *kernel.Task, a Args) (uintptr, error) {
	if a[5] != 0 {
		return 0, unix.EINVAL
	}
	in, err := readFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	out, err := writeFile(t, int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	if out.Flags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	if pipeEnd(in) != nil || pipeEnd(out) != nil {
		return 0, unix.EINVAL
	}
	inOff, err := offsetArg(t, a[1])
	if err != nil {
		return 0, err
	}
	outOff, err := offsetArg(t, a[3])
	if err != nil {
		return 0, err
	}
	count, err := fsizeWrite(t, out, outOff, a[4])
	if err != nil {
		return 0, err
	}
	n, err := copyBetween(in, out, inOff, outOff, count)
	if err != nil {
		return 0, err
	}
	if a[1] != 0 {
		if err := t.MM.CopyOutUint64(a[1], uint64(inOff)+uint64(n)); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		if err := t.MM.CopyOutUint64(a[3], uint64(outOff)+uint64(n)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// memfdLimit bounds one memfd's size (it lives in Go memory for now).
const memfdLimit = 1 << 30

func sysMemfdCreate(t *kernel.Task, a Args) (uintptr, error) {
	const known = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 // CLOEXEC ALLOW_SEALING HUGETLB NOEXEC_SEAL EXEC
	flags := int(a[1])
	if flags&^known != 0 || flags&0x4 != 0 {
		return 0, unix.EINVAL
	}
	name, err := t.MM.CopyInString(a[0], 249)
	if err != nil {
		return 0, unix.EINVAL
	}
	// An anonymous file: a one-file tmpfs of its own.
	tfs := tmpfs.New(memfdLimit)
	tfs.SetPageSource(t.K.Mem)
	_, impl, err := tfs.Root().(fs.Creator).Create("memfd:"+name, unix.O_RDWR, 0o777)
	if err != nil {
		return 0, err
	}
	f := fs.NewFile(impl, unix.O_RDWR|0x8000)
	fd, err := t.TG.FDs.Install(f, 0, flags&0x1 != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

// fallocate's modes (linux/falloc.h) the sandbox knows.
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
)

// sysFallocate is fallocate on a regular file: mode 0 grows the file to
// cover the range (the sandbox reserves no blocks: it only sets the size),
// KEEP_SIZE alone does nothing more than check, PUNCH_HOLE|KEEP_SIZE
// zeroes the range. ZERO_RANGE and the range moves are EOPNOTSUPP, as on
// Linux's tmpfs.
func sysFallocate(t *kernel.Task, a Args) (uintptr, error) {
	f, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	mode, off, n := int(a[1]), int64(a[2]), int64(a[3])
	if off < 0 || n <= 0 || off+n < off {
		return 0, unix.EINVAL
	}
	switch mode {
	case 0, fallocKeepSize, fallocPunchHole | fallocKeepSize:
	default:
		return 0, unix.EOPNOTSUPP
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, unix.ENODEV
	}
	ops, ok := f.Impl.(fs.FileOps)
	if !ok {
		return 0, unix.EOPNOTSUPP
	}
	if mode&fallocPunchHole != 0 {
		if err := zeroRange(f, off, n, st.Size); err != nil {
			return 0, err
		}
	}
	if end := off + n; mode&fallocKeepSize == 0 && end > st.Size {
		if err := fsizeGrow(t, st.Size, end); err != nil {
			return 0, err
		}
		return 0, ops.Truncate(end)
	}
	return 0, nil
}

// zeroRange makes the bytes of [off, off+n) below size read as zero: the
// file's own hole punching where it has one, else by writing zeros (which
// a host file of a bind mount, and every mapping of it, sees as any
// write).
func zeroRange(f *fs.File, off, n, size int64) error {
	if hp, ok := f.Impl.(fs.HolePuncher); ok {
		if err := hp.PunchHole(off, n); !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	zero := make([]byte, min(ioChunk, max(min(n, size-off), 0)))
	for pos, end := off, min(off+n, size); pos < end; {
		k := min(int64(len(zero)), end-pos)
		w, err := f.Pwrite(zero[:k], pos)
		if err != nil {
			return err
		}
		if w == 0 {
			return unix.EIO
		}
		pos += int64(w)
	}
	return nil
}
