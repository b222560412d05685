package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
)

// ExitStatus is how a thread group ended.
type ExitStatus struct {
	Code   int         // exit code when Signal == 0
	Signal unix.Signal // the signal that killed it, or 0
	Core   bool        // the default action dumps core
}

// WaitStatus encodes the status as wait(2) reports it.
func (s ExitStatus) WaitStatus() int {
	if s.Signal != 0 {
		w := int(s.Signal)
		if s.Core {
			w |= 0x80
		}
		return w
	}
	return (s.Code & 0xff) << 8
}

// ShellStatus is the status a shell would report: the code, or 128+signal.
func (s ExitStatus) ShellStatus() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code & 0xff
}

// ThreadGroup is a process.
type ThreadGroup struct {
	k   *Kernel
	PID int32

	mu         sync.Mutex
	actions    [NumSignals]SigAction
	sigs       sigPending // signals sent to the process (sigqueue.go)
	itimer     realTimer
	posix      posixState   // POSIX timers, CPU-time itimers, the signalfd queue (posixtimer.go)
	cpuLim     *cpuLimit    // the RLIMIT_CPU watch (cpulimit.go)
	pidfdQ     waiter.Queue // pidfds waiting for the exit (pidfd.go)
	exiting    bool
	execing    *Task // the task whose execve is ending the others
	status     ExitStatus
	done       chan struct{}
	tasks      []*Task
	limits     Limits
	creds      Creds
	umask      uint32
	FDs        *fs.FDTable
	fsRoot     *fs.Dentry // the process's root (chroot)
	cwd        *fs.Dentry
	rseqActive bool
	// unkillable: the group is a PID namespace's init (Linux's
	// SIGNAL_UNKILLABLE): a signal it has no handler for is dropped, but
	// SIGKILL and SIGSTOP from the kernel or from outside the sandbox.
	unkillable bool
	// Job control: the group is stopped by a stop signal until SIGCONT.
	stopped  bool
	stopWake chan struct{} // closed on SIGCONT or SIGKILL

	// The process tree, guarded by k.mu (process.go).
	parent     *ThreadGroup
	children   map[*ThreadGroup]struct{}
	pgid, sid  int32
	exitSignal unix.Signal // sent to the parent on exit (SIGCHLD; clone's low byte)
	zombie     bool        // exited, not yet waited for
	reaped     bool
	tracees    map[*Task]struct{} // the tasks this process traces (ptrace.go)
	stopReport unix.Signal        // a stop not yet reported to wait(WUNTRACED)
	contReport bool               // a continue not yet reported to wait(WCONTINUED)
	childEvent chan struct{}      // closed and replaced when a child changes state
	subreaper  bool
	execed     bool // has called execve (setpgid on it gives EACCES)
	filesGone  bool // exited: its descriptor table is being or was released
	noNewPrivs bool
	thpOff     bool // PR_SET_THP_DISABLE: kept across fork and exec
	// undumpable is PR_GET_DUMPABLE 0: set by a change of the effective
	// IDs and by executing a set-ID or unreadable program, so that
	// whoever the process was before cannot ptrace it or read its /proc
	// files (which belong to root then).
	undumpable bool
	persona    uint32 // personality(2), guarded by mu
	// CPU time of the threads that ended, and of the reaped children
	// (cputime.go), guarded by mu.
	deadCPU, childCPU time.Duration
	started           time.Time
}

// Creds are the user and group IDs (creds.go).
type Creds struct {
	UID, EUID, SUID, GID, EGID, SGID uint32
	// Groups are the supplementary groups (never shared with another
	// process's Creds: SetGroups replaces the slice).
	Groups []uint32
	// Caps are the capability sets (caps.go); KeepCaps is
	// PR_SET_KEEPCAPS.
	Caps     CapSets
	KeepCaps bool
}

// Task is a thread.
type Task struct {
	K    *Kernel
	TG   *ThreadGroup
	TID  int32
	Regs platform.Regs
	MM   *mm.MM
	Ctx  platform.Context

	SigMask       uint64
	ClearChildTID uintptr
	RobustList    uintptr
	RobustLen     uintptr
	Alt           AltStack // sigaltstack
	// PDeathSig is sent to this thread when its parent process exits
	// (PR_SET_PDEATHSIG).
	PDeathSig unix.Signal

	restored  bool   // rt_sigreturn set every register: write no result
	savedMask uint64 // rt_sigsuspend: the mask to restore after delivery
	hasSaved  bool
	syscallNR int64 // the syscall just returned from, until signals are delivered; else -1

	// Signals sent to this thread (tkill, tgkill, faults), guarded by
	// TG.mu.
	sigs sigPending
	// exitCode ends this thread alone (exit(2)) once threadExit is set,
	// guarded by TG.mu; exitSignal, when set, ends it as killed by that
	// signal instead (a seccomp filter's KILL_THREAD).
	threadExit bool
	exitCode   int
	exitSignal unix.Signal
	// vforkDone is closed when this task, made by vfork, execs or exits.
	vforkDone chan struct{}
	// name is the thread's name (PR_SET_NAME), empty: the program's.
	name string
	// Sched holds the nice value, policy and CPU affinity (sched.go).
	Sched SchedState
	// seccomp is the task's seccomp(2) mode and filters (seccomp.go).
	seccomp seccompState
	// hostTID is the host thread that runs the task (Run locks it).
	hostTID int
	// busy is set while the task runs the program or the kernel works
	// for it, clear while it waits (/proc's R and S states).
	busy atomic.Bool
	// held are the files File took a reference on during this syscall.
	held []*fs.File
	// restartFn is what restart_syscall runs (SetRestart).
	restartFn func(*Task) (uintptr, error)
	// CPU time (cputime.go), guarded by TG.mu.
	cpuBase, cpuFinal time.Duration
	cpuDone           bool

	wake chan struct{} // a signal arrived: interrupt sleeps

	// pt is the task's side of ptrace (ptrace.go); origRAX is orig_rax.
	pt      ptraceState
	origRAX int64
}

// NewProcess makes the sandbox's first process: a thread group with one
// task running in m, PID 1 unless other processes came first, leading its
// own session and process group.
func (k *Kernel) NewProcess(m *mm.MM, fds *fs.FDTable, creds Creds) (*Task, error) {
	ctx, err := k.Platform.NewContext()
	if err != nil {
		return nil, err
	}
	pid := k.allocPID()
	// A descriptor table that closes a file drops its POSIX locks on it
	// (tables forked from this one inherit the hook).
	fds.SetDropHook(k.fileDropped)
	tg := k.newGroup(pid, fds, creds)
	tg.sid, tg.pgid = pid, pid
	if k.VFS != nil {
		tg.fsRoot, tg.cwd = k.VFS.Root(), k.VFS.Root()
	}
	t := &Task{K: k, TG: tg, TID: pid, MM: m, Ctx: ctx, wake: make(chan struct{}, 1), Alt: AltStack{Flags: SSDisable}, syscallNR: -1}
	tg.tasks = []*Task{t}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.addTaskLocked(t); err != nil {
		ctx.Release()
		return nil, err
	}
	k.groups[pid] = tg
	k.procs.fdUsers[fds]++
	return t, nil
}

// newGroup makes an empty thread group.
func (k *Kernel) newGroup(pid int32, fds *fs.FDTable, creds Creds) *ThreadGroup {
	return &ThreadGroup{k: k, PID: pid, done: make(chan struct{}), limits: DefaultLimits(), creds: creds,
		umask: 0o022, FDs: fds, children: map[*ThreadGroup]struct{}{}, childEvent: make(chan struct{}),
		exitSignal: unix.SIGCHLD, started: time.Now()}
}

// Creds returns the thread group's credentials.
func (tg *ThreadGroup) Creds() Creds {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.creds
}

// Umask swaps the file mode creation mask.
func (tg *ThreadGroup) Umask(m uint32) uint32 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.umask
	tg.umask = m & 0o777
	return old
}

// CurrentUmask returns the file mode creation mask.
func (tg *ThreadGroup) CurrentUmask() uint32 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.umask
}

// Done is closed when the thread group has exited.
func (tg *ThreadGroup) Done() <-chan struct{} { return tg.done }

// Status is the exit status once Done is closed.
func (tg *ThreadGroup) Status() ExitStatus {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.status
}

// Action returns the action for sig.
func (tg *ThreadGroup) Action(sig unix.Signal) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.actions[sig-1]
}

// SetAction replaces the action for sig and returns the old one.
func (tg *ThreadGroup) SetAction(sig unix.Signal, a SigAction) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.actions[sig-1]
	tg.actions[sig-1] = a
	if a.Handler == SigIgn || a.Handler == SigDfl && DefaultActionOf(sig) == ActIgnore {
		tg.sigs.discard(sigBit(sig))
		for _, t := range tg.tasks {
			t.sigs.discard(sigBit(sig))
		}
	}
	return old
}

// Exit ends the thread group with status (the first exit wins) and stops
// its tasks.
func (tg *ThreadGroup) Exit(s ExitStatus) {
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	tg.exiting = true
	tg.status = s
	tg.stopTimersLocked()
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.interrupt()
	}
}

// Exiting reports whether the group is on its way out.
func (tg *ThreadGroup) Exiting() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting
}

// SetUnkillable makes the group its PID namespace's init, as a
// container's first process is: it gets only the signals it handles,
// and SIGKILL and SIGSTOP sent from outside the sandbox or by the kernel.
// A fault still ends it.
func (tg *ThreadGroup) SetUnkillable() {
	tg.mu.Lock()
	tg.unkillable = true
	tg.mu.Unlock()
}

// SendSignal queues sig for the thread group (kill(2) semantics) from
// outside the sandbox or the kernel itself.
func (tg *ThreadGroup) SendSignal(sig unix.Signal) {
	tg.SendSignalInfo(SigInfo{Signo: int32(sig), Code: SIUser, fromHost: true})
}

// SendSignalCode is SendSignal with the si_code the handler sees.
func (tg *ThreadGroup) SendSignalCode(sig unix.Signal, code int32) {
	tg.SendSignalInfo(SigInfo{Signo: int32(sig), Code: code})
}

// SendSignalInfo queues a signal for the thread group; it is acted on
// (handler or default action) once a task has it unblocked. A signal that
// is ignored and blocked by no task is dropped; SIGCONT resumes a stopped
// group and discards pending stop signals, a stop signal discards a
// pending SIGCONT.
func (tg *ThreadGroup) SendSignalInfo(info SigInfo) bool {
	sig := unix.Signal(info.Signo)
	if sig < 1 || sig > NumSignals {
		return false
	}
	tg.mu.Lock()
	// SIGCONT resumes the group and is queued in one step: a task woken
	// by the resume must find it pending (orphanpgrp).
	continued := sig == unix.SIGCONT && tg.contLocked()
	if tg.droppedLocked(info, nil) {
		tg.mu.Unlock()
		tg.continued(continued)
		return true
	}
	if isStopSignal(sig) {
		tg.sigs.discard(sigBit(unix.SIGCONT))
	}
	if !tg.sigs.add(sig, info) {
		tg.mu.Unlock()
		tg.continued(continued)
		return false
	}
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	tg.continued(continued)
	tg.signalQueued()
	for _, t := range tasks {
		t.interrupt()
	}
	return true
}

// SendSignalInfo queues a signal for this thread alone (tgkill, tkill).
// It reports false when the real-time signal queue is full.
func (t *Task) SendSignalInfo(info SigInfo) bool {
	sig := unix.Signal(info.Signo)
	if sig < 1 || sig > NumSignals {
		return false
	}
	tg := t.TG
	tg.mu.Lock()
	continued := sig == unix.SIGCONT && tg.contLocked()
	if tg.droppedLocked(info, t) {
		tg.mu.Unlock()
		tg.continued(continued)
		return true
	}
	if !t.sigs.add(sig, info) {
		tg.mu.Unlock()
		tg.continued(continued)
		return false
	}
	tg.mu.Unlock()
	tg.continued(continued)
	tg.signalQueued()
	t.interrupt()
	return true
}

// SendSignal is SendSignalInfo for the kernel's own signals.
func (t *Task) SendSignal(info SigInfo) { t.SendSignalInfo(info) }

// kernelOnly reports whether sig is one no handler can catch.
func kernelOnly(sig unix.Signal) bool { return sig == unix.SIGKILL || sig == unix.SIGSTOP }

// forced reports whether a signal comes from the kernel or from outside
// the sandbox (a host signal passed on: ThreadGroup.SendSignal), which
// Linux lets kill a namespace's init.
func forced(info SigInfo) bool {
	return info.Code == SIKernel || info.fromHost
}

func isStopSignal(sig unix.Signal) bool {
	return sig == unix.SIGSTOP || sig == unix.SIGTSTP || sig == unix.SIGTTIN || sig == unix.SIGTTOU
}

// droppedLocked reports whether a signal, sent to the group (to == nil)
// or to one of its tasks, is discarded: ignored (SIG_IGN, or SIG_DFL that
// ignores) and not blocked by the receiver. A namespace init's SIG_DFL
// signals count as ignored, but SIGKILL and SIGSTOP that the kernel or
// the host sent. tg.mu is held.
func (tg *ThreadGroup) droppedLocked(info SigInfo, to *Task) bool {
	sig := unix.Signal(info.Signo)
	a := tg.actions[sig-1]
	ignored := a.Handler == SigIgn || a.Handler == SigDfl && DefaultActionOf(sig) == ActIgnore
	if kernelOnly(sig) {
		if !tg.unkillable || forced(info) {
			return false
		}
		ignored = true
	} else if tg.unkillable && a.Handler == SigDfl {
		ignored = true
	}
	// A traced task's tracer sees even the signals it ignores (but a
	// SIGKILL a namespace init ignores, which has no stop).
	if sig != unix.SIGKILL {
		if to != nil && to.Traced() {
			return false
		}
		for _, t := range tg.tasks {
			if to == nil && t.Traced() {
				return false
			}
		}
	}
	if !ignored {
		return false
	}
	// A blocked ignored signal stays pending: the mask may change, or
	// sigwait take it.
	if to != nil {
		return (to.SigMask&^unblockable)&sigBit(sig) == 0
	}
	for _, t := range tg.tasks {
		if (t.SigMask&^unblockable)&sigBit(sig) != 0 {
			return false
		}
	}
	return true
}

// contLocked resumes a stopped group (SIGCONT): pending stop signals are
// dropped. It reports whether the group was stopped; the caller then
// tells the parent (continued) once tg.mu is released. tg.mu is held.
func (tg *ThreadGroup) contLocked() bool {
	stops := sigBit(unix.SIGSTOP) | sigBit(unix.SIGTSTP) | sigBit(unix.SIGTTIN) | sigBit(unix.SIGTTOU)
	tg.sigs.discard(stops)
	for _, t := range tg.tasks {
		t.sigs.discard(stops)
	}
	was := tg.stopped
	if was {
		tg.stopped = false
		close(tg.stopWake)
	}
	return was
}

// continued tells the parent that the group was continued, if it was.
func (tg *ThreadGroup) continued(was bool) {
	if was {
		tg.notifyParent(cldContinued, unix.SIGCONT)
	}
}

// stop stops the group for sig (a stop signal's default action) and tells
// the parent; the group's tasks wait in deliverSignals.
func (tg *ThreadGroup) stop(sig unix.Signal) {
	tg.mu.Lock()
	if tg.stopped || tg.exiting {
		tg.mu.Unlock()
		return
	}
	tg.stopped = true
	tg.stopWake = make(chan struct{})
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.interrupt()
	}
	tg.notifyParent(cldStopped, sig)
}

// notifyParent records a stop or continue for wait and sends SIGCHLD,
// unless the parent asked not to hear of stops (SA_NOCLDSTOP).
func (tg *ThreadGroup) notifyParent(code int32, sig unix.Signal) {
	k := tg.k
	k.mu.Lock()
	parent := tg.parent
	if parent == nil {
		k.mu.Unlock()
		return
	}
	if code == cldStopped {
		tg.stopReport, tg.contReport = sig, false
	} else {
		tg.stopReport, tg.contReport = 0, true
	}
	parent.notifyChildEventLocked()
	k.mu.Unlock()
	if parent.Action(unix.SIGCHLD).Flags&saNoCldStop != 0 {
		return
	}
	parent.SendSignalInfo(SigInfo{Signo: int32(unix.SIGCHLD), Code: code, PID: tg.PID, UID: tg.Creds().UID, Status: int32(sig)})
}

// interrupt wakes the task from a sleep and its user code.
func (t *Task) interrupt() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
	t.Ctx.Interrupt()
}

// Interrupted returns a channel that receives when the task should stop
// waiting (a signal or exit). Every blocking wait in the kernel asks for
// it before it blocks, so from here until the syscall returns the task
// shows as sleeping in /proc.
func (t *Task) Interrupted() <-chan struct{} {
	t.busy.Store(false)
	t.idle()
	return t.wake
}

// idle tells the platform that the task is about to block in the kernel:
// its vCPU may serve another task meanwhile (platform.Idler).
func (t *Task) idle() {
	if i, ok := t.Ctx.(platform.Idler); ok {
		i.Idle()
	}
}

// SignalPending reports whether a signal the task must act on is pending,
// or the task must end or stop.
func (t *Task) SignalPending() bool {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting || t.threadExit || tg.stopped || (tg.sigs.mask|t.sigs.mask)&^(t.SigMask&^unblockable) != 0
}

// Sleep waits for d or until a signal arrives; it reports whether the full
// time elapsed.
func (t *Task) Sleep(d time.Duration) bool {
	if t.SignalPending() {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	t.busy.Store(false)
	t.idle()
	for {
		select {
		case <-timer.C:
			return true
		case <-t.wake:
			if t.SignalPending() {
				return false
			}
		}
	}
}

// ErrSandbox marks failures of ringbox itself (not of the program).
var ErrSandbox = errors.New("sandbox failure")

// Run runs the task until its thread group exits. It returns an error
// (wrapping ErrSandbox) only when the sandbox itself failed.
func (t *Task) Run() (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t.hostTID = unix.Gettid()
	t.K.mu.Lock()
	t.K.procs.byHost[t.hostTID] = t
	t.K.mu.Unlock()
	t.startCPU()
	defer t.Ctx.Release()
	defer func() {
		// A panic here is a ringbox bug: report it as a sandbox failure
		// (exit 125) with the stack, never as the program's status.
		if r := recover(); r != nil {
			t.K.Log.Error("kernel panic", "panic", r, "stack", string(debug.Stack()))
			t.TG.Exit(ExitStatus{Signal: unix.SIGKILL})
			err = fmt.Errorf("%w: kernel panic: %v", ErrSandbox, r)
		}
	}()
	for {
		t.busy.Store(true)
		if t.deliverSignals() {
			t.ptraceExitStop()
			break
		}
		if tok := t.K.runTokens; tok != nil {
			select {
			case tok <- struct{}{}:
			default:
				t.idle() // every CPU is taken: wait without the vCPU
				tok <- struct{}{}
			}
		}
		ev, err := t.Ctx.Switch(t.MM.AddressSpace(), &t.Regs)
		if tok := t.K.runTokens; tok != nil {
			<-tok
		}
		if err != nil {
			t.TG.Exit(ExitStatus{Signal: unix.SIGKILL})
			t.finish()
			return fmt.Errorf("%w: %v", ErrSandbox, err)
		}
		if ev.Kind != platform.EventSyscall {
			t.origRAX = -1
		}
		switch ev.Kind {
		case platform.EventSyscall:
			t.syscall()
		case platform.EventPageFault:
			if t.vsyscall(ev) {
				continue
			}
			res, code, err := t.MM.HandleFault(uintptr(ev.Addr), ev.Write, ev.Exec)
			if err != nil {
				if errors.Is(err, mm.ErrOutOfMemory) {
					if t.K.OnOOM != nil {
						t.K.OnOOM(t.TG.PID)
					} else {
						t.K.Log.Warn("program killed: out of memory", "pid", t.TG.PID, "addr", fmt.Sprintf("%#x", ev.Addr))
					}
					t.TG.Exit(ExitStatus{Signal: unix.SIGKILL})
					continue
				}
				t.TG.Exit(ExitStatus{Signal: unix.SIGKILL})
				t.finish()
				return fmt.Errorf("%w: page fault at %#x: %v", ErrSandbox, ev.Addr, err)
			}
			switch res {
			case mm.FaultSIGSEGV:
				t.forceSignal(unix.SIGSEGV, code, ev.Addr)
			case mm.FaultSIGBUS:
				t.forceSignal(unix.SIGBUS, code, ev.Addr)
			}
		case platform.EventException:
			if ev.Vector == platform.VectorDebug && t.pt.stepping {
				// The step PTRACE_SINGLESTEP asked for.
				t.Regs.RFLAGS &^= trapFlag
				t.pt.stepping = false
				t.SendSignalInfo(SigInfo{Signo: int32(unix.SIGTRAP), Code: 2}) // TRAP_TRACE
				continue
			}
			sig, code := exceptionSignal(ev.Vector)
			var addr uint64
			if sig == unix.SIGFPE || sig == unix.SIGILL {
				addr = t.Regs.RIP // si_addr is the faulting instruction
			}
			t.forceSignal(sig, code, addr)
		case platform.EventInterrupted:
		}
	}
	t.finish()
	return nil
}

// mustExit reports whether the task must end alone (another thread's
// exec, or its own exit).
func (t *Task) mustExit() bool {
	t.TG.mu.Lock()
	defer t.TG.mu.Unlock()
	return t.threadExit
}

// ExitThread ends the calling thread alone (exit(2)); the last thread's
// code becomes the process's exit status.
func (t *Task) ExitThread(code int) {
	tg := t.TG
	tg.mu.Lock()
	t.threadExit = true
	t.exitCode = code
	tg.mu.Unlock()
}

// ownExitStatus is how the thread ended alone. The caller holds TG.mu.
func (t *Task) ownExitStatus() ExitStatus {
	if t.exitSignal != 0 {
		return ExitStatus{Signal: t.exitSignal, Core: t.exitSignal == unix.SIGSYS}
	}
	return ExitStatus{Code: t.exitCode & 0xff}
}

// finish runs on the task's goroutine once it has stopped for good: the
// CLONE_CHILD_CLEARTID write and futex wake, the robust list, the vfork
// parent's release; the last task of the group ends the process.
func (t *Task) finish() {
	// What follows makes host syscalls (the futex wakes of the Go runtime
	// for the tasks it wakes, the CPU clock): in ring0 mode, one exit for
	// all of them instead of one each.
	if l, ok := t.Ctx.(platform.Leaver); ok {
		l.Leave()
	}
	t.exitFutexes()
	t.releaseVfork()
	t.endCPU()
	tg, k := t.TG, t.K
	var ptStatus int
	if t.Traced() {
		ptStatus = t.exitWaitStatus()
	}
	k.mu.Lock()
	k.ptraceFinishedLocked(t, ptStatus)
	tg.mu.Lock()
	for i, x := range tg.tasks {
		if x == t {
			tg.tasks = append(tg.tasks[:i], tg.tasks[i+1:]...)
			break
		}
	}
	last := len(tg.tasks) == 0
	if last && !tg.exiting {
		tg.exiting = true
		tg.status = t.ownExitStatus()
	}
	if k.procs.tasks[t.TID] == t {
		delete(k.procs.tasks, t.TID)
	}
	if k.procs.byHost[t.hostTID] == t {
		delete(k.procs.byHost, t.hostTID)
	}
	releaseMM := k.putMMLocked(t.MM)
	tg.mu.Unlock()
	k.mu.Unlock()
	if releaseMM {
		t.MM.Release()
	}
	if last {
		k.IPC.ExitProcess(tg.PID) // SEM_UNDO adjustments
		tg.exited()
	}
}

// SetName sets the thread's name (PR_SET_NAME); the main thread's is the
// process's comm.
func (t *Task) SetName(n string) {
	t.TG.mu.Lock()
	t.name = n
	if t.TID == t.TG.PID {
		t.MM.Comm = n
	}
	t.TG.mu.Unlock()
}

// Name returns the thread's name.
func (t *Task) Name() string {
	t.TG.mu.Lock()
	defer t.TG.mu.Unlock()
	return t.nameLocked()
}

func (t *Task) nameLocked() string {
	if t.name != "" {
		return t.name
	}
	return t.MM.Comm
}

// state is the thread's state letter in /proc: R or S.
func (t *Task) state() byte {
	if t.pt.stopShown.Load() {
		return 't'
	}
	if t.busy.Load() {
		return 'R'
	}
	return 'S'
}

// Personality sets the process's personality(2) to p, unless p is
// 0xffffffff, and returns the one it had.
func (tg *ThreadGroup) Personality(p uint32) uint32 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.persona
	if p != 0xffffffff {
		tg.persona = p
	}
	return old
}

// SetNoNewPrivs sets PR_SET_NO_NEW_PRIVS (inherited, never cleared).
func (tg *ThreadGroup) SetNoNewPrivs() {
	tg.mu.Lock()
	tg.noNewPrivs = true
	tg.mu.Unlock()
}

// NoNewPrivs reports PR_GET_NO_NEW_PRIVS.
func (tg *ThreadGroup) NoNewPrivs() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.noNewPrivs
}

// Dumpable reports PR_GET_DUMPABLE (Linux's SUID_DUMP_USER, 1, or
// SUID_DUMP_DISABLE, 0).
func (tg *ThreadGroup) Dumpable() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return !tg.undumpable
}

// SetDumpable is PR_SET_DUMPABLE, and what execve sets.
func (tg *ThreadGroup) SetDumpable(on bool) {
	tg.mu.Lock()
	tg.undumpable = !on
	tg.mu.Unlock()
}

// SetTHPDisable is PR_SET_THP_DISABLE. The sandbox's memory has no
// transparent huge pages to turn off: the flag is only kept (inherited,
// kept across execve) for PR_GET_THP_DISABLE.
func (tg *ThreadGroup) SetTHPDisable(off bool) {
	tg.mu.Lock()
	tg.thpOff = off
	tg.mu.Unlock()
}

// THPDisable reports PR_GET_THP_DISABLE.
func (tg *ThreadGroup) THPDisable() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.thpOff
}

// releaseVfork lets a vfork parent go on (its child exec'd or exited).
func (t *Task) releaseVfork() {
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
}

// exceptionSignal maps a CPU exception to the signal Linux sends.
func exceptionSignal(vector uint64) (unix.Signal, int) {
	switch vector {
	case platform.VectorDivide:
		return unix.SIGFPE, 1 // FPE_INTDIV
	case platform.VectorDebug:
		return unix.SIGTRAP, 2 // TRAP_TRACE: the trap flag's step
	case platform.VectorBreakpoint:
		// int3: SI_KERNEL, as Linux says; debuggers tell their own
		// breakpoints by it.
		return unix.SIGTRAP, 0x80
	case platform.VectorInvalidOp:
		return unix.SIGILL, 2 // ILL_ILLOPN
	case platform.VectorX87, platform.VectorSIMD:
		return unix.SIGFPE, 0
	case platform.VectorAlignment:
		return unix.SIGBUS, 1
	case platform.VectorStack:
		return unix.SIGBUS, 0
	}
	// #GP (privileged instructions, non-canonical addresses), #NP, #OF,
	// #BR and the rest.
	return unix.SIGSEGV, 0x80 // SI_KERNEL
}

// forceSignal delivers a synchronous fault signal: to the program's
// handler when it has one and the signal is not blocked, otherwise (a
// blocked or ignored fault signal is fatal on Linux too) by ending the
// thread group with it.
func (t *Task) forceSignal(sig unix.Signal, code int, addr uint64) {
	t.forceSignalInfo(SigInfo{Signo: int32(sig), Code: int32(code), Addr: addr})
}

// forceSignalInfo is forceSignal with the whole siginfo (SIGSYS of a
// seccomp filter's SECCOMP_RET_TRAP carries more than an address).
func (t *Task) forceSignalInfo(info SigInfo) {
	sig := unix.Signal(info.Signo)
	t.K.Log.Debug("fault signal", "pid", t.TG.PID, "signal", sig, "code", info.Code,
		"addr", fmt.Sprintf("%#x", info.Addr), "rip", fmt.Sprintf("%#x", t.Regs.RIP))
	if t.Traced() {
		// The tracer sees the fault first (a signal-delivery-stop). A
		// blocked or ignored fault signal is unblocked and reset, as
		// Linux forces it.
		tg := t.TG
		tg.mu.Lock()
		if t.SigMask&sigBit(sig) != 0 || tg.actions[sig-1].Handler == SigIgn {
			t.SigMask &^= sigBit(sig)
			tg.actions[sig-1].Handler = SigDfl
		}
		t.sigs.add(sig, info)
		tg.mu.Unlock()
		return
	}
	a := t.TG.Action(sig)
	if a.Handler != SigDfl && a.Handler != SigIgn && t.SigMask&sigBit(sig) == 0 {
		t.setupFrame(sig, a, info)
		return
	}
	t.TG.Exit(ExitStatus{Signal: sig, Core: DefaultActionOf(sig) == ActCore})
}

// deliverSignals acts on pending signals; it reports whether the task must
// stop for good. Every deliverable handled signal gets a frame before the
// return to user code; a stop signal stops the group until SIGCONT.
func (t *Task) deliverSignals() bool {
	tg := t.TG
	handled := false
	tg.mu.Lock()
	for {
		if tg.exiting || t.threadExit {
			tg.mu.Unlock()
			return true
		}
		if tg.stopped {
			wake := tg.stopWake
			tg.mu.Unlock()
			t.idle()
			select {
			case <-wake:
			case <-t.wake:
			}
			tg.mu.Lock()
			continue
		}
		if t.pt.traced.Load() {
			tg.mu.Unlock()
			t.ptraceInterruptStop()
			tg.mu.Lock()
			if tg.exiting || t.threadExit || tg.stopped {
				continue
			}
		}
		mask := t.SigMask &^ unblockable
		var sig unix.Signal
		var info SigInfo
		if sig = t.sigs.first(mask); sig != 0 {
			info = t.sigs.take(sig)
		} else if sig = tg.sigs.first(mask); sig != 0 {
			info = tg.sigs.take(sig)
		} else {
			break
		}
		if sig != unix.SIGKILL && t.pt.traced.Load() {
			// The signal-delivery-stop: the tracer decides.
			tg.mu.Unlock()
			var nsig unix.Signal
			nsig, info = t.ptraceSignalStop(sig, info)
			tg.mu.Lock()
			if nsig == 0 {
				continue
			}
			if nsig != sig && (t.SigMask&^unblockable)&sigBit(nsig) != 0 {
				t.sigs.add(nsig, info) // blocked: pending until unblocked
				continue
			}
			sig = nsig
		}
		a := tg.actions[sig-1]
		act := DefaultActionOf(sig)
		if sig == unix.SIGKILL {
			act = ActTerm
		} else if sig == unix.SIGSTOP {
			act = ActStop
		} else if a.Handler == SigIgn {
			continue
		} else if a.Handler != SigDfl {
			// Every deliverable signal gets its frame before the return
			// to user code; the last one pushed runs first, as on Linux.
			info.Signo = int32(sig)
			tg.mu.Unlock()
			t.restartAfter(&a)
			t.setupFrame(sig, a, info)
			handled = true
			tg.mu.Lock()
			continue
		}
		if tg.unkillable && !kernelOnly(sig) {
			continue // was blocked when sent: a namespace init drops it now
		}
		switch act {
		case ActIgnore, ActCont:
			continue
		case ActStop:
			tg.mu.Unlock()
			tg.stop(sig)
			tg.mu.Lock()
			continue
		}
		tg.stopTimersLocked()
		tg.exiting = true
		tg.status = ExitStatus{Signal: sig, Core: act == ActCore}
		tasks := append([]*Task(nil), tg.tasks...)
		tg.mu.Unlock()
		for _, o := range tasks {
			if o != t {
				o.interrupt()
			}
		}
		return true
	}
	tg.mu.Unlock()
	if !handled {
		t.restartAfter(nil)
		t.EndSuspend()
	}
	return false
}

// EndSuspend puts back the mask SuspendMask replaced, when the call that
// installed it returns without being cut short by a signal.
func (t *Task) EndSuspend() {
	if t.hasSaved {
		t.SigMask, t.hasSaved = t.savedMask, false
	}
}

// SuspendMask installs mask until the next signal delivery
// (rt_sigsuspend); the handler's frame records the mask it replaced.
func (t *Task) SuspendMask(mask uint64) {
	if !t.hasSaved {
		t.savedMask, t.hasSaved = t.SigMask, true
	}
	t.SigMask = mask &^ unblockable
}

// FSRoot returns the process's root directory.
func (tg *ThreadGroup) FSRoot() *fs.Dentry {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.fsRoot
}

// Threads returns the number of the process's threads that are not
// exiting.
func (tg *ThreadGroup) Threads() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	n := 0
	for _, t := range tg.tasks {
		if !t.threadExit {
			n++
		}
	}
	return n
}

// SetFSRoot changes the process's root directory (chroot).
func (tg *ThreadGroup) SetFSRoot(d *fs.Dentry) {
	tg.mu.Lock()
	tg.fsRoot = d
	tg.mu.Unlock()
}

// Cwd returns the working directory.
func (tg *ThreadGroup) Cwd() *fs.Dentry {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.cwd
}

// SetCwd changes the working directory.
func (tg *ThreadGroup) SetCwd(d *fs.Dentry) {
	tg.mu.Lock()
	tg.cwd = d
	tg.mu.Unlock()
}

// Exec replaces the task's program (execve after the new image loaded):
// the other threads are ended first, then come the new address space,
// fresh registers, close-on-exec descriptors closed and handled signals
// reset to their default action. It fails only when the group is already
// exiting (another thread's exit or execve won).
func (t *Task) Exec(m *mm.MM, entry, sp uintptr) error {
	if err := t.killOtherThreads(); err != nil {
		return err
	}
	t.ExecRobustList()
	// A table shared with another process (CLONE_FILES) is copied first,
	// before a vfork parent can run again: closing this program's
	// close-on-exec files must not close the other's (Linux's
	// unshare_files in begin_new_exec).
	t.TG.UnshareFiles()
	k := t.K
	old := t.MM
	k.mu.Lock()
	releaseOld := k.putMMLocked(old)
	k.procs.mmUsers[m]++
	t.TG.execed = true
	k.mu.Unlock()
	t.TG.mu.Lock() // others read it under the lock (/proc/PID, kcmp)
	t.MM = m
	t.TG.mu.Unlock()
	if releaseOld {
		old.Release()
	}
	t.releaseVfork()
	t.TG.FDs.CloseOnExecAll()
	t.TG.deletePosixTimers()
	tg := t.TG
	tg.mu.Lock()
	for i := range tg.actions {
		if tg.actions[i].Handler != SigIgn {
			tg.actions[i] = SigAction{}
		}
	}
	tg.mu.Unlock()
	t.ClearChildTID, t.RobustList, t.RobustLen = 0, 0, 0
	t.Alt = AltStack{Flags: SSDisable}
	t.Regs = platform.Regs{RIP: uint64(entry), RSP: uint64(sp), RFLAGS: 0x202}
	tg.mu.Lock()
	t.name = "" // the new program's name (the address space's comm)
	tg.mu.Unlock()
	return nil
}
