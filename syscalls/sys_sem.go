package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/ipc"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_SEMGET, sysSemget)
	register(unix.SYS_SEMOP, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, semtimedop(t, int32(a[0]), a[1], a[2], 0)
	})
	register(unix.SYS_SEMTIMEDOP, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, semtimedop(t, int32(a[0]), a[1], a[2], a[3])
	})
	register(unix.SYS_SEMCTL, sysSemctl)
}

func sysSemget(t *kernel.Task, a Args) (uintptr, error) {
	id, err := t.K.IPC.SemGet(ipcCaller(t), int32(a[0]), int(int32(a[1])), int(int32(a[2])))
	return uintptr(id), err
}

// sembufSize is sizeof(struct sembuf).
const sembufSize = 6

// semtimedop is semop and semtimedop. A wait cut short by a signal fails
// with EINTR whether or not a handler ran or had SA_RESTART, as on Linux
// (a stop and SIGCONT too).
func semtimedop(t *kernel.Task, id int32, sops, nsops, timeout uintptr) error {
	if nsops < 1 || id < 0 {
		return unix.EINVAL
	}
	if nsops > ipc.SemOPM {
		return unix.E2BIG
	}
	b := make([]byte, nsops*sembufSize)
	if _, err := t.MM.CopyIn(sops, b); err != nil {
		return err
	}
	ops := make([]ipc.SemOp, nsops)
	for i := range ops {
		o := b[i*sembufSize:]
		ops[i] = ipc.SemOp{Num: binary.LittleEndian.Uint16(o), Op: int16(binary.LittleEndian.Uint16(o[2:])),
			Flags: int16(binary.LittleEndian.Uint16(o[4:]))}
	}
	var deadline time.Time
	if timeout != 0 {
		d, err := getTimespec(t, timeout)
		if err != nil {
			return err
		}
		deadline = ipcDeadline(d)
	}
	return t.K.IPC.Semop(t, ipcCaller(t), id, ops, deadline)
}

func sysSemctl(t *kernel.Task, a Args) (uintptr, error) {
	id, num, cmd, arg := int32(a[0]), int(int32(a[1])), int(int32(a[2])), a[3]
	if id < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.K.IPC, ipcCaller(t)
	switch cmd {
	case ipc.Info, ipc.SemInfo:
		info, maxIdx := ns.SemInfoCmd(cmd == ipc.SemInfo)
		b := make([]byte, seminfoSize)
		for i, v := range []int32{info.SemMap, info.SemMNI, info.SemMNS, info.SemMNU, info.SemMSL,
			info.SemOPM, info.SemUME, info.SemUSZ, info.SemVMX, info.SemAEM} {
			putI32(b, 4*i, v)
		}
		if _, err := t.MM.CopyOut(arg, b); err != nil {
			return 0, err
		}
		return uintptr(maxIdx), nil
	case ipc.Stat, ipc.SemStat, ipc.SemStatAny:
		ds, gotID, err := ns.SemStatCmd(c, id, cmd != ipc.Stat, cmd == ipc.SemStatAny)
		if err != nil {
			return 0, err
		}
		b := make([]byte, semidDSSize)
		putPerm(b, ds.Perm)
		putI64(b, 48, ds.Otime)
		putI64(b, 64, ds.Ctime)
		putU64(b, 80, ds.Nsems)
		if _, err := t.MM.CopyOut(arg, b); err != nil {
			return 0, err
		}
		if cmd == ipc.Stat {
			return 0, nil
		}
		return uintptr(gotID), nil
	case ipc.GetVal, ipc.GetPID, ipc.GetNCnt, ipc.GetZCnt:
		v, err := ns.SemGetOne(c, id, num, cmd)
		return uintptr(v), err
	case ipc.GetAll:
		vals, err := ns.SemGetAll(c, id)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
		_, err = t.MM.CopyOut(arg, b)
		return 0, err
	case ipc.SetVal:
		// union semun is passed by value: val is its low 32 bits.
		return 0, ns.SemSetVal(c, id, num, int(int32(arg)))
	case ipc.SetAll:
		n, err := ns.SemCount(c, id, true)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*n)
		if _, err := t.MM.CopyIn(arg, b); err != nil {
			return 0, err
		}
		vals := make([]uint16, n)
		for i := range vals {
			vals[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return 0, ns.SemSetAll(c, id, vals)
	case ipc.Set:
		p, _, err := getSetPerm(t, arg, semidDSSize)
		if err != nil {
			return 0, err
		}
		return 0, ns.SemSetPerm(c, id, p)
	case ipc.RMID:
		return 0, ns.SemRemove(c, id)
	}
	return 0, unix.EINVAL
}
