package ipc

import (
	"time"

	"golang.org/x/sys/unix"
)

// Semaphore limits (Linux's defaults), flags and semctl commands
// (linux/sem.h).
const (
	SemMSL = 32000           // semaphores per set
	SemMNI = 32000           // sets
	SemMNS = SemMNI * SemMSL // semaphores in all sets
	SemOPM = 500             // operations per semop
	SemVMX = 32767           // semaphore value
	SemAEM = SemVMX          // adjust-on-exit value

	SemUndo = 0x1000 // SEM_UNDO

	GetPID     = 11
	GetVal     = 12
	GetAll     = 13
	GetNCnt    = 14
	GetZCnt    = 15
	SetVal     = 16
	SetAll     = 17
	SemStat    = 18
	SemInfo    = 19
	SemStatAny = 20
)

// SemOp is a struct sembuf.
type SemOp struct {
	Num   uint16
	Op    int16
	Flags int16
}

type semaphore struct {
	val int32
	pid int32 // the process of the last operation
}

// SemSet is a semaphore set.
type SemSet struct {
	objBase
	ns           *Namespace
	sems         []semaphore
	otime, ctime int64
	// queue holds the blocked operations, oldest first.
	queue []*semWaiter
	// undo holds each process's SEM_UNDO adjustments.
	undo    map[int32]*semUndo
	removed bool
}

type semUndo struct {
	adj []int32
}

// semWaiter is a blocked semop. Whoever makes its operations possible
// performs them and closes done.
type semWaiter struct {
	ops      []SemOp
	pid      int32
	undo     *semUndo
	blocking int // the operation it waits on (GETNCNT, GETZCNT)
	done     chan struct{}
	finished bool
	err      error
}

// SemDS is a set's semid_ds.
type SemDS struct {
	Perm         Perm
	Otime, Ctime int64
	Nsems        uint64
}

// SemInfoData is struct seminfo.
type SemInfoData struct {
	SemMap, SemMNI, SemMNS, SemMNU, SemMSL, SemOPM, SemUME, SemUSZ, SemVMX, SemAEM int32
}

func setCost(nsems int) int64  { return objectCost + 8*int64(nsems) }
func undoCost(nsems int) int64 { return 64 + 4*int64(nsems) }

// SemGet is semget(2).
func (ns *Namespace) SemGet(c Caller, key int32, nsems int, flags int) (int32, error) {
	if nsems < 0 || nsems > SemMSL {
		return 0, unix.EINVAL
	}
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	check := func(s *SemSet) error {
		if nsems > len(s.sems) {
			return unix.EINVAL
		}
		return nil
	}
	make := func() (*SemSet, error) {
		if nsems == 0 {
			return nil, unix.EINVAL
		}
		if ns.usedSems+nsems > SemMNS {
			return nil, unix.ENOSPC
		}
		if err := ns.charge(setCost(nsems)); err != nil {
			return nil, err
		}
		ns.usedSems += nsems
		return &SemSet{ns: ns, sems: make([]semaphore, nsems), ctime: now(), undo: map[int32]*semUndo{}}, nil
	}
	drop := func(s *SemSet) {
		ns.usedSems -= len(s.sems)
		ns.uncharge(setCost(len(s.sems)))
	}
	return getOrCreate(&ns.sems, c, key, flags, check, make, drop)
}

// Semop is semop(2) and semtimedop(2): the operations are done all at
// once or not at all. When they cannot be done yet, the call waits
// (unless the operation that cannot be done has IPC_NOWAIT: EAGAIN) until
// another call makes them possible, the set is removed (EIDRM), the
// deadline passes (EAGAIN; a zero deadline waits for ever) or a signal
// comes (EINTR).
func (ns *Namespace) Semop(w Waiter, c Caller, id int32, ops []SemOp, deadline time.Time) error {
	if len(ops) < 1 || id < 0 {
		return unix.EINVAL
	}
	if len(ops) > SemOPM {
		return unix.E2BIG
	}
	maxNum, undo, alter := 0, false, false
	for _, o := range ops {
		maxNum = max(maxNum, int(o.Num))
		undo = undo || o.Flags&SemUndo != 0
		alter = alter || o.Op != 0
	}
	ns.semMu.Lock()
	s, ok := ns.sems.lookup(id)
	if !ok {
		ns.semMu.Unlock()
		return unix.EINVAL
	}
	if maxNum >= len(s.sems) {
		ns.semMu.Unlock()
		return unix.EFBIG
	}
	acc := uint32(accRead)
	if alter {
		acc = accWrite
	}
	if !s.perm.allowed(c, acc) {
		ns.semMu.Unlock()
		return unix.EACCES
	}
	var un *semUndo
	if undo {
		var err error
		if un, err = ns.undoLocked(s, c.PID); err != nil {
			ns.semMu.Unlock()
			return err
		}
	}
	err, blocked := s.tryLocked(ops, c.PID, un)
	if blocked < 0 {
		if err == nil {
			s.otime = now()
			if alter {
				s.updateLocked()
			}
		}
		ns.semMu.Unlock()
		return err
	}
	q := &semWaiter{ops: ops, pid: c.PID, undo: un, blocking: blocked, done: make(chan struct{})}
	s.queue = append(s.queue, q)
	ns.semMu.Unlock()

	r := sleep(w, q.done, deadline)
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	if q.finished {
		return q.err // done by another call, or the set removed
	}
	s.dequeueLocked(q)
	if r == timedOut {
		return unix.EAGAIN
	}
	return unix.EINTR
}

// undoLocked returns pid's undo record in s, made on first use.
func (ns *Namespace) undoLocked(s *SemSet, pid int32) (*semUndo, error) {
	if u := s.undo[pid]; u != nil {
		return u, nil
	}
	if err := ns.charge(undoCost(len(s.sems))); err != nil {
		return nil, err
	}
	u := &semUndo{adj: make([]int32, len(s.sems))}
	s.undo[pid] = u
	sets := ns.undos[pid]
	if sets == nil {
		sets = map[*SemSet]struct{}{}
		ns.undos[pid] = sets
	}
	sets[s] = struct{}{}
	return u, nil
}

// tryLocked performs ops in order if all can be done now: it returns nil
// and -1 then. An operation that would make a value too large, or an
// adjustment out of range, fails the call (ERANGE, -1); one that cannot
// be done yet fails it with EAGAIN and -1 if it has IPC_NOWAIT, else
// returns its index: the call must wait. Nothing changes unless all are
// done.
func (s *SemSet) tryLocked(ops []SemOp, pid int32, un *semUndo) (error, int) {
	undoTo := func(i int) {
		for j := i - 1; j >= 0; j-- {
			o := ops[j]
			if o.Op == 0 {
				continue
			}
			s.sems[o.Num].val -= int32(o.Op)
			if o.Flags&SemUndo != 0 {
				un.adj[o.Num] += int32(o.Op)
			}
		}
	}
	for i, o := range ops {
		sm := &s.sems[o.Num]
		nv := sm.val + int32(o.Op)
		if o.Op == 0 && sm.val != 0 || nv < 0 {
			undoTo(i)
			if o.Flags&NoWait != 0 {
				return unix.EAGAIN, -1
			}
			return nil, i
		}
		if nv > SemVMX {
			undoTo(i)
			return unix.ERANGE, -1
		}
		if o.Flags&SemUndo != 0 && o.Op != 0 {
			adj := un.adj[o.Num] - int32(o.Op)
			if adj < -(SemAEM+1) || adj > SemAEM {
				undoTo(i)
				return unix.ERANGE, -1
			}
			un.adj[o.Num] = adj
		}
		sm.val = nv
	}
	for _, o := range ops {
		s.sems[o.Num].pid = pid
	}
	return nil, -1
}

// updateLocked completes the blocked operations that the set's values
// now allow, oldest first; after one that changed values the scan starts
// again, since it may allow older ones.
func (s *SemSet) updateLocked() {
	for again := true; again; {
		again = false
		for i := 0; i < len(s.queue); i++ {
			q := s.queue[i]
			err, blocked := s.tryLocked(q.ops, q.pid, q.undo)
			if blocked >= 0 {
				q.blocking = blocked
				continue
			}
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			i--
			q.err, q.finished = err, true
			close(q.done)
			if err == nil {
				s.otime = now()
				if alters(q.ops) {
					again = true
					break
				}
			}
		}
	}
}

func alters(ops []SemOp) bool {
	for _, o := range ops {
		if o.Op != 0 {
			return true
		}
	}
	return false
}

func (s *SemSet) dequeueLocked(q *semWaiter) {
	for i, x := range s.queue {
		if x == q {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			return
		}
	}
}

// HasUndo reports whether process pid has SEM_UNDO adjustments (its undo
// list exists, as Linux's sysvsem.undo_list once a semop used SEM_UNDO).
func (ns *Namespace) HasUndo(pid int32) bool {
	if ns == nil {
		return false
	}
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	return ns.undos[pid] != nil
}

// ExitProcess applies the SEM_UNDO adjustments of process pid, which has
// exited: each value moves by its adjustment, clamped to [0, SEMVMX], and
// blocked operations that this allows complete. Calling it for a process
// that never used SEM_UNDO, or on a nil namespace, does nothing.
func (ns *Namespace) ExitProcess(pid int32) {
	if ns == nil {
		return
	}
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	sets := ns.undos[pid]
	if sets == nil {
		return
	}
	delete(ns.undos, pid)
	for s := range sets {
		u := s.undo[pid]
		delete(s.undo, pid)
		ns.uncharge(undoCost(len(s.sems)))
		changed := false
		for i, a := range u.adj {
			if a == 0 {
				continue
			}
			v := min(max(s.sems[i].val+a, 0), SemVMX)
			s.sems[i].val, s.sems[i].pid = v, pid
			changed = true
		}
		if changed {
			s.otime = now()
			s.updateLocked()
		}
	}
}

// lookupSet finds set id and checks access acc; ns.semMu is held.
func (ns *Namespace) lookupSet(c Caller, id int32, acc uint32) (*SemSet, error) {
	s, ok := ns.sems.lookup(id)
	if !ok {
		return nil, unix.EINVAL
	}
	if acc != 0 && !s.perm.allowed(c, acc) {
		return nil, unix.EACCES
	}
	return s, nil
}

// SemGetOne is GETVAL, GETPID, GETNCNT and GETZCNT of semaphore num.
func (ns *Namespace) SemGetOne(c Caller, id int32, num int, cmd int) (int, error) {
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, err := ns.lookupSet(c, id, accRead)
	if err != nil {
		return 0, err
	}
	if num < 0 || num >= len(s.sems) {
		return 0, unix.EINVAL
	}
	switch cmd {
	case GetVal:
		return int(s.sems[num].val), nil
	case GetPID:
		return int(s.sems[num].pid), nil
	case GetNCnt, GetZCnt:
		// A blocked call counts for the operation it waits on only
		// (POSIX; Linux since 4.6).
		n := 0
		for _, q := range s.queue {
			o := q.ops[q.blocking]
			if int(o.Num) == num && (cmd == GetZCnt && o.Op == 0 || cmd == GetNCnt && o.Op < 0) {
				n++
			}
		}
		return n, nil
	}
	return 0, unix.EINVAL
}

// SemGetAll is GETALL.
func (ns *Namespace) SemGetAll(c Caller, id int32) ([]uint16, error) {
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, err := ns.lookupSet(c, id, accRead)
	if err != nil {
		return nil, err
	}
	vals := make([]uint16, len(s.sems))
	for i, sm := range s.sems {
		vals[i] = uint16(sm.val)
	}
	return vals, nil
}

// SemCount returns the number of semaphores of set id, checking that c
// may write them (SETALL reads that many values from the caller first).
func (ns *Namespace) SemCount(c Caller, id int32, write bool) (int, error) {
	acc := uint32(accRead)
	if write {
		acc = accWrite
	}
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, err := ns.lookupSet(c, id, acc)
	if err != nil {
		return 0, err
	}
	return len(s.sems), nil
}

// SemSetVal is SETVAL: the value of semaphore num becomes val, every
// process's adjustment of it is cleared, and blocked operations that this
// allows complete.
func (ns *Namespace) SemSetVal(c Caller, id int32, num int, val int) error {
	if val < 0 || val > SemVMX {
		return unix.ERANGE
	}
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, ok := ns.sems.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if num < 0 || num >= len(s.sems) {
		return unix.EINVAL
	}
	if !s.perm.allowed(c, accWrite) {
		return unix.EACCES
	}
	for _, u := range s.undo {
		u.adj[num] = 0
	}
	s.sems[num] = semaphore{val: int32(val), pid: c.PID}
	s.ctime = now()
	s.updateLocked()
	return nil
}

// SemSetAll is SETALL: vals holds one value per semaphore (EINVAL if the
// set changed size: it was removed and its ID reused; EIDRM if removed).
func (ns *Namespace) SemSetAll(c Caller, id int32, vals []uint16) error {
	for _, v := range vals {
		if v > SemVMX {
			return unix.ERANGE
		}
	}
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, err := ns.lookupSet(c, id, accWrite)
	if err != nil {
		if err == unix.EINVAL {
			return unix.EIDRM
		}
		return err
	}
	if len(vals) != len(s.sems) {
		return unix.EIDRM
	}
	for i, v := range vals {
		s.sems[i] = semaphore{val: int32(v), pid: c.PID}
	}
	for _, u := range s.undo {
		clear(u.adj)
	}
	s.ctime = now()
	s.updateLocked()
	return nil
}

// SemStatCmd is IPC_STAT, or with byIndex SEM_STAT (any: SEM_STAT_ANY),
// which name the set by index and return its ID.
func (ns *Namespace) SemStatCmd(c Caller, id int32, byIndex, any bool) (SemDS, int32, error) {
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	var s *SemSet
	var ok bool
	if byIndex {
		s, ok = ns.sems.at(int(id))
	} else {
		s, ok = ns.sems.lookup(id)
	}
	if !ok {
		return SemDS{}, 0, unix.EINVAL
	}
	if !any && !s.perm.allowed(c, accRead) {
		return SemDS{}, 0, unix.EACCES
	}
	return SemDS{Perm: s.perm, Otime: s.otime, Ctime: s.ctime, Nsems: uint64(len(s.sems))}, s.id, nil
}

// SemSetPerm is IPC_SET.
func (ns *Namespace) SemSetPerm(c Caller, id int32, p SetPerm) error {
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, ok := ns.sems.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !s.perm.owner(c) {
		return unix.EPERM
	}
	if err := s.perm.apply(p); err != nil {
		return err
	}
	s.ctime = now()
	return nil
}

// SemRemove is IPC_RMID: blocked calls fail with EIDRM, and the
// processes' adjustments are dropped.
func (ns *Namespace) SemRemove(c Caller, id int32) error {
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	s, ok := ns.sems.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !s.perm.owner(c) {
		return unix.EPERM
	}
	s.removed = true
	ns.sems.remove(s)
	for _, q := range s.queue {
		q.err, q.finished = unix.EIDRM, true
		close(q.done)
	}
	s.queue = nil
	for pid := range s.undo {
		if sets := ns.undos[pid]; sets != nil {
			delete(sets, s)
			if len(sets) == 0 {
				delete(ns.undos, pid)
			}
		}
		ns.uncharge(undoCost(len(s.sems)))
	}
	s.undo = nil
	ns.usedSems -= len(s.sems)
	ns.uncharge(setCost(len(s.sems)))
	return nil
}

// SemInfoCmd is IPC_INFO (usage false: the limits) and SEM_INFO (usage:
// semusz is the number of sets, semaem the number of semaphores); it also
// returns the highest index in use.
func (ns *Namespace) SemInfoCmd(usage bool) (SemInfoData, int) {
	ns.semMu.Lock()
	defer ns.semMu.Unlock()
	d := SemInfoData{SemMap: SemMNS, SemMNI: SemMNI, SemMNS: SemMNS, SemMNU: SemMNS, SemMSL: SemMSL,
		SemOPM: SemOPM, SemUME: SemOPM, SemUSZ: 48, SemVMX: SemVMX, SemAEM: SemAEM}
	if usage {
		d.SemUSZ = int32(ns.sems.inUse)
		d.SemAEM = int32(ns.usedSems)
	}
	return d, ns.sems.maxIdx()
}
