package seccomp

import (
	"errors"
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"
)

func mustCheck(t testing.TB, f []Instruction) *Program {
	t.Helper()
	p, err := Check(f)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return p
}

// runBoth runs p on d and checks it against the reference interpreter.
func runBoth(t *testing.T, p *Program, d Data) uint32 {
	t.Helper()
	got := p.Run(&d)
	if want := refRun(p.Instructions(), &d); got != want {
		t.Fatalf("Run = %#x, refRun = %#x", got, want)
	}
	return got
}

const (
	nrRead  = 0
	nrWrite = 1
	nrOpen  = 2
	nrIoctl = 16
)

func TestRunAllowList(t *testing.T) {
	p := mustCheck(t, []Instruction{
		stmt(cLdWAbs, offArch),
		jump(cJeqK, AuditArchX86_64, 1, 0),
		stmt(cRetK, RetKillProcess),
		stmt(cLdWAbs, offNr),
		jump(cJeqK, nrRead, 2, 0),
		jump(cJeqK, nrWrite, 1, 0),
		stmt(cRetK, RetErrno|uint32(unix.EPERM)),
		stmt(cRetK, RetAllow),
	})
	for _, tc := range []struct {
		d    Data
		want uint32
	}{
		{Data{Nr: nrRead, Arch: AuditArchX86_64}, RetAllow},
		{Data{Nr: nrWrite, Arch: AuditArchX86_64}, RetAllow},
		{Data{Nr: nrOpen, Arch: AuditArchX86_64}, RetErrno | uint32(unix.EPERM)},
		{Data{Nr: -1, Arch: AuditArchX86_64}, RetErrno | uint32(unix.EPERM)},
		{Data{Nr: 100000, Arch: AuditArchX86_64}, RetErrno | uint32(unix.EPERM)},
		{Data{Nr: nrRead, Arch: 0x40000003}, RetKillProcess},
		{Data{Nr: nrRead}, RetKillProcess},
	} {
		if got := runBoth(t, p, tc.d); got != tc.want {
			t.Errorf("Run(%+v) = %#x, want %#x", tc.d, got, tc.want)
		}
		c, _ := (*Chain)(nil).Attach(p, false)
		if got, _ := c.Evaluate(&tc.d); got != tc.want {
			t.Errorf("Evaluate(%+v) = %#x, want %#x", tc.d, got, tc.want)
		}
	}
}

func TestRunArgumentWords(t *testing.T) {
	// Allow ioctl(_, 0x1_0000_5401, _) only: check args[1]'s high then low
	// word; also look at args[5] and the instruction pointer.
	p := mustCheck(t, []Instruction{
		stmt(cLdWAbs, offNr),
		jump(cJeqK, nrIoctl, 0, 5),
		stmt(cLdWAbs, offArgHi(1)),
		jump(cJeqK, 1, 0, 3),
		stmt(cLdWAbs, offArgLo(1)),
		jump(cJeqK, 0x5401, 0, 1),
		stmt(cRetK, RetAllow),
		stmt(cLdWAbs, offArgLo(5)),
		jump(cJeqK, 0xdead, 0, 1),
		stmt(cRetK, RetTrap|5),
		stmt(cLdWAbs, offIP+4),
		jump(cJeqK, 0x7fff, 0, 1),
		stmt(cRetK, RetTrace|7),
		stmt(cLdWAbs, offIP),
		stmt(cRetA, 0),
	})
	ioctl := func(arg1 uint64) Data {
		return Data{Nr: nrIoctl, Arch: AuditArchX86_64, Args: [6]uint64{3, arg1}}
	}
	for _, tc := range []struct {
		name string
		d    Data
		want uint32
	}{
		{"match", ioctl(0x1_0000_5401), RetAllow},
		{"low only", ioctl(0x5401), 0},
		{"high only", ioctl(0x1_0000_0000), 0},
		{"swapped", ioctl(0x5401_0000_0001), 0},
		{"arg5 low", Data{Nr: nrOpen, Args: [6]uint64{5: 0xffff_ffff_0000_dead}}, RetTrap | 5},
		{"arg5 high only", Data{Nr: nrOpen, Args: [6]uint64{5: 0xdead_0000_0000}}, 0},
		{"ip high", Data{Nr: nrOpen, IP: 0x7fff_1234_5678}, RetTrace | 7},
		{"ip low", Data{Nr: nrOpen, IP: 0x7ffe_1234_5678}, 0x1234_5678},
	} {
		if got := runBoth(t, p, tc.d); got != tc.want {
			t.Errorf("%s: Run = %#x, want %#x", tc.name, got, tc.want)
		}
	}
	// Every path loads an argument or the instruction pointer after nr, so
	// no syscall number may be cached.
	for nr := range cacheSize {
		if _, ok := p.cached(&Data{Nr: int32(nr), Arch: AuditArchX86_64}); ok {
			t.Fatalf("nr %d cached although its result depends on arguments", nr)
		}
	}
}

func TestRunEveryWord(t *testing.T) {
	d := Data{
		Nr:   -2,
		Arch: 0x11111111,
		IP:   0x2222222233333333,
		Args: [6]uint64{
			0x4444444455555555, 0x6666666677777777, 0x88888888_99999999,
			0xaaaaaaaabbbbbbbb, 0xccccccccdddddddd, 0xeeeeeeeeffffffff,
		},
	}
	want := []uint32{
		0xfffffffe, 0x11111111, 0x33333333, 0x22222222,
		0x55555555, 0x44444444, 0x77777777, 0x66666666,
		0x99999999, 0x88888888, 0xbbbbbbbb, 0xaaaaaaaa,
		0xdddddddd, 0xcccccccc, 0xffffffff, 0xeeeeeeee,
	}
	for i, w := range want {
		p := mustCheck(t, []Instruction{stmt(cLdWAbs, uint32(4*i)), stmt(cRetA, 0)})
		if got := runBoth(t, p, d); got != w {
			t.Errorf("word at %d = %#x, want %#x", 4*i, got, w)
		}
	}
}

func TestRunALU(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, x uint32
		in   Instruction
		want uint32
	}{
		{"add k", 5, 0, stmt(cAddK, 7), 12},
		{"add wraps", 0xffffffff, 0, stmt(cAddK, 2), 1},
		{"add x", 5, 7, stmt(cAddX, 0), 12},
		{"sub k", 5, 0, stmt(cSubK, 7), 0xfffffffe},
		{"sub x", 7, 5, stmt(cSubX, 0), 2},
		{"mul k", 0x10000, 0, stmt(cMulK, 0x10001), 0x10000},
		{"mul x", 6, 7, stmt(cMulX, 0), 42},
		{"div k", 43, 0, stmt(cDivK, 7), 6},
		{"div unsigned", 0x80000000, 0, stmt(cDivK, 2), 0x40000000},
		{"div x", 43, 7, stmt(cDivX, 0), 6},
		{"and k", 0xff0f, 0, stmt(cAndK, 0x0ff0), 0x0f00},
		{"and x", 0xff0f, 0x0ff0, stmt(cAndX, 0), 0x0f00},
		{"or k", 0xf000, 0, stmt(cOrK, 0x000f), 0xf00f},
		{"or x", 0xf000, 0x000f, stmt(cOrX, 0), 0xf00f},
		{"xor k", 0xff00, 0, stmt(cXorK, 0x0ff0), 0xf0f0},
		{"xor x", 0xff00, 0x0ff0, stmt(cXorX, 0), 0xf0f0},
		{"lsh k", 3, 0, stmt(cLshK, 4), 48},
		{"lsh k 31", 3, 0, stmt(cLshK, 31), 0x80000000},
		{"lsh x", 3, 4, stmt(cLshX, 0), 48},
		{"lsh x 32 is 0", 3, 32, stmt(cLshX, 0), 3},
		{"lsh x 33 is 1", 3, 33, stmt(cLshX, 0), 6},
		{"rsh k", 0x80000000, 0, stmt(cRshK, 31), 1},
		{"rsh is logical", 0x80000000, 0, stmt(cRshK, 4), 0x08000000},
		{"rsh x", 48, 4, stmt(cRshX, 0), 3},
		{"rsh x 36 is 4", 48, 36, stmt(cRshX, 0), 3},
		{"neg", 1, 0, stmt(cNeg, 0), 0xffffffff},
		{"neg 0", 0, 0, stmt(cNeg, 0), 0},
		{"tax", 9, 0, stmt(cTax, 0), 9},
		{"txa", 9, 4, stmt(cTxa, 0), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A = a; X = x; op; ret a — and ret x after tax for tax.
			f := []Instruction{stmt(cLdImm, tc.a), stmt(cLdxImm, tc.x), tc.in}
			if tc.in.Code == cTax {
				f = append(f, stmt(cLdImm, 0), stmt(cTxa, 0))
			}
			p := mustCheck(t, append(f, stmt(cRetA, 0)))
			if got := runBoth(t, p, Data{}); got != tc.want {
				t.Errorf("got %#x, want %#x", got, tc.want)
			}
		})
	}
}

func TestRunDivByXZero(t *testing.T) {
	// Division by X == 0 ends the filter with 0 (SECCOMP_RET_KILL_THREAD),
	// whatever comes after it.
	p := mustCheck(t, []Instruction{
		stmt(cLdWAbs, offArgLo(0)),
		stmt(cTax, 0),
		stmt(cLdImm, 100),
		stmt(cDivX, 0),
		stmt(cRetK, RetAllow),
	})
	if got := runBoth(t, p, Data{Args: [6]uint64{0}}); got != 0 {
		t.Errorf("div by X=0: got %#x, want 0", got)
	}
	if got := runBoth(t, p, Data{Args: [6]uint64{1 << 32}}); got != 0 {
		t.Errorf("div by X=0 (high word set): got %#x, want 0", got)
	}
	if got := runBoth(t, p, Data{Args: [6]uint64{7}}); got != RetAllow {
		t.Errorf("div by X=7: got %#x, want ALLOW", got)
	}
}

func TestRunScratch(t *testing.T) {
	p := mustCheck(t, []Instruction{
		stmt(cLdImm, 11),
		stmt(cSt, 0),
		stmt(cLdxImm, 22),
		stmt(cStx, 15),
		stmt(cLdImm, 33),
		stmt(cSt, 0), // overwrite
		stmt(cLdImm, 0),
		stmt(cLdxImm, 0),
		stmt(cLdMem, 15), // A = 22
		stmt(cLdxMem, 0), // X = 33
		stmt(cAddX, 0),   // A = 55
		stmt(cRetA, 0),
	})
	if got := runBoth(t, p, Data{}); got != 55 {
		t.Errorf("got %d, want 55", got)
	}
}

func TestRunLenAndImm(t *testing.T) {
	p := mustCheck(t, []Instruction{
		stmt(cLdxWLen, 0),
		stmt(cLdWLen, 0),
		stmt(cAddX, 0),
		stmt(cRetA, 0),
	})
	if got := runBoth(t, p, Data{}); got != 128 {
		t.Errorf("len+len = %d, want 128", got)
	}
}

func TestRunJumps(t *testing.T) {
	// ret (A op K) ? 1 : 2, and the same with X = K.
	for _, tc := range []struct {
		name string
		code uint16
		a, k uint32
		want bool
	}{
		{"jeq", cJeqK, 5, 5, true},
		{"jeq no", cJeqK, 5, 6, false},
		{"jgt", cJgtK, 6, 5, true},
		{"jgt equal", cJgtK, 5, 5, false},
		{"jgt unsigned", cJgtK, 0x80000000, 1, true},
		{"jge equal", cJgeK, 5, 5, true},
		{"jge less", cJgeK, 4, 5, false},
		{"jge unsigned", cJgeK, 1, 0xffffffff, false},
		{"jset", cJsetK, 0x10, 0x30, true},
		{"jset no", cJsetK, 0x10, 0x20, false},
		{"jset high bit", cJsetK, 0x80000000, 0x80000000, true},
	} {
		for _, useX := range []bool{false, true} {
			f := []Instruction{stmt(cLdImm, tc.a)}
			if useX {
				f = append(f, stmt(cLdxImm, tc.k), jump(tc.code|0x08, 0, 0, 1))
			} else {
				f = append(f, jump(tc.code, tc.k, 0, 1))
			}
			f = append(f, stmt(cRetK, 1), stmt(cRetK, 2))
			want := uint32(2)
			if tc.want {
				want = 1
			}
			if got := runBoth(t, mustCheck(t, f), Data{}); got != want {
				t.Errorf("%s (x=%v): got %d, want %d", tc.name, useX, got, want)
			}
		}
	}
	// JA skips, and a conditional with jt and jf far apart.
	p := mustCheck(t, []Instruction{
		stmt(cLdWAbs, offNr),
		jump(cJsetK, 1, 2, 0), // odd nr -> 4
		stmt(cJa, 2),          // even -> 5
		stmt(cRetK, 100),
		stmt(cRetK, 101),
		stmt(cRetK, 102),
	})
	if got := runBoth(t, p, Data{Nr: 3}); got != 101 {
		t.Errorf("odd: got %d, want 101", got)
	}
	if got := runBoth(t, p, Data{Nr: 4}); got != 102 {
		t.Errorf("even: got %d, want 102", got)
	}
}

func TestRunLongJumps(t *testing.T) {
	// A 4096-instruction filter with jumps of the largest sizes.
	f := []Instruction{
		stmt(cLdWAbs, offNr),
		jump(cJeqK, 1, 255, 0), // -> 257
		stmt(cJa, 4096-3-1),    // -> 4095
	}
	for len(f) < 4095 {
		f = append(f, stmt(cRetK, uint32(len(f))))
	}
	f = append(f, stmt(cRetK, 9999))
	p := mustCheck(t, f)
	if got := runBoth(t, p, Data{Nr: 1}); got != 257 {
		t.Errorf("got %d, want 257", got)
	}
	if got := runBoth(t, p, Data{Nr: 2}); got != 9999 {
		t.Errorf("got %d, want 9999", got)
	}
}

func TestCacheMatchesRun(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	cachedHits := 0
	for i := 0; i < 2000; i++ {
		f := randomProgram(r, 2+r.Intn(60))
		p, err := Check(f)
		if err != nil {
			t.Fatalf("program %d: Check: %v\n%+v", i, err, f)
		}
		if !refCheck(f) {
			t.Fatalf("program %d: refCheck refuses a generated program", i)
		}
		for j := 0; j < 50; j++ {
			d := randomData(r)
			want := refRun(f, &d)
			if got := p.Run(&d); got != want {
				t.Fatalf("program %d: Run(%+v) = %#x, refRun = %#x\n%+v", i, d, got, want, f)
			}
			if got, ok := p.cached(&d); ok {
				cachedHits++
				if got != want {
					t.Fatalf("program %d: cached(%+v) = %#x, refRun = %#x\n%+v", i, d, got, want, f)
				}
			}
		}
		// Every cached entry must equal a run with any instruction
		// pointer and arguments.
		for nr := range cacheSize {
			d := randomData(r)
			d.Nr, d.Arch = int32(nr), AuditArchX86_64
			if got, ok := p.cached(&d); ok {
				if want := refRun(f, &d); got != want {
					t.Fatalf("program %d: cache[%d] = %#x, refRun = %#x\n%+v", i, nr, got, want, f)
				}
			}
		}
	}
	if cachedHits == 0 {
		t.Fatal("the cache was never used")
	}
}

func TestChainCacheMatchesRun(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 300; i++ {
		var c *Chain
		var progs []*Program
		var logs []bool
		for j := 1 + r.Intn(5); j > 0; j-- {
			p := mustCheck(t, randomProgram(r, 2+r.Intn(40)))
			log := r.Intn(2) == 0
			var err error
			if c, err = c.Attach(p, log); err != nil {
				t.Fatal(err)
			}
			progs = append([]*Program{p}, progs...)
			logs = append([]bool{log}, logs...)
		}
		for j := 0; j < 100; j++ {
			d := randomData(r)
			results := make([]uint32, len(progs))
			for k, p := range progs {
				results[k] = refRun(p.Instructions(), &d)
			}
			wantRet, wantLog := refEvaluate(results, logs)
			gotRet, gotLog := c.Evaluate(&d)
			if gotRet != wantRet || gotLog != wantLog {
				t.Fatalf("chain %d: Evaluate(%+v) = %#x, %v; want %#x, %v", i, d, gotRet, gotLog, wantRet, wantLog)
			}
		}
	}
}

func FuzzCheckRun(f *testing.F) {
	seeds := [][]Instruction{
		{retAllow()},
		{stmt(cLdWAbs, offNr), jump(cJeqK, 1, 0, 1), retAllow(), stmt(cRetK, RetErrno|1)},
		{stmt(cLdWAbs, offArgLo(0)), stmt(cTax, 0), stmt(cLdImm, 9), stmt(cDivX, 0), stmt(cRetA, 0)},
		{stmt(cLdImm, 1), stmt(cSt, 3), stmt(cLdxMem, 3), stmt(cLshX, 0), stmt(cRetA, 0)},
		{stmt(cLdWAbs, offArch), jump(cJsetK, 0x80000000, 0, 1), stmt(cLdWAbs, offIP), stmt(cRetA, 0)},
	}
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 20; i++ {
		seeds = append(seeds, randomProgram(r, 2+r.Intn(30)))
	}
	for _, s := range seeds {
		d := randomData(r)
		f.Add(Encode(s), dataBytes(&d))
	}
	f.Fuzz(func(t *testing.T, prog, data []byte) {
		insns := Decode(prog)
		p, err := Check(insns)
		if ref := refCheck(insns); (err == nil) != ref {
			t.Fatalf("Check error %v, but Linux accepts: %v\n%+v", err, ref, insns)
		}
		if err != nil {
			if !errors.Is(err, unix.EINVAL) {
				t.Fatalf("Check error %v, want EINVAL", err)
			}
			return
		}
		d := dataFromBytes(data)
		// As given, then forced onto the cached path.
		native := d
		native.Arch = AuditArchX86_64
		native.Nr = int32(uint32(d.Nr) % cacheSize)
		c, err := (*Chain)(nil).Attach(p, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []Data{d, native} {
			want := refRun(insns, &d)
			if got := p.Run(&d); got != want {
				t.Fatalf("Run(%+v) = %#x, reference %#x", d, got, want)
			}
			wantRet, wantLog := refEvaluate([]uint32{want}, []bool{true})
			if gotRet, gotLog := c.Evaluate(&d); gotRet != wantRet || gotLog != wantLog {
				t.Fatalf("Evaluate(%+v) = %#x, %v; reference %#x, %v", d, gotRet, gotLog, wantRet, wantLog)
			}
		}
	})
}
