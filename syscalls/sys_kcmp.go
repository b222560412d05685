package syscalls

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_KCMP, sysKcmp)
}

// kcmp's types (linux/kcmp.h).
const (
	kcmpFile = iota
	kcmpVM
	kcmpFiles
	kcmpFS
	kcmpSighand
	kcmpIO
	kcmpSysvsem
	kcmpEpollTFD
	kcmpTypes
)

// kcmpCookies hide the kernel's addresses behind kcmp's order: Linux's
// scheme, (v ^ a) * b with random a and odd b per type, so results are
// a consistent order that says nothing of where objects lie.
var kcmpCookies = sync.OnceValue(func() (c [kcmpTypes][2]uint64) {
	var b [kcmpTypes * 16]byte
	rand.Read(b[:])
	for i := range c {
		c[i][0] = binary.LittleEndian.Uint64(b[i*16:])
		c[i][1] = binary.LittleEndian.Uint64(b[i*16+8:]) | 1
	}
	return c
})

// sysKcmp is kcmp(pid1, pid2, type, idx1, idx2): whether two tasks share
// a kernel resource (0), or else their order (1: less, 2: greater). The
// caller must be allowed to ptrace both. A process here owns its
// filesystem information, signal handlers and semaphore undo list
// (CLONE_FS, CLONE_SIGHAND and CLONE_SYSVSEM between processes are not
// kept shared), so those compare by process; as on Linux, two undo lists
// not yet made are equal, and so are two I/O contexts (never made here).
// KCMP_EPOLL_TFD is EOPNOTSUPP (logged once under --debug).
func sysKcmp(t *kernel.Task, a Args) (uintptr, error) {
	typ := uintptr(uint32(a[2]))
	t1, t2 := t.K.Task(int32(a[0])), t.K.Task(int32(a[1]))
	if t1 == nil || t2 == nil {
		return 0, unix.ESRCH
	}
	for _, o := range []*kernel.Task{t1, t2} {
		if o.TG != t.TG {
			if err := mayTrace(t, o.TG); err != nil {
				return 0, err
			}
		}
	}
	var v1, v2 uintptr
	switch typ {
	case kcmpFile:
		// An exited task has no files: EBADF, as Linux's.
		f1, err := t1.TG.FileRef(int(int32(a[3])))
		if err != nil {
			return 0, unix.EBADF
		}
		defer f1.DecRef()
		f2, err := t2.TG.FileRef(int(int32(a[4])))
		if err != nil {
			return 0, unix.EBADF
		}
		defer f2.DecRef()
		v1, v2 = uintptr(unsafe.Pointer(f1)), uintptr(unsafe.Pointer(f2))
	case kcmpVM:
		v1, v2 = t1.AddressSpaceID(), t2.AddressSpaceID()
	case kcmpFiles:
		v1, v2 = t1.TG.FilesID(), t2.TG.FilesID()
	case kcmpFS, kcmpSighand:
		v1, v2 = uintptr(unsafe.Pointer(t1.TG)), uintptr(unsafe.Pointer(t2.TG))
	case kcmpIO:
		return 0, nil // no task has an I/O context (Linux's stays NULL until block I/O)
	case kcmpSysvsem:
		// Linux compares undo lists, NULL until a semop with SEM_UNDO.
		if t.K.IPC.HasUndo(t1.TG.PID) || t.K.IPC.HasUndo(t2.TG.PID) {
			v1, v2 = uintptr(unsafe.Pointer(t1.TG)), uintptr(unsafe.Pointer(t2.TG))
		}
	case kcmpEpollTFD:
		var slot [12]byte // struct kcmp_epoll_slot
		if _, err := t.MM.CopyIn(a[4], slot[:]); err != nil {
			return 0, err
		}
		if t.K.FirstMessage("kcmp KCMP_EPOLL_TFD") {
			t.K.Log.Debug("kcmp: KCMP_EPOLL_TFD is not offered inside the sandbox")
		}
		return 0, unix.EOPNOTSUPP
	default:
		return 0, unix.EINVAL
	}
	if v1 == v2 {
		return 0, nil
	}
	c := kcmpCookies()[typ]
	if (uint64(v1)^c[0])*c[1] < (uint64(v2)^c[0])*c[1] {
		return 1, nil
	}
	return 2, nil
}
