package syscalls

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/ipc"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_MSGGET, sysMsgget)
	register(unix.SYS_MSGSND, sysMsgsnd)
	register(unix.SYS_MSGRCV, sysMsgrcv)
	register(unix.SYS_MSGCTL, sysMsgctl)
}

func sysMsgget(t *kernel.Task, a Args) (uintptr, error) {
	id, err := t.K.IPC.MsgGet(ipcCaller(t), int32(a[0]), int(int32(a[1])))
	return uintptr(id), err
}

// sysMsgsnd is msgsnd(id, msgp, msgsz, flags): msgp is a long mtype
// followed by msgsz bytes of text.
func sysMsgsnd(t *kernel.Task, a Args) (uintptr, error) {
	id, msgp, size, flags := int32(a[0]), a[1], a[2], int(int32(a[3]))
	var mt [8]byte
	if _, err := t.MM.CopyIn(msgp, mt[:]); err != nil {
		return 0, err
	}
	typ := int64(binary.LittleEndian.Uint64(mt[:]))
	if size > ipc.MsgMax || id < 0 || typ < 1 {
		return 0, unix.EINVAL
	}
	text := make([]byte, size)
	if _, err := t.MM.CopyIn(msgp+8, text); err != nil {
		return 0, err
	}
	return 0, ipcRestart(t.K.IPC.MsgSend(t, ipcCaller(t), id, typ, text, flags))
}

// sysMsgrcv is msgrcv(id, msgp, msgsz, msgtyp, flags); it returns the
// bytes of text stored after the mtype.
func sysMsgrcv(t *kernel.Task, a Args) (uintptr, error) {
	id, msgp, size, typ, flags := int32(a[0]), a[1], a[2], int64(a[3]), int(int32(a[4]))
	if id < 0 || int64(size) < 0 {
		return 0, unix.EINVAL
	}
	m, err := t.K.IPC.MsgReceive(t, ipcCaller(t), id, int(min(size, math.MaxInt32)), typ, flags)
	if err != nil {
		return 0, ipcRestart(err)
	}
	// The message is gone from the queue: a bad buffer loses it, as on
	// Linux.
	b := make([]byte, 8+len(m.Text))
	binary.LittleEndian.PutUint64(b, uint64(m.Type))
	copy(b[8:], m.Text)
	if _, err := t.MM.CopyOut(msgp, b); err != nil {
		return 0, err
	}
	return uintptr(len(m.Text)), nil
}

func sysMsgctl(t *kernel.Task, a Args) (uintptr, error) {
	id, cmd, buf := int32(a[0]), int(int32(a[1])), a[2]
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.K.IPC, ipcCaller(t)
	switch cmd {
	case ipc.Info, ipc.MsgInfo:
		info, maxIdx := ns.MsgInfoCmd(cmd == ipc.MsgInfo)
		b := make([]byte, msginfoSize)
		for i, v := range []int32{info.MsgPool, info.MsgMap, info.MsgMax, info.MsgMNB, info.MsgMNI, info.MsgSSZ, info.MsgTQL} {
			putI32(b, 4*i, v)
		}
		binary.LittleEndian.PutUint16(b[28:], info.MsgSeg)
		if _, err := t.MM.CopyOut(buf, b); err != nil {
			return 0, err
		}
		return uintptr(maxIdx), nil
	case ipc.Stat, ipc.MsgStat, ipc.MsgStatAny:
		ds, gotID, err := ns.MsgStatCmd(c, id, cmd != ipc.Stat, cmd == ipc.MsgStatAny)
		if err != nil {
			return 0, err
		}
		b := make([]byte, msqidDSSize)
		putPerm(b, ds.Perm)
		putI64(b, 48, ds.Stime)
		putI64(b, 56, ds.Rtime)
		putI64(b, 64, ds.Ctime)
		putU64(b, 72, ds.Cbytes)
		putU64(b, 80, ds.Qnum)
		putU64(b, 88, ds.Qbytes)
		putI32(b, 96, ds.LSPID)
		putI32(b, 100, ds.LRPID)
		if _, err := t.MM.CopyOut(buf, b); err != nil {
			return 0, err
		}
		if cmd == ipc.Stat {
			return 0, nil
		}
		return uintptr(gotID), nil
	case ipc.Set:
		p, b, err := getSetPerm(t, buf, msqidDSSize)
		if err != nil {
			return 0, err
		}
		return 0, ns.MsgSetCmd(c, id, p, binary.LittleEndian.Uint64(b[88:]))
	case ipc.RMID:
		return 0, ns.MsgRemove(c, id)
	}
	return 0, unix.EINVAL
}
