package seccomp

// cacheSize is the number of syscall numbers, starting at 0, whose results
// are cached per program.
const cacheSize = 512

// Run evaluates the program on d and returns its 32-bit result. A nil d
// reads as all zeroes. Run never panics; a nil Program returns
// RetKillProcess.
func (p *Program) Run(d *Data) uint32 {
	if p == nil {
		return RetKillProcess
	}
	if d == nil {
		d = &Data{}
	}
	ret, _ := p.run(d, false)
	return ret
}

// run interprets the program with Linux's classic BPF semantics: 32-bit A
// and X starting at zero, 16 scratch cells, unsigned comparisons, shifts by
// X taken modulo 32, and a division by X == 0 ending the program with 0.
//
// With constOnly set, run gives up (ok false) as soon as the program loads
// the instruction pointer or an argument, so that a result with ok true
// depends only on nr and arch.
//
// Checked programs always end in a return; anything else (which cannot
// happen) ends the program with RetKillProcess rather than a panic.
func (p *Program) run(d *Data, constOnly bool) (ret uint32, ok bool) {
	var (
		a, x uint32
		mem  [memWords]uint32
	)
	code := p.code
	for pc := 0; pc < len(code); pc++ {
		in := &code[pc]
		switch in.op {
		case opLdNr:
			a = uint32(d.Nr)
		case opLdArch:
			a = d.Arch
		case opLdIPLo:
			if constOnly {
				return 0, false
			}
			a = uint32(d.IP)
		case opLdIPHi:
			if constOnly {
				return 0, false
			}
			a = uint32(d.IP >> 32)
		case opLdArgLo:
			if constOnly {
				return 0, false
			}
			if in.k >= uint32(len(d.Args)) {
				return RetKillProcess, true
			}
			a = uint32(d.Args[in.k])
		case opLdArgHi:
			if constOnly {
				return 0, false
			}
			if in.k >= uint32(len(d.Args)) {
				return RetKillProcess, true
			}
			a = uint32(d.Args[in.k] >> 32)
		case opLdImm:
			a = in.k
		case opLdxImm:
			x = in.k
		case opLdMem:
			a = mem[in.k%memWords]
		case opLdxMem:
			x = mem[in.k%memWords]
		case opSt:
			mem[in.k%memWords] = a
		case opStx:
			mem[in.k%memWords] = x
		case opAddK:
			a += in.k
		case opAddX:
			a += x
		case opSubK:
			a -= in.k
		case opSubX:
			a -= x
		case opMulK:
			a *= in.k
		case opMulX:
			a *= x
		case opDivK:
			if in.k == 0 {
				return 0, true
			}
			a /= in.k
		case opDivX:
			if x == 0 {
				return 0, true
			}
			a /= x
		case opAndK:
			a &= in.k
		case opAndX:
			a &= x
		case opOrK:
			a |= in.k
		case opOrX:
			a |= x
		case opXorK:
			a ^= in.k
		case opXorX:
			a ^= x
		case opLshK:
			a <<= in.k & 31
		case opLshX:
			a <<= x & 31
		case opRshK:
			a >>= in.k & 31
		case opRshX:
			a >>= x & 31
		case opNeg:
			a = -a
		case opTax:
			x = a
		case opTxa:
			a = x
		case opRetK:
			return in.k, true
		case opRetA:
			return a, true
		case opJa:
			if in.k >= uint32(len(code)) {
				return RetKillProcess, true
			}
			pc += int(in.k)
		case opJeqK:
			pc += branch(a == in.k, in)
		case opJeqX:
			pc += branch(a == x, in)
		case opJgtK:
			pc += branch(a > in.k, in)
		case opJgtX:
			pc += branch(a > x, in)
		case opJgeK:
			pc += branch(a >= in.k, in)
		case opJgeX:
			pc += branch(a >= x, in)
		case opJsetK:
			pc += branch(a&in.k != 0, in)
		case opJsetX:
			pc += branch(a&x != 0, in)
		default:
			return RetKillProcess, true
		}
	}
	return RetKillProcess, true
}

// branch returns the number of instructions a conditional jump skips.
func branch(cond bool, in *insn) int {
	if cond {
		return int(in.jt)
	}
	return int(in.jf)
}

// buildCache runs the program for every cached syscall number on
// AuditArchX86_64 and records the results that do not depend on the
// instruction pointer or the arguments.
func (p *Program) buildCache() {
	d := Data{Arch: AuditArchX86_64}
	for nr := range cacheSize {
		d.Nr = int32(nr)
		ret, ok := p.run(&d, true)
		if !ok {
			continue
		}
		if p.cache == nil {
			p.cache = new([cacheSize]uint32)
		}
		p.cache[nr] = ret
		p.constant[nr/64] |= 1 << (nr % 64)
	}
}

// cached returns the cached result for d, if there is one.
func (p *Program) cached(d *Data) (uint32, bool) {
	nr := uint32(d.Nr)
	if d.Arch != AuditArchX86_64 || nr >= cacheSize || p.cache == nil ||
		p.constant[nr/64]&(1<<(nr%64)) == 0 {
		return 0, false
	}
	return p.cache[nr], true
}
