package inotify

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
	"ringbox/fs/waiter"
)

// readAll decodes every queued event as wd, mask and name.
func readAll(t *testing.T, in *Instance) []event {
	t.Helper()
	var out []event
	buf := make([]byte, 1<<20)
	for {
		n, err := in.Read(buf)
		if err == unix.EAGAIN {
			return out
		}
		require.NoError(t, err)
		for p := buf[:n]; len(p) > 0; {
			l := int(binary.LittleEndian.Uint32(p[12:]))
			name := string(p[eventHeader : eventHeader+l])
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			out = append(out, event{wd: int32(binary.LittleEndian.Uint32(p)), mask: binary.LittleEndian.Uint32(p[4:]),
				cookie: binary.LittleEndian.Uint32(p[8:]), name: name})
			p = p[eventHeader+l:]
		}
	}
}

func TestEventsReachMatchingWatches(t *testing.T) {
	h := NewHub()
	assert.False(t, h.Active())
	in, err := NewInstance(h)
	require.NoError(t, err)
	dir, file := Key{1, 10}, Key{1, 11}
	wdDir, err := in.AddWatch(dir, unix.IN_CREATE|unix.IN_MODIFY)
	require.NoError(t, err)
	wdFile, err := in.AddWatch(file, unix.IN_ATTRIB)
	require.NoError(t, err)
	assert.True(t, h.Active())

	h.Event(dir, unix.IN_CREATE, 0, "f")
	h.Event(dir, unix.IN_OPEN, 0, "f") // not asked for
	h.Event(file, unix.IN_ATTRIB, 0, "")
	h.Event(file, unix.IN_ATTRIB, 0, "") // merged with the last
	h.Event(Key{2, 10}, unix.IN_CREATE, 0, "x")
	assert.Equal(t, 2*eventHeader+eventHeader, in.ReadAvailable())
	assert.Equal(t, []event{
		{wd: wdDir, mask: unix.IN_CREATE, name: "f"},
		{wd: wdFile, mask: unix.IN_ATTRIB},
	}, readAll(t, in))

	// A watch added again keeps its descriptor; IN_MASK_ADD adds.
	wd, err := in.AddWatch(file, unix.IN_MODIFY|unix.IN_MASK_ADD)
	require.NoError(t, err)
	assert.Equal(t, wdFile, wd)
	h.Event(file, unix.IN_ATTRIB, 0, "")
	h.Event(file, unix.IN_MODIFY, 0, "")
	assert.Len(t, readAll(t, in), 2)
	_, err = in.AddWatch(file, unix.IN_OPEN|unix.IN_MASK_CREATE)
	assert.Equal(t, unix.EEXIST, err)
	_, err = in.AddWatch(file, 0)
	assert.Equal(t, unix.EINVAL, err)

	// Gone: IGNORED, and the watch is no more.
	h.Gone(file)
	assert.Equal(t, []event{{wd: wdFile, mask: unix.IN_IGNORED}}, readAll(t, in))
	assert.Equal(t, unix.EINVAL, in.RmWatch(wdFile))
	require.NoError(t, in.RmWatch(wdDir))
	assert.Equal(t, []event{{wd: wdDir, mask: unix.IN_IGNORED}}, readAll(t, in))
	assert.False(t, h.Active())
	in.Release()
}

func TestOneshotAndRelease(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	other, err := NewInstance(h)
	require.NoError(t, err)
	k := Key{3, 3}
	wd, err := in.AddWatch(k, unix.IN_OPEN|unix.IN_ONESHOT)
	require.NoError(t, err)
	_, err = other.AddWatch(k, unix.IN_OPEN)
	require.NoError(t, err)
	h.Event(k, unix.IN_OPEN, 0, "")
	h.Event(k, unix.IN_OPEN|unix.IN_ISDIR, 0, "")
	assert.Equal(t, []event{{wd: wd, mask: unix.IN_OPEN}, {wd: wd, mask: unix.IN_IGNORED}}, readAll(t, in))
	assert.Len(t, readAll(t, other), 2, "the other instance's watch stays")
	other.Release()
	assert.False(t, h.Active(), "a released instance's watches go")
	in.Release()
	assert.Equal(t, 0, h.instances)
}

func TestQueueOverflowAndShortRead(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	k := Key{4, 4}
	wd, err := in.AddWatch(k, unix.IN_CREATE)
	require.NoError(t, err)
	for i := 0; i < MaxQueued+100; i++ {
		h.Event(k, unix.IN_CREATE, 0, string(rune('a'+i%2)))
	}
	evs := readAll(t, in)
	require.Len(t, evs, MaxQueued+1)
	assert.Equal(t, event{wd: -1, mask: unix.IN_Q_OVERFLOW}, evs[MaxQueued])
	assert.Equal(t, 0, in.ReadAvailable())

	h.Event(k, unix.IN_CREATE, 0, "a-name-longer-than-sixteen")
	_, err = in.Read(make([]byte, eventHeader))
	assert.Equal(t, unix.EINVAL, err, "a buffer that cannot hold the first event")
	evs = readAll(t, in)
	assert.Equal(t, []event{{wd: wd, mask: unix.IN_CREATE, name: "a-name-longer-than-sixteen"}}, evs)
}

func TestLimits(t *testing.T) {
	h := NewHub()
	var ins []*Instance
	for i := 0; i < MaxInstances; i++ {
		in, err := NewInstance(h)
		require.NoError(t, err)
		ins = append(ins, in)
	}
	_, err := NewInstance(h)
	assert.Equal(t, unix.EMFILE, err)
	for i := 0; i < MaxWatches; i++ {
		_, err := ins[i%len(ins)].AddWatch(Key{5, uint64(i)}, unix.IN_OPEN)
		require.NoError(t, err)
	}
	_, err = ins[0].AddWatch(Key{6, 0}, unix.IN_OPEN)
	assert.Equal(t, unix.ENOSPC, err)
	for _, in := range ins {
		in.Release()
	}
	assert.False(t, h.Active())
	assert.Equal(t, 0, h.nwatches)
}

func TestFDInfo(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	defer in.Release()
	_, err = in.AddWatch(Key{unix.Mkdev(8, 1), 0x1234}, unix.IN_MODIFY)
	require.NoError(t, err)
	_, err = in.AddWatch(Key{unix.Mkdev(0, 0x2a), 7}, unix.IN_CREATE|unix.IN_ONESHOT)
	require.NoError(t, err)
	assert.Equal(t, "inotify wd:1 ino:1234 sdev:800001 mask:2 ignored_mask:0\n"+
		"inotify wd:2 ino:7 sdev:2a mask:80000100 ignored_mask:0\n", in.FDInfo())
}

// wakeCounter registers a waiter on in and counts its notifications.
func wakeCounter(t *testing.T, in *Instance) *int {
	t.Helper()
	n := new(int)
	e := waiter.NewEntry(waiter.ReadableEvents, func(waiter.EventMask) { *n++ })
	in.EventRegister(e)
	t.Cleanup(func() { in.EventUnregister(e) })
	return n
}

func TestWakeOnEveryQueuedEvent(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	defer in.Release()
	wakes := wakeCounter(t, in)
	k := Key{7, 7}
	_, err = in.AddWatch(k, unix.IN_MODIFY|unix.IN_ATTRIB)
	require.NoError(t, err)

	h.Event(k, unix.IN_MODIFY, 0, "")
	assert.Equal(t, 1, *wakes)
	h.Event(k, unix.IN_ATTRIB, 0, "")
	assert.Equal(t, 2, *wakes, "a second event wakes though the queue was not empty")
	h.Event(k, unix.IN_ATTRIB, 0, "")
	assert.Equal(t, 2, *wakes, "a merged event does not wake")
	h.Event(k, unix.IN_OPEN, 0, "")
	assert.Equal(t, 2, *wakes, "an event not asked for does not wake")
	h.Event(k, unix.IN_MODIFY, 0, "")
	assert.Equal(t, 3, *wakes)
	assert.Len(t, readAll(t, in), 3)

	// Full: the overflow marker wakes, the events dropped after it do not.
	for i := 0; i < MaxQueued; i++ {
		h.Event(k, unix.IN_MODIFY|uint32(i%2)*unix.IN_ISDIR, 0, "")
	}
	assert.Equal(t, 3+MaxQueued, *wakes)
	h.Event(k, unix.IN_ATTRIB, 0, "")
	assert.Equal(t, 4+MaxQueued, *wakes, "the overflow marker wakes")
	h.Event(k, unix.IN_MODIFY, 0, "")
	assert.Equal(t, 4+MaxQueued, *wakes, "a dropped event does not wake")

	// IN_ONESHOT: the event and its IN_IGNORED each wake; so does
	// rm_watch's IN_IGNORED.
	readAll(t, in)
	*wakes = 0
	k2 := Key{7, 8}
	_, err = in.AddWatch(k2, unix.IN_OPEN|unix.IN_ONESHOT)
	require.NoError(t, err)
	h.Event(k2, unix.IN_OPEN, 0, "")
	assert.Equal(t, 2, *wakes)
	wd, err := in.AddWatch(Key{7, 9}, unix.IN_OPEN)
	require.NoError(t, err)
	require.NoError(t, in.RmWatch(wd))
	assert.Equal(t, 3, *wakes)
}

func TestOverflowMarkerThenEventsAgain(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	defer in.Release()
	k := Key{8, 8}
	wd, err := in.AddWatch(k, unix.IN_CREATE)
	require.NoError(t, err)
	name := func(i int) string { return fmt.Sprintf("f%d", i) }
	for i := 0; i < MaxQueued+10; i++ {
		h.Event(k, unix.IN_CREATE, 0, name(i))
	}
	// Read the first 10 events: room for 10 more, queued after the marker.
	buf := make([]byte, 10*2*eventHeader)
	n, err := in.Read(buf)
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	h.Event(k, unix.IN_CREATE, 0, "after")
	for i := 0; i < 20; i++ {
		h.Event(k, unix.IN_CREATE, 0, name(100000+i)) // 8 fit, then dropped: no second marker
	}
	evs := readAll(t, in)
	require.Equal(t, MaxQueued, len(evs))
	assert.Equal(t, event{wd: wd, mask: unix.IN_CREATE, name: name(10)}, evs[0])
	assert.Equal(t, event{wd: wd, mask: unix.IN_CREATE, name: name(MaxQueued - 1)}, evs[MaxQueued-11])
	assert.Equal(t, event{wd: -1, mask: unix.IN_Q_OVERFLOW}, evs[MaxQueued-10])
	assert.Equal(t, event{wd: wd, mask: unix.IN_CREATE, name: "after"}, evs[MaxQueued-9])
	assert.Equal(t, event{wd: wd, mask: unix.IN_CREATE, name: name(100007)}, evs[MaxQueued-1])
	for _, e := range evs[MaxQueued-9:] {
		assert.NotEqual(t, uint32(unix.IN_Q_OVERFLOW), e.mask)
	}

	// The marker read, a new overflow queues a new one.
	for i := 0; i < MaxQueued+1; i++ {
		h.Event(k, unix.IN_CREATE, 0, name(i))
	}
	evs = readAll(t, in)
	require.Equal(t, MaxQueued+1, len(evs))
	assert.Equal(t, event{wd: -1, mask: unix.IN_Q_OVERFLOW}, evs[MaxQueued])
}

func TestQueueByteCap(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	defer in.Release()
	k := Key{9, 9}
	_, err = in.AddWatch(k, unix.IN_CREATE)
	require.NoError(t, err)
	long := strings.Repeat("x", 250) // 16 + 256 bytes an event
	const size = eventHeader + 256
	fit := MaxQueuedBytes / size
	for i := 0; i < fit+5; i++ {
		h.Event(k, unix.IN_CREATE, 0, fmt.Sprintf("%s%05d", long, i))
	}
	assert.Equal(t, fit*size+eventHeader, in.ReadAvailable(), "the events that fit and the marker")
	evs := readAll(t, in)
	require.Equal(t, fit+1, len(evs))
	assert.Less(t, fit, MaxQueued)
	assert.Equal(t, event{wd: -1, mask: unix.IN_Q_OVERFLOW}, evs[fit])
}

func TestSelfEventsHaveNoIsDir(t *testing.T) {
	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	defer in.Release()
	k := Key{10, 10}
	wd, err := in.AddWatch(k, unix.IN_ALL_EVENTS)
	require.NoError(t, err)
	h.Event(k, unix.IN_ATTRIB|unix.IN_ISDIR, 0, "")
	h.Event(k, unix.IN_MOVE_SELF|unix.IN_ISDIR, 0, "")
	h.Event(k, unix.IN_DELETE_SELF|unix.IN_ISDIR, 0, "")
	assert.Equal(t, []event{
		{wd: wd, mask: unix.IN_ATTRIB | unix.IN_ISDIR},
		{wd: wd, mask: unix.IN_MOVE_SELF},
		{wd: wd, mask: unix.IN_DELETE_SELF},
	}, readAll(t, in))
}

func TestIgnoredIsNotMerged(t *testing.T) {
	in := &Instance{}
	assert.True(t, in.push(event{wd: 1, mask: unix.IN_IGNORED}))
	assert.True(t, in.push(event{wd: 1, mask: unix.IN_IGNORED}))
	assert.True(t, in.push(event{wd: 1, mask: unix.IN_OPEN}))
	assert.False(t, in.push(event{wd: 1, mask: unix.IN_OPEN}), "merged")
	assert.Len(t, in.queue, 3)
}

// countingNode counts the Stat calls of a node.
type countingNode struct {
	fs.Node
	stats *int
}

func (n countingNode) Stat() (unix.Stat_t, error) { *n.stats++; return n.Node.Stat() }

// countingFS serves a tmpfs whose root counts its Stats.
type countingFS struct {
	fs.FS
	stats *int
}

func (c countingFS) Root() fs.Node { return countingNode{c.FS.Root(), c.stats} }

func TestOpenFileEvent(t *testing.T) {
	tfs := tmpfs.New(1 << 20)
	_, impl, err := tfs.Root().(fs.Creator).Create("f", unix.O_RDWR, 0o644)
	require.NoError(t, err)
	impl.Release()
	var rootStats int
	v := fs.NewVFS(countingFS{tfs, &rootStats}, false)
	d, err := v.Resolve(v.Root(), v.Root(), "/f", true)
	require.NoError(t, err)
	impl, err = d.Node().Open(unix.O_RDWR)
	require.NoError(t, err)
	f := fs.NewFile(impl, unix.O_RDWR)
	f.Dentry = d

	h := NewHub()
	in, err := NewInstance(h)
	require.NoError(t, err)
	defer in.Release()
	dk, _, err := KeyOf(v.Root().Node())
	require.NoError(t, err)
	fk, _, err := KeyOf(d.Node())
	require.NoError(t, err)
	wdDir, err := in.AddWatch(dk, unix.IN_MODIFY|unix.IN_CLOSE_WRITE)
	require.NoError(t, err)
	wdFile, err := in.AddWatch(fk, unix.IN_MODIFY)
	require.NoError(t, err)

	rootStats = 0
	for i := 0; i < 3; i++ {
		h.OpenFileEvent(f, unix.IN_MODIFY)
	}
	assert.Equal(t, 1, rootStats, "the directory's key is asked for once per open file")
	f.Watcher = h
	f.DecRef()
	assert.Equal(t, []event{
		{wd: wdDir, mask: unix.IN_MODIFY, name: "f"},
		{wd: wdFile, mask: unix.IN_MODIFY},
		{wd: wdDir, mask: unix.IN_MODIFY, name: "f"},
		{wd: wdFile, mask: unix.IN_MODIFY},
		{wd: wdDir, mask: unix.IN_MODIFY, name: "f"},
		{wd: wdFile, mask: unix.IN_MODIFY},
		{wd: wdDir, mask: unix.IN_CLOSE_WRITE, name: "f"},
	}, readAll(t, in))
}
