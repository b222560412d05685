package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSystemdPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"system.slice:docker:abc", "/system.slice/docker-abc.scope"},
		{":docker:abc", "/system.slice/docker-abc.scope"},
		{"kubepods-burstable-pod12.slice:cri-containerd:c1", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-c1.scope"},
		{"-.slice::box", "/box.scope"},
		{"user.slice:p:x", "/user.slice/p-x.scope"},
		{"system.slice::kubepods-besteffort.slice", "/kubepods.slice/kubepods-besteffort.slice"},
	} {
		got, err := SystemdPath(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got, c.in)
	}
	for _, bad := range []string{"", "a:b", "system.slice:docker:", "notaslice:p:n", "a--b.slice:p:n", "a/b.slice:p:n", "x.slice:p/q:n", "x.slice:p:a:b"} {
		_, err := SystemdPath(bad)
		require.Error(t, err, bad)
	}
}

func TestDirFor(t *testing.T) {
	m := mount{dir: "/sys/fs/cgroup", root: "/"}
	for _, c := range []struct{ path, own, want string }{
		{"/docker/abc", "/user.slice", "/sys/fs/cgroup/docker/abc"},
		{"box", "/user.slice/session-1.scope", "/sys/fs/cgroup/user.slice/session-1.scope/box"},
		{"/../../etc", "/", "/sys/fs/cgroup/etc"},
		{"../../../x", "/a", "/sys/fs/cgroup/x"},
	} {
		got, err := m.dirFor(c.path, c.own)
		require.NoError(t, err, c.path)
		require.Equal(t, c.want, got, c.path)
	}
	_, err := m.dirFor("/", "/")
	require.Error(t, err, "the root group")
	// A tree whose mount shows only part of it (a cgroup namespace's
	// view from outside): paths outside that part are refused.
	sub := mount{dir: "/mnt/cg", root: "/docker"}
	got, err := sub.dirFor("/docker/abc", "/")
	require.NoError(t, err)
	require.Equal(t, "/mnt/cg/abc", got)
	_, err = sub.dirFor("/dockerx/abc", "/")
	require.Error(t, err)
	_, err = sub.dirFor("/other", "/")
	require.Error(t, err)
}

func TestParseMountsAndOwn(t *testing.T) {
	mi := `24 30 0:22 / /sys rw,nosuid - sysfs sysfs rw
31 24 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 31 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 31 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd,release_agent=/x
35 31 0:30 /sub /sys/fs/cgroup/un\040ified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`
	ms := parseMounts([]byte(mi))
	require.Len(t, ms, 4)
	require.Equal(t, mount{dir: "/sys/fs/cgroup/cpu,cpuacct", root: "/", ctls: []string{"cpu", "cpuacct"}}, ms[0])
	require.Equal(t, []string{"name=systemd"}, ms[2].ctls)
	require.Equal(t, mount{dir: "/sys/fs/cgroup/un ified", root: "/sub", v2: true}, ms[3])
	// A hybrid host (its unified tree has no memory or cpu controller,
	// here none readable): the v1 trees.
	trees := pickTrees(ms)
	require.Len(t, trees, 3)
	require.False(t, trees[0].v2)

	v2, v1 := parseOwn([]byte("12:memory:/m/a\n3:cpuacct,cpu:/c\n1:name=systemd:/s\n0::/u\n"))
	require.Equal(t, "/u", v2)
	require.Equal(t, map[string]string{"memory": "/m/a", "cpu,cpuacct": "/c", "name=systemd": "/s"}, v1)
	require.Equal(t, "cpu,cpuacct", ms[0].key())

	// A v2 host: the unified tree, whose root lists controllers.
	d := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(d, "cgroup.controllers"), []byte("hugetlb cpu memory pids\n"), 0o644))
	trees = pickTrees([]mount{{dir: d, root: "/", v2: true}, {dir: "/x", root: "/", ctls: []string{"name=systemd"}}})
	require.Equal(t, []mount{{dir: d, root: "/", v2: true}}, trees)
}

func TestSharesToWeight(t *testing.T) {
	require.Equal(t, uint64(1), SharesToWeight(2))
	require.Equal(t, uint64(1), SharesToWeight(0))
	require.Equal(t, uint64(39), SharesToWeight(1024))
	require.Equal(t, uint64(10000), SharesToWeight(262144))
	require.Equal(t, uint64(10000), SharesToWeight(1<<40))
}

// fakeGroup is a directory with the named (empty) files, as the kernel
// would make them.
func fakeGroup(t *testing.T, files ...string) string {
	d := t.TempDir()
	for _, f := range files {
		require.NoError(t, os.WriteFile(filepath.Join(d, f), nil, 0o644))
	}
	return d
}

func read(t *testing.T, dir, f string) string {
	b, err := os.ReadFile(filepath.Join(dir, f))
	require.NoError(t, err)
	return string(b)
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }

func TestSetV2(t *testing.T) {
	d := fakeGroup(t, "memory.max", "memory.low", "memory.swap.max", "cpu.max", "cpu.weight", "cpuset.cpus", "cpuset.mems", "memory.high")
	g := &Group{V2: true, Dirs: []string{d}}
	require.NoError(t, g.Set(&Resources{
		Memory:  &Memory{Limit: i64(256 << 20), Reservation: i64(128 << 20), Swap: i64(512 << 20)},
		CPU:     &CPU{Quota: i64(50000), Period: u64(100000), Shares: u64(512), Cpus: "0", Mems: "0"},
		Pids:    &Pids{Limit: 10},
		Unified: map[string]string{"memory.high": "200M"},
	}))
	require.Equal(t, "268435456", read(t, d, "memory.max"))
	require.Equal(t, "134217728", read(t, d, "memory.low"))
	require.Equal(t, "268435456", read(t, d, "memory.swap.max"), "swap alone: memory+swap less memory")
	require.Equal(t, "50000 100000", read(t, d, "cpu.max"))
	require.Equal(t, "20", read(t, d, "cpu.weight"))
	require.Equal(t, "0", read(t, d, "cpuset.cpus"))
	require.Equal(t, "200M", read(t, d, "memory.high"))
	_, err := os.Stat(filepath.Join(d, "pids.max"))
	require.True(t, os.IsNotExist(err), "pids are the guest's")

	// Unlimited, and a period alone keeps the quota.
	require.NoError(t, g.Set(&Resources{Memory: &Memory{Limit: i64(-1), Swap: i64(-1)}, CPU: &CPU{Period: u64(200000)}}))
	require.Equal(t, "max", read(t, d, "memory.max"))
	require.Equal(t, "max", read(t, d, "memory.swap.max"))
	require.Equal(t, "50000 200000", read(t, d, "cpu.max"))

	require.ErrorContains(t, g.Set(&Resources{Memory: &Memory{Limit: i64(100), Swap: i64(50)}}), "below memory.limit")
	require.ErrorContains(t, g.Set(&Resources{Unified: map[string]string{"../x": "1"}}), "not a controller's file")
	require.ErrorContains(t, g.Set(&Resources{Unified: map[string]string{"cgroup.procs": "1"}}), "not a controller's file")
	// No pids.max file: the controller is off.
	require.ErrorContains(t, g.Set(&Resources{Unified: map[string]string{"pids.max": "5"}}), "the pids controller is not on")
	// No swap accounting: swap is skipped, not an error.
	d2 := fakeGroup(t, "memory.max")
	require.NoError(t, (&Group{V2: true, Dirs: []string{d2}}).Set(&Resources{Memory: &Memory{Limit: i64(1 << 20), Swap: i64(2 << 20)}}))
}

func TestSetV1(t *testing.T) {
	mem := fakeGroup(t, "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes")
	cpu := fakeGroup(t, "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares")
	g := &Group{Dirs: []string{mem, cpu}}
	require.NoError(t, g.Set(&Resources{
		Memory: &Memory{Limit: i64(64 << 20), Swap: i64(128 << 20), Reservation: i64(1 << 20)},
		CPU:    &CPU{Quota: i64(20000), Period: u64(100000), Shares: u64(512)},
	}))
	require.Equal(t, "67108864", read(t, mem, "memory.limit_in_bytes"))
	require.Equal(t, "134217728", read(t, mem, "memory.memsw.limit_in_bytes"))
	require.Equal(t, "1048576", read(t, mem, "memory.soft_limit_in_bytes"))
	require.Equal(t, "20000", read(t, cpu, "cpu.cfs_quota_us"))
	require.Equal(t, "100000", read(t, cpu, "cpu.cfs_period_us"))
	require.Equal(t, "512", read(t, cpu, "cpu.shares"))
	require.ErrorContains(t, g.Set(&Resources{CPU: &CPU{Cpus: "0"}}), "the cpuset controller is not on")
	require.ErrorContains(t, g.Set(&Resources{Unified: map[string]string{"memory.high": "1"}}), "needs cgroup v2")
}

// TestRealGroup makes a group in the host's own cgroup trees (v1 or v2,
// whichever this host has), sets a memory and CPU limit, moves a process
// in, and removes the group, which kills the process.
func TestRealGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	path := "/ringbox-test-" + strconv.Itoa(os.Getpid()) + "/g"
	g, err := Create(path, false)
	if errors.Is(err, ErrNoCgroupFS) || errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission) {
		t.Skipf("no cgroup this test may make here: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		g.Remove()
		for _, d := range g.Dirs {
			os.Remove(filepath.Dir(d))
		}
	})
	t.Logf("v2 %v, dirs %v", g.V2, g.Dirs)
	require.NoError(t, g.Set(&Resources{Memory: &Memory{Limit: i64(64 << 20)}, CPU: &CPU{Quota: i64(20000), Period: u64(100000)}}))
	limit, quota := "memory.max", "cpu.max"
	if !g.V2 {
		limit, quota = "memory.limit_in_bytes", "cpu.cfs_quota_us"
	}
	var sawLimit, sawQuota bool
	for _, d := range g.Dirs {
		if v, err := readFile(filepath.Join(d, limit)); err == nil {
			require.Equal(t, "67108864", v)
			sawLimit = true
		}
		if v, err := readFile(filepath.Join(d, quota)); err == nil {
			require.True(t, strings.HasPrefix(v, "20000"), v)
			sawQuota = true
		}
	}
	require.True(t, sawLimit && sawQuota, "the memory and cpu limits are in the group")

	sleep := exec.Command("sleep", "60")
	require.NoError(t, sleep.Start())
	done := make(chan error, 1)
	go func() { done <- sleep.Wait() }()
	require.NoError(t, g.Join(sleep.Process.Pid))
	procs, err := g.Procs()
	require.NoError(t, err)
	require.Equal(t, []int{sleep.Process.Pid}, procs)

	require.NoError(t, g.Remove())
	select {
	case err := <-done:
		require.ErrorContains(t, err, "killed")
	case <-time.After(10 * time.Second):
		t.Fatal("the process in the group was not killed by Remove")
	}
	for _, d := range g.Dirs {
		_, err := os.Stat(d)
		require.True(t, os.IsNotExist(err), "%s is removed", d)
	}
	require.NoError(t, g.Remove(), "removing a removed group")
}

// FuzzPaths: whatever a config's cgroupsPath says (cgroupfs or systemd
// form), the directory is under the tree's mount, never the mount
// itself, and nothing panics.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{"/docker/abc", "a/../../b", "system.slice:docker:x", "a-b.slice:p:../../etc", "..", "/", "-.slice::x", "x.slice:p:y.slice"} {
		f.Add(s, "/user.slice")
	}
	f.Fuzz(func(t *testing.T, path, own string) {
		for _, p := range []string{path, "/" + path} {
			if sp, err := SystemdPath(p); err == nil {
				p = sp
			}
			for _, m := range []mount{{dir: "/sys/fs/cgroup", root: "/"}, {dir: "/mnt/cg", root: "/docker"}} {
				d, err := m.dirFor(p, own)
				if err != nil {
					continue
				}
				if !strings.HasPrefix(d, m.dir+"/") || strings.Contains(d[len(m.dir):], "/../") || strings.HasSuffix(d, "/..") {
					t.Fatalf("path %q (own %q) gives %q, outside %s", p, own, d, m.dir)
				}
			}
		}
	})
}
