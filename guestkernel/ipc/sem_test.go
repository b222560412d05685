package ipc

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func semval(t *testing.T, ns *Namespace, id int32, num int) int {
	t.Helper()
	v, err := ns.SemGetOne(user(1), id, num, GetVal)
	require.NoError(t, err)
	return v
}

func TestSemopBasics(t *testing.T) {
	ns := newNS(t)
	c := user(10)
	id, err := ns.SemGet(c, Private, 3, 0o600)
	require.NoError(t, err)
	w := newWaiter()

	require.NoError(t, ns.Semop(w, c, id, []SemOp{{0, 2, 0}, {1, 1, 0}}, time.Time{}))
	assert.Equal(t, 2, semval(t, ns, id, 0))
	assert.Equal(t, 1, semval(t, ns, id, 1))
	pid, err := ns.SemGetOne(c, id, 1, GetPID)
	require.NoError(t, err)
	assert.Equal(t, 10, pid)

	// All or nothing: the second operation cannot be done, so the first
	// is not done either.
	err = ns.Semop(w, c, id, []SemOp{{0, -1, 0}, {2, -1, NoWait}}, time.Time{})
	assert.Equal(t, unix.EAGAIN, err)
	assert.Equal(t, 2, semval(t, ns, id, 0))
	// Operations on one semaphore apply in order.
	require.NoError(t, ns.Semop(w, c, id, []SemOp{{0, -2, 0}, {0, 0, 0}, {0, 1, 0}}, time.Time{}))
	assert.Equal(t, 1, semval(t, ns, id, 0))
	// ERANGE past SEMVMX, nothing changed.
	err = ns.Semop(w, c, id, []SemOp{{1, 1, 0}, {0, SemVMX, 0}}, time.Time{})
	assert.Equal(t, unix.ERANGE, err)
	assert.Equal(t, 1, semval(t, ns, id, 1))

	// Bad input.
	assert.Equal(t, unix.EINVAL, ns.Semop(w, c, id, nil, time.Time{}))
	assert.Equal(t, unix.E2BIG, ns.Semop(w, c, id, make([]SemOp, SemOPM+1), time.Time{}))
	assert.Equal(t, unix.EFBIG, ns.Semop(w, c, id, []SemOp{{3, 1, 0}}, time.Time{}))
	assert.Equal(t, unix.EINVAL, ns.Semop(w, c, id+1, []SemOp{{0, 1, 0}}, time.Time{}))
	assert.Equal(t, unix.EINVAL, ns.Semop(w, c, -1, []SemOp{{0, 1, 0}}, time.Time{}))
	// Another user: no read for a wait-for-zero, no write to change.
	assert.Equal(t, unix.EACCES, ns.Semop(w, other(11), id, []SemOp{{2, 0, 0}}, time.Time{}))
	assert.Equal(t, unix.EACCES, ns.Semop(w, other(11), id, []SemOp{{2, 1, 0}}, time.Time{}))
	_, err = ns.SemGetOne(other(11), id, 0, GetVal)
	assert.Equal(t, unix.EACCES, err)

	// A timeout ends a wait with EAGAIN; a zero timeout at once.
	start := time.Now()
	err = ns.Semop(w, c, id, []SemOp{{2, -1, 0}}, time.Now().Add(20*time.Millisecond))
	assert.Equal(t, unix.EAGAIN, err)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	assert.Equal(t, unix.EAGAIN, ns.Semop(w, c, id, []SemOp{{2, -1, 0}}, time.Now()))

	// SETVAL, GETALL, SETALL.
	assert.Equal(t, unix.ERANGE, ns.SemSetVal(c, id, 0, SemVMX+1))
	assert.Equal(t, unix.ERANGE, ns.SemSetVal(c, id, 0, -1))
	assert.Equal(t, unix.EINVAL, ns.SemSetVal(c, id, 3, 1))
	require.NoError(t, ns.SemSetVal(c, id, 2, 7))
	vals, err := ns.SemGetAll(c, id)
	require.NoError(t, err)
	assert.Equal(t, []uint16{1, 1, 7}, vals)
	assert.Equal(t, unix.ERANGE, ns.SemSetAll(c, id, []uint16{1, 2, SemVMX + 1}))
	require.NoError(t, ns.SemSetAll(c, id, []uint16{4, 5, 6}))
	vals, _ = ns.SemGetAll(c, id)
	assert.Equal(t, []uint16{4, 5, 6}, vals)

	ds, _, err := ns.SemStatCmd(c, id, false, false)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ds.Nsems)
	assert.NotZero(t, ds.Otime)
	require.NoError(t, ns.SemRemove(c, id))
	assert.Equal(t, int64(0), ns.Used())
}

func TestSemBlocking(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	id, err := ns.SemGet(c, Private, 2, 0o600)
	require.NoError(t, err)

	// Three waiters of one unit each, then a wait-for-zero: they are
	// counted (GETNCNT, GETZCNT) and served oldest first.
	var waiters [3]chan error
	for i := range waiters {
		waiters[i] = make(chan error, 1)
		go func() {
			waiters[i] <- ns.Semop(newWaiter(), user(int32(100+i)), id, []SemOp{{0, -1, 0}}, time.Time{})
		}()
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan error, 1)
	require.NoError(t, ns.SemSetVal(c, id, 1, 1))
	go func() { done <- ns.Semop(newWaiter(), user(200), id, []SemOp{{1, 0, 0}}, time.Time{}) }()
	time.Sleep(10 * time.Millisecond)
	n, _ := ns.SemGetOne(c, id, 0, GetNCnt)
	assert.Equal(t, 3, n)
	z, _ := ns.SemGetOne(c, id, 1, GetZCnt)
	assert.Equal(t, 1, z)
	blocked(t, done)

	require.NoError(t, ns.Semop(newWaiter(), c, id, []SemOp{{0, 2, 0}}, time.Time{}))
	require.NoError(t, result(t, waiters[0], time.Second), "the oldest waiters are served first")
	require.NoError(t, result(t, waiters[1], time.Second))
	blocked(t, waiters[2])
	blocked(t, done)
	// The value went to the waiters, none left.
	assert.Equal(t, 0, semval(t, ns, id, 0))
	pid, _ := ns.SemGetOne(c, id, 0, GetPID)
	assert.Equal(t, 101, pid, "sempid is the process whose operation was done")

	require.NoError(t, ns.Semop(newWaiter(), c, id, []SemOp{{1, -1, 0}}, time.Time{}))
	require.NoError(t, result(t, done, time.Second), "wait-for-zero")

	// A signal interrupts a wait (EINTR) and leaves nothing behind.
	w := newWaiter()
	intr := make(chan error, 1)
	go func() { intr <- ns.Semop(w, user(300), id, []SemOp{{0, -5, 0}}, time.Time{}) }()
	time.Sleep(10 * time.Millisecond)
	w.signal()
	assert.Equal(t, unix.EINTR, result(t, intr, time.Second))
	n, _ = ns.SemGetOne(c, id, 0, GetNCnt)
	assert.Equal(t, 1, n, "only the third waiter is left")

	// Removing the set fails the waiter with EIDRM.
	require.NoError(t, ns.SemRemove(c, id))
	assert.Equal(t, unix.EIDRM, result(t, waiters[2], time.Second))
}

func TestSemMultiOpWait(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	id, err := ns.SemGet(c, Private, 2, 0o600)
	require.NoError(t, err)
	// Wait for both at once: a unit of 0 alone does not complete it,
	// nor take that unit.
	done := make(chan error, 1)
	go func() { done <- ns.Semop(newWaiter(), user(2), id, []SemOp{{0, -1, 0}, {1, -1, 0}}, time.Time{}) }()
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, ns.SemSetVal(c, id, 0, 1))
	blocked(t, done)
	assert.Equal(t, 1, semval(t, ns, id, 0))
	ncnt, _ := ns.SemGetOne(c, id, 1, GetNCnt)
	assert.Equal(t, 1, ncnt, "it now waits on semaphore 1")
	ncnt, _ = ns.SemGetOne(c, id, 0, GetNCnt)
	assert.Equal(t, 0, ncnt)
	require.NoError(t, ns.SemSetVal(c, id, 1, 1))
	require.NoError(t, result(t, done, time.Second))
	vals, _ := ns.SemGetAll(c, id)
	assert.Equal(t, []uint16{0, 0}, vals)
}

func TestSemUndo(t *testing.T) {
	ns := newNS(t)
	owner := user(1)
	id, err := ns.SemGet(owner, 42, 1, Creat|0o600)
	require.NoError(t, err)
	require.NoError(t, ns.SemSetVal(owner, id, 0, 1))

	// Process 5 takes the lock with SEM_UNDO and "dies" holding it;
	// process 6 waits for it and gets it when 5's adjustments are
	// applied.
	require.NoError(t, ns.Semop(newWaiter(), user(5), id, []SemOp{{0, -1, SemUndo}}, time.Time{}))
	done := make(chan error, 1)
	go func() { done <- ns.Semop(newWaiter(), user(6), id, []SemOp{{0, -1, SemUndo}}, time.Time{}) }()
	blocked(t, done)
	ns.ExitProcess(5)
	require.NoError(t, result(t, done, time.Second))
	assert.Equal(t, 0, semval(t, ns, id, 0), "6 holds it now")
	ns.ExitProcess(6)
	assert.Equal(t, 1, semval(t, ns, id, 0), "and gave it back at exit")
	pid, _ := ns.SemGetOne(owner, id, 0, GetPID)
	assert.Equal(t, 6, pid)

	// Adjustments are clamped to [0, SEMVMX] at exit.
	require.NoError(t, ns.Semop(newWaiter(), user(7), id, []SemOp{{0, 5, SemUndo}}, time.Time{}))
	require.NoError(t, ns.SemSetVal(owner, id, 0, 2))
	// SETVAL cleared 7's adjustment: its exit changes nothing.
	ns.ExitProcess(7)
	assert.Equal(t, 2, semval(t, ns, id, 0))
	require.NoError(t, ns.Semop(newWaiter(), user(8), id, []SemOp{{0, 3, SemUndo}}, time.Time{}))
	require.NoError(t, ns.Semop(newWaiter(), user(9), id, []SemOp{{0, -5, 0}}, time.Time{}))
	ns.ExitProcess(8) // -3 on 0: clamped to 0
	assert.Equal(t, 0, semval(t, ns, id, 0))

	// The adjustment is bounded (ERANGE).
	require.NoError(t, ns.SemSetVal(owner, id, 0, SemVMX))
	require.NoError(t, ns.Semop(newWaiter(), user(10), id, []SemOp{{0, -SemVMX, SemUndo}}, time.Time{}))
	require.NoError(t, ns.Semop(newWaiter(), user(10), id, []SemOp{{0, 1, 0}}, time.Time{}))
	assert.Equal(t, unix.ERANGE, ns.Semop(newWaiter(), user(10), id, []SemOp{{0, -1, SemUndo}}, time.Time{}))
	assert.Equal(t, 1, semval(t, ns, id, 0))
	// Removing the set drops the records; a later exit is harmless.
	require.NoError(t, ns.SemRemove(owner, id))
	ns.ExitProcess(10)
	assert.Equal(t, int64(0), ns.Used())
	var nilNS *Namespace
	nilNS.ExitProcess(1)
}

// TestSemLock uses a semaphore as a lock between many "processes".
func TestSemLock(t *testing.T) {
	ns := newNS(t)
	id, err := ns.SemGet(user(1), Private, 1, 0o600)
	require.NoError(t, err)
	require.NoError(t, ns.SemSetVal(user(1), id, 0, 1))
	var inside, total atomic.Int32
	var wg sync.WaitGroup
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, w := user(int32(100+p)), newWaiter()
			for i := 0; i < 200; i++ {
				if err := ns.Semop(w, c, id, []SemOp{{0, -1, SemUndo}}, time.Time{}); err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two holders")
				}
				total.Add(1)
				inside.Add(-1)
				if err := ns.Semop(w, c, id, []SemOp{{0, 1, SemUndo}}, time.Time{}); err != nil {
					t.Error(err)
					return
				}
			}
			ns.ExitProcess(c.PID)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1600), total.Load())
	assert.Equal(t, 1, semval(t, ns, id, 0))
}

func TestSemGetChecks(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	_, err := ns.SemGet(c, Private, 0, 0o600)
	assert.Equal(t, unix.EINVAL, err, "a new set needs semaphores")
	_, err = ns.SemGet(c, Private, -1, 0o600)
	assert.Equal(t, unix.EINVAL, err)
	id, err := ns.SemGet(c, 9, 4, Creat|0o600)
	require.NoError(t, err)
	got, err := ns.SemGet(c, 9, 0, 0)
	require.NoError(t, err, "0 semaphores: any existing set")
	assert.Equal(t, id, got)
	_, err = ns.SemGet(c, 9, 5, 0)
	assert.Equal(t, unix.EINVAL, err, "more semaphores than the set has")
	_, err = ns.SemGet(other(2), 9, 5, 0)
	assert.Equal(t, unix.EINVAL, err, "EINVAL comes before EACCES")

	// *_STAT by index; SEM_STAT_ANY skips the access check.
	_, max := ns.SemInfoCmd(false)
	ds, gotID, err := ns.SemStatCmd(c, int32(max), true, false)
	require.NoError(t, err)
	assert.Equal(t, id, gotID)
	assert.Equal(t, uint64(4), ds.Nsems)
	_, _, err = ns.SemStatCmd(other(2), int32(max), true, false)
	assert.Equal(t, unix.EACCES, err)
	_, _, err = ns.SemStatCmd(other(2), int32(max), true, true)
	assert.NoError(t, err)
	info, _ := ns.SemInfoCmd(true)
	assert.Equal(t, int32(1), info.SemUSZ)
	assert.Equal(t, int32(4), info.SemAEM)
}
