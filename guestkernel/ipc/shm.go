package ipc

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

// Shared memory limits, flags and commands (linux/shm.h), and Linux's
// defaults for the limits.
const (
	ShmMNI = 4096
	ShmMin = 1
	ShmMax = ^uint64(0) - 1<<24 // bytes per segment
	ShmAll = ^uint64(0) - 1<<24 // pages of all segments
	ShmSeg = ShmMNI

	// shmget flags.
	ShmHugeTLB   = 0o4000
	ShmNoReserve = 0o10000
	// shmat flags.
	ShmRdonly = 0o10000
	ShmRnd    = 0o20000
	ShmRemap  = 0o40000
	ShmExec   = 0o100000
	// Mode bits of a segment.
	ShmDest   = 0o1000
	ShmLocked = 0o2000

	// shmctl commands beyond IPC_*.
	ShmLock    = 11
	ShmUnlock  = 12
	ShmStat    = 13
	ShmInfo    = 14
	ShmStatAny = 15
)

const pageSize = memfile.PageSize

// Segment is a shared memory segment. It is the memory object of the
// mappings that attach it (mm.CountedPager).
type Segment struct {
	objBase
	ns     *Namespace
	size   uint64
	npages int64

	// Guarded by ns.shmMu.
	atime, dtime, ctime int64
	cpid, lpid          int32
	nattch              int // mapping VMAs, and attaches under way
	destroyed           bool

	pmu   sync.Mutex
	pages map[int64]uintptr // page index -> memory-file page
}

// ShmDS is a segment's shmid_ds.
type ShmDS struct {
	Perm                Perm
	Size                uint64
	Atime, Dtime, Ctime int64
	CPID, LPID          int32
	Nattch              uint64
}

// ShmInfoData is shminfo (IPC_INFO).
type ShmInfoData struct {
	ShmMax, ShmMin, ShmMNI, ShmSeg, ShmAll uint64
}

// ShmUsage is shm_info (SHM_INFO).
type ShmUsage struct {
	UsedIDs      int32
	ShmTot       uint64 // pages of all segments
	ShmRSS       uint64 // pages allocated
	ShmSwp       uint64
	SwapAttempts uint64
	SwapSuccess  uint64
}

// ShmGet is shmget(2).
func (ns *Namespace) ShmGet(c Caller, key int32, size uint64, flags int) (int32, error) {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	check := func(s *Segment) error {
		if s.size < size {
			return unix.EINVAL
		}
		return nil
	}
	make := func() (*Segment, error) {
		if size < ShmMin || size > ShmMax {
			return nil, unix.EINVAL
		}
		npages := (size + pageSize - 1) / pageSize
		if uint64(ns.shmTot)+npages < uint64(ns.shmTot) || uint64(ns.shmTot)+npages > ShmAll {
			return nil, unix.ENOSPC
		}
		// No huge pages in the sandbox; and, as Linux's overcommit
		// heuristic, no segment larger than the memory (unless its
		// memory is not reserved).
		if flags&ShmHugeTLB != 0 || ns.mem == nil || flags&ShmNoReserve == 0 && size > ns.memLimit {
			return nil, unix.ENOMEM
		}
		if err := ns.charge(objectCost); err != nil {
			return nil, err
		}
		ns.shmTot += int64(npages)
		return &Segment{ns: ns, size: size, npages: int64(npages), cpid: c.PID, ctime: now(),
			pages: map[int64]uintptr{}}, nil
	}
	drop := func(s *Segment) {
		ns.shmTot -= s.npages
		ns.uncharge(objectCost)
	}
	return getOrCreate(&ns.shms, c, key, flags, check, make, drop)
}

// ShmAttach starts shmat(2) of segment id: it checks access (read, and
// write unless ShmRdonly, and execute with ShmExec) and holds the segment
// until EndAttach, so that it cannot go away while the caller maps it. It
// returns the segment and the protection of the mapping.
func (ns *Namespace) ShmAttach(c Caller, id int32, flags int) (*Segment, int, error) {
	prot, acc := unix.PROT_READ|unix.PROT_WRITE, uint32(accRead|accWrite)
	if flags&ShmRdonly != 0 {
		prot, acc = unix.PROT_READ, accRead
	}
	if flags&ShmExec != 0 {
		prot |= unix.PROT_EXEC
		acc |= accExec
	}
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	s, ok := ns.shms.lookup(id)
	if !ok {
		return nil, 0, unix.EINVAL
	}
	if !s.perm.allowed(c, acc) {
		return nil, 0, unix.EACCES
	}
	s.nattch++
	return s, prot, nil
}

// EndAttach ends an attach begun by ShmAttach; mapped says whether the
// mapping was made.
func (s *Segment) EndAttach(c Caller, mapped bool) {
	ns := s.ns
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	if mapped {
		s.atime, s.lpid = now(), c.PID
	}
	s.putLocked()
}

// Detached records a shmdt(2) of the segment by c.
func (s *Segment) Detached(c Caller) {
	s.ns.shmMu.Lock()
	s.dtime, s.lpid = now(), c.PID
	s.ns.shmMu.Unlock()
}

// Size is the segment's size in bytes.
func (s *Segment) Size() uint64 { return s.size }

// ID is the segment's ID.
func (s *Segment) ID() int32 { return s.id }

// Name is what /proc/PID/maps shows for the segment.
func (s *Segment) Name() string {
	s.ns.shmMu.Lock()
	defer s.ns.shmMu.Unlock()
	return fmt.Sprintf("/SYSV%08x (deleted)", uint32(s.perm.Key))
}

// VMAOpened implements mm.CountedPager: one more mapping.
func (s *Segment) VMAOpened() {
	s.ns.shmMu.Lock()
	s.nattch++
	s.ns.shmMu.Unlock()
}

// VMAClosed implements mm.CountedPager: a mapping went away (a detach,
// munmap, exec or exit); the last one of a removed segment destroys it.
func (s *Segment) VMAClosed() {
	s.ns.shmMu.Lock()
	s.dtime = now()
	s.putLocked()
	s.ns.shmMu.Unlock()
}

// putLocked drops a count; a removed segment with none left is destroyed.
// ns.shmMu is held.
func (s *Segment) putLocked() {
	s.nattch--
	if s.nattch == 0 && s.perm.Mode&ShmDest != 0 {
		s.destroyLocked()
	}
}

// destroyLocked frees the segment and its pages. ns.shmMu is held.
func (s *Segment) destroyLocked() {
	if s.destroyed {
		return
	}
	s.destroyed = true
	ns := s.ns
	ns.shms.remove(s)
	ns.shmTot -= s.npages
	ns.uncharge(objectCost)
	s.pmu.Lock()
	for _, pa := range s.pages {
		ns.mem.Free(pa)
	}
	s.pages = nil
	s.pmu.Unlock()
}

// PageAddr implements mm.Pager: page idx of the segment, allocated
// (zeroed) on first touch; ENXIO past its end.
func (s *Segment) PageAddr(idx int64) (uintptr, error) {
	if idx < 0 || idx >= s.npages {
		return 0, unix.ENXIO
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if pa := s.pages[idx]; pa != 0 {
		return pa, nil
	}
	if s.pages == nil {
		return 0, fmt.Errorf("page %d of a destroyed shared memory segment", idx)
	}
	pa, err := s.ns.mem.Alloc()
	if err != nil {
		return 0, fmt.Errorf("shared memory segment: page %d: %w", idx, err)
	}
	s.pages[idx] = pa
	return pa, nil
}

// resident is the number of allocated pages.
func (s *Segment) resident() int {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return len(s.pages)
}

// ShmStat is IPC_STAT, or with byIndex SHM_STAT (any: SHM_STAT_ANY, no
// read permission needed), which name the segment by its index and return
// its ID.
func (ns *Namespace) ShmStat(c Caller, id int32, byIndex, any bool) (ShmDS, int32, error) {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	var s *Segment
	var ok bool
	if byIndex {
		s, ok = ns.shms.at(int(id))
	} else {
		s, ok = ns.shms.lookup(id)
	}
	if !ok {
		return ShmDS{}, 0, unix.EINVAL
	}
	if !any && !s.perm.allowed(c, accRead) {
		return ShmDS{}, 0, unix.EACCES
	}
	return ShmDS{Perm: s.perm, Size: s.size, Atime: s.atime, Dtime: s.dtime, Ctime: s.ctime,
		CPID: s.cpid, LPID: s.lpid, Nattch: uint64(s.nattch)}, s.id, nil
}

// ShmSet is IPC_SET.
func (ns *Namespace) ShmSet(c Caller, id int32, p SetPerm) error {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	s, ok := ns.shms.lookup(id)
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

// ShmRemove is IPC_RMID: the segment loses its key at once and is
// destroyed when its last attachment goes.
func (ns *Namespace) ShmRemove(c Caller, id int32) error {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	s, ok := ns.shms.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !s.perm.owner(c) {
		return unix.EPERM
	}
	s.perm.Mode |= ShmDest
	ns.shms.forgetKey(s)
	if s.nattch == 0 {
		s.destroyLocked()
	}
	return nil
}

// ShmLockCmd is SHM_LOCK (lock) and SHM_UNLOCK: the segment's pages are
// never swapped here anyway, so only the mode bit changes; the owner or
// creator may do it.
func (ns *Namespace) ShmLockCmd(c Caller, id int32, lock bool) error {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	s, ok := ns.shms.lookup(id)
	if !ok {
		return unix.EINVAL
	}
	if !s.perm.owner(c) {
		return unix.EPERM
	}
	if lock {
		s.perm.Mode |= ShmLocked
	} else {
		s.perm.Mode &^= ShmLocked
	}
	return nil
}

// ShmInfoCmd is IPC_INFO: the limits, and the highest index in use.
func (ns *Namespace) ShmInfoCmd() (ShmInfoData, int) {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	return ShmInfoData{ShmMax: ShmMax, ShmMin: ShmMin, ShmMNI: ShmMNI, ShmSeg: ShmSeg, ShmAll: ShmAll}, ns.shms.maxIdx()
}

// ShmUsageCmd is SHM_INFO: what the segments use, and the highest index.
func (ns *Namespace) ShmUsageCmd() (ShmUsage, int) {
	ns.shmMu.Lock()
	defer ns.shmMu.Unlock()
	var rss int
	ns.shms.each(func(s *Segment) { rss += s.resident() })
	return ShmUsage{UsedIDs: int32(ns.shms.inUse), ShmTot: uint64(ns.shmTot), ShmRSS: uint64(rss)}, ns.shms.maxIdx()
}
