package kernel

import (
	"errors"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/mm"
)

// DefaultMaxTasks is the default bound on live tasks (--pids).
const DefaultMaxTasks = 4096

// procTable is the kernel's table of tasks and of the address spaces and
// descriptor tables tasks share, guarded by Kernel.mu.
type procTable struct {
	tasks   map[int32]*Task
	byHost  map[int]*Task // by the host thread that runs it
	mmUsers map[*mm.MM]int
	fdUsers map[*fs.FDTable]int
}

func (p *procTable) init() {
	p.tasks = map[int32]*Task{}
	p.byHost = map[int]*Task{}
	p.mmUsers = map[*mm.MM]int{}
	p.fdUsers = map[*fs.FDTable]int{}
}

// SetCPUs bounds how many tasks run user code at once (--cpus); n <= 0
// removes the bound.
func (k *Kernel) SetCPUs(n int) {
	if n <= 0 {
		k.runTokens = nil
		return
	}
	k.runTokens = make(chan struct{}, n)
}

// Wait statuses and siginfo codes of SIGCHLD.
const (
	cldExited    = 1
	cldKilled    = 2
	cldDumped    = 3
	cldStopped   = 5
	cldContinued = 6
)

// ErrNoTasks means the task limit (--pids) or the vCPU limit is reached:
// clone and fork fail with EAGAIN.
var ErrNoTasks = unix.EAGAIN

// Task returns the live task tid, or nil.
func (k *Kernel) Task(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.procs.tasks[tid]
}

// taskOnThread returns the task that host thread tid runs, or nil.
func (k *Kernel) taskOnThread(tid int) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.procs.byHost[tid]
}

// Group returns the process pid (alive or a zombie), or nil.
func (k *Kernel) Group(pid int32) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.groups[pid]
}

// nprocExceededLocked reports whether a new task of tg would pass its
// RLIMIT_NPROC, as Linux counts it: the live tasks (threads too) whose
// real UID is tg's. Root, and holders of CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN, are exempt. k.mu is held; only a finite limit costs a
// walk of the tasks.
func (k *Kernel) nprocExceededLocked(tg *ThreadGroup) bool {
	lim := tg.Limit(unix.RLIMIT_NPROC).Cur
	if lim == infinity || lim >= uint64(len(k.procs.tasks))+1 {
		return false
	}
	c := tg.Creds()
	if c.UID == 0 || c.HasCap(CapSysResource) || c.HasCap(CapSysAdmin) {
		return false
	}
	var n uint64
	for _, t := range k.procs.tasks {
		if t.TG != nil && t.TG.Creds().UID == c.UID {
			n++
		}
	}
	return n >= lim
}

// addTaskLocked registers a new task; k.mu is held. It fails with EAGAIN
// past MaxTasks.
func (k *Kernel) addTaskLocked(t *Task) error {
	if k.MaxTasks > 0 && len(k.procs.tasks) >= k.MaxTasks {
		return ErrNoTasks
	}
	k.procs.tasks[t.TID] = t
	k.procs.mmUsers[t.MM]++
	return nil
}

// putMMLocked drops a task's use of m; the last user releases it. k.mu
// is held.
func (k *Kernel) putMMLocked(m *mm.MM) (release bool) {
	if m == nil {
		return false
	}
	n := k.procs.mmUsers[m] - 1
	if n > 0 {
		k.procs.mmUsers[m] = n
		return false
	}
	delete(k.procs.mmUsers, m)
	return true
}

// putFDsLocked drops a process's use of a descriptor table; it reports
// whether it was the last. k.mu is held.
func (k *Kernel) putFDsLocked(t *fs.FDTable) bool {
	n := k.procs.fdUsers[t] - 1
	if n > 0 {
		k.procs.fdUsers[t] = n
		return false
	}
	delete(k.procs.fdUsers, t)
	return true
}

// UnshareFiles gives the process a private copy of its descriptor table
// if another process shares it (a CLONE_FILES clone): unshare(CLONE_FILES)
// and execve do, as Linux's unshare_files. The copy holds the same open
// files and close-on-exec flags; POSIX locks stay with the shared table,
// whose owner they are. The caller is the process's only thread.
func (tg *ThreadGroup) UnshareFiles() {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	old := tg.FDs
	if k.procs.fdUsers[old] <= 1 {
		return
	}
	fds := old.Fork()
	k.procs.fdUsers[old]--
	k.procs.fdUsers[fds] = 1
	tg.mu.Lock()
	tg.FDs = fds
	tg.mu.Unlock()
}

// FileRef returns the open file at descriptor fd of the process with a
// new reference (the caller drops it): EBADF for none, ESRCH once the
// process has exited and its table goes (pidfd_getfd, kcmp).
func (tg *ThreadGroup) FileRef(fd int) (*fs.File, error) {
	tg.mu.Lock()
	fds, gone := tg.FDs, tg.filesGone
	tg.mu.Unlock()
	if gone {
		return nil, unix.ESRCH
	}
	return fds.GetRef(fd)
}

// FilesID and AddressSpaceID identify what a task shares with others, for
// kcmp: its process's descriptor table and its address space. Only
// compared, never dereferenced.
func (tg *ThreadGroup) FilesID() uintptr { return uintptr(unsafe.Pointer(tg.fdTable())) }

// AddressSpaceID: see FilesID.
func (t *Task) AddressSpaceID() uintptr { return uintptr(unsafe.Pointer(t.AddressSpace())) }

// AddressSpace returns the task's address space, for another task
// (process_vm_readv, /proc): Exec replaces it under the process's lock.
func (t *Task) AddressSpace() *mm.MM {
	t.TG.mu.Lock()
	defer t.TG.mu.Unlock()
	return t.MM
}

// fdTable returns the process's descriptor table, for another process's
// task (/proc/PID/fd, prlimit): UnshareFiles may replace it meanwhile.
func (tg *ThreadGroup) fdTable() *fs.FDTable {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.FDs
}

// Parent returns the parent process, nil for the sandbox's first one.
func (tg *ThreadGroup) Parent() *ThreadGroup {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.parent
}

// PPID is the parent's PID as getppid reports it (0 for the first
// process, which has no parent inside the sandbox).
func (tg *ThreadGroup) PPID() int32 {
	if p := tg.Parent(); p != nil {
		return p.PID
	}
	return 0
}

// PGID returns the process group.
func (tg *ThreadGroup) PGID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.pgid
}

// SID returns the session.
func (tg *ThreadGroup) SID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.sid
}

// SetSubreaper marks the process as a child subreaper (PR_SET_CHILD_SUBREAPER).
func (tg *ThreadGroup) SetSubreaper(on bool) {
	tg.k.mu.Lock()
	tg.subreaper = on
	tg.k.mu.Unlock()
}

// Subreaper reports PR_GET_CHILD_SUBREAPER.
func (tg *ThreadGroup) Subreaper() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.subreaper
}

// SetPGID is setpgid(pid, pgid) called by t.
func (k *Kernel) SetPGID(t *Task, pid, pgid int32) error {
	if pgid < 0 {
		return unix.EINVAL
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	self := t.TG
	target := self
	if pid != 0 && pid != self.PID {
		target = k.groups[pid]
		if target == nil || target.parent != self || target.zombie {
			return unix.ESRCH
		}
		if target.sid != self.sid {
			return unix.EPERM
		}
		if target.execed {
			return unix.EACCES
		}
	}
	if pgid == 0 {
		pgid = target.PID
	}
	if target.sid == target.PID {
		return unix.EPERM // a session leader
	}
	if pgid != target.PID {
		ok := false
		for _, g := range k.groups {
			if g.pgid == pgid && g.sid == self.sid && !g.zombie {
				ok = true
				break
			}
		}
		if !ok {
			return unix.EPERM
		}
	}
	target.pgid = pgid
	return nil
}

// GetPGID is getpgid(pid).
func (k *Kernel) GetPGID(t *Task, pid int32) (int32, error) {
	if pid == 0 {
		return t.TG.PGID(), nil
	}
	g := k.Group(pid)
	if g == nil {
		return 0, unix.ESRCH
	}
	return g.PGID(), nil
}

// GetSID is getsid(pid).
func (k *Kernel) GetSID(t *Task, pid int32) (int32, error) {
	if pid == 0 {
		return t.TG.SID(), nil
	}
	g := k.Group(pid)
	if g == nil {
		return 0, unix.ESRCH
	}
	return g.SID(), nil
}

// SetSID is setsid: a new session and process group led by the caller.
func (k *Kernel) SetSID(t *Task) (int32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.TG
	for _, g := range k.groups {
		if g.pgid == tg.PID {
			return 0, unix.EPERM // already a process group leader
		}
	}
	tg.sid, tg.pgid = tg.PID, tg.PID
	return tg.PID, nil
}

// notifyChildEventLocked wakes the parent's waiters. k.mu is held.
func (tg *ThreadGroup) notifyChildEventLocked() {
	close(tg.childEvent)
	tg.childEvent = make(chan struct{})
}

// autoReapLocked reports whether parent discards its children's exit
// statuses: SIGCHLD ignored or SA_NOCLDWAIT. k.mu is held.
func autoReap(parent *ThreadGroup) bool {
	a := parent.Action(unix.SIGCHLD)
	return a.Handler == SigIgn || a.Flags&saNoCldWait != 0
}

// exited runs when the last task of tg has finished: the process becomes a
// zombie for its parent (or is reaped at once), its children go to a
// reaper, and the parent hears of it.
func (tg *ThreadGroup) exited() {
	k := tg.k
	tg.mu.Lock()
	status := tg.status
	tg.stopTimersLocked()
	fds := tg.FDs
	tg.filesGone = true
	tg.mu.Unlock()

	// The files are closed before the parent can learn of the exit, as
	// Linux's exit_files comes before exit_notify: a parent that waited
	// for its child may rebind the name of a socket they shared.
	k.mu.Lock()
	lastFDs := k.putFDsLocked(fds)
	k.mu.Unlock()
	if lastFDs {
		fds.Release()
	}

	k.mu.Lock()
	ptKill := k.ptraceTracerExitedLocked(tg)
	ctty := k.dropCTTYLocked(tg)
	// Orphans go to the nearest subreaper ancestor, else to the first
	// process; if that is the one exiting, they are reaped here.
	reaper := tg.parent
	for reaper != nil && !reaper.subreaper {
		reaper = reaper.parent
	}
	if reaper == nil {
		reaper = k.groups[1]
	}
	var deathSigs []*Task
	formerChildren := make([]*ThreadGroup, 0, len(tg.children))
	for c := range tg.children {
		formerChildren = append(formerChildren, c)
		delete(tg.children, c)
		for _, t := range c.tasks {
			if t.PDeathSig != 0 {
				deathSigs = append(deathSigs, t)
			}
		}
		if reaper == nil || reaper == tg || reaper.zombie {
			c.parent = nil
			if c.zombie {
				k.reapLocked(c)
			}
			continue
		}
		c.parent = reaper
		reaper.children[c] = struct{}{}
		if c.zombie {
			reaper.notifyChildEventLocked()
		}
	}
	orphaned := k.newlyOrphanedLocked(tg, formerChildren)
	parent := tg.parent
	notify := parent != nil && !parent.zombie
	if notify && tg.exitSignal == unix.SIGCHLD && autoReap(parent) {
		delete(parent.children, tg)
		k.reapLocked(tg)
		notify = false
		parent.notifyChildEventLocked()
	} else {
		tg.zombie = true
		if notify {
			parent.notifyChildEventLocked()
		} else if parent == nil && tg.PID != 1 {
			k.reapLocked(tg) // nobody can wait for it
		}
	}
	k.mu.Unlock()

	for _, t := range ptKill {
		t.SendSignalInfo(SigInfo{Signo: int32(unix.SIGKILL), Code: SIKernel})
	}
	if ctty != nil {
		ctty.ControllerExited()
	}
	for _, pgid := range orphaned {
		k.hangUpIfStopped(pgid)
	}
	for _, t := range deathSigs {
		t.SendSignal(SigInfo{Signo: int32(t.PDeathSig), Code: SIUser})
	}
	if notify && tg.exitSignal != 0 {
		code, st := int32(cldExited), int32(status.Code)
		if status.Signal != 0 {
			code, st = cldKilled, int32(status.Signal)
			if status.Core {
				code = cldDumped
			}
		}
		parent.SendSignalInfo(SigInfo{Signo: int32(tg.exitSignal), Code: code, PID: tg.PID,
			UID: tg.Creds().UID, Status: st})
	}
	close(tg.done)
	tg.pidfdQ.Notify(waiter.ReadableEvents)
}

// reapLocked forgets a zombie; its CPU time, and its reaped children's,
// goes to its parent's account. k.mu is held.
func (k *Kernel) reapLocked(tg *ThreadGroup) {
	if p := tg.parent; p != nil {
		tg.mu.Lock()
		d := tg.deadCPU + tg.childCPU
		tg.mu.Unlock()
		p.mu.Lock()
		p.childCPU += d
		p.mu.Unlock()
	}
	tg.reaped = true
	tg.zombie = false
	if k.groups[tg.PID] == tg {
		delete(k.groups, tg.PID)
	}
}

// WaitOpts are wait4/waitid's options.
type WaitOpts struct {
	// Which: -1 any child, > 0 that PID; PGID selects a process group
	// instead (Which is then the group).
	Which  int32
	PGID   bool
	Exited bool // WEXITED (wait4: always)
	// Stopped and Continued report job-control changes (WUNTRACED,
	// WCONTINUED).
	Stopped, Continued bool
	NoHang             bool // WNOHANG
	NoWait             bool // WNOWAIT: leave the child waitable
	// Clone selects children whose exit signal is not SIGCHLD (__WCLONE);
	// All selects every child (__WALL).
	Clone, All bool
}

// WaitResult is what a wait reports of one child.
type WaitResult struct {
	// CPU is the child's CPU time and its reaped children's (rusage).
	CPU    time.Duration
	PID    int32
	UID    uint32
	Status int   // as wait4's status word
	Code   int32 // siginfo si_code (CLD_*)
	Value  int32 // si_status: exit code or signal
}

// Wait waits for a child of t's process to change state as o selects. It
// returns (zero, nil) for WNOHANG with nothing to report, ECHILD when no
// child matches, and ErrRestartSys when a signal cuts the wait short.
func (k *Kernel) Wait(t *Task, o WaitOpts) (WaitResult, error) {
	self := t.TG
	for {
		k.mu.Lock()
		matched := false
		for c := range self.children {
			if !o.matches(c) {
				continue
			}
			matched = true
			if r, ok := k.reportLocked(self, c, o); ok {
				k.mu.Unlock()
				return r, nil
			}
		}
		for tr := range self.tracees {
			if !o.ptraceMatches(tr) {
				continue
			}
			matched = true
			if r, ok := k.ptraceReportLocked(self, tr, o); ok {
				k.mu.Unlock()
				return r, nil
			}
		}
		ev := self.childEvent
		k.mu.Unlock()
		if !matched {
			return WaitResult{}, unix.ECHILD
		}
		if o.NoHang {
			return WaitResult{}, nil
		}
		if t.SignalPending() {
			return WaitResult{}, ErrRestartSys
		}
		select {
		case <-ev:
		case <-t.Interrupted():
		}
	}
}

func (o WaitOpts) matches(c *ThreadGroup) bool {
	switch {
	case o.PGID:
		if c.pgid != o.Which {
			return false
		}
	case o.Which > 0:
		if c.PID != o.Which {
			return false
		}
	}
	if o.All {
		return true
	}
	clone := c.exitSignal != unix.SIGCHLD
	return clone == o.Clone
}

// reportLocked returns what wait reports of child c, if anything, and
// reaps it unless NoWait. k.mu is held.
func (k *Kernel) reportLocked(self, c *ThreadGroup, o WaitOpts) (WaitResult, bool) {
	uid := c.Creds().UID
	if c.zombie && o.Exited {
		st := c.Status()
		c.mu.Lock()
		cpu := c.deadCPU + c.childCPU
		c.mu.Unlock()
		r := WaitResult{PID: c.PID, UID: uid, Status: st.WaitStatus(), Code: cldExited, Value: int32(st.Code & 0xff), CPU: cpu}
		if st.Signal != 0 {
			r.Code, r.Value = cldKilled, int32(st.Signal)
			if st.Core {
				r.Code = cldDumped
			}
		}
		if !o.NoWait {
			delete(self.children, c)
			k.reapLocked(c)
		}
		return r, true
	}
	if c.zombie {
		return WaitResult{}, false
	}
	if o.Stopped && c.stopReport != 0 {
		r := WaitResult{PID: c.PID, UID: uid, Status: 0x7f | int(c.stopReport)<<8, Code: cldStopped, Value: int32(c.stopReport)}
		if !o.NoWait {
			c.stopReport = 0
		}
		return r, true
	}
	if o.Continued && c.contReport {
		r := WaitResult{PID: c.PID, UID: uid, Status: 0xffff, Code: cldContinued, Value: int32(unix.SIGCONT)}
		if !o.NoWait {
			c.contReport = false
		}
		return r, true
	}
	return WaitResult{}, false
}

// Signal targets for kill(2).
var errNoProcess = unix.ESRCH

// Kill is kill(pid, sig) from t: pid > 0 that process, 0 the caller's
// process group, -1 every process but the first and the caller's, < -1
// the process group -pid. sig 0 only checks that a target exists.
func (k *Kernel) Kill(t *Task, pid int32, sig unix.Signal, info SigInfo) error {
	if sig < 0 || sig > NumSignals {
		return unix.EINVAL
	}
	var targets []*ThreadGroup
	k.mu.Lock()
	switch {
	case pid > 0:
		if g := k.groups[pid]; g != nil {
			targets = append(targets, g)
		}
	case pid == -1:
		for _, g := range k.groups {
			if g.PID != 1 && g != t.TG {
				targets = append(targets, g)
			}
		}
	default:
		pgid := -pid
		if pid == 0 {
			pgid = t.TG.pgid
		}
		for _, g := range k.groups {
			if g.pgid == pgid {
				targets = append(targets, g)
			}
		}
	}
	k.mu.Unlock()
	if len(targets) == 0 {
		return errNoProcess
	}
	if sig == 0 {
		return nil
	}
	queued := true
	for _, g := range targets {
		i := info
		i.Signo = int32(sig)
		queued = g.SendSignalInfo(i) && queued
	}
	if !queued {
		return unix.EAGAIN // a real-time signal queue was full
	}
	return nil
}

// KillThread is tgkill/tkill: sig to one thread (tgid < 0: any group).
func (k *Kernel) KillThread(tgid, tid int32, sig unix.Signal, info SigInfo) error {
	if sig < 0 || sig > NumSignals {
		return unix.EINVAL
	}
	t := k.Task(tid)
	if t == nil || tgid >= 0 && t.TG.PID != tgid {
		return errNoProcess
	}
	if sig == 0 {
		return nil
	}
	info.Signo = int32(sig)
	if !t.SendSignalInfo(info) {
		return unix.EAGAIN
	}
	return nil
}

// errExecRace means another thread's execve or the group's exit won.
var errExecRace = errors.New("the thread group is exiting")

// killOtherThreads ends every task of t's group but t (execve from a
// multi-threaded process) and waits until they are gone.
func (t *Task) killOtherThreads() error {
	tg := t.TG
	tg.mu.Lock()
	if tg.exiting || tg.execing != nil {
		tg.mu.Unlock()
		return errExecRace
	}
	if len(tg.tasks) == 1 {
		tg.mu.Unlock()
		return nil
	}
	tg.execing = t
	others := make([]*Task, 0, len(tg.tasks)-1)
	for _, o := range tg.tasks {
		if o != t {
			o.threadExit = true
			others = append(others, o)
		}
	}
	tg.mu.Unlock()
	for _, o := range others {
		o.interrupt()
	}
	// Wait without the vCPU: another thread may need one to see that it
	// must exit.
	t.idle()
	for {
		tg.mu.Lock()
		n := len(tg.tasks)
		tg.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(50 * time.Microsecond)
	}
	k := t.K
	k.mu.Lock()
	tg.mu.Lock()
	tg.execing = nil
	// The exec'ing thread becomes the group leader: it takes the PID.
	if t.TID != tg.PID {
		delete(k.procs.tasks, t.TID)
		t.TID = tg.PID
		k.procs.tasks[t.TID] = t
	}
	tg.mu.Unlock()
	k.mu.Unlock()
	return nil
}

// newlyOrphanedLocked returns the process groups that tg's exit leaves
// orphaned (Linux's kill_orphaned_pgrp): tg's own, when tg's parent was
// its group's link to another group of the session, and each former
// child's, when tg was that link. k.mu is held; the children have their
// new parents.
func (k *Kernel) newlyOrphanedLocked(tg *ThreadGroup, children []*ThreadGroup) []int32 {
	var out []int32
	add := func(pgid int32) {
		if !slices.Contains(out, pgid) && k.orphanedIgnoringLocked(pgid, tg) {
			out = append(out, pgid)
		}
	}
	if p := tg.parent; p != nil && p.pgid != tg.pgid && p.sid == tg.sid {
		add(tg.pgid)
	}
	for _, c := range children {
		if c.pgid != tg.pgid && c.sid == tg.sid {
			add(c.pgid)
		}
	}
	return out
}

// orphanedIgnoringLocked is OrphanedPgrp as if ignore were gone. k.mu is
// held.
func (k *Kernel) orphanedIgnoringLocked(pgid int32, ignore *ThreadGroup) bool {
	for _, g := range k.groups {
		if g.pgid != pgid || g.zombie || g == ignore {
			continue
		}
		if p := g.parent; p != nil && p != ignore && p.pgid != pgid && p.sid == g.sid {
			return false
		}
	}
	return true
}

// hangUpIfStopped sends SIGHUP and then SIGCONT to process group pgid,
// newly orphaned, when a member is stopped: nothing could continue it
// otherwise (POSIX).
func (k *Kernel) hangUpIfStopped(pgid int32) {
	stopped := false
	for _, g := range k.pgrpMembers(pgid) {
		g.mu.Lock()
		stopped = stopped || g.stopped
		g.mu.Unlock()
	}
	if stopped {
		k.SignalPgrp(pgid, unix.SIGHUP)
		k.SignalPgrp(pgid, unix.SIGCONT)
	}
}
