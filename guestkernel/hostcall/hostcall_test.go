package hostcall

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// startForTest starts the worker with p and stops using it after the test
// (the worker thread itself stays, asleep).
func startForTest(t *testing.T, p Policy) *worker {
	t.Helper()
	p.Worker = true
	require.NoError(t, Start(p))
	w := active.Load()
	require.NotNil(t, w)
	t.Cleanup(func() {
		mu.Lock()
		active.Store(nil)
		mu.Unlock()
	})
	return w
}

func TestCallsThroughWorker(t *testing.T) {
	dir := t.TempDir()
	data := []byte("the quick brown fox")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), data, 0o644))
	// A caller that sleeps sends the next 10 ms of calls direct; here the
	// callers wait for as long as it takes.
	startForTest(t, Policy{CallerSpin: time.Second})
	before := stats.Worker.Load()

	dfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	require.NoError(t, err)
	defer unix.Close(dfd)
	fd, err := Openat2(dfd, "f", &unix.OpenHow{Flags: unix.O_RDONLY, Resolve: unix.RESOLVE_BENEATH})
	require.NoError(t, err)
	var st unix.Stat_t
	require.NoError(t, Fstat(fd, &st))
	require.Equal(t, int64(len(data)), st.Size)
	buf := make([]byte, 64)
	n, err := Pread(fd, buf, 4)
	require.NoError(t, err)
	require.Equal(t, "quick brown fox", string(buf[:n]))
	require.NoError(t, Close(fd))
	require.Equal(t, unix.EBADF, Close(fd))
	require.Equal(t, unix.ENOENT, Fstatat(dfd, "missing", &st, 0))
	_, err = Openat2(dfd, "../escape", &unix.OpenHow{Flags: unix.O_RDONLY, Resolve: unix.RESOLVE_BENEATH})
	require.Equal(t, unix.EXDEV, err)
	_, err = Openat2(dfd, "nul\x00inside", &unix.OpenHow{})
	require.Equal(t, unix.EINVAL, err)
	require.NoError(t, Mkdirat(dfd, "d", 0o755))
	require.NoError(t, Symlinkat("f", dfd, "l"))
	n, err = Readlinkat(dfd, "l", buf)
	require.NoError(t, err)
	require.Equal(t, "f", string(buf[:n]))
	require.NoError(t, Renameat2(dfd, "l", dfd, "d/l", 0))
	require.NoError(t, Unlinkat(dfd, "d/l", 0))
	require.NoError(t, Unlinkat(dfd, "d", unix.AT_REMOVEDIR))
	require.GreaterOrEqual(t, stats.Worker.Load()-before, uint64(12), "calls went through the worker")
}

// TestConcurrentCallers: many goroutines on their own threads share the
// table (more callers than slots) and each gets its own result.
func TestConcurrentCallers(t *testing.T) {
	dir := t.TempDir()
	startForTest(t, Policy{CallerSpin: time.Second})
	const files = 8
	for i := 0; i < files; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, string(rune('a'+i))), make([]byte, 100*(i+1)), 0o644))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				i := (g + k) % files
				var st unix.Stat_t
				if err := Fstatat(unix.AT_FDCWD, filepath.Join(dir, string(rune('a'+i))), &st, 0); err != nil {
					errs <- err
					return
				}
				if st.Size != int64(100*(i+1)) {
					errs <- unix.EIO
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestWorkerSleepsAndWakes: after Spin without requests the worker sleeps
// on its gate; the next call wakes it (one counted wake) and succeeds.
func TestWorkerSleepsAndWakes(t *testing.T) {
	w := startForTest(t, Policy{Spin: time.Millisecond, CallerSpin: time.Second})
	var st unix.Stat_t
	require.NoError(t, Fstatat(unix.AT_FDCWD, "/", &st, 0))
	require.Eventually(t, func() bool { return w.gate.Load() == 1 }, 5*time.Second, time.Millisecond, "the worker never went to sleep")
	wakes := stats.Wakes.Load()
	require.NoError(t, Fstatat(unix.AT_FDCWD, "/", &st, 0))
	require.Equal(t, wakes+1, stats.Wakes.Load())
}

// TestSlowCallSleepsCaller: a call longer than the caller's spin puts the
// caller to sleep on its slot until the worker wakes it; meanwhile other
// calls go direct instead of queueing behind it.
func TestSlowCallSleepsCaller(t *testing.T) {
	startForTest(t, Policy{CallerSpin: time.Microsecond})
	sleeps := stats.CallerSleep.Load()
	// nanosleep 20 ms: a stand-in for a slow disk read.
	ts := unix.Timespec{Nsec: 20e6}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, e := Syscall6(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0, 0, 0, 0)
		if e != 0 {
			t.Errorf("nanosleep: %v", e)
		}
	}()
	time.Sleep(5 * time.Millisecond)
	direct := stats.Direct.Load()
	var st unix.Stat_t
	require.NoError(t, Fstatat(unix.AT_FDCWD, "/", &st, 0))
	require.Equal(t, direct+1, stats.Direct.Load(), "a call behind a slow one goes direct")
	<-done
	require.Greater(t, stats.CallerSleep.Load(), sleeps)
	// The sleep started a back-off: calls go direct for a while.
	w := active.Load()
	w.backoffUntil.Store(cputicks() + w.backoffTicks)
	direct = stats.Direct.Load()
	require.NoError(t, Fstatat(unix.AT_FDCWD, "/", &st, 0))
	require.Equal(t, direct+1, stats.Direct.Load(), "a call during the back-off goes direct")
}

func TestDirectWithoutWorker(t *testing.T) {
	require.Nil(t, active.Load())
	direct := stats.Direct.Load()
	var st unix.Stat_t
	require.NoError(t, Fstat(0, &st))
	require.Equal(t, direct+1, stats.Direct.Load())
}

// TestDirectCallLeaves: with the worker off, a direct call first asks the
// platform to leave the guest, and a leave it reports is counted.
func TestDirectCallLeaves(t *testing.T) {
	asked := 0
	SetLeave(func() bool { asked++; return asked == 1 })
	defer SetLeave(nil)
	before := stats.Leaves.Load()
	var st unix.Stat_t
	require.NoError(t, Fstat(0, &st))
	require.NoError(t, Fstat(0, &st))
	require.Equal(t, 2, asked, "every direct call asks")
	require.Equal(t, before+1, stats.Leaves.Load(), "only the leave that happened counts")
}
