package procfs

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
)

// systemEntries are the files of /proc besides the processes, self and
// thread-self.
func systemEntries() []entry {
	return []entry{
		{"cpuinfo", fileMode, text(cpuinfo)},
		{"filesystems", fileMode, text(filesystems)},
		{"loadavg", fileMode, text(loadavg)},
		{"meminfo", fileMode, text(meminfo)},
		{"mounts", linkMode, linkOps(func(*node, Process) (string, error) { return "self/mounts", nil })},
		{"net", dirMode, netDirOps},
		{"stat", fileMode, text(procStat)},
		{"sys", dirMode, sysDirOps},
		{"uptime", fileMode, text(uptime)},
		{"version", fileMode, text(func(s Source) string {
			return fmt.Sprintf("Linux version %s (ringbox@ringbox) (go) %s\n", s.Release(), s.Version())
		})},
	}
}

// netDirOps is /proc/net: the sandbox's sockets and interfaces, from the
// network (Source.NetFile).
var netDirOps = staticDirOps(func() []entry {
	var out []entry
	for _, name := range []string{"dev", "if_inet6", "route", "tcp", "tcp6", "udp", "udp6", "unix"} {
		out = append(out, entry{name, fileMode, text(func(s Source) string { return s.NetFile(name) })})
	}
	return out
})

// sysDirOps is /proc/sys: the few sysctls programs read.
var sysDirOps = staticDirOps(func() []entry {
	return []entry{
		{"fs", dirMode, staticDirOps(func() []entry {
			return []entry{
				{"file-max", fileMode, text(func(s Source) string {
					total, _, _ := s.Memory()
					return fmt.Sprintf("%d\n", max(8192, total/10240))
				})},
				{"nr_open", fileMode, constant("1048576\n")},
			}
		})},
		{"kernel", dirMode, staticDirOps(func() []entry {
			return []entry{
				{"cap_last_cap", fileMode, constant("40\n")},
				{"hostname", fileMode, text(func(s Source) string { return s.Hostname() + "\n" })},
				{"ngroups_max", fileMode, constant("65536\n")},
				{"osrelease", fileMode, text(func(s Source) string { return s.Release() + "\n" })},
				{"ostype", fileMode, constant("Linux\n")},
				// The IDs shown for one with no mapping (bubblewrap
				// reads them): nobody and nogroup.
				{"overflowgid", fileMode, constant("65534\n")},
				{"overflowuid", fileMode, constant("65534\n")},
				{"pid_max", fileMode, constant("4194304\n")},
				{"random", dirMode, staticDirOps(func() []entry {
					return []entry{
						{"boot_id", fileMode, fileOps(func(n *node, _ Process) ([]byte, error) {
							return []byte(n.v.fs.bootID + "\n"), nil
						})},
						{"entropy_avail", fileMode, constant("256\n")},
						{"poolsize", fileMode, constant("256\n")},
						{"uuid", fileMode, fileOps(func(*node, Process) ([]byte, error) { return []byte(newUUID() + "\n"), nil })},
					}
				})},
				{"version", fileMode, text(func(s Source) string { return s.Version() + "\n" })},
			}
		})},
		{"vm", dirMode, staticDirOps(func() []entry {
			return []entry{
				{"max_map_count", fileMode, constant("65530\n")},
				{"overcommit_memory", fileMode, constant("0\n")},
			}
		})},
	}
})

// centis formats seconds with two decimals, truncated as Linux does.
func centis(s float64) string {
	if s < 0 || math.IsNaN(s) {
		s = 0
	}
	c := uint64(s * 100)
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

func uptime(s Source) string {
	up, idle := s.Uptime()
	return centis(up) + " " + centis(idle) + "\n"
}

// threadCounts counts the threads and those running, over all processes.
func threadCounts(s Source) (running, total int, lastPID int32) {
	for _, pid := range s.PIDs() {
		lastPID = max(lastPID, pid)
		p, ok := s.Process(pid)
		if !ok {
			continue
		}
		info := p.Info()
		threads := p.Threads()
		if len(threads) == 0 {
			threads = []Thread{{TID: pid}}
		}
		for _, t := range threads {
			lastPID = max(lastPID, t.TID)
			total++
			st := t.State
			if st == 0 {
				st = info.State
			}
			if st == 'R' {
				running++
			}
		}
	}
	return max(running, 1), max(total, 1), lastPID
}

// load formats a load average with two decimals, rounded as Linux does.
func load(v float64) string {
	if v < 0 || math.IsNaN(v) {
		v = 0
	}
	c := uint64(v*100 + 0.5)
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

func loadavg(s Source) string {
	l := s.LoadAvg()
	running, total, last := threadCounts(s)
	return fmt.Sprintf("%s %s %s %d/%d %d\n", load(l[0]), load(l[1]), load(l[2]), running, total, last)
}

// meminfo shows the totals in kB, with Linux's columns; what the sandbox
// does not have (swap, huge pages) is 0, and the memory that is available
// but not free shows as page cache.
func meminfo(s Source) string {
	total, free, avail := s.Memory()
	free, avail = min(free, total), min(avail, total)
	cached := uint64(0)
	if avail > free {
		cached = avail - free
	}
	used := total - avail
	var b strings.Builder
	kb := func(k string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", k+":", v>>10) }
	num := func(k string, v uint64) { fmt.Fprintf(&b, "%-16s%8d\n", k+":", v) }
	kb("MemTotal", total)
	kb("MemFree", free)
	kb("MemAvailable", avail)
	kb("Buffers", 0)
	kb("Cached", cached)
	kb("SwapCached", 0)
	kb("Active", used)
	kb("Inactive", cached)
	kb("Active(anon)", used)
	kb("Inactive(anon)", 0)
	kb("Active(file)", 0)
	kb("Inactive(file)", cached)
	kb("Unevictable", 0)
	kb("Mlocked", 0)
	kb("SwapTotal", 0)
	kb("SwapFree", 0)
	kb("Dirty", 0)
	kb("Writeback", 0)
	kb("AnonPages", used)
	kb("Mapped", 0)
	kb("Shmem", 0)
	kb("KReclaimable", 0)
	kb("Slab", 0)
	kb("SReclaimable", 0)
	kb("SUnreclaim", 0)
	kb("KernelStack", 0)
	kb("PageTables", 0)
	kb("NFS_Unstable", 0)
	kb("Bounce", 0)
	kb("WritebackTmp", 0)
	kb("CommitLimit", total)
	kb("Committed_AS", used)
	kb("VmallocTotal", 34359738367<<10)
	kb("VmallocUsed", 0)
	kb("VmallocChunk", 0)
	kb("AnonHugePages", 0)
	num("HugePages_Total", 0)
	num("HugePages_Free", 0)
	num("HugePages_Rsvd", 0)
	num("HugePages_Surp", 0)
	kb("Hugepagesize", 2048<<10)
	kb("Hugetlb", 0)
	return b.String()
}

// procStat is /proc/stat. The CPU times are made from the uptime and the
// idle time, spread evenly over the CPUs (the busy time as user time).
func procStat(s Source) string {
	ncpu := max(1, s.NumCPU())
	up, idle := s.Uptime()
	idle = min(max(idle, 0), up*float64(ncpu))
	busy := uint64(max(up*float64(ncpu)-idle, 0) * userHZ)
	idleT := uint64(idle * userHZ)
	var b strings.Builder
	line := func(name string, user, idle uint64) {
		fmt.Fprintf(&b, "%s %d 0 0 %d 0 0 0 0 0 0\n", name, user, idle)
	}
	line("cpu ", busy, idleT)
	for i := range ncpu {
		line(fmt.Sprintf("cpu%d", i), busy/uint64(ncpu), idleT/uint64(ncpu))
	}
	running, _, last := threadCounts(s)
	fmt.Fprintf(&b, "intr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n",
		s.BootTime(), last, running)
	b.WriteString("softirq 0 0 0 0 0 0 0 0 0 0 0\n")
	return b.String()
}

// cpuinfo is the Source's, or a minimal block per CPU.
func cpuinfo(s Source) string {
	if c := s.CPUInfo(); c != "" {
		return c
	}
	var b strings.Builder
	for i := range max(1, s.NumCPU()) {
		fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: unknown\nmodel name\t: ringbox virtual CPU\nflags\t\t:\n\n", i)
	}
	return b.String()
}

// blockFS are filesystem types that need a device (no "nodev").
var blockFS = map[string]bool{
	"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "vfat": true,
	"iso9660": true, "squashfs": true, "fuseblk": true, "f2fs": true,
}

// filesystems lists proc, tmpfs and the types mounted.
func filesystems(s Source) string {
	types := []string{"proc", "tmpfs"}
	for _, m := range s.Mounts() {
		if m.FSType != "" && !slices.Contains(types, m.FSType) {
			types = append(types, m.FSType)
		}
	}
	var b bytes.Buffer
	for _, t := range types {
		if blockFS[t] {
			fmt.Fprintf(&b, "\t%s\n", t)
		} else {
			fmt.Fprintf(&b, "nodev\t%s\n", t)
		}
	}
	return b.String()
}
