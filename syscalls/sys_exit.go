package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_EXIT, sysExit)
	register(unix.SYS_EXIT_GROUP, sysExit)
}

// sysExit ends the thread group (a single-threaded process: exit and
// exit_group are the same).
func sysExit(t *kernel.Task, a Args) (uintptr, error) {
	t.TG.Exit(kernel.ExitStatus{Code: int(a[0] & 0xff)})
	return 0, nil
}
