package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSigPendingQueuesRealTime(t *testing.T) {
	var p sigPending
	rt := unix.Signal(SigRTMin + 2)
	for i := 0; i < 3; i++ {
		if !p.add(rt, SigInfo{Signo: int32(rt), Value: uint64(i)}) {
			t.Fatal("add refused")
		}
	}
	// A standard signal is pending once, the last siginfo winning.
	p.add(unix.SIGUSR1, SigInfo{Code: 1})
	p.add(unix.SIGUSR1, SigInfo{Code: 2})
	if got := p.first(0); got != unix.SIGUSR1 {
		t.Fatalf("first = %v, want SIGUSR1 (lowest number first)", got)
	}
	if info := p.take(unix.SIGUSR1); info.Code != 2 {
		t.Fatalf("SIGUSR1 info code %d, want 2", info.Code)
	}
	if p.first(0) != rt {
		t.Fatal("SIGUSR1 still pending after one take")
	}
	for i := 0; i < 3; i++ {
		if info := p.take(rt); info.Value != uint64(i) {
			t.Fatalf("instance %d has value %d: not in order", i, info.Value)
		}
	}
	if p.mask != 0 || p.nrt != 0 {
		t.Fatalf("left mask %#x, %d queued", p.mask, p.nrt)
	}
	// Blocked signals are skipped; discard drops every instance.
	p.add(rt, SigInfo{})
	p.add(rt, SigInfo{})
	if p.first(sigBit(rt)) != 0 {
		t.Fatal("a blocked signal was returned")
	}
	p.discard(sigBit(rt))
	if p.mask != 0 || p.nrt != 0 || len(p.rt) != 0 {
		t.Fatal("discard left something")
	}
	for i := 0; i < maxQueued; i++ {
		p.add(rt, SigInfo{})
	}
	if p.add(rt, SigInfo{}) {
		t.Fatal("the queue is not bounded")
	}
}
