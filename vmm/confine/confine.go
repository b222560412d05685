package confine

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// envMarker tells the re-executed ringbox that it is the confined child.
const envMarker = "RINGBOX_CONFINED"

// statusEnv names the descriptor on which the confined child reports its
// exit status to the parent (ReportStatus).
const statusEnv = "RINGBOX_STATUS_FD"

// inside holds the namespaces the parent made for this process, from the
// marker.
var inside []string

// statusFD is the child's end of the status pipe, -1 if none.
var statusFD = -1

// Inside reports whether this process is the re-executed child (child)
// and whether its new namespaces check out (ok), and takes the marker (the
// names of its namespaces, and the parent's mount namespace) out of the
// environment so the program never sees it. A child must not re-execute
// again, whatever ok says.
func Inside() (child, ok bool) {
	v, child := os.LookupEnv(envMarker)
	if !child {
		return false, false
	}
	os.Unsetenv(envMarker)
	if v, ok := os.LookupEnv(statusEnv); ok {
		os.Unsetenv(statusEnv)
		if fd, err := strconv.Atoi(v); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
			statusFD = fd
		}
	}
	// Touching mounts is safe only in a mount namespace that is not the
	// parent's: check, rather than trust an environment variable.
	names, parentMnt, _ := strings.Cut(v, ";")
	mine, err := os.Readlink("/proc/self/ns/mnt")
	if names == "" || err != nil || mine == parentMnt || os.Getpid() != 1 {
		return true, false
	}
	inside = strings.Split(names, ",")
	return true, true
}

// ReportStatus tells the parent the exit status the child is about to
// leave with, before the child's own end: tearing down the VM and its
// memory takes the host 10-15 ms, which the caller of ringbox need not
// wait for (the parent leaves with the status at once; the child's
// PR_SET_PDEATHSIG ends what is left of it). Everything the child writes
// must be written by then. Elsewhere it does nothing.
func ReportStatus(status int) {
	if statusFD < 0 {
		return
	}
	unix.Write(statusFD, []byte{byte(status)})
	unix.Close(statusFD)
	statusFD = -1
}

// Spec says which namespaces the child gets.
type Spec struct {
	// HostNet keeps the host's network namespace: the sandbox's network
	// dials host sockets (--net=sandbox). Otherwise the child gets an
	// empty network namespace.
	HostNet bool
	// NetNS, when set, is a network namespace (a path such as
	// /var/run/netns/NAME or /proc/PID/ns/net) the child starts in:
	// the sandbox's network dials from there. It implies HostNet.
	NetNS string
	// Files are passed to the child as descriptors 3, 4, ... (listeners
	// made in the host's network for a child that has none), and Env is
	// added to its environment (to tell it so).
	Files []*os.File
	Env   []string
	// Settle, if set, is called once, SettleAfter after the child
	// started, if it still runs (this process only relays by then).
	Settle      func()
	SettleAfter time.Duration
}

// errNeedsNoCgo: capabilities and no_new_privs are per thread, and only
// a binary without cgo can change every thread.
var errNeedsNoCgo = errors.New("a cgo build cannot change every thread: build ringbox with CGO_ENABLED=0 (README)")

// exitSandbox is ringbox's status for a failure of its own.
const exitSandbox = 125

// ErrUnavailable wraps why the host refused to start the child in new
// namespaces; the caller then runs unconfined by them.
var ErrUnavailable = errors.New("namespaces unavailable")

// Run re-executes ringbox, with the same arguments, in new namespaces and
// waits for it: the result is the exit status to leave with. Signals sent
// to this process are passed on (SIGINT and SIGQUIT only when they cannot
// have come from the terminal, which sends them to the child as well).
// The child dies with this process (PR_SET_PDEATHSIG).
func Run(spec Spec) (int, error) {
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS)
	names := []string{"mnt", "pid", "ipc", "uts"}
	if !spec.HostNet && spec.NetNS == "" {
		flags |= unix.CLONE_NEWNET
		names = append(names, "net")
	}
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if uid, gid := os.Getuid(), os.Getgid(); os.Geteuid() != 0 {
		// Unprivileged: a user namespace where we keep our own IDs.
		flags |= unix.CLONE_NEWUSER
		names = append([]string{"user"}, names...)
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	attr.Cloneflags = flags
	closeInherited()
	mnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// The status pipe: its write end follows spec.Files in the child.
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("%w: status pipe: %v", ErrUnavailable, err)
	}
	defer statusR.Close()
	files := append(slices.Clip(spec.Files), statusW)
	env := append(append(os.Environ(), spec.Env...), envMarker+"="+strings.Join(names, ",")+";"+mnt,
		statusEnv+"="+strconv.Itoa(3+len(files)-1))
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        os.Args,
		Env:         env,
		ExtraFiles:  files,
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		SysProcAttr: attr,
	}
	// Catch the signals before the child exists, so none is lost.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, RelayedSignals...)
	defer signal.Stop(sigs)
	// Should the child die without restoring a terminal it set raw (-t),
	// put it back as it was.
	saved, _ := unix.IoctlGetTermios(0, unix.TCGETS)
	// No transparent huge pages for the child (it inherits the setting):
	// a huge page makes all of 2 MiB of Go's heap resident where the
	// runtime touched one page of it.
	unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
	done := make(chan error, 1)
	err = startIn(cmd, spec.NetNS, done)
	statusW.Close()
	if err != nil {
		return 0, err
	}
	reported := make(chan int, 1)
	go func() {
		var b [1]byte
		if n, _ := statusR.Read(b[:]); n == 1 {
			reported <- int(b[0])
		}
	}()
	// From here on this process only relays signals and the exit status:
	// give the memory its set-up used back to the host.
	debug.FreeOSMemory()
	var settle <-chan time.Time
	if spec.Settle != nil {
		settle = time.After(spec.SettleAfter)
	}
	defer func() {
		if saved != nil {
			signal.Ignore(unix.SIGTTOU)
			unix.IoctlSetTermios(0, unix.TCSETSW, saved)
		}
	}()
	fromTerminal := foregroundTerminal()
	for {
		select {
		case <-settle:
			settle = nil
			spec.Settle()
		case s := <-sigs:
			if (s == unix.SIGINT || s == unix.SIGQUIT) && fromTerminal {
				continue // the terminal sent it to the child too
			}
			cmd.Process.Signal(s)
		case st := <-reported:
			// The child is done but for its teardown.
			return st, nil
		case <-done:
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() && ws.Signal() == unix.SIGSYS {
				fmt.Fprintln(os.Stderr, "ringbox: sandbox failure: the sandbox process made a host syscall outside its seccomp filter and was killed (a ringbox bug; RINGBOX_SECCOMP=trap shows where)")
				return exitSandbox, nil
			}
			if ws.Signaled() {
				fmt.Fprintf(os.Stderr, "ringbox: the sandbox process died of signal %d (%v)\n", int(ws.Signal()), ws.Signal())
				return 128 + int(ws.Signal()), nil
			}
			return ws.ExitStatus(), nil
		}
	}
}

// startIn starts cmd, in network namespace netns when not "", and sends
// cmd.Wait's result to done once the child ends. The child is forked by a
// thread of its own, which waits for it and then ends: it may join the
// namespace (setns changes the calling thread only) and trim its
// capabilities for the child (trimBounding), and the child's
// PR_SET_PDEATHSIG, which watches the thread that forked it, fires only
// when this process dies.
func startIn(cmd *exec.Cmd, netns string, done chan<- error) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread's namespace and capabilities may
		// differ from the process's, so it ends with this goroutine.
		if netns != "" {
			if err := joinNetNS(netns); err != nil {
				started <- err
				return
			}
		}
		trimBounding()
		if err := cmd.Start(); err != nil {
			if netns != "" {
				started <- fmt.Errorf("network namespace %s: start: %w", netns, err)
			} else {
				started <- fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	return <-started
}

// joinNetNS moves the calling thread into network namespace netns.
func joinNetNS(netns string) error {
	target, err := unix.Open(netns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", netns, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("network namespace %s: join: %w", netns, err)
	}
	return nil
}

// trimBounding empties the calling thread's capability bounding set and
// makes its inheritable set its permitted one, when it may (root). A root
// child it executes starts with the same capabilities as before (Linux
// gives root the bounding set plus the inheritable one at exec) and an
// empty bounding set, which its threads inherit: Enter then has no
// bounding set to drop, each capability of which is a round of every
// thread of the child (about 7 ms of start-up on a PVM host). Enter
// clears the inheritable set with the rest. A failure leaves the child as
// it would have been.
func trimBounding() {
	if os.Geteuid() != 0 {
		return
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return
	}
	data[0].Inheritable, data[1].Inheritable = data[0].Permitted, data[1].Permitted
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return
	}
	for c := 0; ; c++ {
		_, _, e := unix.RawSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0)
		if e != 0 {
			return // EINVAL: past the last capability
		}
	}
}

// foregroundTerminal reports whether this process is in the foreground of
// its controlling terminal: a ^C there reaches the child directly.
func foregroundTerminal() bool {
	fd, err := unix.Open("/dev/tty", unix.O_RDONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	pg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pg == unix.Getpgrp()
}

// closeInherited marks every descriptor above 2 close-on-exec, so that
// only stdin, stdout and stderr reach the child: whatever ringbox's own
// parent left open (a socket, a credentials file) stays behind.
func closeInherited() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		unix.CloseOnExec(fd)
	}
}

// Limits bound the child's own rlimits.
type Limits struct {
	Files int // the sandbox's RLIMIT_NOFILE ceiling (--files)
	Tasks int // the sandbox's task limit (--pids)
	// NoNamespaces: this process is not the confined child (the host
	// refused the namespaces): leave the mounts alone, which are the
	// host's own.
	NoNamespaces bool
}

// Report says which layers are in force and which are missing, and why.
type Report struct {
	Have    []string
	Missing []string
}

func (r *Report) have(s string) { r.Have = append(r.Have, s) }
func (r *Report) miss(what string, err error) {
	r.Missing = append(r.Missing, what+": "+err.Error())
}

// String is the --debug line.
func (r Report) String() string {
	s := "in force: " + strings.Join(r.Have, ", ")
	if len(r.Missing) > 0 {
		s += "; missing: " + strings.Join(r.Missing, "; ")
	}
	return s
}

// RelayedSignals are the host signals the parent passes on to the
// confined child, which passes them on to the program: what a user or a
// container runtime sends (docker kill -s USR1 for a log reopen).
var RelayedSignals = []os.Signal{unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGHUP,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM}

// Enter confines the child once it has opened what it needs from the
// host: the empty root, the capabilities, no_new_privs and the rlimits.
// Each layer is tried on its own; what fails is in the report and the
// run goes on. It must run before the host I/O thread starts and before
// any task thread exists (capabilities are per thread: Go's threads are
// all reached here, a raw thread started later inherits the empty set).
func Enter(lim Limits) Report {
	var r Report
	if lim.NoNamespaces {
		r.Missing = append(r.Missing, "namespaces and the empty root (the host refused them)")
	} else {
		own := inside
		if len(own) > 0 {
			r.have("namespaces " + strings.Join(own, ","))
		} else {
			r.Missing = append(r.Missing, "namespaces: not the confined child")
		}
		if !slices.Contains(own, "mnt") {
			// Never touch the mounts of the host's namespace.
			r.Missing = append(r.Missing, "pivot_root: no mount namespace of its own")
		} else if err := pivot(); err != nil {
			r.miss("pivot_root", err)
		} else {
			r.have("empty read-only root (pivot_root) with only /proc")
		}
		unix.Sethostname([]byte("ringbox"))
	}
	rlimits(lim, &r)
	if err := dropCapabilities(); err == nil {
		r.have("all capabilities dropped")
	} else {
		r.miss("capabilities", err)
	}
	if cgoBuild {
		r.miss("no_new_privs", errNeedsNoCgo)
	} else if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); e == 0 {
		r.have("no_new_privs")
	} else {
		r.miss("no_new_privs", e)
	}
	return r
}

// pivot makes an empty tmpfs the root of this mount namespace, with a
// fresh /proc of this PID namespace (the VMM reads /proc/self/maps as host
// memory grows), and makes it read-only. Host files stay reachable only
// through descriptors opened before.
func pivot() error {
	// Nothing done here may reach the host's mount table.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	var dir string
	for _, d := range []string{"/tmp", "/mnt", "/run", "/var/tmp", "/proc"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dir = d
			break
		}
	}
	if dir == "" {
		return errors.New("no directory to mount the new root on")
	}
	if err := unix.Mount("ringbox-root", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=16k,nr_inodes=8,mode=0555"); err != nil {
		return fmt.Errorf("tmpfs for the new root: %w", err)
	}
	if err := unix.Mkdir(dir+"/proc", 0o555); err != nil {
		return fmt.Errorf("new root: %w", err)
	}
	// Before the old root goes: in a user namespace, a new proc mount is
	// allowed only while a full one is visible.
	if err := unix.Mount("proc", dir+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := unix.Chdir(dir); err != nil {
		return err
	}
	// The old root ends up stacked on the new one; detach it.
	if err := unix.PivotRoot(".", "."); err != nil {
		return err
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("make the new root read-only: %w", err)
	}
	return nil
}

// rlimits bounds this process: no core dumps (they would hold the
// sandbox's memory), descriptors for the sandbox's files plus ringbox's
// own, and threads for its tasks plus the Go runtime's. RLIMIT_AS is left
// alone: the memory file and the guest's address space reserve far more
// than they use.
func rlimits(lim Limits, r *Report) {
	set := func(name string, res int, v uint64) {
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err != nil {
			r.miss(name, err)
			return
		}
		v = min(v, cur.Max)
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			r.miss(name, err)
			return
		}
		r.have(fmt.Sprintf("%s %d", name, v))
	}
	set("RLIMIT_CORE", unix.RLIMIT_CORE, 0)
	var fds unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &fds) == nil {
		set("RLIMIT_NOFILE", unix.RLIMIT_NOFILE, max(uint64(lim.Files)+4096, fds.Cur))
	}
	if os.Getuid() == 0 {
		set("RLIMIT_NPROC", unix.RLIMIT_NPROC, uint64(lim.Tasks)+1024)
	} else {
		// It counts every thread of this user on the host: a bound here
		// could fail for reasons outside the sandbox.
		r.Missing = append(r.Missing, "RLIMIT_NPROC: left at the host's value (it counts all of this user's threads)")
	}
}

// dropCapabilities empties the bounding, ambient, inheritable, permitted
// and effective sets of every thread.
func dropCapabilities() error {
	if cgoBuild {
		return errNeedsNoCgo
	}
	for c := 0; ; c++ {
		// Every thread has the bounding set of the one that started
		// the process: skip what it lacks (trimBounding) without a
		// round of every thread.
		in, _, e := unix.RawSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_READ, uintptr(c), 0)
		if e == unix.EINVAL {
			break // past the last capability
		}
		if e == 0 && in == 0 {
			continue
		}
		_, _, e = syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0)
		if e == unix.EINVAL {
			break
		}
		if e != 0 {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, e)
		}
	}
	if _, _, e := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("clear the ambient set: %w", e)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}
