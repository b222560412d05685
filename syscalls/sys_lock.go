package syscalls

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/lock"
	"ringbox/guestkernel/kernel"
)

// Advisory file locks (fs/lock): fcntl's record locks, POSIX (owned by the
// descriptor table) and OFD (owned by the open file), and flock.

// struct flock on x86-64: l_type, l_whence (shorts), l_start, l_len
// (off_t, from offset 8), l_pid (int, offset 24); 32 bytes.
const flockSize = 32

// fcntlLock implements F_GETLK, F_SETLK, F_SETLKW and their F_OFD_ forms.
func fcntlLock(t *kernel.Task, fd int, f *fs.File, cmd int, addr uintptr) (uintptr, error) {
	var b [flockSize]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	typ := int(int16(binary.LittleEndian.Uint16(b[0:])))
	whence := int(int16(binary.LittleEndian.Uint16(b[2:])))
	start := int64(binary.LittleEndian.Uint64(b[8:]))
	length := int64(binary.LittleEndian.Uint64(b[16:]))
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	if ofd && binary.LittleEndian.Uint32(b[24:]) != 0 {
		return 0, unix.EINVAL // l_pid must be 0
	}
	if typ != lock.Read && typ != lock.Write && typ != lock.Unlock {
		return 0, unix.EINVAL
	}
	lo, hi, err := lockRange(f, whence, start, length)
	if err != nil {
		return 0, err
	}
	key, err := lock.KeyOf(f)
	if err != nil {
		return 0, err
	}
	var owner any = t.TG.FDs
	pid := t.TG.PID
	if ofd {
		owner, pid = f, -1
	}
	if cmd == unix.F_GETLK || cmd == unix.F_OFD_GETLK {
		if typ == lock.Unlock {
			return 0, unix.EINVAL
		}
		l, found := t.K.Locks.Test(key, owner, typ, lo, hi)
		if !found {
			binary.LittleEndian.PutUint16(b[0:], unix.F_UNLCK)
		} else {
			binary.LittleEndian.PutUint16(b[0:], uint16(l.Type))
			binary.LittleEndian.PutUint16(b[2:], unix.SEEK_SET)
			binary.LittleEndian.PutUint64(b[8:], l.Start)
			n := uint64(0) // to the end of the file
			if l.End != lock.EOF {
				n = l.End - l.Start
			}
			binary.LittleEndian.PutUint64(b[16:], n)
			binary.LittleEndian.PutUint32(b[24:], uint32(l.PID))
		}
		_, err := t.MM.CopyOut(addr, b[:])
		return 0, err
	}
	if typ == lock.Read && !f.Readable() || typ == lock.Write && !f.Writable() {
		return 0, unix.EBADF
	}
	if ofd && typ != lock.Unlock {
		// The file's last close drops its locks.
		f.OnRelease(t.K.Locks, func() { t.K.Locks.ReleaseFile(key, f) })
	}
	wait := cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW
	err = t.K.Locks.SetRecord(t, key, owner, pid, typ, lo, hi, wait)
	if err == lock.ErrInterrupted {
		return 0, kernel.ErrRestartSys
	}
	if err == nil && !ofd && typ != lock.Unlock {
		// Another thread closed fd while this one waited: the close
		// found no lock to drop, so this one must not stay (Linux's
		// fcntl_setlk does the same).
		if cur, gerr := t.TG.FDs.Get(fd); gerr != nil || cur != f {
			t.K.Locks.SetRecord(t, key, owner, pid, lock.Unlock, lo, hi, false)
		}
	}
	return 0, err
}

// lockRange turns l_whence, l_start and l_len into [lo, hi).
func lockRange(f *fs.File, whence int, start, length int64) (uint64, uint64, error) {
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		pos, err := f.Seek(0, unix.SEEK_CUR)
		if err != nil {
			return 0, 0, err
		}
		base = pos
	case unix.SEEK_END:
		st, err := f.Stat()
		if err != nil {
			return 0, 0, err
		}
		base = st.Size
	default:
		return 0, 0, unix.EINVAL
	}
	if start > 0 && base > math.MaxInt64-start {
		return 0, 0, unix.EOVERFLOW
	}
	lo := base + start
	switch {
	case length == 0:
		if lo < 0 {
			return 0, 0, unix.EINVAL
		}
		return uint64(lo), lock.EOF, nil
	case length > 0:
		if lo < 0 {
			return 0, 0, unix.EINVAL
		}
		// The last byte, lo+length-1, must be a valid offset.
		if length-1 > math.MaxInt64-lo {
			return 0, 0, unix.EOVERFLOW
		}
		return uint64(lo), uint64(lo) + uint64(length), nil
	default: // [lo+length, lo)
		if lo < 0 || length == math.MinInt64 || lo+length < 0 {
			return 0, 0, unix.EINVAL
		}
		return uint64(lo + length), uint64(lo), nil
	}
}

// sysFlock: whole-file locks of the open file description, independent
// of the record locks.
func sysFlock(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	op := int(a[1])
	wait := op&unix.LOCK_NB == 0
	var typ int
	switch op &^ unix.LOCK_NB {
	case unix.LOCK_SH:
		typ = lock.Read
	case unix.LOCK_EX:
		typ = lock.Write
	case unix.LOCK_UN:
		typ = lock.Unlock
	default:
		return 0, unix.EINVAL
	}
	key, err := lock.KeyOf(f)
	if err != nil {
		return 0, err
	}
	if typ != lock.Unlock {
		f.OnRelease(t.K.Locks, func() { t.K.Locks.ReleaseFile(key, f) })
	}
	err = t.K.Locks.Flock(t, key, f, typ, wait)
	if err == lock.ErrInterrupted {
		return 0, kernel.ErrRestartSys
	}
	return 0, err
}
