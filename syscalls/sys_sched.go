package syscalls

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

// Scheduling and priorities, as an unprivileged Linux user sees them: the
// sandbox has no CAP_SYS_NICE, its RLIMIT_NICE and RLIMIT_RTPRIO are 0,
// so nice values only go up and the real-time policies are refused. The
// values are remembered per thread (kernel.SchedState) and inherited; the
// CPU affinity mask too. The CPUs are the host's (runtime.NumCPU).

func init() {
	register(unix.SYS_SCHED_SETAFFINITY, sysSchedSetaffinity)
	register(unix.SYS_SCHED_GETAFFINITY, sysSchedGetaffinity)
	register(unix.SYS_SCHED_GETSCHEDULER, sysSchedGetscheduler)
	register(unix.SYS_SCHED_SETSCHEDULER, func(t *kernel.Task, a Args) (uintptr, error) {
		policy := int(int32(a[1]))
		if policy < 0 {
			return 0, unix.EINVAL
		}
		return 0, schedSetscheduler(t, int32(a[0]), policy, a[2])
	})
	register(unix.SYS_SCHED_SETPARAM, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, schedSetscheduler(t, int32(a[0]), keepPolicy, a[1])
	})
	register(unix.SYS_SCHED_GETPARAM, sysSchedGetparam)
	register(unix.SYS_SCHED_GETATTR, sysSchedGetattr)
	register(unix.SYS_SCHED_SETATTR, sysSchedSetattr)
	register(unix.SYS_SCHED_GET_PRIORITY_MAX, func(t *kernel.Task, a Args) (uintptr, error) {
		return schedPriorityBound(int(int32(a[0])), true)
	})
	register(unix.SYS_SCHED_GET_PRIORITY_MIN, func(t *kernel.Task, a Args) (uintptr, error) {
		return schedPriorityBound(int(int32(a[0])), false)
	})
	register(unix.SYS_SCHED_RR_GET_INTERVAL, sysSchedRRGetInterval)
	register(unix.SYS_GETPRIORITY, sysGetpriority)
	register(unix.SYS_SETPRIORITY, sysSetpriority)
	register(unix.SYS_IOPRIO_SET, sysIoprioSet)
	register(unix.SYS_IOPRIO_GET, sysIoprioGet)
	register(unix.SYS_MEMBARRIER, sysMembarrier)
	register(unix.SYS_GETCPU, sysGetcpu)
}

// sysGetcpu reports the CPU the thread runs on, and NUMA node 0. The task
// runs on whichever vCPU and host CPU are free, so the answer is one of
// the CPUs of its affinity mask, picked by TID: threads spread over the
// CPUs (what per-CPU caches keyed by it want), a thread keeps its CPU
// while its mask allows it, and one pinned to a CPU is told that one.
// The third argument (a cache) has been unused since Linux 2.6.24.
func sysGetcpu(t *kernel.Task, a Args) (uintptr, error) {
	var b [4]byte
	if a[0] != 0 {
		binary.LittleEndian.PutUint32(b[:], uint32(taskCPU(t)))
		if _, err := t.MM.CopyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		binary.LittleEndian.PutUint32(b[:], 0)
		if _, err := t.MM.CopyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// taskCPU is the CPU getcpu reports for t (see sysGetcpu).
func taskCPU(t *kernel.Task) int {
	mask := t.Sched.Affinity()
	if mask == nil {
		return int(uint32(t.TID)) % schedCPUs()
	}
	n := 0
	for _, w := range mask {
		n += bits.OnesCount64(w)
	}
	if n == 0 {
		return 0
	}
	k := int(uint32(t.TID)) % n
	for i, w := range mask {
		if c := bits.OnesCount64(w); k >= c {
			k -= c
			continue
		}
		for ; k > 0; k-- {
			w &= w - 1 // drop the lowest CPU
		}
		return 64*i + bits.TrailingZeros64(w)
	}
	return 0
}

// schedCPUs is the number of CPUs the sandbox shows (nr_cpu_ids).
func schedCPUs() int { return min(runtime.NumCPU(), 1<<16) }

// cpumaskSize is the bytes of a CPU mask, in longs (cpumask_size()).
func cpumaskSize() int { return (schedCPUs() + 63) / 64 * 8 }

// schedTarget finds the thread pid names (0: the caller), ESRCH if none.
// The sandbox's threads all have the caller's user, so the owner checks
// of Linux always pass.
func schedTarget(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid == 0 {
		return t, nil
	}
	if pid < 0 {
		return nil, unix.ESRCH
	}
	o := t.K.Task(pid)
	if o == nil {
		return nil, unix.ESRCH
	}
	return o, nil
}

func sysSchedSetaffinity(t *kernel.Task, a Args) (uintptr, error) {
	pid, size, addr := int32(a[0]), int(uint32(a[1])), a[2]
	n := cpumaskSize()
	b := make([]byte, n)
	// A shorter mask clears the CPUs it does not cover; a longer one is
	// read up to the CPUs there are.
	if _, err := t.MM.CopyIn(addr, b[:min(size, n)]); err != nil {
		return 0, err
	}
	target, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	mask := make([]uint64, n/8)
	for i := range mask {
		mask[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	if cpus := schedCPUs(); cpus%64 != 0 {
		mask[len(mask)-1] &= 1<<(cpus%64) - 1
	}
	empty := true
	for _, w := range mask {
		if w != 0 {
			empty = false
		}
	}
	if empty {
		return 0, unix.EINVAL // no CPU the thread may run on
	}
	target.Sched.SetAffinity(mask)
	return 0, nil
}

func sysSchedGetaffinity(t *kernel.Task, a Args) (uintptr, error) {
	pid, size, addr := int32(a[0]), int(uint32(a[1])), a[2]
	if size*8 < schedCPUs() || size%8 != 0 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	mask := target.Sched.Affinity()
	n := cpumaskSize()
	b := make([]byte, n)
	if mask == nil {
		for i := 0; i < schedCPUs(); i++ {
			b[i/8] |= 1 << (i % 8)
		}
	} else {
		for i, w := range mask {
			binary.LittleEndian.PutUint64(b[8*i:], w)
		}
	}
	n = min(n, size)
	if _, err := t.MM.CopyOut(addr, b[:n]); err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

// keepPolicy is sched_setparam's policy: the thread's own.
const keepPolicy = -1

func rtPolicy(p int) bool { return p == kernel.SchedFIFO || p == kernel.SchedRR }

// canNice reports whether t may have nice value nice: never lower than
// RLIMIT_NICE allows (20 - nice <= the limit; the sandbox's is 0).
func canNice(t *kernel.Task, nice int) bool {
	return uint64(20-nice) <= t.TG.Limit(unix.RLIMIT_NICE).Cur
}

// schedSetscheduler is sched_setscheduler and (policy keepPolicy)
// sched_setparam: SCHED_OTHER, SCHED_BATCH and SCHED_IDLE with priority
// 0; real-time policies need RLIMIT_RTPRIO (EPERM), SCHED_DEADLINE needs
// sched_setattr's parameters (EINVAL); a thread under SCHED_IDLE cannot
// leave it, and SCHED_RESET_ON_FORK cannot be cleared, without privilege.
func schedSetscheduler(t *kernel.Task, pid int32, policy int, param uintptr) error {
	if param == 0 || pid < 0 {
		return unix.EINVAL
	}
	var b [4]byte
	if _, err := t.MM.CopyIn(param, b[:]); err != nil {
		return err
	}
	prio := int32(binary.LittleEndian.Uint32(b[:]))
	target, err := schedTarget(t, pid)
	if err != nil {
		return err
	}
	cur, curReset := target.Sched.Policy()
	reset := curReset
	if policy == keepPolicy {
		policy = cur
	} else {
		reset = policy&kernel.SchedResetOnFork != 0
		policy &^= kernel.SchedResetOnFork
	}
	switch policy {
	case kernel.SchedOther, kernel.SchedBatch, kernel.SchedIdle, kernel.SchedFIFO, kernel.SchedRR, kernel.SchedDeadline:
	default:
		return unix.EINVAL
	}
	if prio > 99 || policy == kernel.SchedDeadline || rtPolicy(policy) != (prio != 0) {
		return unix.EINVAL
	}
	if rtPolicy(policy) {
		rlim := target.TG.Limit(unix.RLIMIT_RTPRIO).Cur
		if policy != cur && rlim == 0 || uint64(prio) > rlim {
			return unix.EPERM
		}
	}
	if cur == kernel.SchedIdle && policy != kernel.SchedIdle && !canNice(target, target.Sched.Nice()) {
		return unix.EPERM
	}
	if curReset && !reset {
		return unix.EPERM
	}
	target.Sched.SetPolicy(policy, reset)
	return nil
}

func sysSchedGetscheduler(t *kernel.Task, a Args) (uintptr, error) {
	pid := int32(a[0])
	if pid < 0 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	p, reset := target.Sched.Policy()
	if reset {
		p |= kernel.SchedResetOnFork
	}
	return uintptr(p), nil
}

func sysSchedGetparam(t *kernel.Task, a Args) (uintptr, error) {
	pid, param := int32(a[0]), a[1]
	if param == 0 || pid < 0 {
		return 0, unix.EINVAL
	}
	if _, err := schedTarget(t, pid); err != nil {
		return 0, err
	}
	// Only the real-time policies, which no thread here has, have a
	// priority.
	var b [4]byte
	_, err := t.MM.CopyOut(param, b[:])
	return 0, err
}

func schedPriorityBound(policy int, max bool) (uintptr, error) {
	switch policy {
	case kernel.SchedFIFO, kernel.SchedRR:
		if max {
			return 99, nil
		}
		return 1, nil
	case kernel.SchedOther, kernel.SchedBatch, kernel.SchedIdle, kernel.SchedDeadline:
		return 0, nil
	}
	return 0, unix.EINVAL
}

// sysSchedRRGetInterval reports the time slice: none for the policies
// here but SCHED_RR (100 ms, Linux's RR_TIMESLICE), and the fair
// scheduler's base slice for the others (0.75 ms times 1 + log2 of the
// CPUs, at most 8, as Linux's sysctl_sched_base_slice).
func sysSchedRRGetInterval(t *kernel.Task, a Args) (uintptr, error) {
	pid := int32(a[0])
	if pid < 0 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	var d time.Duration
	switch p, _ := target.Sched.Policy(); p {
	case kernel.SchedRR:
		d = 100 * time.Millisecond
	case kernel.SchedFIFO:
	default:
		d = 750 * time.Microsecond * time.Duration(bits.Len(uint(min(schedCPUs(), 8))))
	}
	return 0, putTimespec(t, a[1], d)
}

// which of getpriority and setpriority.
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

// prioTargets returns the threads that which and who name: a thread
// (PRIO_PROCESS: Linux's nice is per thread), every thread of a process
// group, or every thread of a user; 0 is the caller's.
func prioTargets(t *kernel.Task, which, who int) ([]*kernel.Task, error) {
	switch which {
	case prioProcess:
		if who == 0 {
			return []*kernel.Task{t}, nil
		}
		if o := t.K.Task(int32(who)); o != nil {
			return []*kernel.Task{o}, nil
		}
		return nil, nil
	case prioPgrp:
		pgid := int32(who)
		if who == 0 {
			pgid = t.TG.PGID()
		}
		var out []*kernel.Task
		for _, o := range t.K.Tasks() {
			if o.TG.PGID() == pgid {
				out = append(out, o)
			}
		}
		return out, nil
	case prioUser:
		uid := uint32(who)
		if who == 0 {
			uid = t.TG.Creds().UID
		}
		var out []*kernel.Task
		for _, o := range t.K.Tasks() {
			if o.TG.Creds().UID == uid {
				out = append(out, o)
			}
		}
		return out, nil
	}
	return nil, unix.EINVAL
}

// sysGetpriority returns 20 - nice of the named thread with the lowest
// nice value (1..40; the C library turns it back into a nice value).
func sysGetpriority(t *kernel.Task, a Args) (uintptr, error) {
	ts, err := prioTargets(t, int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, unix.ESRCH
	}
	best := 0
	for _, o := range ts {
		best = max(best, 20-o.Sched.Nice())
	}
	return uintptr(best), nil
}

// sysSetpriority sets the nice value (clamped to [-20, 19]) of every
// named thread: a lower one than a thread has is refused (EACCES) beyond
// RLIMIT_NICE. The others are still set; the last error is returned.
func sysSetpriority(t *kernel.Task, a Args) (uintptr, error) {
	ts, err := prioTargets(t, int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	nice := min(max(int(int32(a[2])), -20), 19)
	err = unix.ESRCH
	for _, o := range ts {
		if nice < o.Sched.Nice() && !canNice(o, nice) {
			err = unix.EACCES
			continue
		}
		if err == unix.ESRCH {
			err = nil
		}
		o.Sched.SetNice(nice)
	}
	return 0, err
}

// I/O priority classes (linux/ioprio.h); the value is class<<13 | level.
const (
	ioprioClassNone  = 0
	ioprioClassRT    = 1
	ioprioClassBE    = 2
	ioprioClassIdle  = 3
	ioprioClassShift = 13
)

// ioprioTargets is prioTargets for ioprio_set/ioprio_get's "which"
// (IOPRIO_WHO_PROCESS, _PGRP, _USER: one more than setpriority's).
func ioprioTargets(t *kernel.Task, which, who int) ([]*kernel.Task, error) {
	if which < 1 || which > 3 {
		return nil, unix.EINVAL
	}
	return prioTargets(t, which-1, who)
}

// sysIoprioSet is ioprio_set(which, who, ioprio). The sandbox has no
// block devices to schedule, so the priority is remembered, inherited
// and reported, as Linux would, and checked as Linux checks it: the
// real-time class needs CAP_SYS_NICE or CAP_SYS_ADMIN (EPERM), a
// best-effort or real-time level is 0-7, the "none" class level 0.
func sysIoprioSet(t *kernel.Task, a Args) (uintptr, error) {
	prio := int(int32(a[2]))
	class, level := prio>>ioprioClassShift, prio&(1<<ioprioClassShift-1)
	c := t.TG.Creds()
	nice := c.HasCap(kernel.CapSysNice)
	switch class {
	case ioprioClassNone:
		if level != 0 {
			return 0, unix.EINVAL
		}
	case ioprioClassRT, ioprioClassBE:
		if class == ioprioClassRT && !nice && !c.HasCap(kernel.CapSysAdmin) {
			return 0, unix.EPERM
		}
		if level >= 8 {
			return 0, unix.EINVAL
		}
	case ioprioClassIdle:
	default:
		return 0, unix.EINVAL
	}
	ts, err := ioprioTargets(t, int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, unix.ESRCH
	}
	for _, o := range ts {
		// Another user's thread needs CAP_SYS_NICE.
		if oc := o.TG.Creds(); oc.UID != c.UID && oc.UID != c.EUID && !nice {
			err = unix.EPERM
			continue
		}
		o.Sched.SetIOPrio(prio)
	}
	return 0, err
}

// sysIoprioGet is ioprio_get(which, who): of several threads, the
// highest priority (the lowest class, then level, that is set).
func sysIoprioGet(t *kernel.Task, a Args) (uintptr, error) {
	ts, err := ioprioTargets(t, int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	if len(ts) == 0 {
		return 0, unix.ESRCH
	}
	best := -1
	for _, o := range ts {
		p := o.Sched.IOPrio()
		if best < 0 || p != 0 && (best == 0 || p < best) {
			best = p
		}
	}
	return uintptr(best), nil
}

// membarrier(2) commands (linux/membarrier.h).
const (
	mbQuery                    = 0
	mbGlobal                   = 1 << 0
	mbGlobalExpedited          = 1 << 1
	mbRegisterGlobalExpedited  = 1 << 2
	mbPrivateExpedited         = 1 << 3
	mbRegisterPrivateExpedited = 1 << 4
	mbPrivateSyncCore          = 1 << 5
	mbRegisterPrivateSyncCore  = 1 << 6
	mbPrivateRseq              = 1 << 7
	mbRegisterPrivateRseq      = 1 << 8
	mbGetRegistrations         = 1 << 9

	// The commands supported: all but the rseq ones (no rseq here).
	mbSupported = mbGlobal | mbGlobalExpedited | mbRegisterGlobalExpedited | mbPrivateExpedited |
		mbRegisterPrivateExpedited | mbPrivateSyncCore | mbRegisterPrivateSyncCore | mbGetRegistrations
)

// sysMembarrier is membarrier(cmd, flags, cpu_id). A barrier must make
// every thread it concerns that is running user code go through a full
// memory barrier (and, with SYNC_CORE, a serializing instruction) before
// the call returns; threads not running user code need nothing, since
// they entered the kernel (a full barrier) after their last user access
// and go through the kernel's locks and the entry path before their
// next one.
//
// A plain barrier in the caller is not enough: on x86 a store of another
// vCPU may sit in its store buffer past any fence the caller executes.
// So the barrier is a kick: AddressSpace.Invalidate (the TLB shootdown,
// vmm/shootdown.go) interrupts every vCPU that is in user mode in the
// address space and waits until each has left it. Leaving user mode
// (an interrupt or exception, a VM exit) drains the store buffer, and
// coming back (IRET, ERETU or VM entry) serializes the core. The private
// commands kick the caller's address space (only its own threads run
// there), the global ones every address space in the sandbox (GLOBAL) or
// those registered for it (GLOBAL_EXPEDITED). The price is a TLB flush
// on the kicked vCPUs, which the shootdown asks for.
func sysMembarrier(t *kernel.Task, a Args) (uintptr, error) {
	cmd, flags := int(int32(a[0])), uint32(a[1])
	if flags != 0 {
		return 0, unix.EINVAL // MEMBARRIER_CMD_FLAG_CPU is for the rseq command only
	}
	m := t.MM
	switch cmd {
	case mbQuery:
		return mbSupported, nil
	case mbGlobal:
		for _, o := range t.K.MMs() {
			o.AddressSpace().Invalidate()
		}
	case mbGlobalExpedited:
		for _, o := range t.K.MMs() {
			if o.Membarrier.Load()&mbRegisterGlobalExpedited != 0 {
				o.AddressSpace().Invalidate()
			}
		}
	case mbRegisterGlobalExpedited, mbRegisterPrivateExpedited, mbRegisterPrivateSyncCore:
		for {
			old := m.Membarrier.Load()
			if m.Membarrier.CompareAndSwap(old, old|uint32(cmd)) {
				break
			}
		}
	case mbPrivateExpedited, mbPrivateSyncCore:
		// Each needs its registration (the command's bit shifted up).
		if m.Membarrier.Load()&uint32(cmd<<1) == 0 {
			return 0, unix.EPERM
		}
		m.AddressSpace().Invalidate()
	case mbGetRegistrations:
		return uintptr(m.Membarrier.Load()), nil
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

// struct sched_attr (linux/sched/types.h): size, policy, flags, nice,
// priority, the three SCHED_DEADLINE times, and (VER1) the two
// utilization clamps.
const (
	schedAttrVer0 = 48
	schedAttrVer1 = 56

	schedFlagResetOnFork = 0x01
	schedFlagKeepPolicy  = 0x08
	schedFlagKeepParams  = 0x10
	schedFlagUtilMin     = 0x20
	schedFlagUtilMax     = 0x40
	schedFlagsKnown      = 0x7f // and RECLAIM, DL_OVERRUN: SCHED_DEADLINE's
	utilClampMax         = 1024
)

// sysSchedGetattr is sched_getattr: the thread's policy, its flags
// (SCHED_FLAG_RESET_ON_FORK), nice and priority; no deadline times and
// no clamps.
func sysSchedGetattr(t *kernel.Task, a Args) (uintptr, error) {
	pid, addr, size, flags := int32(a[0]), a[1], a[2], a[3]
	if addr == 0 || pid < 0 || flags != 0 || size < schedAttrVer0 || size > pageSize {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	n := min(size, schedAttrVer1)
	b := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(n))
	policy, reset := target.Sched.Policy()
	le.PutUint32(b[4:], uint32(policy))
	if reset {
		le.PutUint64(b[8:], schedFlagResetOnFork)
	}
	le.PutUint32(b[16:], uint32(int32(target.Sched.Nice())))
	_, err = t.MM.CopyOut(addr, b)
	return 0, err
}

// sysSchedSetattr is sched_setattr: sched_setscheduler's rules for the
// policy and priority (the real-time ones need RLIMIT_RTPRIO, which the
// sandbox's is 0; SCHED_DEADLINE needs a privilege it never grants:
// EPERM), setpriority's for the nice value of a normal policy, the KEEP
// flags, and clamps that are checked and not kept.
func sysSchedSetattr(t *kernel.Task, a Args) (uintptr, error) {
	pid, addr, flags := int32(a[0]), a[1], a[2]
	if addr == 0 || pid < 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	var head [4]byte
	if _, err := t.MM.CopyIn(addr, head[:]); err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	size := uintptr(le.Uint32(head[:]))
	if size == 0 {
		size = schedAttrVer0
	}
	if size < schedAttrVer0 || size > pageSize {
		// Linux writes the size it knows back for the caller.
		var want [4]byte
		le.PutUint32(want[:], schedAttrVer1)
		t.MM.CopyOut(addr, want[:])
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if _, err := t.MM.CopyIn(addr, b); err != nil {
		return 0, err
	}
	for _, c := range b[min(size, schedAttrVer1):] {
		if c != 0 {
			var want [4]byte
			le.PutUint32(want[:], schedAttrVer1)
			t.MM.CopyOut(addr, want[:])
			return 0, unix.E2BIG
		}
	}
	b = append(b, make([]byte, schedAttrVer1)...) // VER0 callers: zero clamps
	policy, sflags := int(le.Uint32(b[4:])), le.Uint64(b[8:])
	nice, prio := int(int32(le.Uint32(b[16:]))), le.Uint32(b[20:])
	utilMin, utilMax := le.Uint32(b[48:]), le.Uint32(b[52:])
	if sflags&^schedFlagsKnown != 0 || policy < 0 {
		return 0, unix.EINVAL
	}
	if sflags&schedFlagUtilMin != 0 && utilMin > utilClampMax || sflags&schedFlagUtilMax != 0 && utilMax > utilClampMax {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, pid)
	if err != nil {
		return 0, err
	}
	cur, curReset := target.Sched.Policy()
	if sflags&schedFlagKeepPolicy != 0 {
		policy = cur
	}
	switch policy {
	case kernel.SchedOther, kernel.SchedBatch, kernel.SchedIdle, kernel.SchedFIFO, kernel.SchedRR:
	case kernel.SchedDeadline:
		if !validDeadline(le.Uint64(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])) {
			return 0, unix.EINVAL
		}
		return 0, unix.EPERM
	default:
		return 0, unix.EINVAL
	}
	reset := sflags&schedFlagResetOnFork != 0
	if sflags&schedFlagKeepParams != 0 {
		nice = target.Sched.Nice()
		prio = 0
	}
	if prio > 99 || rtPolicy(policy) != (prio != 0) {
		return 0, unix.EINVAL
	}
	if rtPolicy(policy) {
		if rlim := target.TG.Limit(unix.RLIMIT_RTPRIO).Cur; policy != cur && rlim == 0 || uint64(prio) > rlim {
			return 0, unix.EPERM
		}
	}
	nice = min(max(nice, -20), 19)
	if !rtPolicy(policy) && nice < target.Sched.Nice() && !canNice(target, nice) {
		return 0, unix.EPERM
	}
	if cur == kernel.SchedIdle && policy != kernel.SchedIdle && !canNice(target, target.Sched.Nice()) {
		return 0, unix.EPERM
	}
	if curReset && !reset {
		return 0, unix.EPERM
	}
	if !rtPolicy(policy) {
		target.Sched.SetNice(nice)
	}
	target.Sched.SetPolicy(policy, reset)
	return 0, nil
}

// validDeadline checks SCHED_DEADLINE's times as Linux does before it
// looks at privileges: runtime at least 1024 ns, runtime <= deadline <=
// period (0: the deadline), the period within sysctl's default bounds
// (100 us to 4.194304 s).
func validDeadline(runtime, deadline, period uint64) bool {
	if period == 0 {
		period = deadline
	}
	return deadline != 0 && runtime >= 1<<10 && deadline&(1<<63) == 0 && period&(1<<63) == 0 &&
		runtime <= deadline && deadline <= period && period >= 100_000 && period <= 4_194_304_000
}
