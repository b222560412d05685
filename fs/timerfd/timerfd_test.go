package timerfd

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

const ms = time.Millisecond

func read(t *testing.T, tf *TimerFD) (uint64, error) {
	t.Helper()
	b := make([]byte, 8)
	n, err := tf.Read(b)
	if err != nil {
		return 0, err
	}
	require.Equal(t, 8, n)
	return binary.LittleEndian.Uint64(b), nil
}

func TestOneShot(t *testing.T) {
	c := NewFakeClock(1000 * time.Second)
	tf := New(c)
	_, err := read(t, tf)
	assert.Equal(t, unix.EAGAIN, err, "disarmed")
	in, ch := waiter.NewChannelEntry(waiter.EventIn)
	tf.EventRegister(in)

	v, iv := tf.Set(50*ms, 0, false)
	assert.Zero(t, v)
	assert.Zero(t, iv)
	v, _ = tf.Get()
	assert.Equal(t, 50*ms, v)
	c.Advance(20 * ms)
	v, _ = tf.Get()
	assert.Equal(t, 30*ms, v)
	assert.Zero(t, tf.Readiness(waiter.AllEvents))
	assert.Len(t, ch, 0)

	c.Advance(30 * ms)
	assert.Len(t, ch, 1, "the expiration notifies")
	assert.Equal(t, waiter.ReadableEvents, tf.Readiness(waiter.AllEvents))
	v, _ = tf.Get()
	assert.Zero(t, v, "a one-shot timer that expired is disarmed")
	n, err := read(t, tf)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), n)
	_, err = read(t, tf)
	assert.Equal(t, unix.EAGAIN, err)
	c.Advance(time.Hour)
	_, err = read(t, tf)
	assert.Equal(t, unix.EAGAIN, err, "once only")
	assert.Zero(t, c.Pending())
}

func TestPeriodic(t *testing.T) {
	c := NewFakeClock(0)
	tf := New(c)
	in, ch := waiter.NewChannelEntry(waiter.EventIn)
	tf.EventRegister(in)
	defer tf.EventUnregister(in)
	tf.Set(10*ms, 5*ms, false)
	c.Advance(10 * ms)
	assert.Len(t, ch, 1)
	<-ch
	c.Advance(5 * ms)
	assert.Len(t, ch, 1)
	n, err := read(t, tf)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), n)

	// Periods nobody waited for are counted (the wake-ups ran late here:
	// the clock jumps by 23 ms at once).
	c.mu.Lock()
	c.now += 23 * ms
	c.mu.Unlock()
	assert.Equal(t, uint64(4), tf.Ticks(), "15 ms + 23 ms passes the expirations at 20, 25, 30, 35")
	v, iv := tf.Get()
	assert.Equal(t, 2*ms, v)
	assert.Equal(t, 5*ms, iv)
	c.Advance(0) // the late wake-up: it counts nothing twice
	n, _ = read(t, tf)
	assert.Equal(t, uint64(4), n)

	// Setting again resets the count and returns the old setting.
	c.Advance(7 * ms)
	v, iv = tf.Set(0, 0, false)
	assert.Equal(t, 5*ms, iv)
	assert.Equal(t, 5*ms, v, "next at 45 ms, now 40 ms")
	_, err = read(t, tf)
	assert.Equal(t, unix.EAGAIN, err, "disarming drops the count")
	c.Advance(time.Second)
	_, err = read(t, tf)
	assert.Equal(t, unix.EAGAIN, err)
	assert.Zero(t, c.Pending())
}

func TestAbsolute(t *testing.T) {
	c := NewFakeClock(100 * time.Second)
	tf := New(c)
	tf.Set(100*time.Second+40*ms, 0, true)
	v, _ := tf.Get()
	assert.Equal(t, 40*ms, v)
	c.Advance(40 * ms)
	n, _ := read(t, tf)
	assert.Equal(t, uint64(1), n)

	// An absolute time in the past expires at once, with the periods
	// since counted.
	tf.Set(99*time.Second, time.Second, true)
	n, err := read(t, tf)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), n, "expirations at 99 s and 100 s")
	v, iv := tf.Get()
	assert.Equal(t, time.Second-40*ms, v)
	assert.Equal(t, time.Second, iv)
}

func TestHugeValues(t *testing.T) {
	c := NewFakeClock(0)
	tf := New(c)
	tf.Set(math.MaxInt64, math.MaxInt64, false)
	v, _ := tf.Get()
	assert.Equal(t, time.Duration(math.MaxInt64), v)
	c.Advance(time.Hour)
	_, err := read(t, tf)
	assert.Equal(t, unix.EAGAIN, err)

	tf.Set(time.Nanosecond, math.MaxInt64/2, false)
	c.Advance(time.Nanosecond)
	n, _ := read(t, tf)
	assert.Equal(t, uint64(1), n)
	c.mu.Lock()
	c.now = math.MaxInt64 - 1
	c.mu.Unlock()
	assert.Equal(t, uint64(1), tf.Ticks(), "no overflow past the largest time")
	v, _ = tf.Get()
	assert.Positive(t, v)
}

func TestFileOps(t *testing.T) {
	c := NewFakeClock(0)
	tf := New(c)
	_, err := tf.Read(make([]byte, 7))
	assert.Equal(t, unix.EINVAL, err)
	_, err = tf.Write(make([]byte, 8))
	assert.Equal(t, unix.EINVAL, err)
	_, err = tf.Pread(make([]byte, 8), 0)
	assert.Equal(t, unix.ESPIPE, err)
	st, err := tf.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(0o600), st.Mode)
	assert.Equal(t, "anon_inode:[timerfd]", tf.Name())
	rev, _ := tf.Poll(unix.POLLIN|unix.POLLOUT, 0)
	assert.Zero(t, rev, "never writable")
	tf.Set(ms, ms, false)
	c.Advance(ms)
	rev, _ = tf.Poll(unix.POLLIN|unix.POLLOUT, 0)
	assert.Equal(t, int16(unix.POLLIN), rev)
	tf.Release()
	assert.Zero(t, c.Pending(), "released: no more wake-ups")
	c.Advance(time.Second)
}

func TestRealClock(t *testing.T) {
	for _, id := range []int32{unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME} {
		c := SystemClock(id)
		require.NotNil(t, c)
		host := hostReading(id)
		assert.InDelta(t, float64(host), float64(c.Now()), float64(50*ms), "clock %d", id)
	}
	assert.Nil(t, SystemClock(unix.CLOCK_PROCESS_CPUTIME_ID))

	tf := New(SystemClock(unix.CLOCK_MONOTONIC))
	in, ch := waiter.NewChannelEntry(waiter.EventIn)
	tf.EventRegister(in)
	start := time.Now()
	tf.Set(5*ms, 5*ms, false)
	got := uint64(0)
	for got < 3 {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("no expiration")
		}
		if n, err := read(t, tf); err == nil {
			got += n
		}
	}
	assert.GreaterOrEqual(t, time.Since(start), 15*ms)
	tf.Release()
}
