package syscalls

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/ipc"
	"ringbox/guestkernel/kernel"
)

func call(t *testing.T, tk *kernel.Task, nr uintptr, args ...uintptr) (uintptr, error) {
	t.Helper()
	var a Args
	copy(a[:], args)
	return registry[nr](tk, a)
}

func u64At(t *testing.T, tk *kernel.Task, addr uintptr) uint64 {
	t.Helper()
	var b [8]byte
	_, err := tk.MM.CopyIn(addr, b[:])
	require.NoError(t, err)
	return binary.LittleEndian.Uint64(b[:])
}

func TestSysShm(t *testing.T) {
	ts := schedKernel(t, 2)
	a, b := ts[0], ts[1]
	buf := uintptr(futexMem)
	id, err := call(t, a, unix.SYS_SHMGET, ipc.Private, 8192, 0o600)
	require.NoError(t, err)
	at, err := call(t, a, unix.SYS_SHMAT, id, 0, 0)
	require.NoError(t, err)
	_, err = a.MM.CopyOut(at+4096, []byte("shared"))
	require.NoError(t, err)
	bt, err := call(t, b, unix.SYS_SHMAT, id, 0x50000000, ipc.ShmRdonly)
	require.NoError(t, err)
	assert.Equal(t, uintptr(0x50000000), bt)
	got := make([]byte, 6)
	_, err = b.MM.CopyIn(bt+4096, got)
	require.NoError(t, err)
	assert.Equal(t, "shared", string(got))

	_, err = call(t, a, unix.SYS_SHMCTL, id, ipc.Stat, buf)
	require.NoError(t, err)
	assert.Equal(t, uint64(8192), u64At(t, a, buf+48), "shm_segsz")
	assert.Equal(t, uint64(2), u64At(t, a, buf+88), "shm_nattch")
	assert.Equal(t, uint64(b.TG.PID)<<32|uint64(a.TG.PID), u64At(t, a, buf+80), "shm_cpid, shm_lpid")
	assert.Equal(t, uint64(0o600), u64At(t, a, buf+20)&0xffffffff, "mode")
	assert.Equal(t, uint64(1000)<<32|1000, u64At(t, a, buf+4), "uid, gid")

	// shmat's address rules.
	_, err = call(t, b, unix.SYS_SHMAT, id, 0x60000001, 0)
	assert.Equal(t, unix.EINVAL, err, "unaligned")
	r, err := call(t, b, unix.SYS_SHMAT, id, 0x60000001, ipc.ShmRnd)
	require.NoError(t, err)
	assert.Equal(t, uintptr(0x60000000), r, "rounded down")
	_, err = call(t, b, unix.SYS_SHMAT, id, 0x60000000, 0)
	assert.Equal(t, unix.EINVAL, err, "something is there")
	_, err = call(t, b, unix.SYS_SHMAT, id, 0, ipc.ShmRemap)
	assert.Equal(t, unix.EINVAL, err, "SHM_REMAP needs an address")
	r, err = call(t, b, unix.SYS_SHMAT, id, 0x60000000, ipc.ShmRemap)
	require.NoError(t, err)
	assert.Equal(t, uintptr(0x60000000), r)
	_, err = call(t, b, unix.SYS_SHMAT, uintptr(0xffffffff), 0, 0)
	assert.Equal(t, unix.EINVAL, err)
	_, err = call(t, b, unix.SYS_MPROTECT, bt, 4096, unix.PROT_READ|unix.PROT_WRITE)
	assert.Equal(t, unix.EACCES, err, "attached SHM_RDONLY")

	_, err = call(t, a, unix.SYS_SHMCTL, id, ipc.RMID, 0)
	require.NoError(t, err)
	_, err = call(t, b, unix.SYS_SHMDT, 0x60000000)
	require.NoError(t, err)
	_, err = call(t, b, unix.SYS_SHMDT, bt)
	require.NoError(t, err)
	_, err = call(t, b, unix.SYS_SHMDT, bt)
	assert.Equal(t, unix.EINVAL, err)
	_, err = call(t, a, unix.SYS_SHMCTL, id, ipc.Stat, buf)
	require.NoError(t, err, "a still has it attached")
	assert.Equal(t, uint64(1), u64At(t, a, buf+88))
	_, err = call(t, a, unix.SYS_SHMDT, at)
	require.NoError(t, err)
	_, err = call(t, a, unix.SYS_SHMCTL, id, ipc.Stat, buf)
	assert.Equal(t, unix.EINVAL, err, "gone with its last detach")

	// IPC_INFO, bad commands and pointers.
	_, err = call(t, a, unix.SYS_SHMCTL, 0, ipc.Info, buf)
	require.NoError(t, err)
	assert.Equal(t, uint64(ipc.ShmMNI), u64At(t, a, buf+16))
	_, err = call(t, a, unix.SYS_SHMCTL, 0, 99, buf)
	assert.Equal(t, unix.EINVAL, err)
	id, err = call(t, a, unix.SYS_SHMGET, ipc.Private, 100, 0o600)
	require.NoError(t, err)
	_, err = call(t, a, unix.SYS_SHMCTL, id, ipc.Stat, 0x1000)
	assert.Equal(t, unix.EFAULT, err)
	_, err = call(t, a, unix.SYS_SHMCTL, id, ipc.Set, 0x1000)
	assert.Equal(t, unix.EFAULT, err)
}

func TestSysSem(t *testing.T) {
	tk := schedKernel(t, 1)[0]
	buf := uintptr(futexMem)
	id, err := call(t, tk, unix.SYS_SEMGET, 1234, 3, ipc.Creat|0o600)
	require.NoError(t, err)
	sops := func(ops ...[3]int) uintptr {
		b := make([]byte, 6*len(ops))
		for i, o := range ops {
			binary.LittleEndian.PutUint16(b[6*i:], uint16(o[0]))
			binary.LittleEndian.PutUint16(b[6*i+2:], uint16(int16(o[1])))
			binary.LittleEndian.PutUint16(b[6*i+4:], uint16(int16(o[2])))
		}
		_, err := tk.MM.CopyOut(buf, b)
		require.NoError(t, err)
		return uintptr(len(ops))
	}
	n := sops([3]int{0, 3, 0}, [3]int{2, 1, ipc.SemUndo})
	_, err = call(t, tk, unix.SYS_SEMOP, id, buf, n)
	require.NoError(t, err)
	v, err := call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.GetVal)
	require.NoError(t, err)
	assert.Equal(t, uintptr(3), v)
	_, err = call(t, tk, unix.SYS_SEMCTL, id, 1, ipc.SetVal, 0xffffffff00000007)
	require.NoError(t, err, "val is the low half of the union")
	_, err = call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.GetAll, buf+256)
	require.NoError(t, err)
	assert.Equal(t, uint64(1)<<32|7<<16|3, u64At(t, tk, buf+256)&0xffffffffffff)
	v, err = call(t, tk, unix.SYS_SEMCTL, id, 2, ipc.GetPID)
	require.NoError(t, err)
	assert.Equal(t, uintptr(tk.TG.PID), v)

	// A timeout: EAGAIN.
	n = sops([3]int{1, -8, 0})
	ts := buf + 512
	putTS(t, tk, ts, 0, 5e6)
	_, err = call(t, tk, unix.SYS_SEMTIMEDOP, id, buf, n, ts)
	assert.Equal(t, unix.EAGAIN, err)
	putTS(t, tk, ts, 0, 1e9)
	_, err = call(t, tk, unix.SYS_SEMTIMEDOP, id, buf, n, ts)
	assert.Equal(t, unix.EINVAL, err, "tv_nsec out of range")
	_, err = call(t, tk, unix.SYS_SEMOP, id, buf, 0)
	assert.Equal(t, unix.EINVAL, err)
	_, err = call(t, tk, unix.SYS_SEMOP, id, buf, 501)
	assert.Equal(t, unix.E2BIG, err)
	_, err = call(t, tk, unix.SYS_SEMOP, id, 0x1000, 1)
	assert.Equal(t, unix.EFAULT, err)

	_, err = call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.Stat, buf)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), u64At(t, tk, buf+80), "sem_nsems")
	assert.Equal(t, uint64(1234), u64At(t, tk, buf)&0xffffffff, "key")

	// SETALL reads one value per semaphore.
	_, err = tk.MM.CopyOut(buf, []byte{1, 0, 2, 0, 3, 0})
	require.NoError(t, err)
	_, err = call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.SetAll, buf)
	require.NoError(t, err)
	v, _ = call(t, tk, unix.SYS_SEMCTL, id, 2, ipc.GetVal)
	assert.Equal(t, uintptr(3), v)
	_, err = call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.SetAll, 0x1000)
	assert.Equal(t, unix.EFAULT, err)

	maxIdx, err := call(t, tk, unix.SYS_SEMCTL, 0, 0, ipc.SemInfo, buf)
	require.NoError(t, err)
	assert.Equal(t, uintptr(0), maxIdx)
	assert.Equal(t, uint64(1), u64At(t, tk, buf+28)&0xffffffff, "semusz: sets")
	assert.Equal(t, uint64(3), u64At(t, tk, buf+36)&0xffffffff, "semaem: semaphores")
	_, err = call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.RMID)
	require.NoError(t, err)
	_, err = call(t, tk, unix.SYS_SEMCTL, id, 0, ipc.GetVal)
	assert.Equal(t, unix.EINVAL, err)
}

func TestSysMsg(t *testing.T) {
	tk := schedKernel(t, 1)[0]
	buf := uintptr(futexMem)
	id, err := call(t, tk, unix.SYS_MSGGET, ipc.Private, 0o600)
	require.NoError(t, err)
	put := func(typ int64, text string) {
		b := make([]byte, 8+len(text))
		binary.LittleEndian.PutUint64(b, uint64(typ))
		copy(b[8:], text)
		_, err := tk.MM.CopyOut(buf, b)
		require.NoError(t, err)
	}
	put(2, "two")
	_, err = call(t, tk, unix.SYS_MSGSND, id, buf, 3, 0)
	require.NoError(t, err)
	put(1, "one!")
	_, err = call(t, tk, unix.SYS_MSGSND, id, buf, 4, 0)
	require.NoError(t, err)
	put(0, "")
	_, err = call(t, tk, unix.SYS_MSGSND, id, buf, 0, 0)
	assert.Equal(t, unix.EINVAL, err, "mtype 0")
	_, err = call(t, tk, unix.SYS_MSGSND, id, 0x1000, 0, 0)
	assert.Equal(t, unix.EFAULT, err)
	put(1, "")
	_, err = call(t, tk, unix.SYS_MSGSND, id, buf, ipc.MsgMax+1, 0)
	assert.Equal(t, unix.EINVAL, err)

	_, err = call(t, tk, unix.SYS_MSGCTL, id, ipc.Stat, buf+512)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), u64At(t, tk, buf+512+80), "msg_qnum")
	assert.Equal(t, uint64(7), u64At(t, tk, buf+512+72), "msg_cbytes")
	assert.Equal(t, uint64(ipc.MsgMNB), u64At(t, tk, buf+512+88), "msg_qbytes")

	n, err := call(t, tk, unix.SYS_MSGRCV, id, buf, 100, uintptr(1), ipc.NoWait)
	require.NoError(t, err)
	assert.Equal(t, uintptr(4), n)
	assert.Equal(t, uint64(1), u64At(t, tk, buf))
	assert.Equal(t, uint64('o'|'n'<<8|'e'<<16|'!'<<24), u64At(t, tk, buf+8)&0xffffffff)
	_, err = call(t, tk, unix.SYS_MSGRCV, id, buf, 2, 0, ipc.NoWait)
	assert.Equal(t, unix.E2BIG, err)
	n, err = call(t, tk, unix.SYS_MSGRCV, id, buf, 2, 0, ipc.NoWait|ipc.MsgNoError)
	require.NoError(t, err)
	assert.Equal(t, uintptr(2), n)
	_, err = call(t, tk, unix.SYS_MSGRCV, id, buf, 2, 0, ipc.NoWait)
	assert.Equal(t, unix.ENOMSG, err)
	_, err = call(t, tk, unix.SYS_MSGRCV, id, buf, ^uintptr(0), 0, ipc.NoWait)
	assert.Equal(t, unix.EINVAL, err, "negative size")

	// IPC_SET of msg_qbytes: lower is fine, above MSGMNB is EPERM.
	_, err = call(t, tk, unix.SYS_MSGCTL, id, ipc.Stat, buf)
	require.NoError(t, err)
	_, err = tk.MM.CopyOut(buf+88, []byte{0, 1, 0, 0, 0, 0, 0, 0})
	require.NoError(t, err)
	_, err = call(t, tk, unix.SYS_MSGCTL, id, ipc.Set, buf)
	require.NoError(t, err)
	_, err = call(t, tk, unix.SYS_MSGCTL, id, ipc.Stat, buf+512)
	require.NoError(t, err)
	assert.Equal(t, uint64(256), u64At(t, tk, buf+512+88))
	_, err = tk.MM.CopyOut(buf+88, []byte{0, 0, 1, 0, 0, 0, 0, 0})
	require.NoError(t, err)
	_, err = call(t, tk, unix.SYS_MSGCTL, id, ipc.Set, buf)
	assert.Equal(t, unix.EPERM, err)

	_, err = call(t, tk, unix.SYS_MSGCTL, id, ipc.RMID, 0)
	require.NoError(t, err)
	_, err = call(t, tk, unix.SYS_MSGRCV, id, buf, 2, 0, ipc.NoWait)
	assert.Equal(t, unix.EINVAL, err)
}
