package syscalls

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
	"ringbox/netstack"
)

func init() {
	register(unix.SYS_READ, afterIO(0, unix.IN_ACCESS, sysRead))
	register(unix.SYS_WRITE, afterIO(0, unix.IN_MODIFY, sysWrite))
	register(unix.SYS_PREAD64, afterIO(0, unix.IN_ACCESS, sysPread))
	register(unix.SYS_PWRITE64, afterIO(0, unix.IN_MODIFY, sysPwrite))
	register(unix.SYS_READV, afterIO(0, unix.IN_ACCESS, sysReadv))
	register(unix.SYS_WRITEV, afterIO(0, unix.IN_MODIFY, sysWritev))
	register(unix.SYS_LSEEK, sysLseek)
	register(unix.SYS_CLOSE, sysClose)
	register(unix.SYS_DUP, sysDup)
	register(unix.SYS_DUP2, sysDup2)
	register(unix.SYS_DUP3, sysDup3)
	register(unix.SYS_FCNTL, sysFcntl)
	register(unix.SYS_IOCTL, sysIoctl)
	register(unix.SYS_FSTAT, sysFstat)
	register(unix.SYS_NEWFSTATAT, sysNewfstatat)
	register(unix.SYS_POLL, sysPoll)
}

// ioChunk bounds the kernel buffer of one read or write step.
const ioChunk = 1 << 20

// maxRW is the most one read or write transfers (Linux's MAX_RW_COUNT).
const maxRW = 0x7ffff000

func readFile(t *kernel.Task, fd int) (*fs.File, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	if !f.Readable() {
		return nil, unix.EBADF
	}
	return f, nil
}

func writeFile(t *kernel.Task, fd int) (*fs.File, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	if !f.Writable() {
		return nil, unix.EBADF
	}
	return f, nil
}

// doRead reads up to n bytes into user memory at addr with one call of
// read (short reads are fine).
func doRead(t *kernel.Task, addr, n uintptr, read func([]byte) (int, error)) (uintptr, error) {
	n = min(n, ioChunk)
	if n == 0 {
		return 0, nil
	}
	// Check the destination first: a bad buffer must not consume input.
	if _, err := t.MM.ZeroOut(addr, int(min(n, 1))); err != nil {
		return 0, err
	}
	ib := getIOBuf(n)
	defer ib.release()
	buf := ib.b
	got, err := read(buf)
	if got > 0 {
		c, cerr := t.MM.CopyOut(addr, buf[:got])
		if c == 0 && cerr != nil {
			return 0, cerr
		}
		return uintptr(c), nil
	}
	return 0, err
}

// doWrite writes n bytes from user memory at addr in chunks, stopping at
// the first short write or error.
func doWrite(t *kernel.Task, addr, n uintptr, write func([]byte, int64) (int, error)) (uintptr, error) {
	n = min(n, maxRW)
	var done uintptr
	ib := getIOBuf(min(n, ioChunk))
	defer ib.release()
	buf := ib.b
	for done < n {
		k := min(n-done, ioChunk)
		c, err := t.MM.CopyIn(addr+done, buf[:k])
		if c == 0 && err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		w, werr := write(buf[:c], int64(done))
		done += uintptr(max(w, 0))
		if werr != nil {
			if done > 0 {
				return done, nil
			}
			if werr == unix.EPIPE {
				sendSIGPIPE(t)
			}
			return 0, werr
		}
		if w < c || err != nil {
			break
		}
	}
	return done, nil
}

func sysRead(t *kernel.Task, a Args) (uintptr, error) {
	f, err := readFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if s, ok := f.Impl.(netstack.Socket); ok {
		return socketRead(t, f, s, []iovec{{a[1], min(a[2], maxRW)}})
	}
	return doRead(t, a[1], a[2], blockingRead(t, f))
}

func sysWrite(t *kernel.Task, a Args) (uintptr, error) {
	f, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if s, ok := f.Impl.(netstack.Socket); ok {
		return socketWrite(t, f, s, []iovec{{a[1], min(a[2], maxRW)}})
	}
	n, err := fsizeWrite(t, f, -1, a[2])
	if err != nil {
		return 0, err
	}
	write := blockingWrite(t, f)
	return doWrite(t, a[1], n, func(b []byte, _ int64) (int, error) { return write(b) })
}

func sysPread(t *kernel.Task, a Args) (uintptr, error) {
	f, err := readFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	off := int64(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return doRead(t, a[1], a[2], func(b []byte) (int, error) { return f.Pread(b, off) })
}

func sysPwrite(t *kernel.Task, a Args) (uintptr, error) {
	f, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	off := int64(a[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	n, err := fsizeWrite(t, f, off, a[2])
	if err != nil {
		return 0, err
	}
	return doWrite(t, a[1], n, func(b []byte, at int64) (int, error) { return f.Pwrite(b, off+at) })
}

// iovMax is UIO_MAXIOV.
const iovMax = 1024

type iovec struct{ base, len uintptr }

func readIovecs(t *kernel.Task, addr uintptr, cnt int) ([]iovec, error) {
	if cnt < 0 || cnt > iovMax {
		return nil, unix.EINVAL
	}
	raw := make([]byte, 16*cnt)
	if _, err := t.MM.CopyIn(addr, raw); err != nil {
		return nil, err
	}
	iov := make([]iovec, cnt)
	var total uintptr
	for i := range iov {
		iov[i].base = uintptr(binary.LittleEndian.Uint64(raw[16*i:]))
		iov[i].len = uintptr(binary.LittleEndian.Uint64(raw[16*i+8:]))
		if int64(iov[i].len) < 0 || total+iov[i].len < total || int64(total+iov[i].len) < 0 {
			return nil, unix.EINVAL
		}
		total += iov[i].len
	}
	return iov, nil
}

func sysReadv(t *kernel.Task, a Args) (uintptr, error) {
	f, err := readFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return readvFile(t, f, a)
}

// readvFile is readv on f, the file of a[0].
func readvFile(t *kernel.Task, f *fs.File, a Args) (uintptr, error) {
	iov, err := readIovecs(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	if s, ok := f.Impl.(netstack.Socket); ok {
		return socketRead(t, f, s, iov)
	}
	return scatterRead(t, iov, blockingRead(t, f))
}

// scatterRead makes one read of up to ioChunk bytes (short reads are
// allowed) and spreads the data over the buffers of iov.
func scatterRead(t *kernel.Task, iov []iovec, read func([]byte) (int, error)) (uintptr, error) {
	var total uintptr
	first := -1
	for i, v := range iov {
		if v.len != 0 && first < 0 {
			first = i
		}
		total += v.len
	}
	if first < 0 {
		return 0, nil
	}
	if total <= iov[first].len {
		return doRead(t, iov[first].base, iov[first].len, read)
	}
	// Check the first buffer first: a bad one must not consume input.
	if _, err := t.MM.ZeroOut(iov[first].base, 1); err != nil {
		return 0, err
	}
	ib := getIOBuf(min(total, ioChunk))
	defer ib.release()
	buf := ib.b
	got, err := read(buf)
	if got <= 0 {
		return 0, err
	}
	var done uintptr
	for _, v := range iov[first:] {
		if done == uintptr(got) {
			break
		}
		k := min(v.len, uintptr(got)-done)
		c, cerr := t.MM.CopyOut(v.base, buf[done:done+k])
		done += uintptr(c)
		if cerr != nil {
			if done == 0 {
				return 0, cerr
			}
			break
		}
	}
	return done, nil
}

func sysWritev(t *kernel.Task, a Args) (uintptr, error) {
	f, err := writeFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return writevFile(t, f, a)
}

// writevFile is writev on f, the file of a[0].
func writevFile(t *kernel.Task, f *fs.File, a Args) (uintptr, error) {
	iov, err := readIovecs(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	if s, ok := f.Impl.(netstack.Socket); ok {
		return socketWrite(t, f, s, iov)
	}
	// Gather into one buffer so the write is a single host write (atomic
	// for pipes up to PIPE_BUF, like Linux).
	var total uintptr
	for _, v := range iov {
		total += v.len
	}
	if n, err := fsizeWrite(t, f, -1, total); err != nil {
		return 0, err
	} else if n < total {
		iov, total = clampIovecs(iov, n), n
	}
	if total <= ioChunk {
		ib := getIOBuf(total)
		defer ib.release()
		buf := ib.b[:0]
		for _, v := range iov {
			start := len(buf)
			buf = buf[:start+int(v.len)]
			c, err := t.MM.CopyIn(v.base, buf[start:])
			if err != nil {
				buf = buf[:start+c]
				if len(buf) == 0 {
					return 0, err
				}
				break
			}
		}
		w, err := blockingWrite(t, f)(buf)
		if w > 0 {
			return uintptr(w), nil
		}
		if err == unix.EPIPE {
			sendSIGPIPE(t)
		}
		return 0, err
	}
	var done uintptr
	write := blockingWrite(t, f)
	for _, v := range iov {
		n, err := doWrite(t, v.base, v.len, func(b []byte, _ int64) (int, error) { return write(b) })
		done += n
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n < v.len {
			break
		}
	}
	return done, nil
}

func sysLseek(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if a[2] > unix.SEEK_HOLE {
		return 0, unix.EINVAL
	}
	if _, ok := f.Impl.(fs.DirReader); ok && f.Dentry != nil {
		// A directory's position is the getdents index (rewinddir).
		pos := int64(a[1])
		switch a[2] {
		case unix.SEEK_CUR:
			pos += int64(f.DirOffset())
		case unix.SEEK_SET:
		default:
			return 0, unix.EINVAL
		}
		if pos < 0 {
			return 0, unix.EINVAL
		}
		f.SetDirOffset(int(pos))
		return uintptr(pos), nil
	}
	off, err := f.Seek(int64(a[1]), int(a[2]))
	return uintptr(off), err
}

func sysClose(t *kernel.Task, a Args) (uintptr, error) {
	return 0, t.TG.FDs.Remove(int(int32(a[0])))
}

func sysDup(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	f.IncRef()
	fd, err := t.TG.FDs.Install(f, 0, false)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

func dupTo(t *kernel.Task, oldfd, newfd int, cloexec bool) (uintptr, error) {
	f, err := t.File(oldfd)
	if err != nil {
		return 0, err
	}
	f.IncRef()
	if err := t.TG.FDs.InstallAt(newfd, f, cloexec); err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(newfd), nil
}

func sysDup2(t *kernel.Task, a Args) (uintptr, error) {
	oldfd, newfd := int(int32(a[0])), int(int32(a[1]))
	if oldfd == newfd {
		if _, err := t.File(oldfd); err != nil {
			return 0, err
		}
		return uintptr(newfd), nil
	}
	return dupTo(t, oldfd, newfd, false)
}

func sysDup3(t *kernel.Task, a Args) (uintptr, error) {
	oldfd, newfd, flags := int(int32(a[0])), int(int32(a[1])), int(a[2])
	if oldfd == newfd || flags&^unix.O_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	return dupTo(t, oldfd, newfd, flags&unix.O_CLOEXEC != 0)
}

func sysFcntl(t *kernel.Task, a Args) (uintptr, error) {
	fd, cmd := int(int32(a[0])), int(a[1])
	f, err := t.File(fd)
	if err != nil {
		return 0, err
	}
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		f.IncRef()
		nfd, err := t.TG.FDs.Install(f, int(int32(a[2])), cmd == unix.F_DUPFD_CLOEXEC)
		if err != nil {
			f.DecRef()
			return 0, err
		}
		return uintptr(nfd), nil
	case unix.F_GETFD:
		c, err := t.TG.FDs.CloseOnExec(fd)
		if c {
			return unix.FD_CLOEXEC, err
		}
		return 0, err
	case unix.F_SETFD:
		return 0, t.TG.FDs.SetCloseOnExec(fd, a[2]&unix.FD_CLOEXEC != 0)
	case unix.F_GETFL:
		return uintptr(f.Flags()), nil
	case unix.F_SETFL:
		if int(a[2])&unix.O_ASYNC != 0 {
			noSIGIO(t)
		}
		f.SetFlags(int(a[2]))
		return 0, nil
	case unix.F_SETOWN:
		// A process, or a process group as a negative number; no check
		// that it exists, as Linux's.
		who := int32(a[2])
		o := fs.FileOwner{Type: fOwnerPID, ID: who}
		if who < 0 {
			if who == math.MinInt32 {
				return 0, unix.EINVAL
			}
			o = fs.FileOwner{Type: fOwnerPGRP, ID: -who}
		}
		f.SetOwner(o)
		return 0, nil
	case unix.F_GETOWN:
		o := f.Owner()
		if o.Type == fOwnerPGRP {
			return uintptr(-o.ID), nil // negative, as Linux's (F_GETOWN_EX has no such trouble)
		}
		return uintptr(o.ID), nil
	case unix.F_SETOWN_EX:
		var b [8]byte
		if _, err := t.MM.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		o := fs.FileOwner{Type: int32(binary.LittleEndian.Uint32(b[:])), ID: int32(binary.LittleEndian.Uint32(b[4:]))}
		switch o.Type {
		case fOwnerTID, fOwnerPID, fOwnerPGRP:
		default:
			return 0, unix.EINVAL
		}
		if o.ID < 0 {
			return 0, unix.EINVAL
		}
		f.SetOwner(o)
		return 0, nil
	case unix.F_GETOWN_EX:
		o := f.Owner()
		var b [8]byte
		binary.LittleEndian.PutUint32(b[:], uint32(o.Type))
		binary.LittleEndian.PutUint32(b[4:], uint32(o.ID))
		_, err := t.MM.CopyOut(a[2], b[:])
		return 0, err
	case unix.F_SETSIG:
		if a[2] > 64 {
			return 0, unix.EINVAL
		}
		f.SetSig(int(a[2]))
		return 0, nil
	case unix.F_GETSIG:
		return uintptr(f.Sig()), nil
	case unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ:
		return pipeSize(f, cmd, a[2])
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		return fcntlLock(t, fd, f, cmd, a[2])
	}
	return 0, unix.EINVAL
}

// F_SETOWN_EX's owner types (linux/fcntl.h).
const (
	fOwnerTID  = 0
	fOwnerPID  = 1
	fOwnerPGRP = 2
)

// noSIGIO says once under --debug that O_ASYNC is kept but no SIGIO is
// sent (nginx sets it on its channels and does not wait for one).
func noSIGIO(t *kernel.Task) {
	if t.K.FirstMessage("O_ASYNC") {
		t.K.Log.Debug("O_ASYNC (FIOASYNC, F_SETFL): kept, but SIGIO is not sent")
	}
}

// Terminal ioctls.
const (
	tcgets     = unix.TCGETS
	tcsets     = unix.TCSETS
	tcsetsw    = unix.TCSETSW
	tcsetsf    = unix.TCSETSF
	tiocgwinsz = unix.TIOCGWINSZ
	tiocgpgrp  = unix.TIOCGPGRP
	fioclex    = 0x5451
	fionclex   = 0x5450
	fionbio    = 0x5421
	fioasync   = 0x5452
	fionread   = 0x541b
)

// nsfs's ioctls (linux/nsfs.h).
const (
	nsGetUserns   = 0xb701
	nsGetParent   = 0xb702
	nsGetNstype   = 0xb703
	nsGetOwnerUID = 0xb704
)

// nsIoctl answers nsfs's ioctls on an open namespace as Linux does for a
// process in the system's initial namespaces, which the sandbox's are to
// its processes: no parent pid or user namespace (EPERM), no owning user
// namespace to hand out (EPERM, where Linux would open the initial one),
// its type, and the user namespace's owner, root.
func nsIoctl(t *kernel.Task, ns fs.Namespace, req uint, arg uintptr) (uintptr, error) {
	typ := ns.NamespaceType()
	switch req {
	case nsGetNstype:
		return uintptr(typ), nil
	case nsGetParent:
		if typ == unix.CLONE_NEWPID || typ == unix.CLONE_NEWUSER {
			return 0, unix.EPERM
		}
		return 0, unix.EINVAL
	case nsGetUserns:
		return 0, unix.EPERM
	case nsGetOwnerUID:
		if typ != unix.CLONE_NEWUSER {
			return 0, unix.EINVAL
		}
		var uid [4]byte // uid_t 0
		_, err := t.MM.CopyOut(arg, uid[:])
		return 0, err
	}
	return 0, unix.ENOTTY
}

func sysIoctl(t *kernel.Task, a Args) (uintptr, error) {
	fd, req, arg := int(int32(a[0])), uint(uint32(a[1])), a[2]
	f, err := t.File(fd)
	if err != nil {
		return 0, err
	}
	if r, ok, err := socketIoctl(t, f, req, arg); ok {
		return r, err
	}
	if ns, ok := f.Impl.(fs.Namespace); ok {
		return nsIoctl(t, ns, req, arg)
	}
	switch req {
	case fioclex, fionclex:
		return 0, t.TG.FDs.SetCloseOnExec(fd, req == fioclex)
	case fioasync, fionbio:
		// The int at arg turns O_ASYNC or O_NONBLOCK on or off.
		var on [4]byte
		if _, err := t.MM.CopyIn(arg, on[:]); err != nil {
			return 0, err
		}
		flag := unix.O_NONBLOCK
		if req == fioasync {
			flag = unix.O_ASYNC
		}
		fl := f.Flags() &^ flag
		if binary.LittleEndian.Uint32(on[:]) != 0 {
			fl |= flag
		}
		if fl&unix.O_ASYNC != 0 {
			noSIGIO(t)
		}
		f.SetFlags(fl)
		return 0, nil
	case fionread:
		if ra, ok := f.Impl.(fs.ReadAvailabler); ok {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(min(ra.ReadAvailable(), 1<<31-1)))
			_, err := t.MM.CopyOut(arg, b[:])
			return 0, err
		}
		// Bytes left to read in a regular file.
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			pos, err := f.Seek(0, unix.SEEK_CUR)
			if err != nil {
				return 0, err
			}
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(min(max(st.Size-pos, 0), 1<<31-1)))
			_, err = t.MM.CopyOut(arg, b[:])
			return 0, err
		}
	}
	if r, ok, err := ttyIoctl(t, f, req, arg); ok {
		return r, err
	}
	host, ok := f.Impl.(*fs.HostFD)
	if !ok || !host.IsTerminal() {
		return 0, unix.ENOTTY
	}
	switch req {
	case tcgets:
		tio, err := host.Termios()
		if err != nil {
			return 0, err
		}
		b := termiosBytes(tio)
		_, err = t.MM.CopyOut(arg, b)
		return 0, err
	case tcsets, tcsetsw, tcsetsf:
		b := make([]byte, termiosSize)
		if _, err := t.MM.CopyIn(arg, b); err != nil {
			return 0, err
		}
		return 0, host.SetTermios(req, termiosFrom(b))
	case tiocgwinsz:
		w, err := host.Winsize()
		if err != nil {
			return 0, err
		}
		var b [8]byte
		binary.LittleEndian.PutUint16(b[0:], w.Row)
		binary.LittleEndian.PutUint16(b[2:], w.Col)
		binary.LittleEndian.PutUint16(b[4:], w.Xpixel)
		binary.LittleEndian.PutUint16(b[6:], w.Ypixel)
		_, err = t.MM.CopyOut(arg, b[:])
		return 0, err
	case tiocgpgrp:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(t.TG.PID))
		_, err := t.MM.CopyOut(arg, b[:])
		return 0, err
	}
	return 0, unix.ENOTTY
}

// termiosSize is sizeof(struct termios) of the kernel ABI (36 bytes).
const termiosSize = 36

func termiosBytes(t *unix.Termios) []byte {
	b := make([]byte, termiosSize)
	binary.LittleEndian.PutUint32(b[0:], t.Iflag)
	binary.LittleEndian.PutUint32(b[4:], t.Oflag)
	binary.LittleEndian.PutUint32(b[8:], t.Cflag)
	binary.LittleEndian.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:36], t.Cc[:19])
	return b
}

func termiosFrom(b []byte) *unix.Termios {
	t := &unix.Termios{
		Iflag: binary.LittleEndian.Uint32(b[0:]),
		Oflag: binary.LittleEndian.Uint32(b[4:]),
		Cflag: binary.LittleEndian.Uint32(b[8:]),
		Lflag: binary.LittleEndian.Uint32(b[12:]),
		Line:  b[16],
	}
	copy(t.Cc[:19], b[17:36])
	return t
}

// statBytes encodes struct stat of x86-64 (144 bytes).
func statBytes(st *unix.Stat_t) []byte {
	b := make([]byte, 144)
	le := binary.LittleEndian
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], st.Nlink)
	le.PutUint32(b[24:], st.Mode)
	le.PutUint32(b[28:], st.Uid)
	le.PutUint32(b[32:], st.Gid)
	le.PutUint64(b[40:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[56:], uint64(st.Blksize))
	le.PutUint64(b[64:], uint64(st.Blocks))
	le.PutUint64(b[72:], uint64(st.Atim.Sec))
	le.PutUint64(b[80:], uint64(st.Atim.Nsec))
	le.PutUint64(b[88:], uint64(st.Mtim.Sec))
	le.PutUint64(b[96:], uint64(st.Mtim.Nsec))
	le.PutUint64(b[104:], uint64(st.Ctim.Sec))
	le.PutUint64(b[112:], uint64(st.Ctim.Nsec))
	return b
}

func fstatTo(t *kernel.Task, fd int, addr uintptr) error {
	f, err := t.File(fd)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = t.MM.CopyOut(addr, statBytes(&st))
	return err
}

func sysFstat(t *kernel.Task, a Args) (uintptr, error) {
	return 0, fstatTo(t, int(int32(a[0])), a[1])
}

func sysNewfstatat(t *kernel.Task, a Args) (uintptr, error) {
	dirfd, pathAddr, statAddr, flags := int(int32(a[0])), a[1], a[2], int(a[3])
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT) != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != unix.AT_FDCWD {
		return 0, fstatTo(t, dirfd, statAddr)
	}
	return fstatatPath(t, dirfd, path, statAddr, flags)
}

func sysPoll(t *kernel.Task, a Args) (uintptr, error) {
	addr, nfds, timeout := a[0], int(uint32(a[1])), int(int32(a[2]))
	if nfds > t.TG.FDs.Limit() {
		return 0, unix.EINVAL
	}
	raw := make([]byte, 8*nfds)
	if _, err := t.MM.CopyIn(addr, raw); err != nil {
		return 0, err
	}
	ready, err := pollFDs(t, raw, timeout)
	if err != nil {
		return 0, err
	}
	if _, err := t.MM.CopyOut(addr, raw); err != nil {
		return 0, err
	}
	return uintptr(ready), nil
}
