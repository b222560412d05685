package kernel

import (
	"slices"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/mm"
)

// Limits are the resource limits of a thread group (indexed by RLIMIT_*).
type Limits [unix.RLIMIT_RTTIME + 1]unix.Rlimit

const infinity = ^uint64(0)

// DefaultLimits are Linux's defaults for a new login session.
func DefaultLimits() Limits {
	var l Limits
	for i := range l {
		l[i] = unix.Rlimit{Cur: infinity, Max: infinity}
	}
	l[unix.RLIMIT_STACK] = unix.Rlimit{Cur: 8 << 20, Max: infinity}
	l[unix.RLIMIT_CORE] = unix.Rlimit{Cur: 0, Max: infinity}
	l[unix.RLIMIT_NOFILE] = unix.Rlimit{Cur: 1024, Max: 1 << 20}
	l[unix.RLIMIT_NPROC] = unix.Rlimit{Cur: 4096, Max: 4096}
	l[unix.RLIMIT_MEMLOCK] = unix.Rlimit{Cur: 8 << 20, Max: 8 << 20}
	l[unix.RLIMIT_SIGPENDING] = unix.Rlimit{Cur: 4096, Max: 4096}
	l[unix.RLIMIT_MSGQUEUE] = unix.Rlimit{Cur: 819200, Max: 819200}
	l[unix.RLIMIT_NICE] = unix.Rlimit{}
	l[unix.RLIMIT_RTPRIO] = unix.Rlimit{}
	return l
}

// Limit returns resource limit r.
func (tg *ThreadGroup) Limit(r int) unix.Rlimit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.limits[r]
}

// SetLimit changes resource limit r.
func (tg *ThreadGroup) SetLimit(r int, l unix.Rlimit) {
	tg.mu.Lock()
	tg.limits[r] = l
	tg.mu.Unlock()
	if r == unix.RLIMIT_NOFILE {
		n := l.Cur
		if n > fsMaxNoFile {
			n = fsMaxNoFile
		}
		tg.fdTable().SetLimit(int(n))
	}
	switch r {
	case unix.RLIMIT_CPU:
		tg.armCPULimit()
	case unix.RLIMIT_AS, unix.RLIMIT_DATA, unix.RLIMIT_STACK:
		tg.applyMMLimits()
	}
}

// applyMMLimits holds the process's address space to its memory limits
// from now on (after setrlimit or prlimit; an exec takes them anew).
func (tg *ThreadGroup) applyMMLimits() {
	rl := tg.MMLimits()
	tg.mu.Lock()
	var mms []*mm.MM
	for _, t := range tg.tasks {
		if t.MM != nil && !slices.Contains(mms, t.MM) {
			mms = append(mms, t.MM)
		}
	}
	tg.mu.Unlock()
	for _, m := range mms {
		m.SetRlimits(rl)
	}
}

const fsMaxNoFile = 1 << 20

// MM returns the limits an address space is held to (mm.Rlimits: the
// soft RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK).
func (l *Limits) MM() mm.Rlimits {
	return mm.Rlimits{AS: l[unix.RLIMIT_AS].Cur, Data: l[unix.RLIMIT_DATA].Cur, Stack: l[unix.RLIMIT_STACK].Cur}
}

// MMLimits returns the limits an address space of the thread group is
// held to.
func (tg *ThreadGroup) MMLimits() mm.Rlimits {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.limits.MM()
}
