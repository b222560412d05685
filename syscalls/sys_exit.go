package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_EXIT, sysExit)
	register(unix.SYS_EXIT_GROUP, sysExitGroup)
}

// sysExit ends the calling thread; the process ends with its last thread.
func sysExit(t *kernel.Task, a Args) (uintptr, error) {
	t.ExitThread(int(a[0] & 0xff))
	return 0, nil
}

// sysExitGroup ends every thread of the process.
func sysExitGroup(t *kernel.Task, a Args) (uintptr, error) {
	t.TG.Exit(kernel.ExitStatus{Code: int(a[0] & 0xff)})
	return 0, nil
}
