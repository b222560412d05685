package seccomp

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// retProgram returns a filter that always returns ret.
func retProgram(t testing.TB, ret uint32) *Program {
	t.Helper()
	return mustCheck(t, []Instruction{stmt(cRetK, ret)})
}

func attach(t testing.TB, c *Chain, p *Program, log bool) *Chain {
	t.Helper()
	c, err := c.Attach(p, log)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	return c
}

func TestChainEmpty(t *testing.T) {
	var c *Chain
	if c.Len() != 0 || c.Program() != nil || c.Prev() != nil {
		t.Fatal("nil chain is not empty")
	}
	if ret, log := c.Evaluate(&Data{Nr: 1, Arch: AuditArchX86_64}); ret != RetAllow || log {
		t.Fatalf("Evaluate on nil chain = %#x, %v", ret, log)
	}
	if ret, _ := c.Evaluate(nil); ret != RetAllow {
		t.Fatalf("Evaluate(nil) on nil chain = %#x", ret)
	}
}

func TestChainPrecedence(t *testing.T) {
	// From highest to lowest precedence.
	order := []uint32{
		RetKillProcess, RetKillThread, RetTrap | 1, RetErrno | 2,
		RetUserNotif, RetTrace | 3, RetLog, RetAllow,
	}
	for i, winner := range order {
		for _, loser := range order[i+1:] {
			for _, winnerNewer := range []bool{false, true} {
				var c *Chain
				if winnerNewer {
					c = attach(t, c, retProgram(t, loser), false)
					c = attach(t, c, retProgram(t, winner), true)
				} else {
					c = attach(t, c, retProgram(t, winner), true)
					c = attach(t, c, retProgram(t, loser), false)
				}
				ret, log := c.Evaluate(&Data{Nr: 3, Arch: AuditArchX86_64})
				want, wantLog := winner, true
				if winner == RetAllow {
					want, wantLog = RetAllow, false
				}
				if ret != want || log != wantLog {
					t.Errorf("%#x vs %#x (winner newer %v): got %#x, %v; want %#x, %v",
						winner, loser, winnerNewer, ret, log, want, wantLog)
				}
			}
		}
	}
	// Actions Linux does not know still order by their signed value:
	// 0xffff0000 (-65536) is between KILL_PROCESS and KILL_THREAD.
	c := attach(t, nil, retProgram(t, RetKillThread), false)
	c = attach(t, c, retProgram(t, 0xffff0001), false)
	if ret, _ := c.Evaluate(&Data{}); ret != 0xffff0001 {
		t.Errorf("unknown negative action: got %#x", ret)
	}
	c = attach(t, c, retProgram(t, RetKillProcess|7), false)
	if ret, _ := c.Evaluate(&Data{}); ret != RetKillProcess|7 {
		t.Errorf("kill process: got %#x", ret)
	}
}

func TestChainTies(t *testing.T) {
	older := mustCheck(t, []Instruction{stmt(cRetK, RetErrno|1)})
	newer := mustCheck(t, []Instruction{stmt(cRetK, RetErrno|2)})
	c := attach(t, attach(t, nil, older, false), newer, true)
	if ret, log := c.Evaluate(&Data{}); ret != RetErrno|2 || !log {
		t.Errorf("tie: got %#x, %v; want the newer program's %#x, true", ret, log, RetErrno|2)
	}
	c = attach(t, attach(t, nil, newer, true), older, false)
	if ret, log := c.Evaluate(&Data{}); ret != RetErrno|1 || log {
		t.Errorf("tie: got %#x, %v; want the newer program's %#x, false", ret, log, RetErrno|1)
	}
	// Allow is the starting point, so an allow with data never wins.
	c = attach(t, nil, retProgram(t, RetAllow|9), true)
	if ret, log := c.Evaluate(&Data{}); ret != RetAllow || log {
		t.Errorf("allow with data: got %#x, %v; want %#x, false", ret, log, RetAllow)
	}
	// The log flag follows the winner, not the top of the stack.
	c = attach(t, nil, retProgram(t, RetLog), true)
	c = attach(t, c, retProgram(t, RetAllow), false)
	if ret, log := c.Evaluate(&Data{}); ret != RetLog || !log {
		t.Errorf("log: got %#x, %v; want %#x, true", ret, log, RetLog)
	}
}

func TestChainSharing(t *testing.T) {
	base := attach(t, nil, retProgram(t, RetErrno|1), false)
	a := attach(t, base, retProgram(t, RetTrap), false)
	b := attach(t, base, retProgram(t, RetAllow), false)
	if base.Len() != 1 || a.Len() != 2 || b.Len() != 2 {
		t.Fatalf("Len: base %d, a %d, b %d", base.Len(), a.Len(), b.Len())
	}
	if a.Prev() != base || b.Prev() != base || a.Program().Len() != 1 {
		t.Fatal("Prev/Program do not walk the stack")
	}
	for _, tc := range []struct {
		c    *Chain
		want uint32
	}{{base, RetErrno | 1}, {a, RetTrap}, {b, RetErrno | 1}} {
		if ret, _ := tc.c.Evaluate(&Data{}); ret != tc.want {
			t.Errorf("got %#x, want %#x", ret, tc.want)
		}
	}
}

func TestChainPathLimit(t *testing.T) {
	big := mustCheck(t, repeat(retAllow(), MaxInstructions))
	var c *Chain
	for i := 0; i < 7; i++ {
		c = attach(t, c, big, false)
	}
	if c.Len() != 7 {
		t.Fatalf("Len = %d, want 7", c.Len())
	}
	// 4096 + 7*(4096+4) = 32796 > 32768.
	if got, err := c.Attach(big, false); !errors.Is(err, unix.ENOMEM) || got != nil {
		t.Fatalf("8th 4096-instruction filter: %v, %v; want nil, ENOMEM", got, err)
	}
	// Linux charges the 4-instruction penalty to the filters already
	// attached, not to the new one: 7*(4096+4) + 4068 = 32768 still fits.
	if _, err := c.Attach(mustCheck(t, repeat(retAllow(), 4069)), false); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("4069 more: %v, want ENOMEM", err)
	}
	full := attach(t, c, mustCheck(t, repeat(retAllow(), 4068)), false)
	if full.Len() != 8 {
		t.Fatalf("Len = %d, want 8", full.Len())
	}
	// Now 32768+4 are accounted for: even one instruction is too many.
	if _, err := full.Attach(retProgram(t, RetAllow), false); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("one more: %v, want ENOMEM", err)
	}
	// The failed attaches left the chain alone.
	if c.Len() != 7 {
		t.Fatalf("Len = %d after failed attaches", c.Len())
	}
	// Many small filters: each costs Len()+4 once below the top.
	c = nil
	n := 0
	for {
		next, err := c.Attach(retProgram(t, RetAllow), false)
		if err != nil {
			if !errors.Is(err, unix.ENOMEM) {
				t.Fatal(err)
			}
			break
		}
		c = next
		n++
	}
	// 1 + 5*(n-1) <= 32768 < 1 + 5*n
	if want := (MaxInstructionsPerPath-1)/5 + 1; n != want {
		t.Fatalf("attached %d one-instruction filters, want %d", n, want)
	}
}

// allowList300 returns a 300-instruction filter in the usual shape: check
// the architecture, then compare nr against a list of allowed syscalls.
func allowList300() ([]Instruction, []int32) {
	f := []Instruction{
		stmt(cLdWAbs, offArch),
		jump(cJeqK, AuditArchX86_64, 1, 0),
		stmt(cRetK, RetKillProcess),
		stmt(cLdWAbs, offNr),
	}
	var allowed []int32
	for nr := int32(0); len(f) < 298; nr += 2 {
		f = append(f, jump(cJeqK, uint32(nr), 0, 1), stmt(cRetK, RetAllow))
		allowed = append(allowed, nr)
	}
	f = append(f, stmt(cRetK, RetErrno|uint32(unix.EPERM)), stmt(cRetK, RetKillThread))
	return f, allowed
}

func BenchmarkEvaluate(b *testing.B) {
	f, allowed := allowList300()
	if len(f) != 300 {
		b.Fatalf("filter has %d instructions", len(f))
	}
	p := mustCheck(b, f)
	c := attach(b, nil, p, false)
	last := allowed[len(allowed)-1]
	b.Run("cached", func(b *testing.B) {
		d := Data{Nr: last, Arch: AuditArchX86_64}
		for b.Loop() {
			if ret, _ := c.Evaluate(&d); ret != RetAllow {
				b.Fatalf("got %#x", ret)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		// nr past the cached range: the whole list is scanned.
		d := Data{Nr: 1000, Arch: AuditArchX86_64}
		for b.Loop() {
			if ret, _ := c.Evaluate(&d); ret != RetErrno|uint32(unix.EPERM) {
				b.Fatalf("got %#x", ret)
			}
		}
	})
	b.Run("run", func(b *testing.B) {
		d := Data{Nr: last, Arch: AuditArchX86_64}
		for b.Loop() {
			if ret := p.Run(&d); ret != RetAllow {
				b.Fatalf("got %#x", ret)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	f, _ := allowList300()
	for b.Loop() {
		if _, err := Check(f); err != nil {
			b.Fatal(err)
		}
	}
}
