package kernel

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
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
	pending    uint64
	sigCode    [NumSignals]int32 // si_code of each pending signal
	itimer     realTimer
	exiting    bool
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
}

// Creds are the user and group IDs.
type Creds struct {
	UID, EUID, SUID, GID, EGID, SGID uint32
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

	restored  bool   // rt_sigreturn set every register: write no result
	savedMask uint64 // rt_sigsuspend: the mask to restore after delivery
	hasSaved  bool
	syscallNR int64 // the syscall just returned from, until signals are delivered; else -1

	wake chan struct{} // a signal arrived: interrupt sleeps
}

// NewProcess makes a thread group with one task running in m.
func (k *Kernel) NewProcess(m *mm.MM, fds *fs.FDTable, creds Creds) (*Task, error) {
	ctx, err := k.Platform.NewContext()
	if err != nil {
		return nil, err
	}
	pid := k.allocPID()
	tg := &ThreadGroup{k: k, PID: pid, done: make(chan struct{}), limits: DefaultLimits(), creds: creds,
		umask: 0o022, FDs: fds}
	if k.VFS != nil {
		tg.fsRoot, tg.cwd = k.VFS.Root(), k.VFS.Root()
	}
	t := &Task{K: k, TG: tg, TID: pid, MM: m, Ctx: ctx, wake: make(chan struct{}, 1), Alt: AltStack{Flags: SSDisable}, syscallNR: -1}
	tg.tasks = []*Task{t}
	k.mu.Lock()
	k.groups[pid] = tg
	k.mu.Unlock()
	return t, nil
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
		tg.pending &^= sigBit(sig)
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

// SendSignal queues sig for the thread group (kill(2) semantics); it is
// acted on (handler or default action) once a task has it unblocked. An
// ignored signal is dropped.
func (tg *ThreadGroup) SendSignal(sig unix.Signal) { tg.SendSignalCode(sig, SIUser) }

// SendSignalCode is SendSignal with the si_code the handler sees (SI_USER
// for kill, SI_TKILL for tgkill).
func (tg *ThreadGroup) SendSignalCode(sig unix.Signal, code int32) {
	if sig < 1 || sig > NumSignals {
		return
	}
	tg.mu.Lock()
	a := tg.actions[sig-1]
	// An ignored signal is dropped. (Linux keeps it pending while it is
	// blocked, for sigwait; the senders here cannot read the mask safely.)
	if sig != unix.SIGKILL && sig != unix.SIGSTOP &&
		(a.Handler == SigIgn || a.Handler == SigDfl && DefaultActionOf(sig) == ActIgnore) {
		tg.mu.Unlock()
		return
	}
	tg.pending |= sigBit(sig)
	tg.sigCode[sig-1] = code
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.interrupt()
	}
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
// waiting (a signal or exit).
func (t *Task) Interrupted() <-chan struct{} { return t.wake }

// SignalPending reports whether a signal the task must act on is pending,
// or the group is exiting.
func (t *Task) SignalPending() bool {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting || tg.pending&^(t.SigMask&^unblockable) != 0
}

// Sleep waits for d or until a signal arrives; it reports whether the full
// time elapsed.
func (t *Task) Sleep(d time.Duration) bool {
	if t.SignalPending() {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
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
		if t.deliverSignals() {
			break
		}
		ev, err := t.Ctx.Switch(t.MM.AddressSpace(), &t.Regs)
		if err != nil {
			t.TG.Exit(ExitStatus{Signal: unix.SIGKILL})
			t.finish()
			return fmt.Errorf("%w: %v", ErrSandbox, err)
		}
		switch ev.Kind {
		case platform.EventSyscall:
			t.syscall()
		case platform.EventPageFault:
			res, code, err := t.MM.HandleFault(uintptr(ev.Addr), ev.Write, ev.Exec)
			if err != nil {
				if errors.Is(err, mm.ErrOutOfMemory) {
					t.K.Log.Warn("program killed: out of memory", "pid", t.TG.PID, "addr", fmt.Sprintf("%#x", ev.Addr))
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

func (t *Task) finish() {
	tg := t.TG
	tg.mu.Lock()
	last := true
	for i, x := range tg.tasks {
		if x == t {
			tg.tasks = append(tg.tasks[:i], tg.tasks[i+1:]...)
			break
		}
	}
	last = len(tg.tasks) == 0
	tg.mu.Unlock()
	if last {
		t.MM.Release()
		tg.FDs.Release()
		close(tg.done)
	}
}

// exceptionSignal maps a CPU exception to the signal Linux sends.
func exceptionSignal(vector uint64) (unix.Signal, int) {
	switch vector {
	case platform.VectorDivide:
		return unix.SIGFPE, 1 // FPE_INTDIV
	case platform.VectorDebug, platform.VectorBreakpoint:
		return unix.SIGTRAP, 1
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
	t.K.Log.Debug("fault signal", "pid", t.TG.PID, "signal", sig, "code", code,
		"addr", fmt.Sprintf("%#x", addr), "rip", fmt.Sprintf("%#x", t.Regs.RIP))
	a := t.TG.Action(sig)
	if a.Handler != SigDfl && a.Handler != SigIgn && t.SigMask&sigBit(sig) == 0 {
		t.setupFrame(sig, a, SigInfo{Signo: int32(sig), Code: int32(code), Addr: addr})
		return
	}
	t.TG.Exit(ExitStatus{Signal: sig, Core: DefaultActionOf(sig) == ActCore})
}

// deliverSignals acts on pending signals; it reports whether the task must
// stop. A handled signal gets a frame on the user stack; the next one
// waits until the handler returns or unblocks it (the handler's mask).
func (t *Task) deliverSignals() bool {
	tg := t.TG
	handled := false
	tg.mu.Lock()
	for {
		if tg.exiting {
			tg.mu.Unlock()
			return true
		}
		deliverable := tg.pending &^ (t.SigMask &^ unblockable)
		if deliverable == 0 {
			break
		}
		sig := unix.Signal(bits.TrailingZeros64(deliverable) + 1)
		tg.pending &^= sigBit(sig)
		a := tg.actions[sig-1]
		act := DefaultActionOf(sig)
		if sig == unix.SIGKILL {
			act = ActTerm
		} else if a.Handler == SigIgn {
			continue
		} else if a.Handler != SigDfl {
			// Every deliverable signal gets its frame before the return
			// to user code; the last one pushed runs first, as on Linux.
			info := SigInfo{Signo: int32(sig), Code: tg.sigCode[sig-1], PID: tg.PID, UID: tg.creds.UID}
			tg.mu.Unlock()
			t.restartAfter(&a)
			t.setupFrame(sig, a, info)
			handled = true
			tg.mu.Lock()
			continue
		}
		switch act {
		case ActIgnore, ActCont, ActStop:
			continue
		}
		tg.stopTimersLocked()
		tg.exiting = true
		tg.status = ExitStatus{Signal: sig, Core: act == ActCore}
		tg.mu.Unlock()
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
// the new address space, fresh registers, close-on-exec descriptors closed,
// handled signals reset to their default action.
func (t *Task) Exec(m *mm.MM, entry, sp uintptr) {
	old := t.MM
	t.MM = m
	old.Release()
	t.TG.FDs.CloseOnExecAll()
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
}
