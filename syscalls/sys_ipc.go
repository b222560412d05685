package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/ipc"
	"ringbox/guestkernel/kernel"
)

// System V IPC: the parts shared by sys_shm.go, sys_sem.go and
// sys_msg.go. The objects live in the kernel's namespace (guestkernel/ipc);
// these handlers copy arguments in, encode Linux's x86-64 structures (the
// IPC_64 layouts, which are the only ones x86-64 has) and map errors.

// Sizes of the x86-64 structures.
const (
	ipcPermSize = 48  // struct ipc64_perm
	shmidDSSize = 112 // struct shmid64_ds
	semidDSSize = 104 // struct semid64_ds
	msqidDSSize = 120 // struct msqid64_ds
	shminfoSize = 72  // struct shminfo64
	shmInfoSize = 48  // struct shm_info
	seminfoSize = 40  // struct seminfo
	msginfoSize = 32  // struct msginfo
)

// ipcCaller is who makes an IPC call: the process and its effective IDs.
func ipcCaller(t *kernel.Task) ipc.Caller {
	c := t.TG.Creds()
	return ipc.Caller{PID: t.TG.PID, UID: c.EUID, GID: c.EGID}
}

// putPerm encodes an ipc64_perm at b[0:48].
func putPerm(b []byte, p ipc.Perm) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(p.Key))
	le.PutUint32(b[4:], p.UID)
	le.PutUint32(b[8:], p.GID)
	le.PutUint32(b[12:], p.CUID)
	le.PutUint32(b[16:], p.CGID)
	le.PutUint32(b[20:], p.Mode)
	le.PutUint16(b[24:], p.Seq)
}

// getSetPerm reads what IPC_SET takes from the ipc64_perm at the start of
// the caller's structure of n bytes (all of which must be readable, as
// Linux copies the whole structure); it returns the structure too.
func getSetPerm(t *kernel.Task, addr uintptr, n int) (ipc.SetPerm, []byte, error) {
	b := make([]byte, n)
	if _, err := t.MM.CopyIn(addr, b); err != nil {
		return ipc.SetPerm{}, nil, err
	}
	le := binary.LittleEndian
	return ipc.SetPerm{UID: le.Uint32(b[4:]), GID: le.Uint32(b[8:]), Mode: le.Uint32(b[20:])}, b, nil
}

func putU64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }
func putI64(b []byte, off int, v int64)  { binary.LittleEndian.PutUint64(b[off:], uint64(v)) }
func putI32(b []byte, off int, v int32)  { binary.LittleEndian.PutUint32(b[off:], uint32(v)) }

// ipcDeadline turns a semtimedop timeout into a deadline; a timeout too
// long to represent waits for ever (the zero deadline).
func ipcDeadline(d time.Duration) time.Time {
	if d > 100*365*24*time.Hour {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// ipcRestart maps the EINTR of a blocking message queue call to
// ERESTARTNOHAND: EINTR after a handler (these calls are never restarted,
// SA_RESTART or not), restarted when the signal had no handler (a stop).
func ipcRestart(err error) error {
	if err == unix.EINTR {
		return kernel.ErrRestartNoHand
	}
	return err
}
