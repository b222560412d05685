package main

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"
	"ringbox/guestkernel/kernel"
	"ringbox/netstack/nat"
	"ringbox/vmm"
)

// The command line is parsed by hand from one table of flags (runFlags),
// which also writes the help text and the shell completion scripts, so the
// three cannot disagree. See doc.go for why not a CLI library.

// Flag groups, in the order the help shows them.
const (
	groupSandbox   = "Sandbox"
	groupFiles     = "Files"
	groupResources = "Resources"
	groupDebugging = "Debugging"
)

var flagGroups = []string{groupSandbox, groupFiles, groupResources, groupDebugging}

// Completion kinds of a flag's value.
const (
	compNone  = ""
	compFile  = "file"
	compDir   = "dir"
	compEnv   = "env"   // names of ringbox's own environment variables
	compMount = "mount" // SRC:DST, directories or files
)

// runFlag is one flag of `ringbox run`.
type runFlag struct {
	long  string // name without the dashes
	short string // one letter, or ""
	arg   string // the value's placeholder; "" for a boolean flag
	group string
	def   func() string // the default shown by the help; nil for none
	usage string        // one line
	// words, when set, are the values to complete (and the only ones
	// accepted); comp says what else to complete.
	words []string
	comp  string
	set   func(o *runOpts, v string) error // nil for --help
}

func (f *runFlag) repeatable() bool { return strings.Contains(f.usage, "repeatable") }

// runFlags are the flags of `ringbox run`, in help order within a group.
var runFlags = []*runFlag{
	{long: "env", short: "e", arg: "K=V|K", group: groupSandbox, comp: compEnv,
		usage: "set K, or copy K from ringbox's own environment (repeatable)",
		set: func(o *runOpts, v string) error {
			if err := checkEnvEntry(v); err != nil {
				return err
			}
			o.env = append(o.env, v)
			return nil
		}},
	{long: "env-file", arg: "FILE", group: groupSandbox, comp: compFile,
		usage: "read K=V or K lines; # starts a comment (repeatable)",
		set: func(o *runOpts, v string) error {
			if v == "" {
				return fmt.Errorf("empty file name")
			}
			o.envFiles = append(o.envFiles, v)
			return nil
		}},
	{long: "clearenv", group: groupSandbox,
		usage: "start from a minimal environment, not ringbox's own",
		set:   func(o *runOpts, v string) (err error) { o.clearEnv, err = parseBool(v); return err }},
	{long: "unsetenv", arg: "K", group: groupSandbox, comp: compEnv,
		usage: "remove K from the environment (repeatable)",
		set: func(o *runOpts, v string) error {
			if err := checkEnvName(v); err != nil {
				return err
			}
			o.unsetEnv = append(o.unsetEnv, v)
			return nil
		}},
	{long: "user", arg: "UID[:GID]", group: groupSandbox,
		def:   func() string { return "ringbox's own" },
		usage: "the user and group IDs the program sees",
		set:   func(o *runOpts, v string) error { return o.user.parse(v) }},
	{long: "hostname", arg: "NAME", group: groupSandbox, def: func() string { return "ringbox" },
		usage: "host name the program sees",
		set: func(o *runOpts, v string) error {
			if v == "" || len(v) > 64 || strings.ContainsRune(v, 0) {
				return fmt.Errorf("want 1 to 64 bytes, got %q", v)
			}
			o.hostname = v
			return nil
		}},
	{long: "seccomp", arg: "FILE", group: groupSandbox, comp: compFile,
		usage: "a seccomp profile for the program (OCI or Docker JSON)",
		set: func(o *runOpts, v string) error {
			if v == "" {
				return fmt.Errorf("empty file name")
			}
			o.seccompFile = v
			return nil
		}},
	{long: "platform", arg: "MODE", group: groupSandbox, words: []string{"kvm", "kvm-exit"},
		usage: "kvm (default where the CPU allows) or kvm-exit (a debugging aid)",
		set: func(o *runOpts, v string) error {
			if v != "kvm" && v != "kvm-exit" {
				return fmt.Errorf("unknown platform %q (want kvm or kvm-exit)", v)
			}
			o.platform = v
			return nil
		}},
	{long: "backend", arg: "KIND", group: groupSandbox, words: []string{"auto", "pvm", "x86"},
		def:   func() string { return "auto" },
		usage: "the KVM to require: pvm, x86 (VMX/SVM) or auto",
		set: func(o *runOpts, v string) error {
			if _, err := vmm.ParseBackend(v); err != nil {
				return err
			}
			o.backend = v
			return nil
		}},

	{long: "net", arg: "MODE", group: groupSandbox, words: []string{"none", "sandbox"},
		def:   func() string { return "none" },
		usage: "none (loopback only) or sandbox (a NAT to the host)",
		set: func(o *runOpts, v string) error {
			if v != "none" && v != "sandbox" {
				return fmt.Errorf("unknown network mode %q (want none or sandbox)", v)
			}
			o.net = v
			return nil
		}},
	{long: "allow-net", arg: "DEST", group: groupSandbox,
		usage: "HOST|CIDR[:PORT] that --net=sandbox reaches (repeatable)",
		set: func(o *runOpts, v string) error {
			// Host names are resolved when the sandbox starts; here only
			// the form is checked.
			if _, err := nat.ParseRule(v, func(string) ([]netip.Addr, error) {
				return []netip.Addr{netip.IPv4Unspecified()}, nil
			}); err != nil {
				return err
			}
			o.allowNet = append(o.allowNet, v)
			return nil
		}},
	{long: "publish", short: "p", arg: "HOSTPORT:PORT", group: groupSandbox,
		usage: "PORT[/udp] in the sandbox at the host's 127.0.0.1:HOSTPORT",
		set: func(o *runOpts, v string) error {
			p, err := nat.ParsePort(v)
			if err != nil {
				return err
			}
			o.publish = append(o.publish, p)
			return nil
		}},

	{long: "rootfs", arg: "DIR", group: groupFiles, comp: compDir,
		def:   func() string { return "the host's /" },
		usage: "root directory",
		set: func(o *runOpts, v string) error {
			if v == "" {
				return fmt.Errorf("empty directory name")
			}
			o.rootfs = v
			return nil
		}},
	{long: "mount", short: "v", arg: "SRC:DST[:OPTS]", group: groupFiles, comp: compMount,
		usage: "bind the host dir or file SRC at DST; OPTS: ro, noexec (repeatable)",
		set:   func(o *runOpts, v string) error { return o.mounts.Set(v) }},
	{long: "tmpfs", arg: "DST[:OPTS]", group: groupFiles, comp: compDir,
		usage: "in-memory file system at DST; OPTS: size=64m,noexec,... (repeatable)",
		set: func(o *runOpts, v string) error {
			spec, err := parseTmpfsSpec(v)
			if err != nil {
				return err
			}
			o.tmpfs = append(o.tmpfs, spec)
			return nil
		}},
	{long: "read-only", group: groupFiles,
		usage: "no in-memory writable layer: the root stays read-only",
		set:   func(o *runOpts, v string) (err error) { o.readOnly, err = parseBool(v); return err }},
	{long: "tty", short: "t", group: groupSandbox,
		usage: "give the program a terminal joined to this one (raw mode meanwhile)",
		set:   func(o *runOpts, v string) (err error) { o.tty, err = parseBool(v); return err }},
	{long: "interactive", short: "i", group: groupSandbox,
		usage: "keep stdin open (with -t: forward what is typed)",
		set:   func(o *runOpts, v string) (err error) { o.interactive, err = parseBool(v); return err }},
	{long: "workdir", short: "w", arg: "DIR", group: groupFiles, comp: compDir,
		def:   func() string { return "the current one, else /" },
		usage: "working directory",
		set: func(o *runOpts, v string) error {
			if v == "" {
				return fmt.Errorf("empty directory name")
			}
			o.workdir = v
			return nil
		}},

	{long: "memory", short: "m", arg: "SIZE", group: groupResources, def: func() string { return "8G" },
		usage: "memory limit: a number with a K, M or G suffix",
		set:   func(o *runOpts, v string) (err error) { o.memory, err = parseSize(v); return err }},
	{long: "pids", arg: "N", group: groupResources, def: func() string { return strconv.Itoa(kernel.DefaultMaxTasks) },
		usage: "most live threads; past it, fork fails with EAGAIN",
		set:   func(o *runOpts, v string) (err error) { o.pids, err = parseInt(v, 1, 1<<22); return err }},
	{long: "cpus", arg: "N", group: groupResources,
		def:   func() string { return fmt.Sprintf("the host's CPUs, %d", runtime.NumCPU()) },
		usage: "most threads running at once",
		set:   func(o *runOpts, v string) (err error) { o.cpus, err = parseInt(v, 1, 1024); return err }},
	{long: "vcpus", arg: "N", group: groupResources,
		def:   func() string { return fmt.Sprintf("pids, at most %d", vmm.MaxVCPUs) },
		usage: "vCPUs of the VM, shared by the threads",
		set:   func(o *runOpts, v string) (err error) { o.vcpus, err = parseInt(v, 1, vmm.MaxVCPUs); return err }},

	{long: "disk", arg: "SIZE", group: groupResources, def: func() string { return "memory/2" },
		usage: "size of the writable layer and of each --tmpfs",
		set:   func(o *runOpts, v string) (err error) { o.disk, err = parseSize(v); return err }},
	{long: "files", arg: "N", group: groupResources, def: func() string { return "1048576" },
		usage: "RLIMIT_NOFILE hard limit of every process",
		set:   func(o *runOpts, v string) (err error) { o.files, err = parseInt(v, 16, 1<<20); return err }},
	{long: "ulimit", arg: "NAME=N[:N]", group: groupResources,
		usage: "the program's limit NAME: stack, as, fsize, nofile... (repeatable)",
		set:   func(o *runOpts, v string) error { return o.setUlimit(v) }},
	{long: "timeout", arg: "DURATION", group: groupResources, def: func() string { return "none" },
		usage: "SIGTERM after DURATION (30s, 5m); exit status 124",
		set:   func(o *runOpts, v string) (err error) { o.timeout, err = parseDuration(v); return err }},
	{long: "kill-after", arg: "DURATION", group: groupResources, def: func() string { return "10s" },
		usage: "with --timeout: SIGKILL this long after the SIGTERM",
		set:   func(o *runOpts, v string) (err error) { o.killAfter, err = parseDuration(v); return err }},
	{long: "hostio", arg: "MODE", group: groupResources, def: func() string { return "auto" },
		usage: "host file calls: thread (no VM exit), exit, auto",
		set: func(o *runOpts, v string) error {
			switch v {
			case "auto", "thread", "exit":
				o.hostIO = v
				return nil
			}
			return fmt.Errorf("want auto, thread or exit")
		}},
	{long: "hostio-spin", arg: "DURATION", group: groupResources, def: func() string { return hostcall.DefaultSpin.String() },
		usage: "how long the host I/O thread polls before it sleeps",
		set: func(o *runOpts, v string) (err error) {
			o.hostIOSpin, err = time.ParseDuration(v)
			if err == nil && (o.hostIOSpin < 0 || o.hostIOSpin > time.Second) {
				err = fmt.Errorf("want a duration from 0 to 1s")
			}
			return err
		}},
	{long: "host-first", arg: "N", group: groupResources, def: func() string { return "auto" },
		usage: "program events handled on the host first (" + strconv.Itoa(vmm.DefaultHostFirst) + " on PVM)",
		set: func(o *runOpts, v string) error {
			if v == "auto" {
				o.hostFirst = vmm.HostFirstAuto
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1<<20 {
				return fmt.Errorf("want auto or a count from 0 to %d", 1<<20)
			}
			o.hostFirst = n
			return nil
		}},

	{long: "vdso", arg: "MODE", group: groupDebugging, def: func() string { return "auto" },
		usage: "the programs' vDSO: host, stubs or off",
		set: func(o *runOpts, v string) error {
			switch v {
			case "auto", "host", "stubs", "off":
				o.vdso = v
				return nil
			}
			return fmt.Errorf("want auto, host, stubs or off")
		}},
	{long: "strace", group: groupDebugging, usage: "print each system call on stderr",
		set: func(o *runOpts, v string) (err error) { o.strace, err = parseBool(v); return err }},
	{long: "debug", group: groupDebugging, usage: "debug logging, and VM exit counts at the end",
		set: func(o *runOpts, v string) (err error) { o.debug, err = parseBool(v); return err }},
	{long: "no-confine", group: groupDebugging, usage: "ringbox itself without namespaces, empty root, filter (debugging)",
		set: func(o *runOpts, v string) (err error) { o.noConfine, err = parseBool(v); return err }},
	{long: "help", short: "h", group: groupDebugging, usage: "print this help and exit"},
}

// refusedFlags are docker flags ringbox knows but cannot honour yet.
var refusedFlags = map[string]string{}

var flagsByLong, flagsByShort = func() (map[string]*runFlag, map[string]*runFlag) {
	l, s := map[string]*runFlag{}, map[string]*runFlag{}
	for _, f := range runFlags {
		l[f.long] = f
		if f.short != "" {
			s[f.short] = f
		}
	}
	return l, s
}()

// combinedSwitches returns the flags of rest when each of its letters is
// a short flag that takes no value (the tail of -it).
func combinedSwitches(rest string) ([]*runFlag, bool) {
	var fs []*runFlag
	for _, r := range rest {
		f := flagsByShort[string(r)]
		if f == nil || f.arg != "" || f.set == nil {
			return nil, false
		}
		fs = append(fs, f)
	}
	return fs, true
}

// errHelp is returned by parseRun for -h or --help.
var errHelp = fmt.Errorf("help requested")

func defaultRunOpts() *runOpts {
	return &runOpts{
		memory:    8 << 30,
		backend:   "auto",
		hostname:  "ringbox",
		pids:      kernel.DefaultMaxTasks,
		cpus:      runtime.NumCPU(),
		hostIO:    "auto",
		hostFirst: vmm.HostFirstAuto,
		vdso:      "auto",
		killAfter: 10 * time.Second,
	}
}

// parseRun parses the arguments of `ringbox run`: flags in any order, up
// to "--" or the first argument that is not a flag (as docker does); the
// rest is PROGRAM and its arguments. Long flags are --name VALUE or
// --name=VALUE, short ones -n VALUE, -nVALUE or -n=VALUE. A -h or --help
// among the flags returns errHelp, whatever else is wrong with them (past
// an unknown flag, which stops the parse). Errors are usage errors (exit
// status 2) naming `ringbox run --help`.
func parseRun(args []string) (*runOpts, error) {
	type setting struct {
		f    *runFlag
		name string // as typed, for errors
		val  string
	}
	var settings []setting
	var argv []string
	help := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			argv = args[i+1:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			argv = args[i:]
			break
		}
		var f *runFlag
		var name, val string
		hasVal := false
		if strings.HasPrefix(a, "--") {
			var n string
			n, val, hasVal = strings.Cut(a[2:], "=")
			name = "--" + n
			f = flagsByLong[n]
			if why, ok := refusedFlags[n]; ok && f == nil {
				return nil, runUsageErr("%s: not supported: %s", name, why)
			}
		} else {
			r, size := utf8.DecodeRuneInString(a[1:])
			s := a[1 : 1+size]
			name = "-" + s
			f = flagsByShort[s]
			// -strace is not -s -t -r ..., nor -platform=kvm -p
			// latform=kvm: point at the long flag.
			if n, _, _ := strings.Cut(a[1:], "="); len(n) > 1 {
				if _, ok := flagsByLong[n]; ok {
					return nil, runUsageErr("unknown flag %s (long flags take two dashes: -%s)", quoteArg(a), quoteArg(a))
				}
			}
			if f == nil {
				if why, ok := refusedFlags[s]; ok && r != utf8.RuneError {
					return nil, runUsageErr("%s: not supported: %s", name, why)
				}
			} else if rest := a[1+size:]; rest != "" {
				if f.arg == "" && !strings.HasPrefix(rest, "=") {
					// Switches combine as in docker: -it.
					more, ok := combinedSwitches(rest)
					if !ok {
						return nil, runUsageErr("unknown flag %s (short flags cannot be combined)", quoteArg(a))
					}
					for _, m := range more {
						settings = append(settings, setting{m, "-" + m.short, "true"})
					}
				} else {
					val, hasVal = strings.TrimPrefix(rest, "="), true
				}
			}
		}
		if f == nil {
			return nil, runUsageErr("unknown flag %s", quoteArg(name))
		}
		if f.set == nil { // --help
			help = true
			continue
		}
		if f.arg == "" {
			if !hasVal {
				val = "true"
			}
		} else if !hasVal {
			if i+1 == len(args) {
				return nil, runUsageErr("flag %s needs a value (%s)", name, f.arg)
			}
			i++
			val = args[i]
		}
		settings = append(settings, setting{f, name, val})
	}
	if help {
		return nil, errHelp
	}
	o := defaultRunOpts()
	for _, s := range settings {
		if s.f.words != nil && !contains(s.f.words, s.val) {
			return nil, runUsageErr("%s: want %s, got %s", s.name, strings.Join(s.f.words, " or "), quoteArg(s.val))
		}
		if err := s.f.set(o, s.val); err != nil {
			return nil, runUsageErr("%s: %v", s.name, err)
		}
	}
	if len(o.allowNet) > 0 && o.net != "sandbox" {
		return nil, runUsageErr("--allow-net needs --net=sandbox (the default network, none, reaches nothing outside the sandbox)")
	}
	if len(argv) == 0 {
		return nil, runUsageErr("missing PROGRAM (ringbox run [FLAGS] [--] PROGRAM [ARGS...])")
	}
	if argv[0] == "" {
		return nil, runUsageErr("empty PROGRAM name")
	}
	o.argv = argv
	return o, nil
}

func contains(list []string, s string) bool {
	for _, w := range list {
		if w == s {
			return true
		}
	}
	return false
}

// quoteArg shows a command-line word in an error: as it is when plain,
// else Go-quoted (so an error stays one printable line).
func quoteArg(s string) string {
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == utf8.RuneError || r == '"' || r == '\'' || r == '\\' {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// runUsageErr is a bad `ringbox run` command line: exit status 2.
func runUsageErr(format string, args ...any) error {
	return fail(exitUsage, "run: %s; see 'ringbox run --help'", fmt.Sprintf(format, args...))
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("want true or false, got %s", quoteArg(v))
	}
	return b, nil
}

func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want %d to %d, got %s", lo, hi, quoteArg(v))
	}
	return n, nil
}

func parseSize(s string) (uint64, error) {
	orig := s
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		mult, s = 1<<30, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult, s = 1<<10, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || n > (1<<46)/mult {
		return 0, fmt.Errorf("bad size %s (want a number with a K, M or G suffix, up to 64T)", quoteArg(orig))
	}
	return n * mult, nil
}

// userSpec is --user UID[:GID].
type userSpec struct {
	set      bool
	uid, gid uint32
	hasGID   bool
}

func (u *userSpec) parse(v string) error {
	us, gs, hasGID := strings.Cut(v, ":")
	uid, err := parseID(us)
	if err != nil {
		return fmt.Errorf("want UID[:GID] (numbers), got %s", quoteArg(v))
	}
	var gid uint32
	if hasGID {
		if gid, err = parseID(gs); err != nil {
			return fmt.Errorf("want UID[:GID] (numbers), got %s", quoteArg(v))
		}
	}
	*u = userSpec{set: true, uid: uid, gid: gid, hasGID: hasGID}
	return nil
}

// parseID is a user or group ID: 0 to 2^32-2 (-1 means "unchanged" to
// the set*id calls).
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("bad ID %q", s)
	}
	return uint32(n), nil
}

// command is what a command line asks for.
type command struct {
	help    string   // print this on stdout and exit 0
	version bool     // ringbox version
	shell   string   // ringbox completion SHELL
	run     *runOpts // ringbox run
}

// parseCommandLine parses ringbox's arguments (without argv[0]).
func parseCommandLine(args []string) (command, error) {
	if len(args) == 0 {
		return command{}, fail(exitUsage, "missing command (ringbox run [FLAGS] [--] PROGRAM [ARGS...]); see 'ringbox --help'")
	}
	helpFlag := func(a string) bool { return a == "-h" || a == "--help" }
	rest := args[1:]
	switch a := args[0]; {
	case helpFlag(a):
		return command{help: mainHelp()}, nil
	case a == "help":
		if len(rest) == 0 {
			return command{help: mainHelp()}, nil
		}
		if len(rest) > 1 {
			return command{}, fail(exitUsage, "help: want one command, got %d arguments; see 'ringbox --help'", len(rest))
		}
		h, ok := commandHelp(rest[0])
		if !ok {
			return command{}, fail(exitUsage, "help: unknown command %s (want run, version, completion or help); see 'ringbox --help'", quoteArg(rest[0]))
		}
		return command{help: h}, nil
	case a == "run":
		o, err := parseRun(rest)
		if err == errHelp {
			return command{help: runHelp()}, nil
		}
		if err != nil {
			return command{}, err
		}
		return command{run: o}, nil
	case a == "version" || a == "--version":
		if len(rest) == 1 && helpFlag(rest[0]) {
			return command{help: versionHelp()}, nil
		}
		if len(rest) > 0 {
			return command{}, fail(exitUsage, "version: unexpected argument %s; see 'ringbox version --help'", quoteArg(rest[0]))
		}
		return command{version: true}, nil
	case a == "completion":
		if len(rest) == 1 && helpFlag(rest[0]) {
			return command{help: completionHelp()}, nil
		}
		if len(rest) != 1 || (rest[0] != "bash" && rest[0] != "zsh") {
			got := "nothing"
			if len(rest) > 0 {
				got = quoteArg(strings.Join(rest, " "))
			}
			return command{}, fail(exitUsage, "completion: want bash or zsh, got %s; see 'ringbox completion --help'", got)
		}
		return command{shell: rest[0]}, nil
	case strings.HasPrefix(a, "-"):
		return command{}, fail(exitUsage, "unknown flag %s (flags of run go after it: ringbox run [FLAGS] PROGRAM); see 'ringbox --help'", quoteArg(a))
	default:
		return command{}, fail(exitUsage, "unknown command %s (want run, version, completion or help); see 'ringbox --help'", quoteArg(a))
	}
}

// parseDuration parses a positive duration of at most a year.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 366*24*time.Hour {
		return 0, fmt.Errorf("want a positive duration such as 30s or 5m")
	}
	return d, nil
}

// formatSize writes a size as --memory takes it (64M, 8G).
func formatSize(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%d", n)
}

// setUlimit parses --ulimit NAME=SOFT[:HARD] (a number, "unlimited" or
// -1; HARD defaults to SOFT) into the program's limits, as Docker's
// --ulimit: nofile also sets --files (the hard limit).
func (o *runOpts) setUlimit(v string) error {
	// The names are Docker's: an OCI config's without RLIMIT_, in
	// lower case.
	name, vals, ok := strings.Cut(v, "=")
	r, known := ociRlimits["RLIMIT_"+strings.ToUpper(name)]
	if !ok || !known {
		var names []string
		for n := range ociRlimits {
			names = append(names, strings.ToLower(strings.TrimPrefix(n, "RLIMIT_")))
		}
		slices.Sort(names)
		return fmt.Errorf("want NAME=SOFT[:HARD] with NAME one of %s", strings.Join(names, ", "))
	}
	parse := func(s string) (uint64, error) {
		if s == "unlimited" || s == "-1" {
			return unix.RLIM_INFINITY, nil
		}
		return strconv.ParseUint(s, 10, 64)
	}
	softText, hardText, hasHard := strings.Cut(vals, ":")
	soft, err := parse(softText)
	if err != nil {
		return fmt.Errorf("%s: %q is not a number or unlimited", name, softText)
	}
	hard := soft
	if hasHard {
		if hard, err = parse(hardText); err != nil {
			return fmt.Errorf("%s: %q is not a number or unlimited", name, hardText)
		}
	}
	if soft > hard {
		return fmt.Errorf("%s: the soft limit %s is above the hard limit %s", name, softText, hardText)
	}
	if r == unix.RLIMIT_NOFILE {
		if hard > 1<<20 {
			return fmt.Errorf("nofile: at most 1048576")
		}
		o.files = int(max(hard, 16))
	}
	if o.rlimits == nil {
		o.rlimits = map[int]unix.Rlimit{}
	}
	o.rlimits[r] = unix.Rlimit{Cur: soft, Max: hard}
	return nil
}
