package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/syscalls"
	"ringbox/vmm/cgroup"
)

// The part of the OCI runtime spec's config.json that ringbox reads (the
// field names are the spec's). Fields not here are ignored; ociFeatures
// lists what ringbox does not honour.
type ociSpec struct {
	OCIVersion  string            `json:"ociVersion"`
	Process     *ociProcess       `json:"process,omitempty"`
	Root        *ociRoot          `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Mounts      []ociMount        `json:"mounts,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *ociLinux         `json:"linux,omitempty"`
	Hooks       *ociHooks         `json:"hooks,omitempty"`
}

type ociProcess struct {
	Terminal        bool        `json:"terminal,omitempty"`
	User            ociUser     `json:"user"`
	Args            []string    `json:"args"`
	Env             []string    `json:"env,omitempty"`
	Cwd             string      `json:"cwd"`
	Rlimits         []ociRlimit `json:"rlimits,omitempty"`
	NoNewPrivileges bool        `json:"noNewPrivileges,omitempty"`
	Capabilities    *ociCaps    `json:"capabilities,omitempty"`
}

// ociCaps are process.capabilities: CAP_* names per set.
type ociCaps struct {
	Bounding    []string `json:"bounding,omitempty"`
	Effective   []string `json:"effective,omitempty"`
	Inheritable []string `json:"inheritable,omitempty"`
	Permitted   []string `json:"permitted,omitempty"`
	Ambient     []string `json:"ambient,omitempty"`
}

// sets turns the names into the kernel's sets; unknown lists the names
// it does not know.
func (c *ociCaps) sets() (kernel.CapSets, []string) {
	var out kernel.CapSets
	var unknown []string
	for _, x := range []struct {
		names []string
		dst   *uint64
	}{{c.Bounding, &out.Bounding}, {c.Effective, &out.Effective}, {c.Inheritable, &out.Inheritable},
		{c.Permitted, &out.Permitted}, {c.Ambient, &out.Ambient}} {
		set, bad := kernel.ParseCaps(x.names)
		*x.dst = set
		unknown = append(unknown, bad...)
	}
	return out, unknown
}

type ociUser struct {
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGids []uint32 `json:"additionalGids,omitempty"`
}

type ociRlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

type ociRoot struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly,omitempty"`
}

type ociMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type,omitempty"`
	Source      string   `json:"source,omitempty"`
	Options     []string `json:"options,omitempty"`
}

type ociLinux struct {
	// CgroupsPath is the host group the sandbox runs in (ocicgroup.go),
	// which carries Resources.
	CgroupsPath string            `json:"cgroupsPath,omitempty"`
	Resources   *cgroup.Resources `json:"resources,omitempty"`
	Namespaces  []ociNamespace    `json:"namespaces,omitempty"`
	Seccomp     *ociSeccomp       `json:"seccomp,omitempty"`
	// Sysctl: the net.* ones are set in a network namespace of the
	// container's own that create made (ociSysctls).
	Sysctl map[string]string `json:"sysctl,omitempty"`
}

type ociNamespace struct {
	Type string `json:"type"`
	Path string `json:"path,omitempty"`
}

// ociVersion is the runtime spec version ringbox speaks.
const ociVersion = "1.2.0"

// readOCISpec reads and checks BUNDLE/config.json.
func readOCISpec(bundle string) (*ociSpec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	var s ociSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("bundle %s: config.json: %w", bundle, err)
	}
	if s.Process == nil || len(s.Process.Args) == 0 {
		return nil, fmt.Errorf("bundle %s: config.json: process.args is empty", bundle)
	}
	if s.Root == nil || s.Root.Path == "" {
		return nil, fmt.Errorf("bundle %s: config.json: root.path is missing", bundle)
	}
	return &s, nil
}

// Mount types ringbox provides itself, whatever config.json asks: /proc,
// /sys, /dev and its pts, mqueue and shm are the sandbox's own.
var ociBuiltinMounts = map[string]bool{"proc": true, "sysfs": true, "devpts": true, "mqueue": true, "cgroup": true, "cgroup2": true}

// ociRlimits are the rlimit names a config may give.
var ociRlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// ociRunOpts maps a config.json onto `ringbox run`'s options. ignored
// lists what it could not honour (logged once by the caller).
func ociRunOpts(bundle string, s *ociSpec) (o *runOpts, ignored []string, err error) {
	o = defaultRunOpts()
	p := s.Process
	o.argv = p.Args
	// Exactly the config's environment.
	o.clearEnv = true
	o.env = append(o.env, p.Env...)
	for _, k := range []string{"PATH", "HOME", "HOSTNAME"} {
		if !ociHasEnv(p.Env, k) {
			o.unsetEnv = append(o.unsetEnv, k)
		}
	}
	o.workdir = p.Cwd
	o.nsInit = s.newPidNamespace()
	o.user = userSpec{set: true, uid: p.User.UID, gid: p.User.GID, hasGID: true}
	o.groups = p.User.AdditionalGids
	if p.Capabilities != nil {
		caps, unknown := p.Capabilities.sets()
		o.caps = &caps
		for _, n := range unknown {
			ignored = append(ignored, "process.capabilities: unknown "+n)
		}
	}
	// A terminal: the sandbox process's stdio is the console socket's
	// pseudo-terminal, joined to the program's as with run -it.
	o.tty, o.interactive = p.Terminal, p.Terminal
	for _, rl := range p.Rlimits {
		r, ok := ociRlimits[rl.Type]
		if !ok || rl.Soft > rl.Hard {
			ignored = append(ignored, "process.rlimits."+rl.Type)
			continue
		}
		if r == unix.RLIMIT_NOFILE {
			o.files = int(min(rl.Hard, 1<<20))
		}
		if o.rlimits == nil {
			o.rlimits = map[int]unix.Rlimit{}
		}
		o.rlimits[r] = unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
	}
	root := s.Root.Path
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	o.rootfs = root
	o.readOnly = s.Root.Readonly
	o.rootRW = !s.Root.Readonly
	o.ociDevices = true
	o.optionalMounts = true
	if s.Hostname != "" {
		o.hostname = s.Hostname
	}
	for _, m := range s.Mounts {
		// A missing mount point is made in the rootfs, as runc makes it
		// (buildVFS); where none can be (a read-only rootfs, the
		// sandbox's own /dev), the mount is left out with a note.
		isBind := m.Type == "bind" || ociHasOpt(m.Options, "bind") || ociHasOpt(m.Options, "rbind")
		if st, err := os.Stat(m.Source); isBind && err == nil && !st.IsDir() && !st.Mode().IsRegular() {
			// A host socket (docker.sock), FIFO or device: the sandbox
			// never opens one.
			ignored = append(ignored, "mounts["+m.Destination+"]: the source is a "+fileKind(st.Mode())+", not a file or directory")
			continue
		}
		switch {
		case isBind:
			if m.Source == "" || !filepath.IsAbs(m.Destination) {
				return nil, nil, fmt.Errorf("mount %s: a bind wants an absolute destination and a source", m.Destination)
			}
			// Its access as the options say (ro, nosuid, nodev,
			// noexec), as runc applies them.
			o.mounts = append(o.mounts, mountSpec{src: m.Source, dst: m.Destination, mountAccess: ociBindAccess(m.Options)})
		case m.Type == "tmpfs":
			spec := tmpfsSpec{dst: filepath.Clean(m.Destination), opts: strings.Join(m.Options, ","), oci: true}
			_, _, _, bad, err := spec.parse(1 << 30)
			if err != nil {
				ignored = append(ignored, "mounts["+m.Destination+"]: "+err.Error())
				continue
			}
			if len(bad) > 0 {
				ignored = append(ignored, "mounts["+m.Destination+"] options "+strings.Join(bad, ","))
			}
			if spec.dst == "/dev" || spec.dst == "/dev/shm" {
				// The sandbox's own /dev, with /dev/shm as the config
				// has it (its size: Docker's --shm-size).
				if o.mountAs == nil {
					o.mountAs = map[string][2]string{}
				}
				o.mountAs[spec.dst] = [2]string{m.Type, m.Source}
				if spec.dst == "/dev/shm" {
					o.shm = &spec
				}
				continue
			}
			o.tmpfs = append(o.tmpfs, spec)
		case ociBuiltinMounts[m.Type]:
			if o.mountAs == nil {
				o.mountAs = map[string][2]string{}
			}
			o.mountAs[filepath.Clean(m.Destination)] = [2]string{m.Type, m.Source}
		default:
			ignored = append(ignored, "mounts["+m.Destination+"] of type "+m.Type)
		}
	}
	o.noNewPrivs = p.NoNewPrivileges
	if l := s.Linux; l != nil && l.Seccomp != nil {
		// Docker's own format, should a config carry it unresolved:
		// resolved against the process's bounding set.
		bounding := initialCaps(p.User.UID, o.caps).Bounding
		if err := l.Seccomp.resolveDocker(bounding, syscalls.Release); err != nil {
			return nil, nil, fmt.Errorf("bundle %s: config.json: linux.seccomp: %w", bundle, err)
		}
		prog, log, notes, err := compileOCISeccomp(l.Seccomp)
		if err != nil {
			return nil, nil, fmt.Errorf("bundle %s: config.json: linux.seccomp: %w", bundle, err)
		}
		o.seccomp, o.seccompLog = prog, log
		for _, n := range notes {
			// A name the sandbox has no syscall for can never be
			// called (ENOSYS): nothing is lost, nothing to report.
			if !strings.Contains(n, "not in the sandbox's x86-64 table") {
				ignored = append(ignored, "linux.seccomp: "+n)
			}
		}
	}
	if l := s.Linux; l != nil {
		if r := l.Resources; r != nil {
			if r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0 {
				// The limit bounds the whole sandbox, as its host group
				// does: the guest gets it less ringbox's own share.
				o.memory = ociGuestMemory(uint64(*r.Memory.Limit))
			}
			if r.Pids != nil && r.Pids.Limit > 0 {
				o.pids = int(r.Pids.Limit)
			}
			if r.CPU != nil && r.CPU.Quota != nil && *r.CPU.Quota > 0 && r.CPU.Period != nil && *r.CPU.Period > 0 {
				o.cpus = max(1, int((uint64(*r.CPU.Quota)+*r.CPU.Period-1) / *r.CPU.Period))
			}
		}
	}
	if l := s.Linux; l != nil {
		for k := range l.Sysctl {
			if !strings.HasPrefix(k, "net.") || !s.hookedNetns() {
				ignored = append(ignored, "linux.sysctl "+k)
			}
		}
	}
	if s.Hooks != nil && len(s.Hooks.StartContainer) > 0 {
		ignored = append(ignored, "hooks.startContainer (it would run inside the container; not run)")
	}
	ociNetwork(o, s)
	return o, ignored, nil
}

// ociNetwork maps the network namespace onto a network mode, as runc's
// container would see it: a new, empty network namespace is --net=none;
// none at all (the host's network), an existing one by path (a
// Kubernetes pod's, set up by CNI) and a new one that hooks set up
// (Docker's bridge: hookedNetns) are --net=sandbox with every
// destination allowed, dialled from that namespace. The gateway's DNS
// relay uses the resolver of the resolv.conf the runtime bind-mounts.
func ociNetwork(o *runOpts, s *ociSpec) {
	netns := s.netns()
	if netns != nil && netns.Path == "" && !s.hookedNetns() {
		o.net = "none"
		return
	}
	o.net = "sandbox"
	o.allowNet = []string{"0.0.0.0/0", "::/0"}
	if netns != nil {
		o.netns = netns.Path // "" for a hooked one: the sandbox process is in it
		o.mirrorListens = true
	}
	for _, m := range s.Mounts {
		if m.Destination == "/etc/resolv.conf" && m.Source != "" {
			o.resolvConf = m.Source
		}
	}
}

// ociSysctls writes the config's net.* sysctls in the network namespace
// of the sandbox process pid, which create made for the container
// (hookedNetns), after its hooks, as runc writes them in the container's
// after its hooks (an interface's sysctl names the eth0 a hook moved in).
// Docker asks for net.ipv4.ip_unprivileged_port_start=0, which lets
// ringbox mirror the program's listeners on ports below 1024 there. Every
// name is checked (a plain path below /proc/sys/net) before any is
// written.
func ociSysctls(s *ociSpec, pid int) error {
	if s.Linux == nil || !s.hookedNetns() {
		return nil
	}
	var keys []string
	for k := range s.Linux.Sysctl {
		if !strings.HasPrefix(k, "net.") {
			continue
		}
		rel := strings.ReplaceAll(k, ".", "/")
		if strings.Contains(k, "/") || strings.Contains(rel, "//") || strings.HasSuffix(rel, "/") {
			return fmt.Errorf("linux.sysctl %q: not a sysctl name", k)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	errc := make(chan error, 1)
	go func() {
		// This thread joins the container's network namespace and is
		// never unlocked: it ends with the goroutine.
		runtime.LockOSThread()
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			errc <- fmt.Errorf("linux.sysctl: %w", err)
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("linux.sysctl: setns: %w", err)
			return
		}
		for _, k := range keys {
			v := s.Linux.Sysctl[k]
			if err := os.WriteFile("/proc/sys/"+strings.ReplaceAll(k, ".", "/"), []byte(v), 0); err != nil {
				errc <- fmt.Errorf("linux.sysctl %s=%s: %w", k, v, err)
				return
			}
		}
		errc <- nil
	}()
	return <-errc
}

// fileKind names a host file's type for a note.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// netns is the config's network namespace, if it has one.
func (s *ociSpec) netns() *ociNamespace { return s.namespace("network") }

// namespace is the config's namespace of type typ (the last one named),
// if it has one.
func (s *ociSpec) namespace(typ string) *ociNamespace {
	var found *ociNamespace
	if s.Linux != nil {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == typ {
				found = &s.Linux.Namespaces[i]
			}
		}
	}
	return found
}

// newPidNamespace reports whether the config asks for a PID namespace of
// the container's own, whose init its program is.
func (s *ociSpec) newPidNamespace() bool {
	ns := s.namespace("pid")
	return ns != nil && ns.Path == ""
}

// hookedNetns reports whether the container asks for a new network
// namespace and has hooks that run before it starts (Docker's bridge
// network is made by such a hook): create then starts the sandbox
// process in a new host network namespace for the hooks to fill, and the
// sandbox's NAT dials from there, every destination allowed (the
// namespace's own routes and the host's firewall are the policy, as for
// runc's containers). Without such hooks a new namespace stays
// --net=none, the loopback only, as in runc's empty namespace.
func (s *ociSpec) hookedNetns() bool {
	ns := s.netns()
	return ns != nil && ns.Path == "" && len(s.Hooks.createHooks()) > 0
}

func ociHasEnv(env []string, k string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, k+"=") {
			return true
		}
	}
	return false
}

func ociHasOpt(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// ociDefaultSpec is what `ringbox spec` writes: a shell in rootfs.
func ociDefaultSpec() *ociSpec {
	return &ociSpec{
		OCIVersion: ociVersion,
		Process: &ociProcess{
			Args:            []string{"sh"},
			Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Cwd:             "/",
			Rlimits:         []ociRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &ociRoot{Path: "rootfs", Readonly: true},
		Hostname: "ringbox",
		Mounts: []ociMount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts"},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &ociLinux{Namespaces: []ociNamespace{{Type: "pid"}, {Type: "network"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}}},
	}
}

// ociFeatures is `ringbox features`: what the runtime supports, in the
// shape of the OCI features document, with ringbox's notes.
func ociFeatures() map[string]any {
	return map[string]any{
		"ociVersionMin": "1.0.0",
		"ociVersionMax": ociVersion,
		"hooks":         []string{"prestart", "createRuntime", "createContainer", "poststart", "poststop"},
		"mountOptions":  []string{"bind", "rbind", "ro", "rw"},
		"linux": map[string]any{
			"namespaces": []string{"pid", "network", "ipc", "uts", "mount"},
			// Made directly in the tree, the systemd driver's too.
			"cgroup":       map[string]any{"v1": true, "v2": true, "systemd": true, "systemdUser": false, "rdma": false},
			"capabilities": kernel.CapNames(),
			"seccomp": map[string]any{
				"enabled": true,
				"actions": []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
					"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"},
				"operators": []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
					"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"},
				"archs":          []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"},
				"knownFlags":     []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
				"supportedFlags": []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
			},
		},
		"annotations": map[string]string{
			"dev.ringbox.ignored": strings.Join([]string{
				"process.rlimits of unknown types",
				"hooks.startContainer (it would run inside the container)", "linux.seccomp listeners (SCMP_ACT_NOTIFY)", "linux.devices",
				"linux.namespaces paths but the network's", "mounts of other types than bind and tmpfs (proc, sysfs, devpts, mqueue, shm are built in)",
				"linux.resources other than memory, cpu, pids and unified (pids: the sandbox's own limit, not the host group's pids.max)",
				"--systemd-cgroup: the group is made where systemd would put the unit, without asking systemd (no D-Bus)",
			}, "; "),
		},
	}
}
