package procfs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

var systemNames = []string{"cpuinfo", "filesystems", "loadavg", "meminfo", "mounts", "net", "stat", "sys", "uptime", "version"}

var pidNames = []string{"task", "fd", "fdinfo", "ns", "environ", "auxv", "mem", "status", "limits", "comm", "cmdline",
	"stat", "statm", "maps", "cwd", "root", "exe", "mounts", "mountinfo"}

func TestRootListing(t *testing.T) {
	f := New(newFake())
	want := append(append([]string{}, systemNames...), "self", "thread-self", "1", "10", "20")
	assert.Equal(t, want, list(t, f.ForPID(10).Root()))

	// The view of no process has no self.
	want = append(append([]string{}, systemNames...), "1", "10", "20")
	assert.Equal(t, want, list(t, f.Root()))
	for _, name := range []string{"self", "thread-self"} {
		_, err := f.Root().Lookup(name)
		assert.Equal(t, unix.ENOENT, err, name)
	}

	// Entry types and inode numbers are the looked-up nodes'.
	root := f.ForPID(10).Root()
	for _, e := range listEntries(t, root) {
		c, err := root.Lookup(e.Name)
		require.NoError(t, err, e.Name)
		st, err := c.Stat()
		require.NoError(t, err)
		assert.Equal(t, st.Ino, e.Ino, e.Name)
		assert.Equal(t, uint8(st.Mode>>12&0xf), e.Type, e.Name)
	}
}

func TestSelf(t *testing.T) {
	f := New(newFake())
	root := f.ForTask(10, 11).Root()
	for name, want := range map[string]string{"self": "10", "thread-self": "10/task/11"} {
		n := walk(t, root, name)
		target, err := n.Readlink()
		require.NoError(t, err)
		assert.Equal(t, want, target)
		st, err := n.Stat()
		require.NoError(t, err)
		assert.Equal(t, uint32(unix.S_IFLNK|0o777), st.Mode)
		_, err = n.Open(unix.O_RDONLY)
		assert.Equal(t, unix.ELOOP, err)
	}
	target, err := walk(t, f.ForPID(1).Root(), "thread-self").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "1/task/1", target)
	target, err = walk(t, root, "mounts").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "self/mounts", target)
}

func TestProcessDirs(t *testing.T) {
	f := New(newFake())
	root := f.Root()
	assert.Equal(t, pidNames, list(t, walk(t, root, "10")))
	assert.Equal(t, []string{"10", "11"}, list(t, walk(t, root, "10/task")))
	assert.Equal(t, pidNames[1:], list(t, walk(t, root, "10/task/11")))
	assert.Equal(t, []string{"0", "1", "2", "3"}, list(t, walk(t, root, "10/fd")))
	assert.Equal(t, []string{"0", "1", "2", "3"}, list(t, walk(t, root, "10/fdinfo")))
	assert.Empty(t, list(t, walk(t, root, "1/fd")))

	// Unknown names, processes, threads and descriptors.
	for _, p := range []string{"99", "0", "010", "+10", "-1", "1x", "4294967306", "nope", "10/nope", "10/task/12",
		"10/task/1", "10/task/11/task", "10/fd/4", "10/fd/01", "10/fdinfo/9", "1/task/10", "sys/nope", "sys/kernel/nope"} {
		_, err := lookup(root, p)
		assert.Equal(t, unix.ENOENT, err, p)
	}
	// Lookups in a file.
	for _, p := range []string{"10/stat/x", "uptime/x", "sys/kernel/ostype/x"} {
		_, err := lookup(root, p)
		assert.Equal(t, unix.ENOTDIR, err, p)
	}

	// A thread that is not a leader: /proc/<tid> exists, unlisted.
	n := walk(t, root, "11")
	assert.Equal(t, pidNames, list(t, n))
	fields := statFields(t, readPath(t, n, "stat"))
	assert.Equal(t, "11", fields[0])
	assert.Equal(t, "worker", fields[1])
}

func TestGoneProcess(t *testing.T) {
	src := newFake()
	f := New(src)
	root := f.Root()
	dir := walk(t, root, "10")
	status := walk(t, root, "10/status")
	task := walk(t, root, "10/task/11")
	fd := walk(t, root, "10/fd/3")
	open, err := status.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer open.Release()

	// A descriptor closed: its nodes go.
	p := src.procs[10]
	p.mu.Lock()
	p.fds = p.fds[:3]
	p.mu.Unlock()
	_, err = fd.Stat()
	assert.Equal(t, unix.ENOENT, err)
	_, err = fd.Readlink()
	assert.Equal(t, unix.ENOENT, err)
	_, err = lookup(root, "10/fdinfo/3")
	assert.Equal(t, unix.ENOENT, err)

	// A thread exits.
	p.mu.Lock()
	p.threads = p.threads[:1]
	p.mu.Unlock()
	_, err = task.Stat()
	assert.Equal(t, unix.ENOENT, err)
	_, err = task.Lookup("stat")
	assert.Equal(t, unix.ENOENT, err)

	// The process is reaped: every node of it is ENOENT (the dentry cache
	// may still hold them); a file open before still reads.
	src.remove(10)
	_, err = dir.Stat()
	assert.Equal(t, unix.ENOENT, err)
	_, err = dir.Lookup("status")
	assert.Equal(t, unix.ENOENT, err)
	_, err = status.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ENOENT, err)
	_, err = status.Stat()
	assert.Equal(t, unix.ENOENT, err)
	buf := make([]byte, 5)
	k, err := open.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "Name:", string(buf[:k]))
	_, err = open.Stat()
	assert.NoError(t, err)
	assert.NotContains(t, list(t, root), "10")
}

func TestAttributes(t *testing.T) {
	f := New(newFake())
	root := f.ForPID(10).Root()
	type attr struct {
		mode     uint32
		uid, gid uint32
	}
	for p, want := range map[string]attr{
		"":                          {unix.S_IFDIR | 0o555, 0, 0},
		"uptime":                    {unix.S_IFREG | 0o444, 0, 0},
		"sys":                       {unix.S_IFDIR | 0o555, 0, 0},
		"sys/kernel/random/boot_id": {unix.S_IFREG | 0o444, 0, 0},
		"mounts":                    {unix.S_IFLNK | 0o777, 0, 0},
		"10":                        {unix.S_IFDIR | 0o555, 1001, 101},
		"10/status":                 {unix.S_IFREG | 0o444, 1001, 101},
		"10/environ":                {unix.S_IFREG | 0o400, 1001, 101},
		"10/auxv":                   {unix.S_IFREG | 0o400, 1001, 101},
		"10/exe":                    {unix.S_IFLNK | 0o777, 1001, 101},
		"10/fd":                     {unix.S_IFDIR | 0o500, 1001, 101},
		"10/fd/0":                   {unix.S_IFLNK | 0o500, 1001, 101},
		"10/fd/1":                   {unix.S_IFLNK | 0o300, 1001, 101},
		"10/fd/2":                   {unix.S_IFLNK | 0o700, 1001, 101},
		"10/fdinfo":                 {unix.S_IFDIR | 0o555, 1001, 101},
		"10/fdinfo/2":               {unix.S_IFREG | 0o444, 1001, 101},
		"10/task/11":                {unix.S_IFDIR | 0o555, 1001, 101},
		"10/task/11/stat":           {unix.S_IFREG | 0o444, 1001, 101},
		"1/stat":                    {unix.S_IFREG | 0o444, 0, 0},
	} {
		st, err := walk(t, root, p).Stat()
		require.NoError(t, err, p)
		assert.Equal(t, want.mode, st.Mode, "%s: %o", p, st.Mode)
		assert.Equal(t, want.uid, st.Uid, p)
		assert.Equal(t, want.gid, st.Gid, p)
		assert.Equal(t, Dev, st.Dev, p)
		assert.Zero(t, st.Size&^64, p)
		if p == "10/status" {
			assert.Equal(t, int64(1700000000+42), st.Mtim.Sec, "a process's files date from its start")
		}
	}

	// Inode numbers: per path, the same in every view and lookup, distinct.
	seen := map[uint64]string{}
	for _, p := range []string{"", "self", "10", "10/stat", "10/task/10/stat", "10/task/11/stat", "1/stat", "stat", "10/fd/1", "10/fdinfo/1"} {
		st, err := walk(t, root, p).Stat()
		require.NoError(t, err)
		other, err := walk(t, f.ForPID(1).Root(), p).Stat()
		require.NoError(t, err)
		assert.Equal(t, st.Ino, other.Ino, p)
		assert.NotContains(t, seen, st.Ino, p)
		seen[st.Ino] = p
	}
	st, err := root.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Ino)
}

func TestReadOnly(t *testing.T) {
	f := New(newFake())
	root := f.Root()
	file := walk(t, root, "10/status")
	for _, flags := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_TRUNC} {
		_, err := file.Open(flags)
		assert.Equal(t, unix.EACCES, err)
	}
	_, err := file.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	assert.Equal(t, unix.ENOTDIR, err)
	_, err = walk(t, root, "10").Open(unix.O_RDWR)
	assert.Equal(t, unix.EISDIR, err)
	_, err = file.Readlink()
	assert.Equal(t, unix.EINVAL, err)
	_, err = walk(t, root, "10/exe").Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)
	_, err = walk(t, root, "10/exe").Lookup("x")
	assert.Equal(t, unix.ENOTDIR, err)

	impl, err := file.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	_, err = impl.Write([]byte("x"))
	assert.Equal(t, unix.EINVAL, err)
	_, err = impl.Pwrite([]byte("x"), 0)
	assert.Equal(t, unix.EINVAL, err)

	// Offsets: Pread leaves the position, seeks as seq_file's.
	buf := make([]byte, 4)
	k, err := impl.Pread(buf, 6)
	require.NoError(t, err)
	assert.Equal(t, "a) b", string(buf[:k]))
	k, err = impl.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "Name", string(buf[:k]))
	off, err := impl.Seek(2, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(6), off)
	k, err = impl.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "a) b", string(buf[:k]))
	_, err = impl.Seek(0, unix.SEEK_END)
	assert.Equal(t, unix.EINVAL, err)
	_, err = impl.Seek(-1, unix.SEEK_SET)
	assert.Equal(t, unix.EINVAL, err)
	_, err = impl.Pread(buf, -1)
	assert.Equal(t, unix.EINVAL, err)
	_, err = impl.Seek(1<<20, unix.SEEK_SET)
	require.NoError(t, err)
	k, err = impl.Read(buf)
	assert.NoError(t, err)
	assert.Zero(t, k)
	assert.False(t, impl.IsTerminal())
	ev, err := impl.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN), ev)

	dir, err := walk(t, root, "10").Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer dir.Release()
	_, err = dir.Read(buf)
	assert.Equal(t, unix.EISDIR, err)
	off, err = dir.Seek(0, unix.SEEK_SET)
	assert.NoError(t, err)
	assert.Zero(t, off)
	st, err := dir.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFDIR|0o555), st.Mode)
}

// statFields splits /proc/<pid>/stat as its parsers do: the name is
// between the first "(" and the last ")".
func statFields(t *testing.T, s string) []string {
	t.Helper()
	require.True(t, strings.HasSuffix(s, "\n"))
	s = strings.TrimSuffix(s, "\n")
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	require.True(t, open > 0 && closing > open, s)
	require.Equal(t, " (", s[open-1:open+1])
	fields := []string{s[:open-1], s[open+1 : closing]}
	rest := s[closing+1:]
	require.True(t, strings.HasPrefix(rest, " "))
	return append(fields, strings.Split(rest[1:], " ")...)
}

func TestStat(t *testing.T) {
	f := New(newFake())
	root := f.Root()
	fields := statFields(t, readPath(t, root, "10/stat"))
	require.Len(t, fields, 52)
	for i, f := range fields[2:] {
		if i == 0 {
			continue
		}
		_, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			_, err = strconv.ParseUint(f, 10, 64)
		}
		assert.NoError(t, err, "field %d %q", i+3, f)
	}
	field := func(i int) string { return fields[i-1] } // 1-based, as proc(5)
	for i, want := range map[int]string{
		1: "10", 2: "a) b (c", 3: "R", 4: "1", 5: "10", 6: "1", 7: "0", 8: "-1",
		14: "77", 15: "33", 18: "20", 19: "0", 20: "2", 22: "4200",
		23: strconv.Itoa(10 << 20), 24: strconv.Itoa(3 << 20 / 4096), 25: "18446744073709551615",
		26: "4198400", 27: "4206592", // the text segment: 0x401000-0x403000
		31: strconv.Itoa(1<<9 | 1<<14), 32: "2", 33: strconv.Itoa(1 << 12), 34: strconv.Itoa(1<<1 | 1<<16),
		38: "17", 52: "0",
	} {
		assert.Equal(t, want, field(i), "field %d", i)
	}

	// A thread's: its ID, name, state and times.
	fields = statFields(t, readPath(t, root, "10/task/11/stat"))
	require.Len(t, fields, 52)
	assert.Equal(t, []string{"11", "worker", "S", "1", "10"}, fields[:5])
	assert.Equal(t, []string{"7", "3"}, fields[13:15])
	assert.Equal(t, "2", fields[19])
	// The leader's own, below task: its times, not the group's.
	fields = statFields(t, readPath(t, root, "10/task/10/stat"))
	assert.Equal(t, []string{"10", "a) b (c", "R"}, fields[:3])
	assert.Equal(t, []string{"70", "30"}, fields[13:15])

	// A zombie: no memory.
	fields = statFields(t, readPath(t, root, "20/stat"))
	require.Len(t, fields, 52)
	assert.Equal(t, []string{"20", "dead", "Z", "10"}, fields[:4])
	assert.Equal(t, []string{"0", "0"}, fields[22:24])

	assert.Equal(t, "2560 768 0 2 0 71 0\n", readPath(t, root, "10/statm"))
}

// statusMap parses "Key:\tvalue" lines.
func statusMap(t *testing.T, s string) (map[string]string, []string) {
	t.Helper()
	m := map[string]string{}
	var keys []string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":\t")
		require.True(t, ok, line)
		require.NotContains(t, m, k)
		m[k] = v
		keys = append(keys, k)
	}
	return m, keys
}

func TestStatus(t *testing.T) {
	src := newFake()
	src.procs[10].info.Comm = "back\\slash\nnl"
	f := New(src)
	root := f.Root()
	m, keys := statusMap(t, readPath(t, root, "10/status"))
	for k, want := range map[string]string{
		"Name":              `back\\slash\nnl`,
		"Umask":             "0027",
		"State":             "R (running)",
		"Tgid":              "10",
		"Ngid":              "0",
		"Pid":               "10",
		"PPid":              "1",
		"TracerPid":         "0",
		"Uid":               "1000\t1001\t1002\t1003",
		"Gid":               "100\t101\t102\t103",
		"FDSize":            "64",
		"Groups":            "100 27 ",
		"NStgid":            "10",
		"NSpid":             "10",
		"NSpgid":            "10",
		"NSsid":             "1",
		"VmPeak":            "   10240 kB",
		"VmSize":            "   10240 kB",
		"VmRSS":             "    3072 kB",
		"VmData":            "     152 kB", // 4 (data) + 132 (heap) + 16 (anonymous)
		"VmStk":             "     132 kB",
		"VmExe":             "       8 kB",
		"VmLib":             "      64 kB",
		"Threads":           "2",
		"SigQ":              "2/4096",
		"SigPnd":            "0000000000000200",
		"ShdPnd":            "0000000000004000",
		"SigBlk":            "8000000000000002",
		"SigIgn":            "0000000000001000",
		"SigCgt":            "0000000000010002",
		"CapInh":            "0000000000000000",
		"CapPrm":            "0000000000000000",
		"CapEff":            "0000000000000000",
		"CapBnd":            "0000000000000000",
		"CapAmb":            "0000000000000000",
		"NoNewPrivs":        "1",
		"Seccomp":           "2",
		"Seccomp_filters":   "3",
		"Cpus_allowed":      "f",
		"Cpus_allowed_list": "0-3",
		"Mems_allowed_list": "0",
	} {
		assert.Equal(t, want, m[k], k)
	}
	assert.Equal(t, []string{"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid",
		"FDSize", "Groups"}, keys[:12])

	m, _ = statusMap(t, readPath(t, root, "10/task/11/status"))
	assert.Equal(t, "worker", m["Name"])
	assert.Equal(t, "S (sleeping)", m["State"])
	assert.Equal(t, "10", m["Tgid"])
	assert.Equal(t, "11", m["Pid"])

	m, _ = statusMap(t, readPath(t, root, "1/status"))
	assert.Equal(t, "S (sleeping)", m["State"])
	assert.Equal(t, " ", m["Groups"])
	assert.Equal(t, "0022", m["Umask"])
	assert.Equal(t, "0\t0\t0\t0", m["Uid"])

	m, _ = statusMap(t, readPath(t, root, "20/status"))
	assert.Equal(t, "Z (zombie)", m["State"])
	assert.NotContains(t, m, "VmSize", "a zombie has no memory")
	assert.Equal(t, "1", m["Threads"])

	assert.Equal(t, "back\\slash\nnl\n", readPath(t, root, "10/comm"), "comm is raw")
}

func TestFDSizeAndCPUMask(t *testing.T) {
	for top, want := range map[int]int{-1: 64, 3: 64, 63: 64, 64: 128, 127: 128, 128: 256, 251: 256, 255: 256, 256: 512, 511: 512, 512: 1024} {
		p := &fakeProc{}
		if top >= 0 {
			p.fds = []FD{{Num: top}}
		}
		assert.Equal(t, want, fdSize(p), top)
	}
	for n, want := range map[int]string{1: "1", 2: "3", 4: "f", 5: "1f", 8: "ff", 32: "ffffffff", 33: "1,ffffffff",
		64: "ffffffff,ffffffff", 36: "f,ffffffff"} {
		assert.Equal(t, want, cpuMask(n), n)
	}
	assert.Equal(t, "0", cpuList(1))
	assert.Equal(t, "0-7", cpuList(8))
}

func TestProcessFiles(t *testing.T) {
	src := newFake()
	f := New(src)
	root := f.Root()
	assert.Equal(t, "/bin/prog\x00-v\x00arg with space\x00", readPath(t, root, "10/cmdline"))
	assert.Equal(t, "HOME=/home/u\x00PATH=/bin\x00", readPath(t, root, "10/environ"))
	assert.Equal(t, string(auxv(6, 4096, 11, 1000, 0, 0)), readPath(t, root, "10/auxv"))
	assert.Equal(t, "a) b (c\n", readPath(t, root, "10/comm"))
	assert.Equal(t, "worker\n", readPath(t, root, "10/task/11/comm"))
	assert.Empty(t, readPath(t, root, "20/cmdline"), "a zombie's cmdline is empty")
	src.procs[1].info.Comm = "a-very-long-name-indeed"
	assert.Equal(t, "a-very-long-nam\n", readPath(t, root, "1/comm"))

	for p, want := range map[string]string{
		"10/exe": "/bin/prog", "10/cwd": "/home/u", "10/root": "/", "10/task/11/exe": "/bin/prog",
		"10/fd/0": "/dev/null", "10/fd/1": "pipe:[42]", "10/fd/2": "socket:[43]", "10/fd/3": "/proc/version",
	} {
		target, err := walk(t, root, p).Readlink()
		require.NoError(t, err, p)
		assert.Equal(t, want, target, p)
	}
	_, err := walk(t, root, "20/exe").Readlink()
	assert.Equal(t, unix.ENOENT, err, "no exe")

	assert.Equal(t, "pos:\t0\nflags:\t04001\nmnt_id:\t0\nino:\t0\n", readPath(t, root, "10/fdinfo/1"))
	m, _ := statusMap(t, readPath(t, root, "10/fdinfo/3"))
	assert.Equal(t, map[string]string{"pos": "123", "flags": "02100000", "mnt_id": "2", "ino": "77"}, m)
	m, _ = statusMap(t, readPath(t, root, "10/fdinfo/1"))
	assert.Equal(t, "04001", m["flags"])
	flags, err := strconv.ParseInt(m["flags"], 8, 64)
	require.NoError(t, err)
	assert.Equal(t, int64(unix.O_WRONLY|unix.O_NONBLOCK), flags)
}

func TestMaps(t *testing.T) {
	f := New(newFake())
	got := readPath(t, f.Root(), "10/maps")
	want := "" +
		"00400000-00401000 r--p 00000000 fd:01 1234                               /bin/prog\n" +
		"00401000-00403000 r-xp 00001000 fd:01 1234                               /bin/prog\n" +
		"00403000-00404000 rw-p 00003000 fd:01 1234                               /bin/prog\n" +
		"00404000-00425000 rw-p 00000000 00:00 0                                  [heap]\n" +
		"7f0000000000-7f0000010000 r-xp 00000000 fd:01 99                         /lib/libc.so.6\n" +
		"7f0000010000-7f0000014000 rw-p 00000000 00:00 0 \n" +
		"7f0000020000-7f0000021000 rw-s 00000000 00:05 7                          /dev/zero (deleted)\n" +
		"7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n" +
		// Linux's line, byte for byte (the page the kernel emulates).
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
	assert.Equal(t, want, got)
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		// The path, if any, starts at column 74.
		if len(line) > 73 {
			assert.Equal(t, byte(' '), line[72], line)
			assert.NotEqual(t, byte(' '), line[73], line)
		}
	}
}

func TestLimits(t *testing.T) {
	f := New(newFake())
	got := readPath(t, f.Root(), "10/limits")
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	require.Len(t, lines, 17)
	assert.Equal(t, "Limit                     Soft Limit           Hard Limit           Units     ", lines[0])
	assert.Equal(t, "Max stack size            8388608              unlimited            bytes     ", lines[4])
	assert.Equal(t, "Max open files            1024                 1048576              files     ", lines[8])
	assert.Equal(t, "Max nice priority         0                    0                    ", lines[14])
	assert.Equal(t, "Max realtime timeout      unlimited            unlimited            us        ", lines[16])
}

func TestMounts(t *testing.T) {
	src := newFake()
	f := New(src)
	root := f.Root()
	assert.Equal(t, ""+
		"/dev/root / ext4 ro,relatime,errors=remount-ro 0 0\n"+
		"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"+
		"tmpfs /tmp tmpfs rw,size=65536k,mode=1777 0 0\n"+
		"/host/my\\040data /tmp/my\\040mnt hostfs rw 0 0\n",
		readPath(t, root, "10/mounts"))
	assert.Equal(t, ""+
		"1 1 0:4097 / / ro,relatime - ext4 /dev/root ro,errors=remount-ro\n"+
		"2 1 0:4080 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"+
		"3 1 0:4098 / /tmp rw - tmpfs tmpfs rw,size=65536k,mode=1777\n"+
		"4 3 0:4099 /data\\040dir /tmp/my\\040mnt rw - hostfs /host/my\\040data rw\n",
		readPath(t, root, "10/mountinfo"))

	// mountinfo as libmount reads it: fields before " - ", three after.
	for _, line := range strings.Split(strings.TrimSuffix(readPath(t, root, "1/mountinfo"), "\n"), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		require.True(t, ok, line)
		assert.Len(t, strings.Fields(pre), 6, line)
		assert.Len(t, strings.Fields(post), 3, line)
	}

	// A process in a chroot sees the mounts below its root.
	src.procs[1].root = "/tmp"
	assert.Equal(t, "tmpfs / tmpfs rw,size=65536k,mode=1777 0 0\n/host/my\\040data /my\\040mnt hostfs rw 0 0\n",
		readPath(t, root, "1/mounts"))
	assert.Equal(t, "3 1 0:4098 / / rw - tmpfs tmpfs rw,size=65536k,mode=1777\n"+
		"4 3 0:4099 /data\\040dir /my\\040mnt rw - hostfs /host/my\\040data rw\n",
		readPath(t, root, "1/mountinfo"))

	// IDs given by the kernel are kept.
	src.mounts = []MountInfo{{ID: 21, ParentID: 20, Target: "/", FSType: "ext4", Options: "rw"}, {ID: 22, Target: "/a", FSType: "tmpfs"}}
	assert.Equal(t, "21 20 0:0 / / rw - ext4 none rw\n22 21 0:0 / /a rw - tmpfs none rw\n",
		readPath(t, root, "10/mountinfo"))
}

func TestSystemFiles(t *testing.T) {
	src := newFake()
	f := New(src)
	root := f.Root()

	assert.Equal(t, "1234.56 4000.99\n", readPath(t, root, "uptime"))
	assert.Equal(t, "0.50 0.26 1.13 1/4 20\n", readPath(t, root, "loadavg"))
	assert.Equal(t, "Linux version 6.8.0-ringbox (ringbox@ringbox) (go) #1 SMP ringbox\n", readPath(t, root, "version"))

	// meminfo: "Key:   <n> kB", the key padded to 16 columns.
	mi := readPath(t, root, "meminfo")
	assert.True(t, strings.HasPrefix(mi, "MemTotal:        8388608 kB\nMemFree:         6291456 kB\nMemAvailable:    7340032 kB\n"), mi)
	vals := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSuffix(mi, "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		require.True(t, ok, line)
		fields := strings.Fields(v)
		if strings.HasPrefix(k, "HugePages_") {
			require.Len(t, fields, 1, line)
		} else {
			require.Equal(t, []string{fields[0], "kB"}, fields, line)
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		require.NoError(t, err, line)
		vals[k] = n
	}
	assert.Equal(t, uint64(1<<20), vals["Cached"])
	assert.Equal(t, uint64(0), vals["SwapTotal"])
	assert.Equal(t, uint64(0), vals["SwapFree"])
	assert.Equal(t, uint64(2048), vals["Hugepagesize"])

	st := readPath(t, root, "stat")
	lines := strings.Split(st, "\n")
	assert.Equal(t, "cpu  93726 0 0 400099 0 0 0 0 0 0", lines[0])
	assert.Equal(t, "cpu0 23431 0 0 100024 0 0 0 0 0 0", lines[1])
	assert.Equal(t, "cpu3 23431 0 0 100024 0 0 0 0 0 0", lines[4])
	assert.True(t, strings.HasPrefix(lines[5], "intr "))
	assert.Contains(t, lines, "btime 1700000000")
	assert.Contains(t, lines, "processes 20")
	assert.Contains(t, lines, "procs_running 1")
	assert.Contains(t, lines, "procs_blocked 0")
	assert.True(t, strings.HasSuffix(st, "\n"))

	// cpuinfo: the source's, or a block per CPU.
	ci := readPath(t, root, "cpuinfo")
	assert.Equal(t, 4, strings.Count(ci, "processor\t: "))
	assert.Contains(t, ci, "processor\t: 3\nvendor_id\t: unknown\nmodel name\t: ringbox virtual CPU\nflags\t\t:\n\n")
	src.cpuinfo = "processor\t: 0\nflags\t\t: fpu sse2\n\n"
	assert.Equal(t, src.cpuinfo, readPath(t, root, "cpuinfo"))

	assert.Equal(t, "nodev\tproc\nnodev\ttmpfs\n\text4\nnodev\thostfs\n", readPath(t, root, "filesystems"))

	for p, want := range map[string]string{
		"sys/kernel/ostype":          "Linux\n",
		"sys/kernel/osrelease":       "6.8.0-ringbox\n",
		"sys/kernel/version":         "#1 SMP ringbox\n",
		"sys/kernel/hostname":        "box\n",
		"sys/kernel/pid_max":         "4194304\n",
		"sys/kernel/ngroups_max":     "65536\n",
		"sys/kernel/cap_last_cap":    "40\n",
		"sys/kernel/overflowuid":     "65534\n",
		"sys/kernel/overflowgid":     "65534\n",
		"sys/kernel/random/boot_id":  f.BootID() + "\n",
		"sys/vm/overcommit_memory":   "0\n",
		"sys/vm/max_map_count":       "65530\n",
		"sys/fs/file-max":            "838860\n",
		"sys/fs/nr_open":             "1048576\n",
		"sys/kernel/random/poolsize": "256\n",
	} {
		assert.Equal(t, want, readPath(t, root, p), p)
	}
	assert.Equal(t, []string{"fs", "kernel", "vm"}, list(t, walk(t, root, "sys")))
	assert.Equal(t, []string{"boot_id", "entropy_avail", "poolsize", "uuid"}, list(t, walk(t, root, "sys/kernel/random")))

	uuidRE := func(s string) bool {
		s = strings.TrimSuffix(s, "\n")
		parts := strings.Split(s, "-")
		if len(parts) != 5 || len(s) != 36 || s[14] != '4' {
			return false
		}
		for i, n := range []int{8, 4, 4, 4, 12} {
			if len(parts[i]) != n || strings.Trim(parts[i], "0123456789abcdef") != "" {
				return false
			}
		}
		return true
	}
	u1, u2 := readPath(t, root, "sys/kernel/random/uuid"), readPath(t, root, "sys/kernel/random/uuid")
	assert.True(t, uuidRE(u1), u1)
	assert.NotEqual(t, u1, u2, "a new uuid at each read")
	assert.True(t, uuidRE(f.BootID()), f.BootID())
	assert.Equal(t, f.BootID()+"\n", readPath(t, root, "sys/kernel/random/boot_id"), "the same boot_id at each read")
	assert.NotEqual(t, f.BootID(), New(src).BootID())
}

// TestDirSnapshot: a listing is made at offset 0 and kept until a rewind.
func TestDirSnapshot(t *testing.T) {
	src := newFake()
	f := New(src)
	impl, err := walk(t, f.Root(), "10/fd").Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	dr := impl.(fs.DirReader)
	ents, err := dr.ReadDir(0, 2)
	require.NoError(t, err)
	require.Len(t, ents, 2)
	assert.Equal(t, uint8(unix.DT_LNK), ents[0].Type)
	src.procs[10].fds = src.procs[10].fds[:1]
	ents, err = dr.ReadDir(2, 10)
	require.NoError(t, err)
	assert.Len(t, ents, 2, "the snapshot")
	ents, err = dr.ReadDir(0, 10)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "rewound: listed again")
	_, err = dr.ReadDir(-1, 1)
	assert.Equal(t, unix.EINVAL, err)
	src.remove(10)
	_, err = dr.ReadDir(0, 10)
	assert.Equal(t, unix.ENOENT, err)
}

func TestNetFiles(t *testing.T) {
	root := New(newFake()).ForPID(10).Root()
	names := []string{"dev", "if_inet6", "route", "tcp", "tcp6", "udp", "udp6", "unix"}
	assert.Equal(t, names, list(t, walk(t, root, "net")))
	for _, name := range names {
		assert.Equal(t, "net "+name+"\n", readPath(t, root, "net/"+name))
	}
}

func TestMem(t *testing.T) {
	src := newFake()
	src.procs[10].mem = &fakeMem{base: 0x1000, b: []byte("hello, memory")}
	root := New(src).Root()
	n := walk(t, root, "10/mem")
	st, err := n.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFREG|0o600), st.Mode)

	f, err := n.Open(unix.O_RDWR)
	require.NoError(t, err)
	defer f.Release()
	off, err := f.Seek(0x1007, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, int64(0x1007), off)
	b := make([]byte, 6)
	k, err := f.Read(b)
	require.NoError(t, err)
	assert.Equal(t, "memory", string(b[:k]))
	k, err = f.Pwrite([]byte("HELLO"), 0x1000)
	require.NoError(t, err)
	assert.Equal(t, 5, k)
	assert.Equal(t, "HELLO, memory", string(src.procs[10].mem.b))
	_, err = f.Pread(b, 0x10)
	assert.Equal(t, unix.EIO, err, "an address with nothing mapped")

	ro, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	_, err = ro.Pwrite([]byte("x"), 0x1000)
	assert.Equal(t, unix.EBADF, err)
	ro.Release()

	// An execve: the file opened before sees nothing of the new
	// address space; one opened after does.
	src.procs[10].mem = &fakeMem{base: 0x1000, b: []byte("new program")}
	k, err = f.Pread(b, 0x1000)
	assert.NoError(t, err)
	assert.Equal(t, 0, k)
	_, err = f.Pwrite([]byte("x"), 0x1000)
	assert.Equal(t, unix.EIO, err)
	after, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	k, err = after.Pread(b[:3], 0x1000)
	require.NoError(t, err)
	assert.Equal(t, "new", string(b[:k]))
	after.Release()

	src.procs[10].mem = nil // the process has no address space left
	k, err = f.Pread(b, 0x1000)
	assert.NoError(t, err)
	assert.Equal(t, 0, k)
}
