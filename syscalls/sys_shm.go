package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/ipc"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/mm"
)

func init() {
	register(unix.SYS_SHMGET, sysShmget)
	register(unix.SYS_SHMAT, sysShmat)
	register(unix.SYS_SHMDT, sysShmdt)
	register(unix.SYS_SHMCTL, sysShmctl)
}

func sysShmget(t *kernel.Task, a Args) (uintptr, error) {
	id, err := t.K.IPC.ShmGet(ipcCaller(t), int32(a[0]), uint64(a[1]), int(int32(a[2])))
	return uintptr(id), err
}

// sysShmat maps a segment shared: where the program asks (page aligned,
// or rounded down with SHM_RND; over existing mappings only with
// SHM_REMAP, else EINVAL), or where the mm finds room.
func sysShmat(t *kernel.Task, a Args) (uintptr, error) {
	id, addr, flags := int32(a[0]), a[1], int(int32(a[2]))
	if id < 0 {
		return 0, unix.EINVAL
	}
	remap := flags&ipc.ShmRemap != 0
	if addr != 0 {
		if addr&(pageSize-1) != 0 {
			if flags&ipc.ShmRnd == 0 {
				return 0, unix.EINVAL
			}
			addr &^= pageSize - 1
			if addr == 0 && remap {
				return 0, unix.EINVAL
			}
		}
	} else if remap {
		return 0, unix.EINVAL
	}
	c := ipcCaller(t)
	seg, prot, err := t.K.IPC.ShmAttach(c, id, flags)
	if err != nil {
		return 0, err
	}
	size := (uintptr(seg.Size()) + pageSize - 1) &^ (pageSize - 1)
	maxProt := 0
	if flags&ipc.ShmRdonly != 0 {
		maxProt = mm.ProtRead | mm.ProtExec
	}
	// An address given (even one rounded down to 0) is where it goes.
	fixed := a[1] != 0
	if fixed && addr+size < addr {
		seg.EndAttach(c, false)
		return 0, unix.EINVAL
	}
	at, err := t.MM.Mmap(mm.MmapOpts{
		Addr: addr, Len: size, Prot: prot, Shared: true,
		Fixed: fixed && remap, NoReplace: fixed && !remap,
		Name: seg.Name(), Pager: seg, MaxProt: maxProt,
	})
	seg.EndAttach(c, err == nil)
	if err == unix.EEXIST {
		return 0, unix.EINVAL // something is mapped there
	}
	return at, err
}

const pageSize = 4096

func sysShmdt(t *kernel.Task, a Args) (uintptr, error) {
	var seg *ipc.Segment
	err := t.MM.Detach(a[0], func(p mm.Pager) (uintptr, bool) {
		s, ok := p.(*ipc.Segment)
		if !ok {
			return 0, false
		}
		if seg == nil {
			seg = s // the first one accepted is the one detached
		}
		return uintptr(s.Size()), true
	})
	if err != nil {
		return 0, err
	}
	seg.Detached(ipcCaller(t))
	return 0, nil
}

func sysShmctl(t *kernel.Task, a Args) (uintptr, error) {
	id, cmd, buf := int32(a[0]), int(int32(a[1])), a[2]
	if cmd < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.K.IPC, ipcCaller(t)
	switch cmd {
	case ipc.Info:
		info, maxIdx := ns.ShmInfoCmd()
		b := make([]byte, shminfoSize)
		putU64(b, 0, info.ShmMax)
		putU64(b, 8, info.ShmMin)
		putU64(b, 16, info.ShmMNI)
		putU64(b, 24, info.ShmSeg)
		putU64(b, 32, info.ShmAll)
		if _, err := t.MM.CopyOut(buf, b); err != nil {
			return 0, err
		}
		return uintptr(maxIdx), nil
	case ipc.ShmInfo:
		u, maxIdx := ns.ShmUsageCmd()
		b := make([]byte, shmInfoSize)
		putI32(b, 0, u.UsedIDs)
		putU64(b, 8, u.ShmTot)
		putU64(b, 16, u.ShmRSS)
		putU64(b, 24, u.ShmSwp)
		putU64(b, 32, u.SwapAttempts)
		putU64(b, 40, u.SwapSuccess)
		if _, err := t.MM.CopyOut(buf, b); err != nil {
			return 0, err
		}
		return uintptr(maxIdx), nil
	case ipc.Stat, ipc.ShmStat, ipc.ShmStatAny:
		ds, gotID, err := ns.ShmStat(c, id, cmd != ipc.Stat, cmd == ipc.ShmStatAny)
		if err != nil {
			return 0, err
		}
		b := make([]byte, shmidDSSize)
		putPerm(b, ds.Perm)
		putU64(b, 48, ds.Size)
		putI64(b, 56, ds.Atime)
		putI64(b, 64, ds.Dtime)
		putI64(b, 72, ds.Ctime)
		putI32(b, 80, ds.CPID)
		putI32(b, 84, ds.LPID)
		putU64(b, 88, ds.Nattch)
		if _, err := t.MM.CopyOut(buf, b); err != nil {
			return 0, err
		}
		if cmd == ipc.Stat {
			return 0, nil
		}
		return uintptr(gotID), nil
	case ipc.Set:
		p, _, err := getSetPerm(t, buf, shmidDSSize)
		if err != nil {
			return 0, err
		}
		return 0, ns.ShmSet(c, id, p)
	case ipc.RMID:
		return 0, ns.ShmRemove(c, id)
	case ipc.ShmLock, ipc.ShmUnlock:
		return 0, ns.ShmLockCmd(c, id, cmd == ipc.ShmLock)
	}
	return 0, unix.EINVAL
}
