package seccomp

import "golang.org/x/sys/unix"

// Chain is an immutable stack of programs, the newest first, like the
// seccomp_filter list Linux hangs off a task. Tasks that inherit a stack
// share it; attaching a program makes a new Chain whose tail is the old one.
// A nil *Chain is the empty stack. A Chain is safe for concurrent use.
type Chain struct {
	prog *Program
	log  bool
	prev *Chain
	// count is the number of programs in the chain.
	count int
	// pathLen is the sum over the chain's programs of Len()+4, Linux's
	// accounting of existing filters (the 4 is its per-filter penalty).
	pathLen int
}

// Attach returns a new chain with p on top and c below it; log is
// SECCOMP_FILTER_FLAG_LOG. Like seccomp_attach_filter it returns
// unix.ENOMEM when p.Len() plus, for every program already in c, Len()+4
// would pass MaxInstructionsPerPath. A nil p is unix.EINVAL.
func (c *Chain) Attach(p *Program, log bool) (*Chain, error) {
	if p == nil || len(p.code) == 0 {
		return nil, unix.EINVAL
	}
	if p.Len()+c.totalLen() > MaxInstructionsPerPath {
		return nil, unix.ENOMEM
	}
	return &Chain{
		prog:    p,
		log:     log,
		prev:    c,
		count:   c.Len() + 1,
		pathLen: c.totalLen() + p.Len() + 4,
	}, nil
}

// totalLen returns the chain's path length as Linux counts existing
// filters.
func (c *Chain) totalLen() int {
	if c == nil {
		return 0
	}
	return c.pathLen
}

// Len returns the number of programs in the chain (Seccomp_filters in
// /proc/PID/status).
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return c.count
}

// Program returns the program on top of the chain, or nil for the empty
// chain.
func (c *Chain) Program() *Program {
	if c == nil {
		return nil
	}
	return c.prog
}

// Prev returns the chain below the top program (nil at the bottom), so that
// PTRACE_SECCOMP_GET_FILTER can walk it.
func (c *Chain) Prev() *Chain {
	if c == nil {
		return nil
	}
	return c.prev
}

// Evaluate runs every program, newest first, and returns the result with
// the highest precedence: the lowest action (ret & RetActionFull) compared
// as a signed 32-bit value, so KILL_PROCESS, KILL_THREAD, TRAP, ERRNO,
// USER_NOTIF, TRACE, LOG, ALLOW in that order. On a tie the newer program's
// result wins, data included. log is whether the winning program was
// attached with log. As in Linux's seccomp_run_filters, the running result
// starts at RetAllow with no winner, so when every program allows the result
// is exactly RetAllow (any data dropped) and log is false. A nil chain
// returns RetAllow, false; a nil d reads as all zeroes.
//
// Results that depend only on the syscall number are taken from each
// program's cache when d.Arch is AuditArchX86_64 and 0 <= d.Nr < 512.
func (c *Chain) Evaluate(d *Data) (ret uint32, log bool) {
	ret = RetAllow
	if c == nil {
		return ret, false
	}
	if d == nil {
		d = &Data{}
	}
	for f := c; f != nil; f = f.prev {
		cur, ok := f.prog.cached(d)
		if !ok {
			cur, _ = f.prog.run(d, false)
		}
		if int32(cur&RetActionFull) < int32(ret&RetActionFull) {
			ret, log = cur, f.log
		}
	}
	return ret, log
}
