package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/eventfd"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_EVENTFD, sysEventfd)
	register(unix.SYS_EVENTFD2, sysEventfd2)
}

// eventfdFlags are the flags eventfd2 accepts.
const eventfdFlags = unix.EFD_SEMAPHORE | unix.EFD_CLOEXEC | unix.EFD_NONBLOCK

func sysEventfd(t *kernel.Task, a Args) (uintptr, error) { return makeEventfd(t, uint32(a[0]), 0) }

func sysEventfd2(t *kernel.Task, a Args) (uintptr, error) {
	return makeEventfd(t, uint32(a[0]), int(int32(a[1])))
}

// makeEventfd creates an eventfd with the initial count and flags.
func makeEventfd(t *kernel.Task, initial uint32, flags int) (uintptr, error) {
	if flags&^eventfdFlags != 0 {
		return 0, unix.EINVAL
	}
	e := eventfd.New(uint64(initial), flags&unix.EFD_SEMAPHORE != 0)
	f := fs.NewFile(e, unix.O_RDWR|flags&unix.O_NONBLOCK)
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.EFD_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}
