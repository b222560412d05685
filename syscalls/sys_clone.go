package syscalls

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_CLONE, sysClone)
	register(unix.SYS_CLONE3, sysClone3)
	register(unix.SYS_UNSHARE, sysUnshare)
	register(unix.SYS_FORK, func(t *kernel.Task, a Args) (uintptr, error) {
		return doClone(t, kernel.CloneArgs{ExitSignal: unix.SIGCHLD})
	})
	register(unix.SYS_VFORK, func(t *kernel.Task, a Args) (uintptr, error) {
		return doClone(t, kernel.CloneArgs{Flags: unix.CLONE_VM | unix.CLONE_VFORK, ExitSignal: unix.SIGCHLD})
	})
}

// unshare(2) flags.
const (
	unshareKnown = unix.CLONE_THREAD | unix.CLONE_FS | unix.CLONE_NEWNS | unix.CLONE_SIGHAND | unix.CLONE_VM |
		unix.CLONE_FILES | unix.CLONE_SYSVSEM | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME
	unshareNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME
)

// sysUnshare is unshare(flags). The sandbox has one namespace of each kind
// (it is the namespace): a new one is EPERM, as where unprivileged user
// namespaces are off. A process of one thread already owns its
// filesystem information and semaphore undo list here, so unsharing them
// succeeds, and CLONE_FILES gives it a copy of a descriptor table a
// CLONE_FILES clone shares; CLONE_VM, CLONE_SIGHAND and CLONE_THREAD
// succeed for a process of one thread and are EINVAL otherwise, as on
// Linux. What the kernel cannot give, a thread its own descriptor table
// or working directory (tables belong to processes here), is EINVAL.
// Refusals are logged once under --debug.
func sysUnshare(t *kernel.Task, a Args) (uintptr, error) {
	flags := a[0]
	if flags&^unshareKnown != 0 {
		return 0, unix.EINVAL
	}
	threads := t.TG.Threads()
	if flags&(unix.CLONE_VM|unix.CLONE_SIGHAND|unix.CLONE_THREAD) != 0 && threads > 1 {
		return 0, unix.EINVAL
	}
	refuse := func(err unix.Errno, what string) (uintptr, error) {
		if t.K.FirstMessage("unshare " + what) {
			t.K.Log.Debug("unshare: not offered inside the sandbox", "what", what, "flags", fmt.Sprintf("%#x", flags))
		}
		return 0, err
	}
	if flags&unshareNamespaces != 0 {
		return refuse(unix.EPERM, "new namespaces")
	}
	if flags&(unix.CLONE_FS|unix.CLONE_FILES) != 0 && threads > 1 {
		return refuse(unix.EINVAL, "a thread's own files or filesystem information")
	}
	if flags&unix.CLONE_FILES != 0 {
		t.TG.UnshareFiles()
	}
	return 0, nil
}

// sysClone is clone(flags, stack, parent_tid, child_tid, tls) (the x86-64
// argument order). The low byte of flags is the exit signal.
func sysClone(t *kernel.Task, a Args) (uintptr, error) {
	flags := uint64(a[0])
	sig := unix.Signal(flags & 0xff)
	if sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	ca := kernel.CloneArgs{
		Flags: flags &^ 0xff, ExitSignal: sig, Stack: uint64(a[1]),
		ParentTID: a[2], ChildTID: a[3], TLS: uint64(a[4]),
	}
	if flags&unix.CLONE_PIDFD != 0 {
		// clone() returns the pidfd where parent_tid points, so the
		// two cannot go together.
		if flags&unix.CLONE_PARENT_SETTID != 0 {
			return 0, unix.EINVAL
		}
		ca.PidFD = a[2]
	}
	return doClone(t, ca)
}

// clone3's struct clone_args, as of Linux 5.7 (64 bytes; later versions
// add set_tid and cgroup, which must then be zero).
const (
	cloneArgsV0   = 64
	cloneArgsMax  = 4096
	cloneIntoCgrp = 0x200000000
)

func sysClone3(t *kernel.Task, a Args) (uintptr, error) {
	addr, size := a[0], a[1]
	if size < cloneArgsV0 || size > cloneArgsMax {
		return 0, unix.EINVAL
	}
	b := make([]byte, size)
	if _, err := t.MM.CopyIn(addr, b); err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	flags := le.Uint64(b[0:])
	pidfd, childTID, parentTID := le.Uint64(b[8:]), le.Uint64(b[16:]), le.Uint64(b[24:])
	exitSig, stack, stackSize, tls := le.Uint64(b[32:]), le.Uint64(b[40:]), le.Uint64(b[48:]), le.Uint64(b[56:])
	// set_tid, set_tid_size, cgroup and anything newer must be unset.
	for i := cloneArgsV0; i < len(b); i++ {
		if b[i] != 0 {
			return 0, unix.E2BIG
		}
	}
	if exitSig > kernel.NumSignals || flags&0xff != 0 || flags&cloneIntoCgrp != 0 {
		return 0, unix.EINVAL
	}

	if (stack == 0) != (stackSize == 0) {
		return 0, unix.EINVAL
	}
	var sp uint64
	if stack != 0 {
		sp = stack + stackSize // clone3 takes the lowest address and the size
	}
	// The pidfd field matters only with CLONE_PIDFD (glibc fills it in).
	return doClone(t, kernel.CloneArgs{
		Flags: flags, ExitSignal: unix.Signal(exitSig), Stack: sp,
		ParentTID: uintptr(parentTID), ChildTID: uintptr(childTID), TLS: tls, PidFD: uintptr(pidfd),
	})
}

// doClone makes and starts the child; a vfork parent then waits for it to
// exec or exit. It returns the child's TID.
func doClone(t *kernel.Task, ca kernel.CloneArgs) (uintptr, error) {
	if ca.Flags&unix.CLONE_PIDFD != 0 && ca.Flags&(unix.CLONE_THREAD|unix.CLONE_DETACHED) != 0 {
		return 0, unix.EINVAL
	}
	child, err := t.Clone(ca)
	if err != nil {
		var e unix.Errno
		if errors.As(err, &e) && e == unix.EINVAL {
			logOnce(t, "clone: "+err.Error())
		}
		return 0, err
	}
	tid := child.TID
	if ca.Flags&unix.CLONE_PIDFD != 0 {
		// The parent gets a pidfd for the child before it runs.
		fd, err := installPidFD(t, child.TG, false)
		if err == nil {
			err = copyOutInt32(t, ca.PidFD, int32(fd))
		}
		if err != nil {
			t.K.Log.Debug("clone: CLONE_PIDFD not delivered", "err", err)
		}
	}
	done := child.VforkDone()
	ev := t.PtraceCloned(child, ca.Flags, ca.ExitSignal)
	child.Start()
	t.PtraceClonedStop(ev, tid)
	if done != nil {
		t.WaitVfork(child, done)
	}
	return uintptr(tid), nil
}

// logOnce logs a refused request under --debug, once per message.
func logOnce(t *kernel.Task, msg string) {
	if t.K.Log != nil && t.K.FirstMessage(msg) {
		t.K.Log.Debug(msg)
	}
}
