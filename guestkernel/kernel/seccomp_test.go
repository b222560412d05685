package kernel

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/seccomp"
)

// seccompEnv is a process of n threads, without a platform.
func seccompEnv(t *testing.T, n int) []*Task {
	k := New(nil, nil, slog.New(slog.DiscardHandler))
	tg := k.newGroup(k.allocPID(), nil, Creds{})
	k.groups[tg.PID] = tg
	var ts []*Task
	for range n {
		task := &Task{K: k, TG: tg, TID: k.allocPID(), Ctx: &nopContext{}, wake: make(chan struct{}, 1)}
		k.procs.tasks[task.TID] = task
		tg.tasks = append(tg.tasks, task)
		ts = append(ts, task)
	}
	return ts
}

// retProg is a filter that returns ret for syscall nr and allows the rest.
func retProg(t *testing.T, nr uint32, ret uint32) *seccomp.Program {
	p, err := seccomp.Check([]seccomp.Instruction{
		{Code: 0x20, K: 0},                // ld [nr]
		{Code: 0x15, Jt: 0, Jf: 1, K: nr}, // jeq nr
		{Code: 0x06, K: ret},              // ret
		{Code: 0x06, K: seccomp.RetAllow},
	})
	require.NoError(t, err)
	return p
}

func TestSeccompTSync(t *testing.T) {
	ts := seccompEnv(t, 3)
	a, b, c := ts[0], ts[1], ts[2]
	_, err := a.AttachSeccomp(retProg(t, 1, seccomp.RetErrno|1), false, false, false)
	require.NoError(t, err)
	mode, n := a.SeccompMode()
	assert.Equal(t, SeccompFilter, mode)
	assert.Equal(t, 1, n)
	mode, _ = b.SeccompMode()
	assert.Equal(t, SeccompDisabled, mode, "without TSYNC only the caller")

	tid, err := a.AttachSeccomp(retProg(t, 2, seccomp.RetErrno|2), false, true, false)
	require.NoError(t, err)
	assert.Zero(t, tid)
	for _, x := range ts {
		mode, n := x.SeccompMode()
		assert.Equal(t, SeccompFilter, mode)
		assert.Equal(t, 2, n, "TSYNC gave every thread the caller's stack")
	}

	// c's own filter is not below a's stack: TSYNC fails, naming c.
	_, err = c.AttachSeccomp(retProg(t, 3, seccomp.RetErrno|3), false, false, false)
	require.NoError(t, err)
	tid, err = a.AttachSeccomp(retProg(t, 4, seccomp.RetErrno|4), false, true, false)
	require.NoError(t, err)
	assert.Equal(t, c.TID, tid)
	_, n = a.SeccompMode()
	assert.Equal(t, 2, n, "nothing installed")
	_, err = a.AttachSeccomp(retProg(t, 4, seccomp.RetErrno|4), false, true, true)
	assert.Equal(t, unix.ESRCH, err, "TSYNC_ESRCH")

	// c extends a's stack, so c may synchronize a and b.
	_, err = c.AttachSeccomp(retProg(t, 5, seccomp.RetErrno|5), false, true, false)
	require.NoError(t, err)
	_, n = b.SeccompMode()
	assert.Equal(t, 4, n)

	p, err := b.SeccompProgram(0)
	require.NoError(t, err)
	assert.Equal(t, uint32(seccomp.RetErrno|5), p.Run(&seccomp.Data{Nr: 5, Arch: seccomp.AuditArchX86_64}), "index 0 is the newest")
	_, err = b.SeccompProgram(4)
	assert.Equal(t, unix.ENOENT, err)

	assert.Equal(t, unix.EINVAL, b.SetSeccompStrict(), "no strict mode after a filter")
}

func TestSeccompStrictRefusesFilters(t *testing.T) {
	ts := seccompEnv(t, 2)
	require.NoError(t, ts[1].SetSeccompStrict())
	_, err := ts[1].AttachSeccomp(retProg(t, 1, seccomp.RetAllow), false, false, false)
	assert.Equal(t, unix.EINVAL, err)
	tid, err := ts[0].AttachSeccomp(retProg(t, 1, seccomp.RetAllow), false, true, false)
	require.NoError(t, err)
	assert.Equal(t, ts[1].TID, tid, "a strict thread cannot be synchronized")
	_, err = ts[0].SeccompProgram(0)
	assert.Equal(t, unix.EINVAL, err, "not in filter mode")
}

func TestSeccompAllows(t *testing.T) {
	ts := seccompEnv(t, 2)
	a := ts[0]
	_, err := a.AttachSeccomp(retProg(t, unix.SYS_GETPPID, seccomp.RetErrno|5000), false, false, false)
	require.NoError(t, err)
	a.origRAX = unix.SYS_GETPID
	assert.True(t, a.seccompAllows())
	a.origRAX = unix.SYS_GETPPID
	assert.False(t, a.seccompAllows())
	assert.Equal(t, int64(-4095), int64(a.Regs.RAX), "ERRNO data is clamped to 4095")

	_, err = a.AttachSeccomp(retProg(t, unix.SYS_GETUID, seccomp.RetKillThread), false, false, false)
	require.NoError(t, err)
	a.origRAX = unix.SYS_GETUID
	assert.False(t, a.seccompAllows())
	assert.True(t, a.mustExit(), "KILL_THREAD with another thread left ends this thread alone")
	assert.Equal(t, unix.SIGSYS, a.ownExitStatus().Signal)
	assert.False(t, a.TG.Exiting())
}
