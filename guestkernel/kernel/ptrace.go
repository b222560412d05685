package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ptrace(2), the kernel side: which process traces which task, the
// ptrace-stops a traced task enters (signal delivery, syscall entry and
// exit, exec, clone events, PTRACE_INTERRUPT, exit), how the tracer
// resumes it, and what wait reports of it. The syscall layer
// (sys_ptrace.go) decodes the requests and copies registers and memory.
//
// The tracer is a process: any of its threads may make requests of, and
// wait for, its tracees (Linux ties them to the one tracer thread). A
// task's tracer stays until it detaches or exits.

// PtraceEvent* are the events of PTRACE_O_TRACE* (status >> 16).
const (
	PtraceEventFork  = 1
	PtraceEventVfork = 2
	PtraceEventClone = 3
	PtraceEventExec  = 4
	PtraceEventExit  = 6
	PtraceEventStop  = 128
)

// PtraceOptionsMask are the options PTRACE_SETOPTIONS accepts.
const PtraceOptionsMask = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACEVFORKDONE | unix.PTRACE_O_TRACEEXIT |
	unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_EXITKILL | unix.PTRACE_O_SUSPEND_SECCOMP

// ResumeMode is how a tracer lets a stopped tracee go on.
type ResumeMode int

// Resume modes.
const (
	ResumeCont       ResumeMode = iota // PTRACE_CONT
	ResumeSyscall                      // PTRACE_SYSCALL: stop at the next syscall entry or exit
	ResumeSingleStep                   // PTRACE_SINGLESTEP: stop after one instruction
)

// cldTrapped is SIGCHLD's si_code for a ptrace-stop.
const cldTrapped = 4

// trapFlag is RFLAGS.TF.
const trapFlag = 0x100

// ptraceState is a task's side of ptrace, guarded by k.mu but for what
// the tracee reads while it runs (set before it was resumed).
type ptraceState struct {
	traced atomic.Bool // tracer != nil, read without k.mu
	// stopShown is stopped for /proc (state t), and tracerPID the
	// tracer's PID (TracerPid), read without k.mu.
	stopShown atomic.Bool
	tracerPID atomic.Int32
	tracer    *ThreadGroup
	seized    bool
	// options are PTRACE_O_* (PTRACE_SETOPTIONS, or PTRACE_SEIZE's).
	options uint32

	// stopped: in a ptrace-stop until the tracer resumes it; report is
	// the wait status not yet reported (0: reported).
	stopped bool
	report  int
	// exitReport is the wait status of the traced task's end, for its
	// tracer (when its parent's wait does not report it); exited says
	// it is set.
	exited     bool
	exitReport int
	siginfo    SigInfo
	eventMsg   uint64
	resume     chan struct{}
	resumeSig  unix.Signal
	mode       ResumeMode
	stepping   bool // TF was set for PTRACE_SINGLESTEP
	interrupt  bool // PTRACE_INTERRUPT: stop at the next chance
	// fp is the FP state taken at the stop; a tracer's change (fpDirty)
	// goes back before the task goes on.
	fp      []byte
	fpDirty bool
}

// Traced reports whether a tracer traces t.
func (t *Task) Traced() bool { return t.pt.traced.Load() }

// OrigRAX is user_regs_struct's orig_rax: the number of the syscall the
// task is in or just made, -1 after a fault or an interrupt.
func (t *Task) OrigRAX() int64 { return t.origRAX }

// SetOrigRAX changes it (a tracer at a syscall-entry stop: -1 skips the
// call).
func (t *Task) SetOrigRAX(v int64) { t.origRAX = v }

// PtraceAttach makes tracer the tracer of target (PTRACE_ATTACH, or
// PTRACE_SEIZE with seize and options). ATTACH stops the target with
// SIGSTOP. EPERM for a task of the tracer's own process or one traced
// already.
func (k *Kernel) PtraceAttach(tracer *Task, target *Task, seize bool, options uint32) error {
	k.mu.Lock()
	if target.TG == tracer.TG || target.pt.tracer != nil {
		k.mu.Unlock()
		return unix.EPERM
	}
	if k.procs.tasks[target.TID] != target {
		k.mu.Unlock()
		return unix.ESRCH
	}
	k.linkTracerLocked(tracer.TG, target, seize, options)
	k.mu.Unlock()
	if !seize {
		target.SendSignalInfo(SigInfo{Signo: int32(unix.SIGSTOP), Code: SIKernel})
	}
	return nil
}

// PtraceTraceMe makes t's parent its tracer (PTRACE_TRACEME).
func (t *Task) PtraceTraceMe() error {
	k := t.K
	k.mu.Lock()
	defer k.mu.Unlock()
	p := t.TG.parent
	if t.pt.tracer != nil || p == nil || p.zombie {
		return unix.EPERM
	}
	k.linkTracerLocked(p, t, false, 0)
	return nil
}

// linkTracerLocked records the link both ways. k.mu is held.
func (k *Kernel) linkTracerLocked(tracer *ThreadGroup, t *Task, seize bool, options uint32) {
	t.pt.tracer, t.pt.seized, t.pt.options = tracer, seize, options
	t.pt.stopped, t.pt.report, t.pt.exited, t.pt.mode = false, 0, false, ResumeCont
	if t.pt.resume == nil {
		t.pt.resume = make(chan struct{}, 1)
	}
	if tracer.tracees == nil {
		tracer.tracees = map[*Task]struct{}{}
	}
	tracer.tracees[t] = struct{}{}
	t.pt.traced.Store(true)
	t.pt.tracerPID.Store(tracer.PID)
}

// unlinkTracerLocked ends t's tracing; a stopped t goes on with sig.
// k.mu is held.
func (k *Kernel) unlinkTracerLocked(t *Task, sig unix.Signal) {
	if tr := t.pt.tracer; tr != nil {
		delete(tr.tracees, t)
	}
	t.pt.tracer = nil
	t.pt.traced.Store(false)
	t.pt.tracerPID.Store(0)
	t.pt.report = 0
	if t.pt.stopped {
		t.pt.stopped = false
		t.pt.resumeSig, t.pt.mode = sig, ResumeCont
		select {
		case t.pt.resume <- struct{}{}:
		default:
		}
	}
}

// PtraceTracee returns the task tid if caller's process traces it and, with
// stopped, it is in a ptrace-stop: ESRCH otherwise, as Linux says.
func (k *Kernel) PtraceTracee(caller *Task, tid int32, stopped bool) (*Task, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.procs.tasks[tid]
	if t == nil || t.pt.tracer != caller.TG || t.pt.exited || stopped && !t.pt.stopped {
		return nil, unix.ESRCH
	}
	return t, nil
}

// PtraceResume lets the stopped tracee t go on in mode, delivering sig
// (0: none) if it stopped for a signal.
func (k *Kernel) PtraceResume(caller *Task, t *Task, mode ResumeMode, sig unix.Signal) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.pt.tracer != caller.TG || !t.pt.stopped {
		return unix.ESRCH
	}
	t.pt.stopped, t.pt.report = false, 0
	t.pt.resumeSig, t.pt.mode = sig, mode
	select {
	case t.pt.resume <- struct{}{}:
	default:
	}
	return nil
}

// PtraceDetach ends the tracing of the stopped tracee t, which goes on
// with sig.
func (k *Kernel) PtraceDetach(caller *Task, t *Task, sig unix.Signal) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.pt.tracer != caller.TG || !t.pt.stopped {
		return unix.ESRCH
	}
	k.unlinkTracerLocked(t, sig)
	return nil
}

// PtraceInterrupt asks the tracee t (seized) to stop (PTRACE_INTERRUPT).
func (k *Kernel) PtraceInterrupt(caller *Task, t *Task) error {
	k.mu.Lock()
	if t.pt.tracer != caller.TG || !t.pt.seized {
		k.mu.Unlock()
		return unix.EIO
	}
	if !t.pt.stopped {
		t.pt.interrupt = true
	}
	k.mu.Unlock()
	t.interrupt()
	return nil
}

// PtraceSetOptions sets t's options (EINVAL for unknown ones).
func (k *Kernel) PtraceSetOptions(t *Task, options uint32) error {
	if options&^PtraceOptionsMask != 0 {
		return unix.EINVAL
	}
	k.mu.Lock()
	t.pt.options = options
	k.mu.Unlock()
	return nil
}

// PtraceInfo returns the siginfo and event message of t's stop.
func (k *Kernel) PtraceInfo(t *Task) (SigInfo, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return t.pt.siginfo, t.pt.eventMsg
}

// PtraceSetSigInfo replaces the siginfo of t's signal-delivery-stop.
func (k *Kernel) PtraceSetSigInfo(t *Task, info SigInfo) {
	k.mu.Lock()
	t.pt.siginfo = info
	k.mu.Unlock()
}

// PtraceFP returns the FP state of the stopped t (XSAVE standard format),
// and PtraceSetFP replaces it before t goes on.
func (k *Kernel) PtraceFP(t *Task) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]byte(nil), t.pt.fp...)
}

// PtraceSetFP: see PtraceFP.
func (k *Kernel) PtraceSetFP(t *Task, fp []byte) {
	k.mu.Lock()
	t.pt.fp, t.pt.fpDirty = append([]byte(nil), fp...), true
	k.mu.Unlock()
}

// ptraceStop puts t, a traced task, in a ptrace-stop that wait reports as
// status (with info for PTRACE_GETSIGINFO, msg for PTRACE_GETEVENTMSG),
// and blocks until the tracer resumes or detaches it, or t must die. It
// returns the signal to deliver (0: none) and whether t was traced; a
// task that must die returns at once with no signal (its caller sees the
// exit next). Called on t's goroutine with no lock held.
func (t *Task) ptraceStop(status int, info SigInfo, msg uint64) (unix.Signal, bool) {
	return t.ptraceStopUntil(status, info, msg, false)
}

// ptraceStopUntil is ptraceStop; exiting (the PTRACE_EVENT_EXIT stop of a
// task whose process is ending) leaves the stop early for SIGKILL only.
func (t *Task) ptraceStopUntil(status int, info SigInfo, msg uint64, exiting bool) (unix.Signal, bool) {
	k := t.K
	fp, fpErr := t.Ctx.FPState()
	k.mu.Lock()
	tr := t.pt.tracer
	if tr == nil {
		k.mu.Unlock()
		return 0, false
	}
	if fpErr == nil {
		t.pt.fp, t.pt.fpDirty = fp, false
	}
	t.pt.stopped, t.pt.report, t.pt.siginfo, t.pt.eventMsg = true, status, info, msg
	t.pt.interrupt = false
	select {
	case <-t.pt.resume:
	default:
	}
	tr.notifyChildEventLocked()
	k.mu.Unlock()
	t.pt.stopShown.Store(true)
	defer t.pt.stopShown.Store(false)
	tr.SendSignalInfo(SigInfo{Signo: int32(unix.SIGCHLD), Code: cldTrapped, PID: t.TID,
		UID: t.TG.Creds().UID, Status: int32(status>>8) & 0xff})
	t.busy.Store(false)
	t.idle()
	for {
		select {
		case <-t.pt.resume:
		case <-t.wake:
		}
		k.mu.Lock()
		if !t.pt.stopped {
			sig, fp := t.pt.resumeSig, t.pt.fp
			dirty, step := t.pt.fpDirty, t.pt.mode == ResumeSingleStep && t.pt.tracer != nil
			t.pt.fpDirty, t.pt.fp = false, nil
			k.mu.Unlock()
			t.busy.Store(true)
			if dirty {
				_ = t.Ctx.SetFPState(fp)
			}
			// PTRACE_SINGLESTEP runs one instruction with the trap
			// flag: its #DB comes back as SIGTRAP (Run).
			if step {
				t.Regs.RFLAGS |= trapFlag
			} else if t.pt.stepping {
				t.Regs.RFLAGS &^= trapFlag
			}
			t.pt.stepping = step
			return sig, true
		}
		if t.mustDieLocked(exiting) {
			t.pt.stopped, t.pt.report = false, 0
			k.mu.Unlock()
			t.busy.Store(true)
			return 0, true
		}
		k.mu.Unlock()
	}
}

// mustDieLocked reports whether t must stop waiting for its tracer: its
// process exits, it exits, or SIGKILL is pending (only that, when
// exiting). k.mu is held.
func (t *Task) mustDieLocked(exiting bool) bool {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	kill := (tg.sigs.mask|t.sigs.mask)&sigBit(unix.SIGKILL) != 0
	return kill || !exiting && (tg.exiting || t.threadExit)
}

// ptraceSignalStop is the signal-delivery-stop of a traced task that
// dequeued sig: the tracer sees it and says what to deliver instead (0:
// nothing). It returns the signal and its siginfo.
func (t *Task) ptraceSignalStop(sig unix.Signal, info SigInfo) (unix.Signal, SigInfo) {
	info.Signo = int32(sig)
	nsig, ok := t.ptraceStop(int(sig)<<8|0x7f, info, 0)
	if !ok {
		return sig, info
	}
	if nsig == 0 {
		return 0, info
	}
	got, _ := t.K.PtraceInfo(t)
	if unix.Signal(got.Signo) != nsig {
		got = SigInfo{Signo: int32(nsig), Code: SIUser}
	}
	return nsig, got
}

// ptraceEventStop stops a traced task whose options ask for event ev
// (PTRACE_O_TRACE*), with msg for PTRACE_GETEVENTMSG. It reports whether
// it stopped.
func (t *Task) ptraceEventStop(option uint32, ev int, msg uint64) bool {
	if !t.Traced() {
		return false
	}
	t.K.mu.Lock()
	want := t.pt.options&option != 0
	t.K.mu.Unlock()
	if !want {
		return false
	}
	t.ptraceEvent(ev, msg, false)
	return true
}

// ptraceEvent is the stop for PTRACE_EVENT ev: the wait status and
// siginfo code are SIGTRAP | ev<<8, and msg is what PTRACE_GETEVENTMSG
// reads. An exiting task's stop (PTRACE_EVENT_EXIT) also ends at a
// SIGKILL.
func (t *Task) ptraceEvent(ev int, msg uint64, exiting bool) {
	code := int(unix.SIGTRAP) | ev<<8
	t.ptraceStopUntil(code<<8|0x7f, SigInfo{Signo: int32(unix.SIGTRAP), Code: int32(code)}, msg, exiting)
}

// syscallTrace reports whether t stops at syscall entry and exit
// (resumed with PTRACE_SYSCALL), and the stop's wait status.
func (t *Task) syscallTrace() (int, bool) {
	if !t.Traced() {
		return 0, false
	}
	k := t.K
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.pt.mode != ResumeSyscall {
		return 0, false
	}
	sig := int(unix.SIGTRAP)
	if t.pt.options&unix.PTRACE_O_TRACESYSGOOD != 0 {
		sig |= 0x80
	}
	return sig<<8 | 0x7f, true
}

// PTRACE_GETEVENTMSG at a syscall stop (linux/ptrace.h): which one it is.
const (
	PtraceEventMsgSyscallEntry = 1
	PtraceEventMsgSyscallExit  = 2
)

// ptraceSyscallStop is a syscall-entry or -exit stop (msg says which).
func (t *Task) ptraceSyscallStop(status int, msg uint64) {
	t.ptraceStop(status, SigInfo{Signo: int32(unix.SIGTRAP), Code: int32(status>>8) & 0xff}, msg)
}

// PtraceExec runs after a traced task's successful execve: the
// PTRACE_EVENT_EXEC stop if asked for (msg: the former thread ID), else
// the SIGTRAP that Linux sends a task traced without PTRACE_SEIZE.
func (t *Task) PtraceExec(formerTID int32) {
	if !t.Traced() {
		return
	}
	if t.ptraceEventStop(unix.PTRACE_O_TRACEEXEC, PtraceEventExec, uint64(formerTID)) {
		return
	}
	t.K.mu.Lock()
	seized := t.pt.seized
	t.K.mu.Unlock()
	if !seized {
		t.SendSignalInfo(SigInfo{Signo: int32(unix.SIGTRAP), Code: SIUser})
	}
}

// PtraceCloned runs in the parent after clone made child and before it
// starts: a traced parent whose options follow the kind of child (or
// CLONE_PTRACE) makes its tracer trace the child too, which starts
// stopped (SIGSTOP; PTRACE_EVENT_STOP when seized). It returns the event
// for PtraceClonedStop (0: none).
func (t *Task) PtraceCloned(child *Task, flags uint64, exitSignal unix.Signal) int {
	if !t.Traced() {
		return 0
	}
	ev, opt := PtraceEventClone, uint32(unix.PTRACE_O_TRACECLONE)
	switch {
	case flags&unix.CLONE_VFORK != 0:
		ev, opt = PtraceEventVfork, unix.PTRACE_O_TRACEVFORK
	case exitSignal == unix.SIGCHLD:
		ev, opt = PtraceEventFork, unix.PTRACE_O_TRACEFORK
	}
	k := t.K
	k.mu.Lock()
	tr := t.pt.tracer
	follow := tr != nil && (t.pt.options&opt != 0 || flags&unix.CLONE_PTRACE != 0 && flags&unix.CLONE_UNTRACED == 0)
	if follow {
		k.linkTracerLocked(tr, child, t.pt.seized, t.pt.options)
		if child.pt.seized {
			child.pt.interrupt = true
		}
	}
	report := follow && t.pt.options&opt != 0
	k.mu.Unlock()
	if follow && !child.pt.seized {
		child.SendSignalInfo(SigInfo{Signo: int32(unix.SIGSTOP), Code: SIKernel})
	}
	if !report {
		return 0
	}
	return ev
}

// PtraceClonedStop is the parent's event stop for a child PtraceCloned
// reported (msg: the child's thread ID).
func (t *Task) PtraceClonedStop(ev int, childTID int32) {
	if ev == 0 {
		return
	}
	t.ptraceEvent(ev, uint64(childTID), false)
}

// ptraceInterruptStop is the PTRACE_INTERRUPT stop, if one was asked.
func (t *Task) ptraceInterruptStop() {
	if !t.Traced() {
		return
	}
	k := t.K
	k.mu.Lock()
	want := t.pt.interrupt
	t.pt.interrupt = false
	k.mu.Unlock()
	if want {
		t.ptraceEvent(PtraceEventStop, 0, false)
	}
}

// ptraceExitStop is the PTRACE_EVENT_EXIT stop of a task about to end
// (not for SIGKILL: Linux's tracer could not resume it either).
func (t *Task) ptraceExitStop() {
	if !t.Traced() {
		return
	}
	tg := t.TG
	tg.mu.Lock()
	killed := tg.exiting && tg.status.Signal == unix.SIGKILL || (tg.sigs.mask|t.sigs.mask)&sigBit(unix.SIGKILL) != 0
	tg.mu.Unlock()
	if killed {
		return
	}
	k := t.K
	k.mu.Lock()
	want := t.pt.options&unix.PTRACE_O_TRACEEXIT != 0
	k.mu.Unlock()
	if want {
		t.ptraceEvent(PtraceEventExit, uint64(t.exitWaitStatus()), true)
	}
}

// exitWaitStatus is the wait status of t's end: its process's, if the
// process is exiting, else its own exit code.
func (t *Task) exitWaitStatus() int {
	tg := t.TG
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.exiting {
		return tg.status.WaitStatus()
	}
	return t.ownExitStatus().WaitStatus()
}

// ptraceFinishedLocked records a traced task's end for its tracer's
// wait, unless its parent's wait reports it (the leader of a process
// whose parent traces it). A tracer's own end detaches its tracees, and
// kills them with PTRACE_O_EXITKILL. k.mu is held.
func (k *Kernel) ptraceFinishedLocked(t *Task, status int) {
	if tr := t.pt.tracer; tr != nil {
		if t.TID == t.TG.PID && t.TG.parent == tr {
			k.unlinkTracerLocked(t, 0)
		} else {
			t.pt.exited, t.pt.exitReport = true, status
			t.pt.stopped = false
			tr.notifyChildEventLocked()
		}
	}
}

// ptraceTracerExitedLocked detaches tg's tracees; it reports those to
// kill (PTRACE_O_EXITKILL). k.mu is held.
func (k *Kernel) ptraceTracerExitedLocked(tg *ThreadGroup) []*Task {
	var kill []*Task
	for t := range tg.tracees {
		if t.pt.options&unix.PTRACE_O_EXITKILL != 0 && !t.pt.exited {
			kill = append(kill, t)
		}
		k.unlinkTracerLocked(t, 0)
	}
	tg.tracees = nil
	return kill
}

// ptraceReportLocked returns what wait reports of tracee t of self, if
// anything. k.mu is held.
func (k *Kernel) ptraceReportLocked(self *ThreadGroup, t *Task, o WaitOpts) (WaitResult, bool) {
	uid := t.TG.Creds().UID
	if t.pt.exited {
		if !o.Exited {
			return WaitResult{}, false
		}
		st := t.pt.exitReport
		r := WaitResult{PID: t.TID, UID: uid, Status: st, Code: cldExited, Value: int32(st>>8) & 0xff}
		if st&0x7f != 0 {
			r.Code, r.Value = cldKilled, int32(st&0x7f)
		}
		if !o.NoWait {
			delete(self.tracees, t)
			t.pt.tracer = nil
			t.pt.traced.Store(false)
			t.pt.tracerPID.Store(0)
		}
		return r, true
	}
	if t.pt.stopped && t.pt.report != 0 {
		st := t.pt.report
		r := WaitResult{PID: t.TID, UID: uid, Status: st, Code: cldTrapped, Value: int32(st>>8) & 0xff}
		if !o.NoWait {
			t.pt.report = 0
		}
		return r, true
	}
	return WaitResult{}, false
}

// ptraceMatches reports whether wait's selection o takes tracee t.
func (o WaitOpts) ptraceMatches(t *Task) bool {
	switch {
	case o.PGID:
		return t.TG.pgid == o.Which
	case o.Which > 0:
		return t.TID == o.Which
	}
	return true
}
