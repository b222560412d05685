package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/procfs"
	"ringbox/guestkernel/hostcall"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/loader"
	"ringbox/guestkernel/seccomp"
	"ringbox/netstack/nat"
	"ringbox/syscalls"
	"ringbox/vmm"
	"ringbox/vmm/confine"
)

type runOpts struct {
	strace   bool
	debug    bool
	platform string
	backend  string
	memory   uint64
	env      []string // -e values, checked: K=V or K
	envFiles []string
	clearEnv bool
	unsetEnv []string
	user     userSpec
	argv     []string
	rootfs   string
	mounts   mountList
	workdir  string
	hostname string
	// net is --net (none or sandbox), allowNet the --allow-net rules and
	// publish the --publish ports.
	net      string
	allowNet []string
	publish  []nat.Port
	// netns is a network namespace to dial from (an OCI container's,
	// by path): the confined child starts in it. resolvConf is the
	// resolv.conf whose resolver the gateway relays DNS to ("":
	// /etc/resolv.conf).
	netns      string
	resolvConf string
	// mirrorListens: the network namespace is the container's own (a
	// pod's, or one its hooks set up), and the program's listeners are
	// mirrored there (network.mirror).
	mirrorListens bool
	// optionalMounts: a mount whose point cannot be made is left out with
	// a note (an OCI config's) instead of failing the run.
	optionalMounts bool
	// groups are the program's supplementary groups, caps its capability
	// sets (nil: root's all, other users' none): an OCI config's.
	groups []uint32
	caps   *kernel.CapSets
	// rlimits are the first process's resource limits (--ulimit, an OCI
	// config's), by RLIMIT_* number.
	rlimits map[int]unix.Rlimit
	// seccomp is an OCI config's linux.seccomp filter, installed on the
	// container's process (and on processes exec'd into it) before it
	// runs, as runc does; seccompLog is SECCOMP_FILTER_FLAG_LOG.
	// noNewPrivs is process.noNewPrivileges.
	seccomp    *seccomp.Program
	seccompLog bool
	noNewPrivs bool
	// seccompFile is --seccomp: a profile file read (into seccomp) by
	// the confined ringbox before it drops its root.
	seccompFile string
	// ociDevices sets /dev up as container runtimes do (/dev/ptmx a
	// symlink to pts/ptmx).
	ociDevices bool
	// rootRW writes the root (--rootfs) in place rather than in memory:
	// an OCI container's rootfs that is not read-only.
	rootRW bool
	// mountAs names the sandbox's own mounts (/dev, /dev/pts, /dev/shm,
	// /sys) in /proc/mounts as an OCI config does: destination to
	// {type, source}.
	mountAs  map[string][2]string
	readOnly bool
	tmpfs    []tmpfsSpec
	shm      *tmpfsSpec // an OCI config\'s /dev/shm
	pids     int
	cpus     int
	// vcpus is --vcpus (0: min(pids, vmm.MaxVCPUs)).
	vcpus int
	// hostIO is --hostio (auto, thread, exit); hostIOSpin --hostio-spin.
	hostIO     string
	hostIOSpin time.Duration
	// hostFirst is --host-first (vmm.Config.HostFirst).
	hostFirst int
	// vdso is --vdso (auto, host, stubs, off).
	vdso string
	// disk is --disk (0: half of memory); files is --files (0: 1<<20).
	disk  uint64
	files int
	// timeout and killAfter are --timeout (0: none) and --kill-after.
	timeout, killAfter time.Duration
	// tty (-t) gives the program a sandbox terminal joined to ringbox's
	// own; interactive (-i) forwards stdin to it.
	tty, interactive bool
	// noConfine (--no-confine) runs ringbox itself without namespaces and
	// the empty root: debugging only.
	noConfine bool
	// ociDir is the state directory of the OCI container this sandbox
	// is (oci.go): set up, say so, and wait for start before the program.
	ociDir string
	// nsInit: the program is its PID namespace's init, as an OCI
	// config's with a new pid namespace is: it gets only the signals it
	// has handlers for, but SIGKILL (runc's container init; docker stop
	// of a program that ignores SIGTERM waits for its timeout).
	nsInit bool
	// parentListeners: the --publish listeners are descriptors 3, 4, ...,
	// made by the parent ringbox in the host's network.
	parentListeners bool
}

func runCmd(o *runOpts) error {
	child, inside := confine.Inside()
	// Listeners the parent made for --publish (and never the program's
	// environment: it is built from ringbox's below).
	if n, ok := os.LookupEnv(listenersEnv); ok {
		os.Unsetenv(listenersEnv)
		o.parentListeners = child && len(o.publish) > 0 && n == strconv.Itoa(len(o.publish))
	}
	level := slog.LevelWarn
	if o.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// ringbox itself runs in new namespaces: re-executed as a child, with
	// this process passing signals and the exit status (vmm/confine).
	var unconfined error
	switch {
	case o.noConfine:
		fmt.Fprintln(os.Stderr, "ringbox: warning: --no-confine: ringbox itself runs without namespaces, an empty root, dropped capabilities and the seccomp filter (a debugging aid; never for untrusted code)")
	case child && !inside:
		unconfined = errors.New("the re-executed ringbox is not in namespaces of its own")
	case !child:
		// Once the child runs, this process only relays: its set-up
		// code's pages can go (when the child's do: vmm.TrimText).
		spec := confine.Spec{HostNet: o.net == "sandbox", NetNS: o.netns,
			Settle: func() { vmm.TrimText() }, SettleAfter: settleAfter}
		if !spec.HostNet && spec.NetNS == "" && len(o.publish) > 0 {
			// Published ports alone: their listeners are made here, in the
			// host's network, and handed down; the child runs in an empty
			// network namespace and makes no host socket.
			files, err := publishListeners(o.publish)
			if err != nil {
				return err
			}
			spec.Files = files
			spec.Env = []string{listenersEnv + "=" + strconv.Itoa(len(files))}
		}
		st, err := confine.Run(spec)
		for _, f := range spec.Files {
			f.Close() // the child has its own
		}
		if err == nil {
			if st != 0 {
				return &exitError{status: st}
			}
			return nil
		}
		unconfined = err
	}

	if o.netns != "" && (o.noConfine || unconfined != nil) {
		// Dialling from the wrong network would be worse than failing.
		return fail(exitSandbox, "network namespace %s: only a confined ringbox can join it (%v)", o.netns, cmp.Or(unconfined, errors.New("--no-confine")))
	}
	var gate *ociGate
	var execL *net.UnixListener
	if o.ociDir != "" {
		var err error
		if gate, err = openOCIGate(o.ociDir); err != nil {
			return fail(exitSandbox, "%v", err)
		}
		if execL, err = listenExec(o.ociDir); err != nil {
			return fail(exitSandbox, "%v", err)
		}
	}
	env, err := programEnv(o, os.Environ(), os.ReadFile)
	if err != nil {
		return err
	}
	if err := o.loadSeccompFile(os.ReadFile); err != nil {
		return err
	}

	netw, err := openNetwork(o, log)
	if err != nil {
		return err
	}
	defer netw.close()
	vfs, mounts, mems, dev, err := buildVFS(o)
	if err != nil {
		return err
	}
	if err := netw.mount(vfs); err != nil {
		return fail(exitSandbox, "network: /etc/resolv.conf: %v", err)
	}
	cwd, err := workDir(vfs, o)
	if err != nil {
		return err
	}
	path, ok := envValue(env, "PATH")
	if !ok {
		path = defaultPath
	}
	prog, err := lookPathInTree(vfs, cwd, o.argv[0], path)
	if err != nil {
		return err
	}
	exe, prog, argv, err := openProgram(vfs, cwd, prog, o.argv)
	if err != nil {
		return err
	}
	defer exe.impl.Release()
	// Reject what is not a 64-bit x86-64 ELF before building a VM.
	if _, err := loader.Parse(exe, exe.size); err != nil {
		return fail(exitCannotExec, "%s: cannot execute: %v", prog, err)
	}

	start := time.Now()
	k, err := vmm.Open()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ringbox: %v\n", err)
		return fail(exitSandbox, "%s", noKVMHint)
	}
	defer k.Close()
	want, _ := vmm.ParseBackend(o.backend)
	if want != vmm.BackendUnknown && want != k.Backend {
		return fail(exitSandbox, "backend %v requested but this host's KVM is %v", want, k.Backend)
	}
	// Ring0 mode mirrors the whole host address space at guest-physical =
	// host-virtual, which needs 47 physical address bits; with fewer, the
	// default is exit mode.
	ring0Mode := o.platform == "kvm" || o.platform == "" && k.Ring0Capable()
	if ring0Mode && !k.Ring0Capable() {
		return fail(exitSandbox, "--platform=kvm cannot run: %s (use --platform=kvm-exit)", k.Ring0Unavailable())
	}
	if o.platform == "" && !ring0Mode {
		log.Debug("ring0 mode unavailable, using exit mode", "why", k.Ring0Unavailable())
	}
	// Tasks share the VM's vCPUs; one waiting in the kernel lends its own
	// out (docs/how-it-works.md).
	vcpus := o.vcpus
	if vcpus == 0 {
		vcpus = min(o.pids, vmm.MaxVCPUs)
	}
	machine, mem, err := vmm.NewMachine(k, vmm.Config{MemLimit: uintptr(o.memory), NumCPU: vcpus, Ring0: ring0Mode, HostFirst: o.hostFirst})
	if err != nil {
		return fail(exitSandbox, "build VM: %v", err)
	}
	vdsoImage, err := buildVDSO(machine, mem, o.vdso, log)
	if err != nil {
		return fail(exitSandbox, "%v", err)
	}
	// Everything the run reaches on the host by path is open by now: shut
	// ringbox itself in before the host I/O thread and the first task
	// thread exist (capabilities are per thread).
	if !o.noConfine {
		files := o.files
		if files == 0 {
			files = 1 << 20
		}
		rep := confine.Enter(confine.Limits{Files: files, Tasks: o.pids, NoNamespaces: !inside})
		if unconfined != nil {
			log.Debug("confinement: no namespaces", "why", unconfined)
		}
		log.Debug("confinement", "layers", rep.String())
	}
	// Host file calls from the Go kernel in the guest: through a host I/O
	// thread rather than a VM exit each (guestkernel/hostcall). With one
	// CPU the thread would only take turns with the vCPU it serves.
	if ring0Mode && (o.hostIO == "thread" || o.hostIO == "auto" && runtime.NumCPU() >= 2) {
		if err := hostcall.Start(hostcall.Policy{Worker: true, Spin: o.hostIOSpin}); err != nil {
			return fail(exitSandbox, "%v", err)
		}
		log.Debug("host I/O thread started", "spin", o.hostIOSpin)
	}
	if ring0Mode {
		// Where the thread cannot take them, a host call leaves the
		// guest first rather than bounce, and so do the ones after it.
		hostcall.SetLeave(vmm.LeaveGuest)
	}
	kern := kernel.New(machine, mem, log)
	kern.MaxTasks = o.pids
	kern.OnOOM = func(pid int32) {
		fmt.Fprintf(os.Stderr, "ringbox: out of memory (limit %s): process %d killed\n", formatSize(o.memory), pid)
	}
	if o.cpus < runtime.NumCPU() {
		kern.SetCPUs(o.cpus)
	}
	kern.Syscalls = syscalls.NewTable()
	if o.strace {
		kern.Strace = os.Stderr
	}
	kern.HWCap = hwcap(k)
	kern.VDSO = vdsoImage
	kern.VFS = vfs
	for _, attach := range mems {
		attach(mem)
	}
	// /proc right after /, as a container runtime mounts it first.
	kern.MountTable = slices.Insert(mounts, min(1, len(mounts)), procfs.MountInfo{Source: "proc", Target: "/proc", FSType: "proc", Options: "rw,nosuid,nodev,noexec,relatime"})
	kern.SetHostname(o.hostname)
	netw.start(kern)
	kern.NetProc = syscalls.ProcNet(kern)

	uid, gid := programIDs(vfs, o.user)
	m, res, err := loadProgram(machine, mem, kern, vfs, cwd, exe, prog, argv, env, uid, gid, o.memRlimits())
	if err != nil {
		return err
	}
	fds := fs.NewFDTable(fs.DefaultNoFile)
	var term *hostTerminal
	if o.tty {
		if term, err = newHostTerminal(dev, fds, uid, o.interactive, log); err != nil {
			return fail(exitSandbox, "-t: %v", err)
		}
		defer term.close()
	}
	if term == nil {
		if err := installHostStdio(fds, []int{0, 1, 2}); err != nil {
			return fail(exitSandbox, "stdio: %v", err)
		}
	}
	creds := kernel.Creds{UID: uid, EUID: uid, SUID: uid, GID: gid, EGID: gid, SGID: gid,
		Groups: o.groups, Caps: initialCaps(uid, o.caps)}
	task, err := kern.NewProcess(m, fds, creds)
	if err != nil {
		return fail(exitSandbox, "start task: %v", err)
	}
	task.TG.SetCwd(cwd)
	if o.nsInit {
		task.TG.SetUnkillable()
	}
	if err := o.confineProcess(task, o.noNewPrivs); err != nil {
		return fail(exitSandbox, "linux.seccomp: %v", err)
	}
	if o.files > 0 {
		// The hard limit: no process of the sandbox may raise it.
		task.TG.SetLimit(unix.RLIMIT_NOFILE, unix.Rlimit{Cur: uint64(min(o.files, fs.DefaultNoFile)), Max: uint64(o.files)})
	}
	for r, l := range o.rlimits {
		if r == unix.RLIMIT_NOFILE {
			l.Cur, l.Max = min(l.Cur, uint64(o.files)), min(l.Max, uint64(o.files))
		}
		task.TG.SetLimit(r, l)
	}
	if term != nil {
		term.attach(kern, task.TG)
	}
	// /dev/mqueue: the sandbox's POSIX message queues (buildVFS has its
	// line in the mount table).
	if dev != nil {
		mq := syscalls.MqueueNamespace(kern).FS(syscalls.MqueueOwner(kern))
		if err := vfs.MountWith("/dev/mqueue", mq, false, fs.NoSuid|fs.NoDev|fs.NoExec); err != nil {
			return fail(exitSandbox, "mount /dev/mqueue: %v", err)
		}
	}
	// /proc ("self" is whoever looks).
	if err := vfs.MountWith("/proc", procfs.New(kernel.NewProcSource(kern, syscalls.Release, syscalls.Version)).ForCaller(), false, fs.NoSuid|fs.NoDev|fs.NoExec); err != nil {
		log.Debug("no /proc in this root", "err", err)
	}
	task.Regs.RIP = uint64(res.Entry)
	task.Regs.RSP = uint64(res.SP)
	task.Regs.RFLAGS = 0x202
	disk := o.disk
	if disk == 0 {
		disk = o.memory / 2
	}
	files := o.files
	if files == 0 {
		files = 1 << 20
	}
	timeout := "none"
	if o.timeout > 0 {
		timeout = o.timeout.String()
	}
	log.Debug("limits", "memory", formatSize(o.memory), "disk", formatSize(disk), "pids", o.pids,
		"cpus", o.cpus, "files", files, "timeout", timeout)
	log.Debug("program loaded", "path", prog, "entry", fmt.Sprintf("%#x", res.Entry),
		"setup", time.Since(start), "platform", machine.Name())

	sigs := make(chan os.Signal, 4)
	// The signals a user or a container runtime sends a program (docker
	// kill -s USR1 for a log reopen); the others keep their host meaning
	// (SIGKILL, SIGSTOP and SIGTSTP stop or end the whole sandbox).
	signal.Notify(sigs, confine.RelayedSignals...)
	defer signal.Stop(sigs)
	// From here on, only the host syscalls of vmm/confine's table.
	if !o.noConfine {
		info, err := confine.InstallFilter(filterNet(o))
		if err != nil {
			return fail(exitSandbox, "%v", err)
		}
		log.Debug("seccomp filter", "instructions", info.Instructions, "syscalls", info.Syscalls,
			"on-violation", info.Action, "Seccomp", info.Status)
	}
	if gate != nil {
		if err := gate.wait(); err != nil {
			return fail(exitSandbox, "container start: %v", err)
		}
		// ringbox exec: more processes in this sandbox.
		go serveExec(execL, func(req execRequest, hostFDs []int) (int, error) {
			d, err := workDir(vfs, &runOpts{workdir: cmp.Or(req.Cwd, "/")})
			if err != nil {
				return 0, err
			}
			path, ok := envValue(req.Env, "PATH")
			if !ok {
				path = defaultPath
			}
			p, err := lookPathInTree(vfs, d, req.Args[0], path)
			if err != nil {
				return 0, err
			}
			exe, p, argv, err := openProgram(vfs, d, p, req.Args)
			if err != nil {
				return 0, err
			}
			defer exe.impl.Release()
			m, res, err := loadProgram(machine, mem, kern, vfs, d, exe, p, argv, req.Env, req.UID, req.GID, o.memRlimits())
			if err != nil {
				return 0, err
			}
			fds := fs.NewFDTable(fs.DefaultNoFile)
			var xterm *hostTerminal
			if req.Terminal && len(hostFDs) >= 2 {
				// exec -t: a sandbox pty of the process's own, joined
				// to the caller's terminal.
				if xterm, err = joinTerminal(dev, fds, req.UID, hostFDs[0], hostFDs[1], true, log); err != nil {
					return 0, err
				}
				defer xterm.close()
				go xterm.followSize()
			} else if err := installHostStdio(fds, hostFDs); err != nil {
				return 0, err
			}
			creds := kernel.Creds{UID: req.UID, EUID: req.UID, SUID: req.UID, GID: req.GID, EGID: req.GID, SGID: req.GID,
				Groups: req.Groups, Caps: initialCaps(req.UID, req.Caps)}
			t, err := kern.NewProcess(m, fds, creds)
			if err != nil {
				return 0, err
			}
			t.TG.SetCwd(d)
			if err := o.confineProcess(t, req.NoNewPrivs); err != nil {
				return 0, err
			}
			if xterm != nil {
				xterm.attach(kern, t.TG)
			}
			t.Regs.RIP, t.Regs.RSP, t.Regs.RFLAGS = uint64(res.Entry), uint64(res.SP), 0x202
			go t.Run()
			<-t.TG.Done()
			if xterm != nil {
				xterm.drain()
			}
			return t.TG.Status().ShellStatus(), nil
		})
	}
	runErr := make(chan error, 1)
	go func() { runErr <- task.Run() }()

	var fatal, deadline, kill <-chan time.Time
	timedOut := false
	if o.timeout > 0 {
		deadline = time.After(o.timeout)
	}
	settle := time.After(settleAfter)
	for {
		select {
		case <-settle:
			settle = nil
			log.Debug("trimmed the binary's mappings", "bytes", vmm.TrimText())
		case <-deadline:
			// As timeout(1): SIGTERM, SIGKILL if still there after
			// --kill-after, and status 124.
			deadline, timedOut = nil, true
			log.Debug("timed out: SIGTERM to the program", "timeout", o.timeout)
			task.TG.SendSignal(unix.SIGTERM)
			kill = time.After(o.killAfter)
		case <-kill:
			kill = nil
			log.Debug("still running: SIGKILL", "kill-after", o.killAfter)
			task.TG.SendSignal(unix.SIGKILL)
			if fatal == nil {
				fatal = time.After(2 * time.Second)
			}
		case s := <-sigs:
			sig := s.(syscall.Signal)
			log.Debug("forwarding host signal", "signal", sig)
			task.TG.SendSignal(unix.Signal(sig))
			if fatal == nil {
				// A task blocked in the host (reading a terminal) cannot
				// see the signal: give it a moment, then leave anyway.
				fatal = time.After(2 * time.Second)
			}
		case err := <-runErr:
			if o.debug {
				stats := machine.Stats()
				if hostcall.Enabled() {
					maps.Copy(stats, hostcall.Counters())
				}
				printStats(stats, time.Since(start))
			}
			if err != nil {
				return fail(exitSandbox, "%v", err)
			}
			<-task.TG.Done()
			if term != nil {
				term.drain()
			}
			if timedOut {
				return fail(exitTimedOut, "timed out after %v", o.timeout)
			}
			return statusOf(task.TG.Status())
		case <-fatal:
			if task.TG.Exiting() {
				if timedOut {
					return fail(exitTimedOut, "timed out after %v", o.timeout)
				}
				return statusOf(task.TG.Status())
			}
			fatal = nil
		}
	}
}

func statusOf(s kernel.ExitStatus) error {
	st := s.ShellStatus()
	if st == 0 {
		return nil
	}
	return &exitError{status: st}
}

// settleAfter is when a sandbox that still runs lets go of the pages of
// its own code that set-up touched (vmm.TrimText): late enough that short runs
// never pay for the pages faulted back in, early enough for a long-lived
// sandbox.
const settleAfter = time.Second

func printStats(stats map[string]uint64, d time.Duration) {
	keys := make([]string, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, stats[k])
	}
	fmt.Fprintf(os.Stderr, "ringbox: exits:%s wall=%v\n", b.String(), d.Round(time.Microsecond))
}

// hwcap is CPUID.1:EDX, which Linux reports as AT_HWCAP on x86.
func hwcap(k *vmm.KVM) uint64 {
	if e, ok := k.CPUID(1, 0); ok {
		return uint64(e.Edx)
	}
	return 0
}

// initialCaps are the first process's capability sets: given ones (an OCI
// config's), else all for user 0 and none for others.
func initialCaps(uid uint32, given *kernel.CapSets) kernel.CapSets {
	switch {
	case given != nil:
		return *given
	case uid == 0:
		return kernel.RootCaps()
	}
	return kernel.UserCaps()
}

// confineProcess applies an OCI config's process confinement to a new
// process of the container before it runs: no_new_privs, then the
// linux.seccomp filter, installed as the runtime installs it (it needs
// neither no_new_privs nor CAP_SYS_ADMIN of the process).
func (o *runOpts) confineProcess(t *kernel.Task, noNewPrivs bool) error {
	if noNewPrivs {
		t.TG.SetNoNewPrivs()
	}
	if o.seccomp == nil {
		return nil
	}
	_, err := t.AttachSeccomp(o.seccomp, o.seccompLog, false, false)
	return err
}
