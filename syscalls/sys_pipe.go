package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/pipe"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PIPE, sysPipe)
	register(unix.SYS_PIPE2, sysPipe2)
	register(unix.SYS_SPLICE, afterIO(2, unix.IN_MODIFY, afterIO(0, unix.IN_ACCESS, sysSplice)))
	register(unix.SYS_TEE, sysTee)
	register(unix.SYS_VMSPLICE, sysVmsplice)
}

// splice(2) flags.
const (
	spliceMove     = 1
	spliceNonblock = 2
	spliceMore     = 4
	spliceGift     = 8
	spliceAll      = spliceMove | spliceNonblock | spliceMore | spliceGift
)

func sysPipe(t *kernel.Task, a Args) (uintptr, error) { return makePipe(t, a[0], 0) }

func sysPipe2(t *kernel.Task, a Args) (uintptr, error) { return makePipe(t, a[0], int(a[1])) }

// makePipe creates a pipe and stores its read and write descriptors at
// addr (int[2]).
func makePipe(t *kernel.Task, addr uintptr, flags int) (uintptr, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return 0, unix.EINVAL
	}
	c := t.TG.Creds()
	r, w := pipe.New(c.EUID, c.EGID, flags&unix.O_DIRECT != 0)
	// As on Linux, only the write end shows O_DIRECT.
	rf := fs.NewFile(r, unix.O_RDONLY|flags&unix.O_NONBLOCK)
	wf := fs.NewFile(w, unix.O_WRONLY|flags&(unix.O_NONBLOCK|unix.O_DIRECT))
	cloexec := flags&unix.O_CLOEXEC != 0
	rfd, err := t.TG.FDs.Install(rf, 0, cloexec)
	if err != nil {
		rf.DecRef()
		wf.DecRef()
		return 0, err
	}
	wfd, err := t.TG.FDs.Install(wf, 0, cloexec)
	if err != nil {
		_ = t.TG.FDs.Remove(rfd)
		wf.DecRef()
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if _, err := t.MM.CopyOut(addr, b[:]); err != nil {
		_ = t.TG.FDs.Remove(rfd)
		_ = t.TG.FDs.Remove(wfd)
		return 0, unix.EFAULT
	}
	return 0, nil
}

// pipeSize implements F_GETPIPE_SZ and F_SETPIPE_SZ (EBADF for a file
// that is not a pipe).
func pipeSize(f *fs.File, cmd int, arg uintptr) (uintptr, error) {
	e, ok := f.Impl.(*pipe.End)
	if !ok {
		return 0, unix.EBADF
	}
	if cmd == unix.F_GETPIPE_SZ {
		return uintptr(e.Pipe().Size()), nil
	}
	n, err := e.Pipe().SetSize(uint64(uint32(arg)))
	return uintptr(n), err
}

// pipeEnd returns f's pipe end, or nil.
func pipeEnd(f *fs.File) *pipe.End {
	e, _ := f.Impl.(*pipe.End)
	return e
}

// pipeLoop runs op until it moves data, ends (0) or fails. On EAGAIN it
// waits, unless nonblock: for in to become readable when it is not, else
// for room in out. EPIPE sends SIGPIPE.
func pipeLoop(t *kernel.Task, in, out *fs.File, nonblock bool, op func() (int, error)) (uintptr, error) {
	for {
		n, err := op()
		switch {
		case err == nil:
			return uintptr(n), nil
		case err == unix.EPIPE:
			sendSIGPIPE(t)
			return 0, err
		case err != unix.EAGAIN || nonblock:
			return 0, err
		}
		wf, mask := out, waiter.WritableEvents
		if in != nil && fs.Readiness(in, waiter.ReadableEvents|waiter.EventHup) == 0 {
			wf, mask = in, waiter.ReadableEvents
		}
		if err := waitReady(t, wf, mask); err != nil {
			return 0, err
		}
	}
}

// spliceFiles returns the input and output files of splice or tee.
func spliceFiles(t *kernel.Task, inFD, outFD int) (in, out *fs.File, err error) {
	if in, err = t.File(inFD); err != nil {
		return nil, nil, err
	}
	if out, err = t.File(outFD); err != nil {
		return nil, nil, err
	}
	if !in.Readable() || !out.Writable() {
		return nil, nil, unix.EBADF
	}
	return in, out, nil
}

func sysSplice(t *kernel.Task, a Args) (uintptr, error) {
	offIn, offOut, n, flags := a[1], a[3], a[4], a[5]
	if n == 0 {
		return 0, nil
	}
	if flags&^spliceAll != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := spliceFiles(t, int(int32(a[0])), int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	n = min(n, maxRW)
	ip, op := pipeEnd(in), pipeEnd(out)
	nonblock := flags&spliceNonblock != 0
	switch {
	case ip != nil && op != nil:
		if offIn != 0 || offOut != 0 {
			return 0, unix.ESPIPE
		}
		if ip.Pipe() == op.Pipe() {
			return 0, unix.EINVAL
		}
		nonblock = nonblock || nonBlocking(in) || nonBlocking(out)
		return pipeLoop(t, in, out, nonblock, func() (int, error) {
			return pipe.Splice(ip.Pipe(), op.Pipe(), int(n))
		})
	case ip != nil:
		// From a pipe to a file.
		if offIn != 0 {
			return 0, unix.ESPIPE
		}
		if out.Flags()&unix.O_APPEND != 0 {
			return 0, unix.EINVAL
		}
		off, err := offsetArg(t, offOut)
		if err != nil {
			return 0, err
		}
		write := func(b []byte) (int, error) {
			if off >= 0 {
				return out.Pwrite(b, off)
			}
			return out.Write(b)
		}
		done, err := pipeLoop(t, in, out, nonblock || nonBlocking(in), func() (int, error) {
			return ip.Pipe().Drain(int(n), write)
		})
		if err == nil && offOut != 0 {
			err = t.MM.CopyOutUint64(offOut, uint64(off)+uint64(done))
		}
		return done, err
	case op != nil:
		// From a file to a pipe.
		if offOut != 0 {
			return 0, unix.ESPIPE
		}
		off, err := offsetArg(t, offIn)
		if err != nil {
			return 0, err
		}
		read := func(b []byte) (int, error) {
			if off >= 0 {
				return in.Pread(b, off)
			}
			return in.Read(b)
		}
		done, err := pipeLoop(t, in, out, nonblock || nonBlocking(out), func() (int, error) {
			return op.Pipe().Fill(int(n), read)
		})
		if err == nil && offIn != 0 {
			err = t.MM.CopyOutUint64(offIn, uint64(off)+uint64(done))
		}
		return done, err
	}
	return 0, unix.EINVAL
}

func sysTee(t *kernel.Task, a Args) (uintptr, error) {
	n, flags := a[2], a[3]
	if n == 0 {
		return 0, nil
	}
	if flags&^spliceAll != 0 {
		return 0, unix.EINVAL
	}
	in, out, err := spliceFiles(t, int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	ip, op := pipeEnd(in), pipeEnd(out)
	if ip == nil || op == nil || ip.Pipe() == op.Pipe() {
		return 0, unix.EINVAL
	}
	nonblock := flags&spliceNonblock != 0 || nonBlocking(in) || nonBlocking(out)
	return pipeLoop(t, in, out, nonblock, func() (int, error) {
		return pipe.Tee(ip.Pipe(), op.Pipe(), int(min(n, maxRW)))
	})
}

func sysVmsplice(t *kernel.Task, a Args) (uintptr, error) {
	flags := a[3]
	if flags&^spliceAll != 0 {
		return 0, unix.EINVAL
	}
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	e := pipeEnd(f)
	if e == nil {
		return 0, unix.EBADF
	}
	iov, err := readIovecs(t, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	nonblock := flags&spliceNonblock != 0 || nonBlocking(f)
	switch {
	case f.Writable():
		// Gather what one pipe can hold at most, then store what fits.
		var data []byte
		for _, v := range iov {
			k := min(v.len, uintptr(pipe.MaxSize-len(data)))
			if k == 0 {
				continue
			}
			start := len(data)
			data = append(data, make([]byte, k)...)
			c, cerr := t.MM.CopyIn(v.base, data[start:])
			if cerr != nil {
				data = data[:start+c]
				if len(data) == 0 {
					return 0, cerr
				}
				break
			}
		}
		if len(data) == 0 {
			return 0, nil
		}
		return pipeLoop(t, nil, f, nonblock, func() (int, error) {
			return e.Pipe().Fill(len(data), func(b []byte) (int, error) { return copy(b, data), nil })
		})
	case f.Readable():
		read := func(b []byte) (int, error) {
			for {
				n, err := f.Read(b)
				if err != unix.EAGAIN || nonblock {
					return n, err
				}
				if err := waitReady(t, f, waiter.ReadableEvents); err != nil {
					return 0, err
				}
			}
		}
		return scatterRead(t, iov, read)
	}
	return 0, unix.EBADF
}
