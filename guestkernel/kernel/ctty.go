package kernel

import "golang.org/x/sys/unix"

// ControllingTerminal is what a session's controlling terminal must do
// when its session leader exits.
type ControllingTerminal interface {
	// ControllerExited detaches the terminal from its session and sends
	// SIGHUP and SIGCONT to its foreground process group.
	ControllerExited()
}

// dropCTTYLocked forgets the controlling terminal of tg's session when
// tg leads it, and returns it. k.mu is held.
func (k *Kernel) dropCTTYLocked(tg *ThreadGroup) ControllingTerminal {
	if tg.sid != tg.PID {
		return nil
	}
	c := k.cttys[tg.sid]
	delete(k.cttys, tg.sid)
	ct, _ := c.(ControllingTerminal)
	return ct
}

// CTTY returns the controlling terminal of tg's session (nil: none). The
// kernel keeps it opaque; the syscall layer knows its type.
func (tg *ThreadGroup) CTTY() any {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.k.cttys[tg.sid]
}

// SetCTTY makes tty the controlling terminal of tg's session (nil
// detaches it). Only a session leader may acquire one; that rule is the
// caller's.
func (tg *ThreadGroup) SetCTTY(tty any) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if tty == nil {
		delete(k.cttys, tg.sid)
		return
	}
	if k.cttys == nil {
		k.cttys = map[int32]any{}
	}
	k.cttys[tg.sid] = tty
}

// SessionOf returns the session of the process group pgid, 0 if there
// is no such group.
func (k *Kernel) SessionOf(pgid int32) int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, g := range k.groups {
		if g.pgid == pgid && !g.zombie {
			return g.sid
		}
	}
	return 0
}

// OrphanedPgrp reports whether process group pgid is orphaned: no member
// has a parent in another group of the same session.
func (k *Kernel) OrphanedPgrp(pgid int32) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, g := range k.groups {
		if g.pgid != pgid || g.zombie {
			continue
		}
		if p := g.parent; p != nil && p.pgid != pgid && p.sid == g.sid {
			return false
		}
	}
	return true
}

// pgrpMembers returns the live processes of group pgid.
func (k *Kernel) pgrpMembers(pgid int32) []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*ThreadGroup
	for _, g := range k.groups {
		if g.pgid == pgid && !g.zombie {
			out = append(out, g)
		}
	}
	return out
}

// SignalPgrp sends sig from the kernel to every process of group pgid.
func (k *Kernel) SignalPgrp(pgid int32, sig unix.Signal) {
	for _, g := range k.pgrpMembers(pgid) {
		g.SendSignalInfo(SigInfo{Signo: int32(sig), Code: SIKernel})
	}
}

// SignalIgnoredOrBlocked reports whether sig sent to t would be ignored
// or is blocked by it (a background read gets EIO then instead of
// SIGTTIN).
func (t *Task) SignalIgnoredOrBlocked(sig unix.Signal) bool {
	if t.SigMask&sigBit(sig) != 0 {
		return true
	}
	return t.TG.Action(sig).Handler == SigIgn
}
