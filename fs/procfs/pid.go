package procfs

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Directories of a process, set in init.
var pidDirOps, taskDirOps *ops

// pidEntries are the files of /proc/<pid> (withTask) and of
// /proc/<pid>/task/<tid>, in Linux's order.
func pidEntries(withTask bool) []entry {
	ents := []entry{
		{"fd", unix.S_IFDIR | 0o500, fdDirOps},
		{"fdinfo", dirMode, fdinfoDirOps},
		{"ns", unix.S_IFDIR | 0o511, nsDirOps},
		{"environ", ownerRead, fileOps(func(_ *node, p Process) ([]byte, error) { return p.Environ(), nil })},
		{"auxv", ownerRead, fileOps(func(_ *node, p Process) ([]byte, error) { return p.Auxv(), nil })},
		{"mem", unix.S_IFREG | 0o600, memOps},
		{"status", fileMode, fileOps(status)},
		{"limits", fileMode, fileOps(limits)},
		{"comm", fileMode, fileOps(comm)},
		{"cmdline", fileMode, fileOps(cmdline)},
		{"stat", fileMode, fileOps(stat)},
		{"statm", fileMode, fileOps(statm)},
		{"maps", fileMode, fileOps(maps)},
		{"cwd", linkMode, magicLinkOps(func(_ *node, p Process) (string, error) { return nonEmpty(p.Cwd()) })},
		{"root", linkMode, magicLinkOps(func(_ *node, p Process) (string, error) { return nonEmpty(p.Root()) })},
		{"exe", linkMode, magicLinkOps(func(_ *node, p Process) (string, error) { return nonEmpty(p.Exe()) })},
		{"mounts", fileMode, fileOps(func(n *node, p Process) ([]byte, error) {
			return formatMounts(mountsFor(n.v.fs.src.Mounts(), p.Root())), nil
		})},
		{"mountinfo", fileMode, fileOps(func(n *node, p Process) ([]byte, error) {
			return formatMountinfo(mountsFor(n.v.fs.src.Mounts(), p.Root())), nil
		})},
	}
	if withTask {
		ents = append([]entry{{"task", dirMode, taskListOps}}, ents...)
	}
	return ents
}

func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", unix.ENOENT
	}
	return s, nil
}

// taskListOps is /proc/<pid>/task: a directory per thread.
var taskListOps = &ops{
	list: func(_ *node, p Process) ([]string, error) {
		var names []string
		for _, t := range p.Threads() {
			names = append(names, strconv.Itoa(int(t.TID)))
		}
		return names, nil
	},
	child: func(n *node, p Process, name string) (*node, error) {
		tid, ok := parseID(name)
		if !ok {
			return nil, unix.ENOENT
		}
		if _, ok := thread(p, tid); !ok {
			return nil, unix.ENOENT
		}
		c := n.sub(name, dirMode, taskDirOps)
		c.tid, c.inTask = tid, true
		return c, nil
	},
}

// fdNames lists the descriptors of p in numeric order.
func fdNames(_ *node, p Process) ([]string, error) {
	fds := p.FDs()
	slices.SortFunc(fds, func(a, b FD) int { return a.Num - b.Num })
	names := make([]string, len(fds))
	for i, d := range fds {
		names[i] = strconv.Itoa(d.Num)
	}
	return names, nil
}

// fdChild makes fd/<n> or fdinfo/<n>.
func fdChild(mode uint32, o *ops) func(n *node, p Process, name string) (*node, error) {
	return func(n *node, p Process, name string) (*node, error) {
		num, err := strconv.Atoi(name)
		if err != nil || num < 0 || strconv.Itoa(num) != name {
			return nil, unix.ENOENT
		}
		if _, ok := findFD(p, num); !ok {
			return nil, unix.ENOENT
		}
		c := n.sub(name, mode, o)
		c.fd = num
		return c, nil
	}
}

var (
	// fdLinkOps is fd/<n>: a link to the file's path (or pipe:[N] ...).
	fdLinkOps = magicLinkOps(func(n *node, p Process) (string, error) {
		d, ok := findFD(p, n.fd)
		if !ok {
			return "", unix.ENOENT
		}
		return d.Path, nil
	})
	fdinfoOps = fileOps(func(n *node, p Process) ([]byte, error) {
		d, ok := findFD(p, n.fd)
		if !ok {
			return nil, unix.ENOENT
		}
		b := fmt.Appendf(nil, "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", d.Pos, d.Flags, d.MntID, d.Ino)
		return append(b, d.Info...), nil
	})
	fdDirOps     = &ops{list: fdNames, child: fdChild(unix.S_IFLNK|0o500, fdLinkOps)}
	fdinfoDirOps = &ops{list: fdNames, child: fdChild(fileMode, fdinfoOps)}
)

// task is what a file of n shows: the process, and the thread n.tid
// with the process's values where the thread has none.
type task struct {
	info    ProcInfo
	th      Thread
	threads []Thread
	whole   bool // the group's times and state, not the thread's
}

func taskOf(n *node, p Process) task {
	t := task{info: p.Info(), threads: p.Threads(), whole: !n.inTask}
	t.th = Thread{TID: n.tid}
	for _, th := range t.threads {
		if th.TID == n.tid {
			t.th = th
		}
	}
	if t.th.Comm == "" {
		t.th.Comm = t.info.Comm
	}
	if t.whole || t.th.State == 0 {
		t.th.State = t.info.State
	}
	if t.whole {
		t.th.UTime, t.th.STime = t.info.UTime, t.info.STime
	}
	if t.th.State == 0 {
		t.th.State = 'R'
	}
	t.th.Comm = truncComm(t.th.Comm)
	return t
}

func (t task) numThreads() int { return max(1, len(t.threads)) }

// truncComm cuts a name to TASK_COMM_LEN-1 bytes.
func truncComm(s string) string {
	if len(s) > 15 {
		return s[:15]
	}
	return s
}

func comm(n *node, p Process) ([]byte, error) {
	return []byte(taskOf(n, p).th.Comm + "\n"), nil
}

// cmdline is the argument area; a zombie's is empty.
func cmdline(_ *node, p Process) ([]byte, error) {
	if p.Info().State == 'Z' {
		return nil, nil
	}
	return p.Cmdline(), nil
}

// stateNames are the words of status's State line.
var stateNames = map[byte]string{
	'R': "running", 'S': "sleeping", 'D': "disk sleep", 'T': "stopped", 't': "tracing stop",
	'X': "dead", 'Z': "zombie", 'P': "parked", 'I': "idle",
}

// memStats are the sizes status and statm derive from the mappings.
type memStats struct {
	data, stack, exe, lib uint64 // bytes
}

func memOf(p Process) memStats {
	var m memStats
	exe := p.Exe()
	for _, mp := range p.Maps() {
		size := mp.End - mp.Start
		perms := mp.Perms + "----"
		switch {
		case mp.Path == "[stack]":
			m.stack += size
		case perms[2] == 'x' && mp.Path != "" && mp.Path == exe:
			m.exe += size
		case perms[2] == 'x':
			m.lib += size
		case perms[1] == 'w' && perms[3] != 's':
			m.data += size
		}
	}
	return m
}

// fdSize is the size of the descriptor table Linux would have for p.
func fdSize(p Process) int {
	top := -1
	for _, d := range p.FDs() {
		top = max(top, d.Num)
	}
	if top < 64 {
		return 64
	}
	// expand_fdtable: a power of two of 1 KiB chunks of pointers.
	return 128 << bits.Len(uint(top/128))
}

// cpuMask formats a mask of the first n CPUs as Linux's "%*pb": 32-bit
// groups, most significant first, the first as wide as its bits need.
func cpuMask(n int) string {
	n = max(n, 1)
	groups := (n + 31) / 32
	var parts []string
	for g := groups - 1; g >= 0; g-- {
		nbits := min(32, n-32*g)
		v := uint64(1)<<nbits - 1
		width := 8
		if g == groups-1 {
			width = (n - 32*g + 3) / 4
		}
		parts = append(parts, fmt.Sprintf("%0*x", width, v))
	}
	return strings.Join(parts, ",")
}

// cpuList formats the first n CPUs as a list ("0", "0-3").
func cpuList(n int) string {
	if n <= 1 {
		return "0"
	}
	return fmt.Sprintf("0-%d", n-1)
}

// escapeName escapes a name for status's Name line as Linux does
// (newline and backslash).
func escapeName(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n").Replace(s)
}

func status(n *node, p Process) ([]byte, error) {
	t := taskOf(n, p)
	info, c := t.info, t.info.Creds
	var b bytes.Buffer
	kv := func(k string, format string, a ...any) {
		b.WriteString(k)
		b.WriteString(":\t")
		fmt.Fprintf(&b, format, a...)
		b.WriteByte('\n')
	}
	state := t.th.State
	kv("Name", "%s", escapeName(t.th.Comm))
	kv("Umask", "%04o", info.Umask&0o777)
	kv("State", "%c (%s)", state, stateNames[state])
	kv("Tgid", "%d", info.PID)
	kv("Ngid", "0")
	kv("Pid", "%d", n.tid)
	kv("PPid", "%d", info.PPID)
	kv("TracerPid", "%d", t.th.TracerPID)
	kv("Uid", "%d\t%d\t%d\t%d", c.UID, c.EUID, c.SUID, c.FSUID)
	kv("Gid", "%d\t%d\t%d\t%d", c.GID, c.EGID, c.SGID, c.FSGID)
	kv("FDSize", "%d", fdSize(p))
	b.WriteString("Groups:\t")
	for i, g := range c.Groups {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(g), 10))
	}
	b.WriteString(" \n") // Linux's trailing space
	kv("NStgid", "%d", info.PID)
	kv("NSpid", "%d", n.tid)
	kv("NSpgid", "%d", info.PGID)
	kv("NSsid", "%d", info.SID)
	kv("Kthread", "0")
	if state != 'Z' && state != 'X' {
		m := memOf(p)
		kb := func(k string, v uint64) { kv(k, "%8d kB", v>>10) }
		kb("VmPeak", info.VMSize)
		kb("VmSize", info.VMSize)
		kb("VmLck", 0)
		kb("VmPin", 0)
		kb("VmHWM", info.VMRSS)
		kb("VmRSS", info.VMRSS)
		kb("RssAnon", info.VMRSS)
		kb("RssFile", 0)
		kb("RssShmem", 0)
		kb("VmData", m.data)
		kb("VmStk", m.stack)
		kb("VmExe", m.exe)
		kb("VmLib", m.lib)
		kb("VmPTE", 0)
		kb("VmSwap", 0)
		kb("HugetlbPages", 0)
	}
	kv("CoreDumping", "0")
	kv("THP_enabled", "1")
	kv("Threads", "%d", t.numThreads())
	lim := p.Limits()
	queued := bits.OnesCount64(info.SigPending | info.SigSharedPending)
	kv("SigQ", "%d/%d", queued, lim[unix.RLIMIT_SIGPENDING].Cur)
	kv("SigPnd", "%016x", info.SigPending)
	kv("ShdPnd", "%016x", info.SigSharedPending)
	kv("SigBlk", "%016x", info.SigBlocked)
	kv("SigIgn", "%016x", info.SigIgnored)
	kv("SigCgt", "%016x", info.SigCaught)
	for _, c := range []struct {
		k string
		v uint64
	}{{"CapInh", info.Creds.CapInh}, {"CapPrm", info.Creds.CapPrm}, {"CapEff", info.Creds.CapEff},
		{"CapBnd", info.Creds.CapBnd}, {"CapAmb", info.Creds.CapAmb}} {
		kv(c.k, "%016x", c.v)
	}
	nnp := 0
	if info.NoNewPrivs {
		nnp = 1
	}
	kv("NoNewPrivs", "%d", nnp)
	kv("Seccomp", "%d", info.Seccomp)
	kv("Seccomp_filters", "%d", info.SeccompFilters)
	ncpu := n.v.fs.src.NumCPU()
	kv("Cpus_allowed", "%s", cpuMask(ncpu))
	kv("Cpus_allowed_list", "%s", cpuList(ncpu))
	kv("Mems_allowed", "1")
	kv("Mems_allowed_list", "0")
	kv("voluntary_ctxt_switches", "0")
	kv("nonvoluntary_ctxt_switches", "0")
	return b.Bytes(), nil
}

// stat is /proc/<pid>/stat: 52 fields, as fs/proc/array.c do_task_stat.
func stat(n *node, p Process) ([]byte, error) {
	t := taskOf(n, p)
	info := t.info
	lim := p.Limits()
	var startCode, endCode uint64
	exe := p.Exe()
	for _, m := range p.Maps() {
		if len(m.Perms) >= 3 && m.Perms[2] == 'x' && m.Path == exe && exe != "" {
			if startCode == 0 {
				startCode = m.Start
			}
			endCode = m.End
		}
	}
	vsize, rss := info.VMSize, info.VMRSS/pageSize
	if t.th.State == 'Z' || t.th.State == 'X' {
		vsize, rss, startCode, endCode = 0, 0, 0, 0
	}
	const sigMask = 0x7fffffff // the obsolete decimal sets: 31 signals
	f := []any{
		n.tid, t.th.Comm, t.th.State, // 1-3
		info.PPID, info.PGID, info.SID, 0, -1, // 4-8: ppid pgrp session tty_nr tpgid
		0x400000,   // 9: flags (PF_RANDOMIZE)
		0, 0, 0, 0, // 10-13: minflt cminflt majflt cmajflt
		t.th.UTime, t.th.STime, 0, 0, // 14-17: utime stime cutime cstime
		20, 0, t.numThreads(), 0, // 18-21: priority nice num_threads itrealvalue
		info.StartTime, vsize, rss, lim[unix.RLIMIT_RSS].Cur, // 22-25
		startCode, endCode, 0, 0, 0, // 26-30: startcode endcode startstack kstkesp kstkeip
		(info.SigPending | info.SigSharedPending) & sigMask, info.SigBlocked & sigMask, // 31-32
		info.SigIgnored & sigMask, info.SigCaught & sigMask, // 33-34
		0, 0, 0, 17, 0, 0, 0, // 35-41: wchan nswap cnswap exit_signal processor rt_priority policy
		0, 0, 0, // 42-44: delayacct_blkio_ticks guest_time cguest_time
		0, 0, 0, 0, 0, 0, 0, 0, // 45-52: start_data end_data start_brk arg_start arg_end env_start env_end exit_code
	}
	return fmt.Appendf(nil, "%d (%s) %c"+strings.Repeat(" %d", len(f)-3)+"\n", f...), nil
}

// statm is /proc/<pid>/statm: sizes in pages.
func statm(_ *node, p Process) ([]byte, error) {
	info := p.Info()
	m := memOf(p)
	return fmt.Appendf(nil, "%d %d %d %d %d %d %d\n",
		info.VMSize/pageSize, info.VMRSS/pageSize, 0, m.exe/pageSize, 0, (m.data+m.stack)/pageSize, 0), nil
}

// limitNames are the lines of /proc/<pid>/limits, by RLIMIT_*.
var limitNames = [NumLimits][2]string{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

func limits(_ *node, p Process) ([]byte, error) {
	return formatLimits(p.Limits()), nil
}

func formatLimits(lim [NumLimits]unix.Rlimit) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == RlimInfinity {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for i, l := range lim {
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", limitNames[i][0], val(l.Cur), val(l.Max))
		if u := limitNames[i][1]; u != "" {
			fmt.Fprintf(&b, "%-10s", u)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// formatMaps writes mappings as Linux's show_map_vma: the path starts in
// column 74.
// vsyscallMapping is the legacy vsyscall page, which Linux lists last in
// every process's maps (execute-only: the kernel emulates calls to it;
// guestkernel/kernel/vsyscall.go does here). It is not one of the
// process's own mappings, so status and stat do not count it.
var vsyscallMapping = Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Perms: "--xp", Path: "[vsyscall]"}

// maps is /proc/<pid>/maps; a zombie's is empty.
func maps(_ *node, p Process) ([]byte, error) {
	m := p.Maps()
	if m != nil {
		m = append(m, vsyscallMapping)
	}
	return formatMaps(m), nil
}

func formatMaps(maps []Mapping) []byte {
	var b bytes.Buffer
	for _, m := range maps {
		perms := m.Perms
		if len(perms) != 4 {
			perms = (perms + "---p")[:4]
		}
		dev := m.Dev
		if dev == "" {
			dev = "00:00"
		}
		start := b.Len()
		fmt.Fprintf(&b, "%08x-%08x %s %08x %s %d ", m.Start, m.End, perms, m.Offset, dev, m.Inode)
		if m.Path != "" {
			if pad := 72 - (b.Len() - start); pad > 0 {
				b.WriteString(strings.Repeat(" ", pad))
			}
			b.WriteByte(' ')
			b.WriteString(strings.ReplaceAll(m.Path, "\n", "\\012"))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// mountsFor numbers the mounts and keeps those below root, with paths
// relative to it (what a process with that root sees).
func mountsFor(mounts []MountInfo, root string) []MountInfo {
	ms := slices.Clone(mounts)
	for i := range ms {
		if ms[i].ID == 0 {
			ms[i].ID = i + 1
		}
	}
	for i := range ms {
		if ms[i].ParentID != 0 {
			continue
		}
		ms[i].ParentID = ms[i].ID
		best := -1
		for j := range i {
			if under(ms[i].Target, ms[j].Target) && (best < 0 || len(ms[j].Target) >= len(ms[best].Target)) {
				best = j
			}
		}
		if best >= 0 {
			ms[i].ParentID = ms[best].ID
		}
	}
	if root == "" || root == "/" {
		return ms
	}
	root = strings.TrimRight(root, "/")
	var out []MountInfo
	for _, m := range ms {
		if !under(m.Target, root) {
			continue
		}
		m.Target = strings.TrimPrefix(m.Target, root)
		if m.Target == "" {
			m.Target = "/"
		}
		out = append(out, m)
	}
	return out
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// mangle escapes space, tab, newline and backslash as Linux's mount
// tables do.
func mangle(s string) string {
	return strings.NewReplacer(" ", "\\040", "\t", "\\011", "\n", "\\012", "\\", "\\134").Replace(s)
}

// mountFlags are the per-mount options (the rest are the filesystem's).
var mountFlags = map[string]bool{
	"ro": true, "rw": true, "nosuid": true, "nodev": true, "noexec": true, "noatime": true,
	"nodiratime": true, "relatime": true, "strictatime": true, "nosymfollow": true,
}

// splitOptions returns the per-mount options (starting with rw or ro)
// and the filesystem's (starting with the same).
func splitOptions(opts string) (mnt, super []string) {
	mode := "rw"
	for _, o := range strings.Split(opts, ",") {
		switch {
		case o == "":
		case o == "rw" || o == "ro":
			mode = o
		case mountFlags[o]:
			mnt = append(mnt, o)
		default:
			super = append(super, o)
		}
	}
	return append([]string{mode}, mnt...), append([]string{mode}, super...)
}

func formatMounts(ms []MountInfo) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		mnt, super := splitOptions(m.Options)
		opts := strings.Join(append(mnt, super[1:]...), ",")
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", mangle(orNone(m.Source)), mangle(m.Target), mangle(m.FSType), opts)
	}
	return b.Bytes()
}

func formatMountinfo(ms []MountInfo) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		mnt, super := splitOptions(m.Options)
		root := m.Root
		if root == "" {
			root = "/"
		}
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s - %s %s %s\n", m.ID, m.ParentID, unix.Major(m.Dev), unix.Minor(m.Dev),
			mangle(root), mangle(m.Target), strings.Join(mnt, ","), mangle(m.FSType), mangle(orNone(m.Source)),
			strings.Join(super, ","))
	}
	return b.Bytes()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// nsInodes are the namespaces a process is in, as /proc/PID/ns names them
// (TYPE:[INODE]): the sandbox is one of each, numbered as Linux numbers
// its initial ones (mnt and net have no fixed number there: these are the
// usual ones).
var nsInodes = []struct {
	name string
	ino  uint32
	typ  int // CLONE_NEW*
}{
	{"cgroup", 0xeffffffb, unix.CLONE_NEWCGROUP}, {"ipc", 0xefffffff, unix.CLONE_NEWIPC}, {"mnt", 0xf0000000, unix.CLONE_NEWNS},
	{"net", 0xf0000098, unix.CLONE_NEWNET}, {"pid", 0xeffffffc, unix.CLONE_NEWPID}, {"pid_for_children", 0xeffffffc, unix.CLONE_NEWPID},
	{"time", 0xeffffffa, unix.CLONE_NEWTIME}, {"time_for_children", 0xeffffffa, unix.CLONE_NEWTIME},
	{"user", 0xeffffffd, unix.CLONE_NEWUSER}, {"uts", 0xeffffffe, unix.CLONE_NEWUTS},
}

// nsDirOps is /proc/PID/ns: a magic link per namespace, which readlink
// shows as Linux does (`net:[4026531992]`) and which stat -L and open
// follow to the namespace's inode (nsFile: what lsns reads).
var nsDirOps = staticDirOps(func() []entry { return nsEntries })

var nsEntries = func() []entry {
	ents := make([]entry, 0, len(nsInodes))
	for _, ns := range nsInodes {
		kind := strings.TrimSuffix(ns.name, "_for_children")
		target := fmt.Sprintf("%s:[%d]", kind, ns.ino)
		o := magicLinkOps(func(*node, Process) (string, error) { return target, nil })
		o.nsIno, o.nsType = uint64(ns.ino), ns.typ
		ents = append(ents, entry{ns.name, linkMode, o})
	}
	return ents
}()

// nsFile is a namespace, opened through its /proc/PID/ns link: an empty
// read-only regular file of Linux's nsfs (device 0:4) whose inode number
// names the namespace. Reads and writes are EINVAL, as nsfs's; setns
// has nothing to join (one namespace of each kind); the ioctls
// (syscalls' nsIoctl) see the sandbox's namespaces as a process in them
// sees a system's initial ones.
type nsFile struct {
	ino uint64
	typ int
}

// NamespaceType implements fs.Namespace.
func (f nsFile) NamespaceType() int { return f.typ }

func (nsFile) Read([]byte) (int, error)              { return 0, unix.EINVAL }
func (nsFile) Write([]byte) (int, error)             { return 0, unix.EINVAL }
func (nsFile) Pread([]byte, int64) (int, error)      { return 0, unix.EINVAL }
func (nsFile) Pwrite([]byte, int64) (int, error)     { return 0, unix.EINVAL }
func (nsFile) Seek(int64, int) (int64, error)        { return 0, unix.EINVAL }
func (nsFile) IsTerminal() bool                      { return false }
func (nsFile) Poll(mask int16, _ int) (int16, error) { return mask & (unix.POLLIN | unix.POLLOUT), nil }
func (nsFile) Release()                              {}
func (f nsFile) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Dev: unix.Mkdev(0, 4), Ino: f.ino, Nlink: 1, Mode: unix.S_IFREG | 0o444, Blksize: 4096}, nil
}
