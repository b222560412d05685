package syscalls

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

// putItimerspecAt writes a struct itimerspec into the test memory.
func putItimerspecAt(tb testing.TB, t *kernel.Task, addr uintptr, interval, value time.Duration) {
	tb.Helper()
	var b [32]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(interval/time.Second))
	le.PutUint64(b[8:], uint64(interval%time.Second))
	le.PutUint64(b[16:], uint64(value/time.Second))
	le.PutUint64(b[24:], uint64(value%time.Second))
	putBytes(tb, t, addr, b[:])
}

func TestTimerfdBadInput(t *testing.T) {
	a, _ := waitTasks(t)
	for _, c := range []struct {
		clock, flags uintptr
		want         error
	}{
		{unix.CLOCK_PROCESS_CPUTIME_ID, 0, unix.EINVAL},
		{unix.CLOCK_MONOTONIC_RAW, 0, unix.EINVAL},
		{99, 0, unix.EINVAL},
		{unix.CLOCK_MONOTONIC, 1, unix.EINVAL},
	} {
		_, err := sysTimerfdCreate(a, Args{c.clock, c.flags})
		assert.Equal(t, c.want, err, "%+v", c)
	}
	fd := mustCall(t, sysTimerfdCreate, a, Args{unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK | unix.TFD_CLOEXEC})
	r, _ := newPipeFDs(t, a, 0)
	putItimerspecAt(t, a, pollAt, 0, time.Second)
	_, err := sysTimerfdSettime(a, Args{fd, 4, pollAt, 0})
	assert.Equal(t, unix.EINVAL, err, "unknown flag")
	_, err = sysTimerfdSettime(a, Args{r, 0, pollAt, 0})
	assert.Equal(t, unix.EINVAL, err, "not a timerfd")
	_, err = sysTimerfdSettime(a, Args{99, 0, pollAt, 0})
	assert.Equal(t, unix.EBADF, err)
	_, err = sysTimerfdSettime(a, Args{fd, 0, 0x1000, 0})
	assert.Equal(t, unix.EFAULT, err)
	_, err = sysTimerfdGettime(a, Args{fd, 0x1000})
	assert.Equal(t, unix.EFAULT, err)
	_, err = sysTimerfdGettime(a, Args{r, outAt})
	assert.Equal(t, unix.EINVAL, err)
	bad := make([]byte, 32)
	binary.LittleEndian.PutUint64(bad[24:], 1e9) // tv_nsec out of range
	putBytes(t, a, pollAt, bad)
	_, err = sysTimerfdSettime(a, Args{fd, 0, pollAt, 0})
	assert.Equal(t, unix.EINVAL, err)

	// Non-blocking: EAGAIN before the expiration; a short read: EINVAL.
	putItimerspecAt(t, a, pollAt, 0, time.Hour)
	mustCall(t, sysTimerfdSettime, a, Args{fd, unix.TFD_TIMER_CANCEL_ON_SET, pollAt, 0})
	_, err = sysRead(a, Args{fd, bufA, 8})
	assert.Equal(t, unix.EAGAIN, err)
	_, err = sysRead(a, Args{fd, bufA, 4})
	assert.Equal(t, unix.EINVAL, err)
	mustCall(t, sysTimerfdGettime, a, Args{fd, outAt})
	got := getBytes(t, a, outAt, 32)
	assert.Zero(t, binary.LittleEndian.Uint64(got[0:]), "no interval")
	assert.Greater(t, binary.LittleEndian.Uint64(got[16:]), uint64(3500), "about an hour left")
}

func TestTimerfdBlockingReadAndEpoll(t *testing.T) {
	a, b := waitTasks(t)
	fd := mustCall(t, sysTimerfdCreate, a, Args{unix.CLOCK_MONOTONIC, 0})
	ep := mustCall(t, sysEpollCreate1, b, Args{0})
	var ev [12]byte
	binary.LittleEndian.PutUint32(ev[0:], unix.EPOLLIN)
	binary.LittleEndian.PutUint64(ev[4:], 77)
	putBytes(t, b, pollAt+0x40, ev[:])
	mustCall(t, sysEpollCtl, b, Args{ep, unix.EPOLL_CTL_ADD, fd, pollAt + 0x40})
	waiting := background(sysEpollWait, b, Args{ep, outAt + 0x100, 4, ^uintptr(0)})
	notYet(t, waiting)
	putItimerspecAt(t, a, pollAt, 0, 20*time.Millisecond)
	mustCall(t, sysTimerfdSettime, a, Args{fd, 0, pollAt, 0})
	w := await(t, waiting)
	require.NoError(t, w.err)
	assert.Equal(t, uintptr(1), w.r)
	mustCall(t, sysRead, a, Args{fd, bufA, 8})

	// A blocking read waits for the next period.
	reading := background(sysRead, a, Args{fd, bufA, 8})
	notYet(t, reading)
	putItimerspecAt(t, a, pollAt, 10*time.Millisecond, 20*time.Millisecond)
	mustCall(t, sysTimerfdSettime, a, Args{fd, 0, pollAt, 0})
	r := await(t, reading)
	require.NoError(t, r.err)
	assert.Equal(t, uintptr(8), r.r)
	assert.GreaterOrEqual(t, binary.LittleEndian.Uint64(getBytes(t, a, bufA, 8)), uint64(1))
}

func TestSignalfdBadInput(t *testing.T) {
	a, _ := waitTasks(t)
	var set [8]byte
	binary.LittleEndian.PutUint64(set[:], 1<<(unix.SIGUSR1-1))
	putBytes(t, a, pollAt, set[:])
	_, err := sysSignalfd4(a, Args{^uintptr(0), pollAt, 4, 0})
	assert.Equal(t, unix.EINVAL, err, "sigset size")
	_, err = sysSignalfd4(a, Args{^uintptr(0), pollAt, 8, 1})
	assert.Equal(t, unix.EINVAL, err, "flags")
	_, err = sysSignalfd4(a, Args{^uintptr(0), 0x1000, 8, 0})
	assert.Equal(t, unix.EFAULT, err)
	_, err = sysSignalfd(a, Args{99, pollAt, 8})
	assert.Equal(t, unix.EBADF, err)
	r, _ := newPipeFDs(t, a, 0)
	_, err = sysSignalfd(a, Args{r, pollAt, 8})
	assert.Equal(t, unix.EINVAL, err, "not a signalfd")

	fd := mustCall(t, sysSignalfd4, a, Args{^uintptr(0), pollAt, 8, unix.SFD_NONBLOCK})
	_, err = sysRead(a, Args{fd, bufA, 128})
	assert.Equal(t, unix.EAGAIN, err)
	_, err = sysRead(a, Args{fd, bufA, 127})
	assert.Equal(t, unix.EINVAL, err)
	got := mustCall(t, sysSignalfd, a, Args{fd, pollAt, 8})
	assert.Equal(t, fd, got, "updating returns the descriptor")
}

func TestSignalfdInfo(t *testing.T) {
	timer := signalfdInfo(unix.Signal(kernel.SigRTMin+2), kernel.SigInfo{Code: kernel.SITimer, PID: 3, UID: 5, Value: 0x100000007})
	assert.Equal(t, uint32(3), timer.TID)
	assert.Equal(t, uint32(5), timer.Overrun)
	assert.Equal(t, int32(7), timer.Int)
	assert.Equal(t, uint64(0x100000007), timer.Ptr)
	assert.Zero(t, timer.PID)
	chld := signalfdInfo(unix.SIGCHLD, kernel.SigInfo{Code: 1, PID: 9, UID: 1000, Status: 3})
	assert.Equal(t, uint32(9), chld.PID)
	assert.Equal(t, uint32(1000), chld.UID)
	assert.Equal(t, int32(3), chld.Status)
	kill := signalfdInfo(unix.SIGUSR1, kernel.SigInfo{Code: kernel.SIUser, PID: 9, Value: 4})
	assert.Equal(t, uint32(9), kill.PID)
	assert.Zero(t, kill.Ptr, "kill carries no value")
	queue := signalfdInfo(unix.SIGUSR1, kernel.SigInfo{Code: kernel.SIQueue, PID: 9, Value: 4})
	assert.Equal(t, int32(4), queue.Int)
	segv := signalfdInfo(unix.SIGSEGV, kernel.SigInfo{Code: 1, Addr: 0xdead})
	assert.Equal(t, uint64(0xdead), segv.Addr)
}

func TestPosixTimerSyscallsBadInput(t *testing.T) {
	a, _ := waitTasks(t)
	a.TG.SetLimit(unix.RLIMIT_SIGPENDING, unix.Rlimit{Cur: 4096, Max: 4096})
	_, err := sysTimerCreate(a, Args{99, 0, outAt})
	assert.Equal(t, unix.EINVAL, err)
	_, err = sysTimerCreate(a, Args{unix.CLOCK_MONOTONIC, 0x1000, outAt})
	assert.Equal(t, unix.EFAULT, err, "bad sigevent")
	var ev [64]byte
	binary.LittleEndian.PutUint32(ev[12:], 7) // sigev_notify
	putBytes(t, a, pollAt, ev[:])
	_, err = sysTimerCreate(a, Args{unix.CLOCK_MONOTONIC, pollAt, outAt})
	assert.Equal(t, unix.EINVAL, err, "bad sigev_notify")
	_, err = sysTimerCreate(a, Args{unix.CLOCK_MONOTONIC, 0, 0x1000})
	assert.Equal(t, unix.EFAULT, err, "bad timerid pointer")
	assert.Zero(t, a.TG.NumTimers(), "the timer is not kept")

	binary.LittleEndian.PutUint32(ev[8:], uint32(unix.SIGUSR1))
	binary.LittleEndian.PutUint32(ev[12:], kernel.SigevNone)
	putBytes(t, a, pollAt, ev[:])
	mustCall(t, sysTimerCreate, a, Args{unix.CLOCK_MONOTONIC, pollAt, outAt})
	id := uintptr(binary.LittleEndian.Uint32(getBytes(t, a, outAt, 4)))
	_, err = sysTimerSettime(a, Args{id, 0, 0, 0})
	assert.Equal(t, unix.EINVAL, err, "no new value")
	_, err = sysTimerSettime(a, Args{id + 1, 0, pollAt, 0})
	assert.Equal(t, unix.EINVAL, err, "no such timer")
	putItimerspecAt(t, a, pollAt+0x80, time.Second, time.Hour)
	mustCall(t, sysTimerSettime, a, Args{id, 0, pollAt + 0x80, 0})
	_, err = sysTimerGettime(a, Args{id, 0x1000})
	assert.Equal(t, unix.EFAULT, err)
	mustCall(t, sysTimerGettime, a, Args{id, outAt})
	got := getBytes(t, a, outAt, 32)
	assert.Equal(t, uint64(1), binary.LittleEndian.Uint64(got[0:]), "interval 1 s")
	assert.Equal(t, uintptr(0), mustCall(t, sysTimerGetoverrun, a, Args{id}))
	_, err = sysTimerGetoverrun(a, Args{id + 1})
	assert.Equal(t, unix.EINVAL, err)
	mustCall(t, sysTimerDelete, a, Args{id})
	_, err = sysTimerDelete(a, Args{id})
	assert.Equal(t, unix.EINVAL, err)
}
