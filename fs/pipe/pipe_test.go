package pipe

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

func fill(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func TestWriteRead(t *testing.T) {
	r, w := New(1000, 1000, false)
	n, err := w.Write([]byte("hello"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	n, err = w.Write([]byte(" world"))
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	assert.Equal(t, 11, r.ReadAvailable())

	buf := make([]byte, 3)
	n, err = r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hel", string(buf[:n]))
	buf = make([]byte, 100)
	n, err = r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "lo world", string(buf[:n]))

	_, err = r.Read(buf)
	assert.Equal(t, unix.EAGAIN, err, "empty with a writer")
	n, err = r.Read(nil)
	assert.NoError(t, err)
	assert.Zero(t, n)

	w.Release()
	n, err = r.Read(buf)
	assert.NoError(t, err, "end of file without writers")
	assert.Zero(t, n)
}

func TestWrongEnd(t *testing.T) {
	r, w := New(0, 0, false)
	_, err := r.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err)
	_, err = w.Read(make([]byte, 1))
	assert.Equal(t, unix.EBADF, err)
	_, err = r.Pread(make([]byte, 1), 0)
	assert.Equal(t, unix.ESPIPE, err)
	_, err = w.Pwrite([]byte("x"), 0)
	assert.Equal(t, unix.ESPIPE, err)
	_, err = r.Seek(0, 0)
	assert.Equal(t, unix.ESPIPE, err)
}

func TestEPIPE(t *testing.T) {
	r, w := New(0, 0, false)
	assert.Equal(t, waiter.WritableEvents, w.Readiness(waiter.AllEvents))
	r.Release()
	r.Release() // idempotent
	_, err := w.Write([]byte("x"))
	assert.Equal(t, unix.EPIPE, err)
	_, err = w.Write(nil)
	assert.Equal(t, unix.EPIPE, err, "even an empty write")
	assert.Equal(t, waiter.WritableEvents|waiter.EventErr, w.Readiness(waiter.AllEvents))
	assert.Equal(t, waiter.EventErr, w.Readiness(waiter.EventIn), "POLLERR is always reported")
}

func TestCapacityPages(t *testing.T) {
	_, w := New(0, 0, false)
	total := 0
	for {
		n, err := w.Write(fill('a', PageSize))
		if err == unix.EAGAIN {
			assert.Zero(t, n)
			break
		}
		require.NoError(t, err)
		total += n
	}
	assert.Equal(t, DefaultSize, total)
	assert.Equal(t, DefaultSize, w.Pipe().Size())
	assert.Zero(t, w.Readiness(waiter.EventOut))
}

func TestCapacitySmallWrites(t *testing.T) {
	// 1000-byte writes: four merge into each page, the fifth needs a new
	// one, as Linux does; 16 pages hold 64000 bytes.
	_, w := New(0, 0, false)
	total := 0
	for {
		n, err := w.Write(fill('b', 1000))
		if err == unix.EAGAIN {
			break
		}
		require.NoError(t, err)
		assert.Equal(t, 1000, n, "atomic")
		total += n
	}
	assert.Equal(t, 64000, total)
	// One byte still merges into the last page.
	n, err := w.Write([]byte{1})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestAtomicAndPartial(t *testing.T) {
	r, w := New(0, 0, false)
	// Fill all but one page.
	for i := 0; i < DefaultSlots-1; i++ {
		_, err := w.Write(fill('c', PageSize))
		require.NoError(t, err)
	}
	_, err := w.Write(fill('d', 100))
	require.NoError(t, err)
	// The pipe is full (16 slots), a 4096 write cannot fit in the tail.
	n, err := w.Write(fill('e', AtomicIOBytes))
	assert.Equal(t, unix.EAGAIN, err)
	assert.Zero(t, n)
	// A small one can.
	n, err = w.Write(fill('f', 100))
	require.NoError(t, err)
	assert.Equal(t, 100, n)

	// Free two pages, then write more than PIPE_BUF: it is split.
	_, err = r.Read(make([]byte, 2*PageSize))
	require.NoError(t, err)
	n, err = w.Write(fill('g', 3*PageSize))
	assert.Equal(t, unix.EAGAIN, err, "partial write")
	assert.Equal(t, 2*PageSize, n)
}

func TestPacketMode(t *testing.T) {
	r, w := New(0, 0, true)
	for _, s := range []string{"one", "two", "three"} {
		n, err := w.Write([]byte(s))
		require.NoError(t, err)
		assert.Equal(t, len(s), n)
	}
	buf := make([]byte, 100)
	n, err := r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "one", string(buf[:n]), "one packet per read")
	n, err = r.Read(buf[:2])
	require.NoError(t, err)
	assert.Equal(t, "tw", string(buf[:n]), "the rest of a packet is dropped")
	assert.Equal(t, 5, r.ReadAvailable())
	n, err = r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "three", string(buf[:n]))

	// A large packet write is split into page-sized packets.
	n, err = w.Write(fill('p', PageSize+10))
	require.NoError(t, err)
	assert.Equal(t, PageSize+10, n)
	n, _ = r.Read(make([]byte, 2*PageSize))
	assert.Equal(t, PageSize, n)
	n, _ = r.Read(make([]byte, 2*PageSize))
	assert.Equal(t, 10, n)
}

func TestSetSize(t *testing.T) {
	r, w := New(0, 0, false)
	p := w.Pipe()
	for _, c := range []struct {
		in   uint64
		want int
		err  error
	}{
		{0, PageSize, nil},
		{1, PageSize, nil},
		{PageSize + 1, 2 * PageSize, nil},
		{5 * PageSize, 8 * PageSize, nil},
		{MaxSize, MaxSize, nil},
		{MaxSize + 1, 0, unix.EPERM},
		{1<<31 + 1, 0, unix.EINVAL},
		{DefaultSize, DefaultSize, nil},
	} {
		got, err := p.SetSize(c.in)
		assert.Equal(t, c.err, err, "SetSize(%d)", c.in)
		if c.err == nil {
			assert.Equal(t, c.want, got, "SetSize(%d)", c.in)
			assert.Equal(t, c.want, p.Size())
		}
	}
	// Three pages in use: shrinking to two is EBUSY, to four is fine.
	for i := 0; i < 3; i++ {
		_, err := w.Write(fill('x', PageSize))
		require.NoError(t, err)
	}
	_, err := p.SetSize(2 * PageSize)
	assert.Equal(t, unix.EBUSY, err)
	got, err := p.SetSize(3 * PageSize)
	require.NoError(t, err)
	assert.Equal(t, 4*PageSize, got)
	_, err = w.Write(fill('y', PageSize))
	require.NoError(t, err)
	_, err = w.Write(fill('y', PageSize))
	assert.Equal(t, unix.EAGAIN, err)
	assert.Equal(t, 4*PageSize, r.ReadAvailable())
}

func TestGrowWakesWriters(t *testing.T) {
	_, w := New(0, 0, false)
	_, err := w.Pipe().SetSize(PageSize)
	require.NoError(t, err)
	_, err = w.Write(fill('x', PageSize))
	require.NoError(t, err)
	e, ch := waiter.NewChannelEntry(waiter.EventOut)
	w.EventRegister(e)
	defer w.EventUnregister(e)
	_, err = w.Pipe().SetSize(2 * PageSize)
	require.NoError(t, err)
	assert.Len(t, ch, 1)
}

func TestReadinessAndHangup(t *testing.T) {
	r, w := New(0, 0, false)
	assert.Zero(t, r.Readiness(waiter.AllEvents))
	_, err := w.Write([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, waiter.ReadableEvents, r.Readiness(waiter.AllEvents))
	assert.Equal(t, waiter.EventIn, r.Readiness(waiter.EventIn))
	w.Release()
	assert.Equal(t, waiter.ReadableEvents|waiter.EventHup, r.Readiness(waiter.AllEvents))
	rev, err := r.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN|unix.POLLHUP), rev)
	_, err = r.Read(make([]byte, 10))
	require.NoError(t, err)
	assert.Equal(t, waiter.EventHup, r.Readiness(waiter.EventIn))
}

func TestNotifications(t *testing.T) {
	r, w := New(0, 0, false)
	re, rch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHup)
	we, wch := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventErr)
	r.EventRegister(re)
	w.EventRegister(we)

	_, _ = w.Write([]byte("x"))
	assert.Len(t, rch, 1, "a write wakes readers")
	assert.Len(t, wch, 0)
	<-rch
	_, _ = r.Read(make([]byte, 1))
	assert.Len(t, wch, 0, "a read of a pipe that was not full wakes no writer")

	for i := 0; i < DefaultSlots; i++ {
		_, _ = w.Write(fill('z', PageSize))
	}
	_, _ = r.Read(make([]byte, 10))
	assert.Len(t, wch, 0, "no slot freed")
	_, _ = r.Read(make([]byte, PageSize))
	assert.Len(t, wch, 1, "a slot of a full pipe freed")
	<-wch
	<-rch

	r.EventUnregister(re)
	_, _ = w.Write([]byte("x"))
	assert.Len(t, rch, 0, "unregistered")

	r.Release()
	assert.Len(t, wch, 1, "the last reader gone wakes writers")
	assert.Equal(t, "pipe:["+itoa(r.Pipe().Ino())+"]", w.Name())
}

func itoa(v uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
		if v == 0 {
			return string(b)
		}
	}
}

func TestStat(t *testing.T) {
	r, w := New(1234, 5678, false)
	st, err := r.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFIFO|0o600), st.Mode)
	assert.Equal(t, uint32(1234), st.Uid)
	assert.Equal(t, uint32(5678), st.Gid)
	st2, _ := w.Stat()
	assert.Equal(t, st.Ino, st2.Ino, "both ends are one inode")
	r2, _ := New(0, 0, false)
	st3, _ := r2.Stat()
	assert.NotEqual(t, st.Ino, st3.Ino)
}

func TestTeeSplice(t *testing.T) {
	ar, aw := New(0, 0, false)
	br, bw := New(0, 0, false)
	_, err := aw.Write([]byte("hello "))
	require.NoError(t, err)
	_, err = aw.Write(fill('x', PageSize)) // "hello " + part in page 1, rest in page 2
	require.NoError(t, err)

	n, err := Tee(ar.Pipe(), bw.Pipe(), 8)
	require.NoError(t, err)
	assert.Equal(t, 8, n)
	assert.Equal(t, 6+PageSize, ar.ReadAvailable(), "tee does not consume")
	buf := make([]byte, 100)
	n, _ = br.Read(buf)
	assert.Equal(t, "hello xx", string(buf[:n]))

	n, err = Splice(ar.Pipe(), bw.Pipe(), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, 6+PageSize, n)
	assert.Zero(t, ar.ReadAvailable())
	assert.Equal(t, 6+PageSize, br.ReadAvailable())

	_, err = Splice(ar.Pipe(), bw.Pipe(), 10)
	assert.Equal(t, unix.EAGAIN, err, "empty source with a writer")
	_, err = Tee(ar.Pipe(), ar.Pipe(), 10)
	assert.Equal(t, unix.EINVAL, err)
	aw.Release()
	n, err = Splice(ar.Pipe(), bw.Pipe(), 10)
	assert.NoError(t, err)
	assert.Zero(t, n, "end of input")

	_, err = aw.Pipe().SetSize(0)
	require.NoError(t, err)
	br.Release()
	_, err = Tee(ar.Pipe(), bw.Pipe(), 10)
	assert.Equal(t, unix.EPIPE, err)
}

func TestSpliceFullDestination(t *testing.T) {
	ar, aw := New(0, 0, false)
	_, bw := New(0, 0, false)
	_, err := bw.Pipe().SetSize(PageSize)
	require.NoError(t, err)
	_, _ = aw.Write(fill('a', 3*PageSize))
	n, err := Splice(ar.Pipe(), bw.Pipe(), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, PageSize, n, "one slot free")
	_, err = Splice(ar.Pipe(), bw.Pipe(), 1<<20)
	assert.Equal(t, unix.EAGAIN, err)
}

func TestFillDrain(t *testing.T) {
	r, w := New(0, 0, false)
	src := bytes.NewReader(fill('q', 100000))
	n, err := w.Pipe().Fill(1<<20, src.Read)
	require.NoError(t, err)
	assert.Equal(t, DefaultSize, n, "up to the free space")
	_, err = w.Pipe().Fill(10, src.Read)
	assert.Equal(t, unix.EAGAIN, err)

	var out bytes.Buffer
	n, err = r.Pipe().Drain(1000, out.Write)
	require.NoError(t, err)
	assert.Equal(t, 1000, n)
	short := func(b []byte) (int, error) { return out.Write(b[:10]) }
	n, err = r.Pipe().Drain(1000, short)
	require.NoError(t, err)
	assert.Equal(t, 10, n, "only what the file took is consumed")
	assert.Equal(t, DefaultSize-1010, r.ReadAvailable())

	failing := func([]byte) (int, error) { return 0, unix.ENOSPC }
	_, err = r.Pipe().Drain(1000, failing)
	assert.Equal(t, unix.ENOSPC, err)
	assert.Equal(t, DefaultSize-1010, r.ReadAvailable())

	r.Release()
	_, err = w.Pipe().Fill(10, src.Read)
	assert.Equal(t, unix.EPIPE, err)
}

// blockingRead reads like the syscall layer: waits on the queue while
// the pipe says EAGAIN.
func blockingRead(e *End, b []byte) (int, error) {
	entry, ch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHup)
	e.EventRegister(entry)
	defer e.EventUnregister(entry)
	for {
		n, err := e.Read(b)
		if err != unix.EAGAIN {
			return n, err
		}
		<-ch
	}
}

func blockingWrite(e *End, b []byte) (int, error) {
	entry, ch := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventErr)
	e.EventRegister(entry)
	defer e.EventUnregister(entry)
	done := 0
	for {
		n, err := e.Write(b[done:])
		done += n
		if err != unix.EAGAIN {
			return done, err
		}
		<-ch
	}
}

func TestGoroutinesStream(t *testing.T) {
	r, w := New(0, 0, false)
	const total = 3 << 20
	data := make([]byte, total)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var got bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 7777)
		for {
			n, err := blockingRead(r, buf)
			if err != nil || n == 0 {
				return
			}
			got.Write(buf[:n])
		}
	}()
	for off := 0; off < total; {
		k := min(total-off, 100000)
		n, err := blockingWrite(w, data[off:off+k])
		require.NoError(t, err)
		off += n
	}
	w.Release()
	wg.Wait()
	assert.True(t, bytes.Equal(data, got.Bytes()), "stream intact")
}

func TestGoroutinesAtomicWriters(t *testing.T) {
	// Several writers of PIPE_BUF-sized records: records never interleave.
	r, w := New(0, 0, false)
	const writers, records = 4, 200
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := fill(byte('A'+i), AtomicIOBytes)
			for j := 0; j < records; j++ {
				n, err := blockingWrite(w, rec)
				if err != nil || n != len(rec) {
					t.Errorf("write: %d %v", n, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); w.Release(); close(done) }()
	var all []byte
	buf := make([]byte, 3000)
	for {
		n, err := blockingRead(r, buf)
		require.NoError(t, err)
		if n == 0 {
			break
		}
		all = append(all, buf[:n]...)
	}
	<-done
	require.Len(t, all, writers*records*AtomicIOBytes)
	for off := 0; off < len(all); off += AtomicIOBytes {
		rec := all[off : off+AtomicIOBytes]
		assert.Equal(t, fill(rec[0], AtomicIOBytes), rec, "record at %d interleaved", off)
	}
}

func TestReaderWakesOnWriterClose(t *testing.T) {
	r, w := New(0, 0, false)
	res := make(chan int, 1)
	go func() {
		n, _ := blockingRead(r, make([]byte, 10))
		res <- n
	}()
	time.Sleep(20 * time.Millisecond)
	w.Release()
	select {
	case n := <-res:
		assert.Zero(t, n, "end of file")
	case <-time.After(5 * time.Second):
		t.Fatal("reader not woken by the writer's close")
	}
}

func TestWriterWakesOnReaderClose(t *testing.T) {
	r, w := New(0, 0, false)
	_, _ = w.Write(fill('x', DefaultSize))
	res := make(chan error, 1)
	go func() {
		_, err := blockingWrite(w, []byte("more"))
		res <- err
	}()
	time.Sleep(20 * time.Millisecond)
	r.Release()
	select {
	case err := <-res:
		assert.Equal(t, unix.EPIPE, err)
	case <-time.After(5 * time.Second):
		t.Fatal("writer not woken by the reader's close")
	}
}
