package hostcall

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The file syscalls of hostfs, with the signatures of golang.org/x/sys/unix
// (errors are unix.Errno values), made through Syscall6.

var zero byte

// bufPtr is the address of b's first byte (of a dummy byte when b is empty).
func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return unsafe.Pointer(&zero)
	}
	return unsafe.Pointer(&b[0])
}

func errOf(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func str(s string) (*byte, error) { return unix.BytePtrFromString(s) }

// str2 converts the two paths of a call that takes two.
func str2(a, b string) (*byte, *byte, error) {
	pa, err := str(a)
	if err != nil {
		return nil, nil, err
	}
	pb, err := str(b)
	return pa, pb, err
}

// count is the result of a call that returns a count or a descriptor.
func count(r uintptr, e unix.Errno) (int, error) {
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// Openat2 is openat2(2).
func Openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	p, err := str(path)
	if err != nil {
		return -1, err
	}
	r, e := Syscall6(unix.SYS_OPENAT2, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
	return count(r, e)
}

// Fstatat is newfstatat(2).
func Fstatat(dirfd int, path string, st *unix.Stat_t, flags int) error {
	p, err := str(path)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	return errOf(e)
}

// Fstat is fstat(2).
func Fstat(fd int, st *unix.Stat_t) error {
	_, e := Syscall6(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(st)), 0, 0, 0, 0)
	return errOf(e)
}

// Fstatfs is fstatfs(2).
func Fstatfs(fd int, st *unix.Statfs_t) error {
	_, e := Syscall6(unix.SYS_FSTATFS, uintptr(fd), uintptr(unsafe.Pointer(st)), 0, 0, 0, 0)
	return errOf(e)
}

// IoctlGetFlags is ioctl(fd, FS_IOC_GETFLAGS): the inode's flags (the
// kernel writes an int).
func IoctlGetFlags(fd int) (uint32, error) {
	var flags uint64
	_, e := Syscall6(unix.SYS_IOCTL, uintptr(fd), unix.FS_IOC_GETFLAGS, uintptr(unsafe.Pointer(&flags)), 0, 0, 0)
	return uint32(flags), errOf(e)
}

// Getdents is getdents64(2).
func Getdents(fd int, buf []byte) (int, error) {
	r, e := Syscall6(unix.SYS_GETDENTS64, uintptr(fd), uintptr(bufPtr(buf)), uintptr(len(buf)), 0, 0, 0)
	return count(r, e)
}

// Readlinkat is readlinkat(2).
func Readlinkat(dirfd int, path string, buf []byte) (int, error) {
	p, err := str(path)
	if err != nil {
		return -1, err
	}
	r, e := Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(bufPtr(buf)), uintptr(len(buf)), 0, 0)
	return count(r, e)
}

// Read is read(2).
func Read(fd int, p []byte) (int, error) {
	r, e := Syscall6(unix.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)), 0, 0, 0)
	return count(r, e)
}

// Write is write(2).
func Write(fd int, p []byte) (int, error) {
	r, e := Syscall6(unix.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)), 0, 0, 0)
	return count(r, e)
}

// Pread is pread64(2).
func Pread(fd int, p []byte, off int64) (int, error) {
	r, e := Syscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)), uintptr(off), 0, 0)
	return count(r, e)
}

// Pwrite is pwrite64(2).
func Pwrite(fd int, p []byte, off int64) (int, error) {
	r, e := Syscall6(unix.SYS_PWRITE64, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)), uintptr(off), 0, 0)
	return count(r, e)
}

// Seek is lseek(2).
func Seek(fd int, off int64, whence int) (int64, error) {
	r, e := Syscall6(unix.SYS_LSEEK, uintptr(fd), uintptr(off), uintptr(whence), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int64(r), nil
}

// Close is close(2).
func Close(fd int) error {
	_, e := Syscall6(unix.SYS_CLOSE, uintptr(fd), 0, 0, 0, 0, 0)
	return errOf(e)
}

// Fsync is fsync(2).
func Fsync(fd int) error {
	_, e := Syscall6(unix.SYS_FSYNC, uintptr(fd), 0, 0, 0, 0, 0)
	return errOf(e)
}

// Fdatasync is fdatasync(2).
func Fdatasync(fd int) error {
	_, e := Syscall6(unix.SYS_FDATASYNC, uintptr(fd), 0, 0, 0, 0, 0)
	return errOf(e)
}

// Ftruncate is ftruncate(2).
func Ftruncate(fd int, length int64) error {
	_, e := Syscall6(unix.SYS_FTRUNCATE, uintptr(fd), uintptr(length), 0, 0, 0, 0)
	return errOf(e)
}

// Fchmod is fchmod(2).
func Fchmod(fd int, mode uint32) error {
	_, e := Syscall6(unix.SYS_FCHMOD, uintptr(fd), uintptr(mode), 0, 0, 0, 0)
	return errOf(e)
}

// FcntlInt is fcntl(2) with an integer argument.
func FcntlInt(fd uintptr, cmd, arg int) (int, error) {
	r, e := Syscall6(unix.SYS_FCNTL, fd, uintptr(cmd), uintptr(arg), 0, 0, 0)
	return count(r, e)
}

// Mkdirat is mkdirat(2).
func Mkdirat(dirfd int, path string, mode uint32) error {
	p, err := str(path)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_MKDIRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(mode), 0, 0, 0)
	return errOf(e)
}

// Unlinkat is unlinkat(2).
func Unlinkat(dirfd int, path string, flags int) error {
	p, err := str(path)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_UNLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags), 0, 0, 0)
	return errOf(e)
}

// Symlinkat is symlinkat(2).
func Symlinkat(target string, newdirfd int, newpath string) error {
	t, p, err := str2(target, newpath)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_SYMLINKAT, uintptr(unsafe.Pointer(t)), uintptr(newdirfd), uintptr(unsafe.Pointer(p)), 0, 0, 0)
	return errOf(e)
}

// Mknodat is mknodat(2).
func Mknodat(dirfd int, path string, mode uint32, dev int) error {
	p, err := str(path)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_MKNODAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(mode), uintptr(dev), 0, 0)
	return errOf(e)
}

// Linkat is linkat(2).
func Linkat(olddirfd int, oldpath string, newdirfd int, newpath string, flags int) error {
	o, n, err := str2(oldpath, newpath)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_LINKAT, uintptr(olddirfd), uintptr(unsafe.Pointer(o)), uintptr(newdirfd), uintptr(unsafe.Pointer(n)), uintptr(flags), 0)
	return errOf(e)
}

// Renameat2 is renameat2(2).
func Renameat2(olddirfd int, oldpath string, newdirfd int, newpath string, flags uint) error {
	o, n, err := str2(oldpath, newpath)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_RENAMEAT2, uintptr(olddirfd), uintptr(unsafe.Pointer(o)), uintptr(newdirfd), uintptr(unsafe.Pointer(n)), uintptr(flags), 0)
	return errOf(e)
}

// UtimesNanoAt is utimensat(2) with two timestamps.
func UtimesNanoAt(dirfd int, path string, ts []unix.Timespec, flags int) error {
	if len(ts) != 2 {
		return unix.EINVAL
	}
	p, err := str(path)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_UTIMENSAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&ts[0])), uintptr(flags), 0, 0)
	return errOf(e)
}

// Preadv is preadv(2).
func Preadv(fd int, iov []unix.Iovec, off int64) (int, error) {
	if len(iov) == 0 {
		return 0, nil
	}
	r, e := Syscall6(unix.SYS_PREADV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), uintptr(off), uintptr(uint64(off)>>32), 0)
	return count(r, e)
}

// Fgetxattr is fgetxattr(2).
func Fgetxattr(fd int, name string, dest []byte) (int, error) {
	p, err := str(name)
	if err != nil {
		return -1, err
	}
	return count(Syscall6(unix.SYS_FGETXATTR, uintptr(fd), uintptr(unsafe.Pointer(p)), uintptr(bufPtr(dest)), uintptr(len(dest)), 0, 0))
}

// Fsetxattr is fsetxattr(2).
func Fsetxattr(fd int, name string, value []byte, flags int) error {
	p, err := str(name)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_FSETXATTR, uintptr(fd), uintptr(unsafe.Pointer(p)), uintptr(bufPtr(value)), uintptr(len(value)), uintptr(flags), 0)
	return errOf(e)
}

// Flistxattr is flistxattr(2).
func Flistxattr(fd int, dest []byte) (int, error) {
	return count(Syscall6(unix.SYS_FLISTXATTR, uintptr(fd), uintptr(bufPtr(dest)), uintptr(len(dest)), 0, 0, 0))
}

// Fremovexattr is fremovexattr(2).
func Fremovexattr(fd int, name string) error {
	p, err := str(name)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_FREMOVEXATTR, uintptr(fd), uintptr(unsafe.Pointer(p)), 0, 0, 0, 0)
	return errOf(e)
}

// Fchmodat is fchmodat(2).
func Fchmodat(dirfd int, path string, mode uint32) error {
	p, err := str(path)
	if err != nil {
		return err
	}
	_, e := Syscall6(unix.SYS_FCHMODAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(mode), 0, 0, 0)
	return errOf(e)
}
