package kernel

import (
	"math/bits"

	"golang.org/x/sys/unix"
)

// SigRTMin is the first real-time signal: instances of these are queued,
// every one delivered with its own siginfo, in the order they were sent;
// a standard signal (1-31) is pending once at most.
const SigRTMin = 32

// maxQueued bounds the queued real-time signals of one process or thread
// (RLIMIT_SIGPENDING's default).
const maxQueued = 4096

// sigPending is the signals pending for a thread group or a thread. A
// POSIX timer's signal tells its timer when it is queued, taken or
// dropped (posixtimer.go).
type sigPending struct {
	mask uint64                // bit n-1: signal n is pending
	info [SigRTMin - 1]SigInfo // the pending instance of each standard signal
	rt   map[unix.Signal][]SigInfo
	nrt  int
}

// add makes sig pending with info; it reports false when the queue of
// real-time signals is full (sigqueue gives EAGAIN then).
func (p *sigPending) add(sig unix.Signal, info SigInfo) bool {
	if sig < SigRTMin {
		if p.mask&sigBit(sig) != 0 {
			p.info[sig-1].timerDropped() // replaced
		}
		p.mask |= sigBit(sig)
		p.info[sig-1] = info
		info.timerQueued()
		return true
	}
	if p.nrt >= maxQueued {
		return false
	}
	if p.rt == nil {
		p.rt = map[unix.Signal][]SigInfo{}
	}
	p.rt[sig] = append(p.rt[sig], info)
	p.nrt++
	p.mask |= sigBit(sig)
	info.timerQueued()
	return true
}

// first returns the lowest pending signal not in blocked, or 0.
func (p *sigPending) first(blocked uint64) unix.Signal {
	m := p.mask &^ blocked
	if m == 0 {
		return 0
	}
	return unix.Signal(bits.TrailingZeros64(m) + 1)
}

// take removes one instance of sig (pending) and returns its siginfo.
func (p *sigPending) take(sig unix.Signal) SigInfo {
	if sig < SigRTMin {
		p.mask &^= sigBit(sig)
		return p.info[sig-1].timerTaken()
	}
	q := p.rt[sig]
	if len(q) == 0 {
		p.mask &^= sigBit(sig)
		return SigInfo{Signo: int32(sig)}
	}
	info := q[0]
	q = q[1:]
	p.nrt--
	if len(q) == 0 {
		delete(p.rt, sig)
		p.mask &^= sigBit(sig)
	} else {
		p.rt[sig] = q
	}
	return info.timerTaken()
}

// discard drops every pending instance of the signals in set.
func (p *sigPending) discard(set uint64) {
	for m := p.mask & set; m != 0; m &= m - 1 {
		sig := unix.Signal(bits.TrailingZeros64(m) + 1)
		if sig >= SigRTMin {
			for i := range p.rt[sig] {
				p.rt[sig][i].timerDropped()
			}
			p.nrt -= len(p.rt[sig])
			delete(p.rt, sig)
		} else {
			p.info[sig-1].timerDropped()
		}
	}
	p.mask &^= set
}
