package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ringbox/vmm/cgroup"
)

func TestOCIRunOpts(t *testing.T) {
	b := t.TempDir()
	cfg := `{"ociVersion":"1.2.0",
	 "process":{"user":{"uid":1000,"gid":100,"additionalGids":[5]},"args":["/bin/sh","-c","x"],"env":["PATH=/bin","A=1"],"cwd":"/w",
	   "rlimits":[{"type":"RLIMIT_NOFILE","hard":4096,"soft":1024},{"type":"RLIMIT_CORE","hard":0,"soft":0}],"noNewPrivileges":true},
	 "root":{"path":"rootfs","readonly":true},"hostname":"h1",
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs"},
	   {"destination":"/data","type":"bind","source":"/srv/data","options":["rbind","ro"]},{"destination":"/cache","type":"tmpfs","source":"tmpfs","options":["nosuid","size=1m"]},
	   {"destination":"/x","type":"nfs","source":"host:/x"}],
	 "linux":{"resources":{"memory":{"limit":268435456},"pids":{"limit":99},"cpu":{"quota":150000,"period":100000}},
	   "namespaces":[{"type":"network","path":"/var/run/netns/n1"},{"type":"pid"}]}}`
	if err := os.WriteFile(filepath.Join(b, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"data", "cache", "x"} {
		os.MkdirAll(filepath.Join(b, "rootfs", d), 0o755)
	}
	s, err := readOCISpec(b)
	if err != nil {
		t.Fatal(err)
	}
	o, ignored, err := ociRunOpts(b, s)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s: got %s, want %s", what, g, w)
		}
	}
	check("argv", o.argv, []string{"/bin/sh", "-c", "x"})
	check("env", o.env, []string{"PATH=/bin", "A=1"})
	check("clearenv", o.clearEnv, true)
	check("unset", o.unsetEnv, []string{"HOME", "HOSTNAME"})
	check("cwd", o.workdir, "/w")
	check("uid", o.user.uid, 1000)
	check("gid", o.user.gid, 100)
	check("rootfs", o.rootfs, filepath.Join(b, "rootfs"))
	check("readonly", o.readOnly, true)
	check("hostname", o.hostname, "h1")
	check("mounts", len(o.mounts), 1)
	check("mount", [3]any{o.mounts[0].src, o.mounts[0].dst, o.mounts[0].readOnly}, [3]any{"/srv/data", "/data", true})
	check("tmpfs", o.tmpfs, []tmpfsSpec{{dst: "/cache", opts: "nosuid,size=1m", oci: true}})
	check("memory", o.memory, 256<<20-(16<<20+256<<20/16)) // less the sandbox's own share
	check("pids", o.pids, 99)
	check("cpus", o.cpus, 2)
	check("files", o.files, 4096)
	check("ignored", ignored, []string{"mounts[/x] of type nfs"})
	check("rlimits", o.rlimits, map[int]unix.Rlimit{unix.RLIMIT_NOFILE: {Cur: 1024, Max: 4096}, unix.RLIMIT_CORE: {}})
	check("groups", o.groups, []uint32{5})
	// The pod's network namespace: the NAT dials from it, to anything.
	check("net", [3]any{o.net, o.netns, o.allowNet}, [3]any{"sandbox", "/var/run/netns/n1", []string{"0.0.0.0/0", "::/0"}})
	s.Linux.Namespaces[0].Path = ""
	if o, _, _ := ociRunOpts(b, s); o.net != "none" || o.netns != "" {
		t.Errorf("a new network namespace: net %q netns %q, want none", o.net, o.netns)
	}
	s.Linux.Namespaces = s.Linux.Namespaces[1:]
	s.Mounts = append(s.Mounts, ociMount{Destination: "/etc/resolv.conf", Type: "bind", Source: "/run/c1/resolv.conf"})
	if o, _, _ := ociRunOpts(b, s); o.net != "sandbox" || o.netns != "" || o.resolvConf != "/run/c1/resolv.conf" {
		t.Errorf("no network namespace (the host's network): net %q netns %q resolv.conf %q", o.net, o.netns, o.resolvConf)
	}

	s.Process.Terminal = true
	if o, _, err := ociRunOpts(b, s); err != nil || !o.tty || !o.interactive {
		t.Error("a terminal is run -it")
	}
	for _, bad := range []string{`{}`, `{"process":{"args":[]},"root":{"path":"r"}}`, `{"process":{"args":["x"]}}`, `not json`} {
		os.WriteFile(filepath.Join(b, "config.json"), []byte(bad), 0o644)
		if _, err := readOCISpec(b); err == nil {
			t.Errorf("config %s: no error", bad)
		}
	}
}

func TestOCICommandLines(t *testing.T) {
	for args, want := range map[string]bool{
		"run -- ls": false, "run ls": false, "run --bundle b id": true, "run -b b id": true,
		"--root /r create id": true, "create --bundle b id": true, "state id": true, "kill id 9": true,
		"delete id": true, "features": true, "spec": true, "version": false, "help": false,
	} {
		if got := isOCICommandLine(strings.Fields(args)); got != want {
			t.Errorf("%q: %v, want %v", args, got, want)
		}
	}
	for id, ok := range map[string]bool{"c1": true, "a.b-c_d+e": true, "": false, "..": false, "a/b": false, "a b": false} {
		if ociValidID(id) != ok {
			t.Errorf("id %q: want %v", id, ok)
		}
	}
	for s, want := range map[string]int{"9": 9, "KILL": 9, "SIGTERM": 15, "term": 15, "usr1": 10} {
		got, err := ociParseSignal(s)
		if err != nil || int(got) != want {
			t.Errorf("signal %s: %v %v", s, got, err)
		}
	}
	if _, err := ociParseSignal("NOPE"); err == nil {
		t.Error("NOPE is no signal")
	}
}

// TestExecSocketLongPath: a state directory whose exec.sock path is too
// long for a socket address (a Docker exec root with 64-character IDs)
// still gets its socket, bound and dialled by a descriptor of the
// directory.
func TestExecSocketLongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("r", 60), strings.Repeat("0123456789abcdef", 4))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := listenExec(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := os.Stat(filepath.Join(dir, "exec.sock")); err != nil {
		t.Fatalf("the socket is not in the directory: %v", err)
	}
	name, done, err := execSockPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", name)
	done()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestOCIUpdateFlags: runc update's flags become linux.resources over
// what --resources gave; what ringbox has no group file for is refused.
func TestOCIUpdateFlags(t *testing.T) {
	flags, pos, err := ociFlags([]string{"--memory", "300M", "--memory-swap=-1", "--cpu-quota", "50000", "--cpu-period", "100000",
		"--cpu-share", "512", "--cpuset-cpus", "0-1", "-r", "-", "c1"})
	if err != nil || len(pos) != 1 || pos[0] != "c1" || flags["resources"] != "-" {
		t.Fatalf("ociFlags: %v %v %v", flags, pos, err)
	}
	var r cgroup.Resources
	if err := ociUpdateFlags(&r, flags); err != nil {
		t.Fatal(err)
	}
	if *r.Memory.Limit != 300<<20 || *r.Memory.Swap != -1 || *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 ||
		*r.CPU.Shares != 512 || r.CPU.Cpus != "0-1" || r.Memory.Reservation != nil || r.Pids != nil {
		t.Fatalf("resources: %+v %+v", r.Memory, r.CPU)
	}
	for _, bad := range [][]string{{"--memory", "lots"}, {"--cpu-period", "-5"}, {"--cpu-quota", "x"}, {"--blkio-weight", "10"}, {"--nonsense"}} {
		f, _, err := ociFlags(append(bad, "c1"))
		if err == nil {
			err = ociUpdateFlags(&cgroup.Resources{}, f)
		}
		if err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
