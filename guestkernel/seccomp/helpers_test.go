package seccomp

import (
	"encoding/binary"
	"math/rand"
)

// Raw classic BPF opcodes, spelled as numbers so that the tests do not
// depend on the package's own opcode constants.
const (
	cLdWAbs  = 0x20
	cLdHAbs  = 0x28
	cLdBAbs  = 0x30
	cLdWInd  = 0x40
	cLdHInd  = 0x48
	cLdBInd  = 0x50
	cLdWLen  = 0x80
	cLdImm   = 0x00
	cLdMem   = 0x60
	cLdxWLen = 0x81
	cLdxImm  = 0x01
	cLdxMem  = 0x61
	cLdxWAbs = 0x21 // seccomp's internal marker, never valid from users
	cLdxBMsh = 0xb1
	cSt      = 0x02
	cStx     = 0x03
	cAddK    = 0x04
	cAddX    = 0x0c
	cSubK    = 0x14
	cSubX    = 0x1c
	cMulK    = 0x24
	cMulX    = 0x2c
	cDivK    = 0x34
	cDivX    = 0x3c
	cOrK     = 0x44
	cOrX     = 0x4c
	cAndK    = 0x54
	cAndX    = 0x5c
	cLshK    = 0x64
	cLshX    = 0x6c
	cRshK    = 0x74
	cRshX    = 0x7c
	cNeg     = 0x84
	cModK    = 0x94
	cModX    = 0x9c
	cXorK    = 0xa4
	cXorX    = 0xac
	cJa      = 0x05
	cJeqK    = 0x15
	cJeqX    = 0x1d
	cJgtK    = 0x25
	cJgtX    = 0x2d
	cJgeK    = 0x35
	cJgeX    = 0x3d
	cJsetK   = 0x45
	cJsetX   = 0x4d
	cRetK    = 0x06
	cRetX    = 0x0e
	cRetA    = 0x16
	cTax     = 0x07
	cTxa     = 0x87
)

// seccomp_data offsets.
const (
	offNr   = 0
	offArch = 4
	offIP   = 8
)

func offArgLo(i int) uint32 { return uint32(16 + 8*i) }
func offArgHi(i int) uint32 { return uint32(20 + 8*i) }

func stmt(code uint16, k uint32) Instruction {
	return Instruction{Code: code, K: k}
}

func jump(code uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Code: code, Jt: jt, Jf: jf, K: k}
}

// classicCodes is the opcode table of Linux's bpf_check_classic.
var classicCodes = map[uint16]bool{
	cAddK: true, cAddX: true, cSubK: true, cSubX: true, cMulK: true,
	cMulX: true, cDivK: true, cDivX: true, cModK: true, cModX: true,
	cAndK: true, cAndX: true, cOrK: true, cOrX: true, cXorK: true,
	cXorX: true, cLshK: true, cLshX: true, cRshK: true, cRshX: true,
	cNeg: true, cLdWAbs: true, cLdHAbs: true, cLdBAbs: true,
	cLdWLen: true, cLdWInd: true, cLdHInd: true, cLdBInd: true,
	cLdImm: true, cLdMem: true, cLdxWLen: true, cLdxBMsh: true,
	cLdxImm: true, cLdxMem: true, cSt: true, cStx: true, cTax: true,
	cTxa: true, cRetK: true, cRetA: true, cJa: true, cJeqK: true,
	cJeqX: true, cJgeK: true, cJgeX: true, cJgtK: true, cJgtX: true,
	cJsetK: true, cJsetX: true,
}

// seccompCodes is the opcode list of Linux's seccomp_check_filter.
var seccompCodes = map[uint16]bool{
	cLdWAbs: true, cLdWLen: true, cLdxWLen: true, cRetK: true,
	cRetA: true, cAddK: true, cAddX: true, cSubK: true, cSubX: true,
	cMulK: true, cMulX: true, cDivK: true, cDivX: true, cAndK: true,
	cAndX: true, cOrK: true, cOrX: true, cXorK: true, cXorX: true,
	cLshK: true, cLshX: true, cRshK: true, cRshX: true, cNeg: true,
	cLdImm: true, cLdxImm: true, cTax: true, cTxa: true, cLdMem: true,
	cLdxMem: true, cSt: true, cStx: true, cJa: true, cJeqK: true,
	cJeqX: true, cJgeK: true, cJgeX: true, cJgtK: true, cJgtX: true,
	cJsetK: true, cJsetX: true,
}

func isCondJump(code uint16) bool {
	switch code {
	case cJeqK, cJeqX, cJgtK, cJgtX, cJgeK, cJgeX, cJsetK, cJsetX:
		return true
	}
	return false
}

// refCheck is an independent, step-by-step rendering of what Linux does
// with a seccomp filter: bpf_check_basics_ok, bpf_check_classic (including
// check_load_and_stores), then seccomp_check_filter.
func refCheck(f []Instruction) bool {
	n := len(f)
	if n == 0 || n > 4096 {
		return false
	}
	for pc, in := range f {
		if !classicCodes[in.Code] {
			return false
		}
		switch {
		case in.Code == cDivK || in.Code == cModK:
			if in.K == 0 {
				return false
			}
		case in.Code == cLshK || in.Code == cRshK:
			if in.K >= 32 {
				return false
			}
		case in.Code == cLdMem || in.Code == cLdxMem || in.Code == cSt || in.Code == cStx:
			if in.K >= 16 {
				return false
			}
		case in.Code == cJa:
			if in.K >= uint32(n-pc-1) {
				return false
			}
		case isCondJump(in.Code):
			if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
				return false
			}
		}
	}
	if c := f[n-1].Code; c != cRetK && c != cRetA {
		return false
	}
	masks := make([]uint16, n)
	for i := range masks {
		masks[i] = 0xffff
	}
	valid := uint16(0)
	for pc, in := range f {
		valid &= masks[pc]
		switch {
		case in.Code == cSt || in.Code == cStx:
			valid |= 1 << in.K
		case in.Code == cLdMem || in.Code == cLdxMem:
			if valid&(1<<in.K) == 0 {
				return false
			}
		case in.Code == cJa:
			masks[pc+1+int(in.K)] &= valid
			valid = 0xffff
		case isCondJump(in.Code):
			masks[pc+1+int(in.Jt)] &= valid
			masks[pc+1+int(in.Jf)] &= valid
			valid = 0xffff
		}
	}
	for _, in := range f {
		if !seccompCodes[in.Code] {
			return false
		}
		if in.Code == cLdWAbs && (in.K >= 64 || in.K&3 != 0) {
			return false
		}
	}
	return true
}

// dataBytes lays d out as the 64-byte little-endian struct seccomp_data.
func dataBytes(d *Data) []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], uint32(d.Nr))
	binary.LittleEndian.PutUint32(b[4:], d.Arch)
	binary.LittleEndian.PutUint64(b[8:], d.IP)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// dataFromBytes is the inverse of dataBytes; short input reads as zeroes.
func dataFromBytes(in []byte) Data {
	b := make([]byte, 64)
	copy(b, in)
	d := Data{
		Nr:   int32(binary.LittleEndian.Uint32(b[0:])),
		Arch: binary.LittleEndian.Uint32(b[4:]),
		IP:   binary.LittleEndian.Uint64(b[8:]),
	}
	for i := range d.Args {
		d.Args[i] = binary.LittleEndian.Uint64(b[16+8*i:])
	}
	return d
}

// refRun is an independent interpreter for a filter refCheck accepts,
// working on raw opcodes and the byte image of struct seccomp_data.
func refRun(f []Instruction, d *Data) uint32 {
	buf := dataBytes(d)
	var a, x uint32
	var m [16]uint32
	for pc := 0; pc < len(f); pc++ {
		in := f[pc]
		k := in.K
		switch in.Code {
		case cLdWAbs:
			a = binary.LittleEndian.Uint32(buf[k:])
		case cLdWLen:
			a = 64
		case cLdxWLen:
			x = 64
		case cLdImm:
			a = k
		case cLdxImm:
			x = k
		case cLdMem:
			a = m[k]
		case cLdxMem:
			x = m[k]
		case cSt:
			m[k] = a
		case cStx:
			m[k] = x
		case cTax:
			x = a
		case cTxa:
			a = x
		case cRetK:
			return k
		case cRetA:
			return a
		case cJa:
			pc += int(k)
		case cNeg:
			a = -a
		default:
			src := k
			if in.Code&0x08 != 0 {
				src = x
			}
			if in.Code&0x07 == 0x04 { // ALU
				switch in.Code & 0xf0 {
				case 0x00:
					a += src
				case 0x10:
					a -= src
				case 0x20:
					a *= src
				case 0x30:
					if src == 0 {
						return 0
					}
					a /= src
				case 0x40:
					a |= src
				case 0x50:
					a &= src
				case 0x60:
					a <<= src % 32
				case 0x70:
					a >>= src % 32
				case 0xa0:
					a ^= src
				default:
					panic("refRun: bad ALU op")
				}
				continue
			}
			var cond bool
			switch in.Code &^ 0x08 {
			case cJeqK:
				cond = a == src
			case cJgtK:
				cond = a > src
			case cJgeK:
				cond = a >= src
			case cJsetK:
				cond = a&src != 0
			default:
				panic("refRun: bad opcode")
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		}
	}
	panic("refRun: fell off the end")
}

// refEvaluate is seccomp_run_filters over results listed newest first.
func refEvaluate(results []uint32, logs []bool) (uint32, bool) {
	ret, log := uint32(RetAllow), false
	for i, r := range results {
		if int32(r&0xffff0000) < int32(ret&0xffff0000) {
			ret, log = r, logs[i]
		}
	}
	return ret, log
}

var randomActions = []uint32{
	RetKillProcess, RetKillThread, RetTrap, RetErrno, RetUserNotif,
	RetTrace, RetLog, RetAllow,
}

func randomRet(r *rand.Rand) uint32 {
	return randomActions[r.Intn(len(randomActions))] | uint32(r.Intn(4))
}

func randomK(r *rand.Rand) uint32 {
	switch r.Intn(6) {
	case 0:
		return uint32(r.Intn(8))
	case 1, 2:
		return uint32(r.Intn(520))
	case 3:
		return AuditArchX86_64
	case 4:
		return 1 << uint(r.Intn(32))
	default:
		return r.Uint32()
	}
}

// randomProgram returns a random filter of n >= 2 instructions that Linux
// accepts. Scratch cells are only read if a prologue without jumps stored
// them, which check_load_and_stores always accepts.
func randomProgram(r *rand.Rand, n int) []Instruction {
	var f []Instruction
	stored := r.Intn(4)
	for i := 0; i < stored && len(f) < n-1; i++ {
		f = append(f, stmt(cLdImm, randomK(r)), stmt(cSt, uint32(i)))
	}
	if len(f) > n-1 {
		f = f[:n-1]
		stored = len(f) / 2
	}
	for len(f) < n-1 {
		pc := len(f)
		after := n - pc - 1 // instructions after this one
		maxOff := after - 1
		if maxOff > 255 {
			maxOff = 255
		}
		switch c := r.Intn(20); {
		case c < 4:
			// Mostly nr and arch, sometimes ip or an argument.
			var off uint32
			switch r.Intn(10) {
			case 0, 1, 2, 3:
				off = offNr
			case 4, 5:
				off = offArch
			case 6:
				off = offIP + 4*uint32(r.Intn(2))
			default:
				off = 16 + 4*uint32(r.Intn(12))
			}
			f = append(f, stmt(cLdWAbs, off))
		case c == 4:
			f = append(f, stmt([]uint16{cLdWLen, cLdxWLen, cLdImm, cLdxImm, cTax, cTxa, cNeg}[r.Intn(7)], randomK(r)))
		case c == 5 && stored > 0:
			f = append(f, stmt([]uint16{cLdMem, cLdxMem}[r.Intn(2)], uint32(r.Intn(stored))))
		case c == 5:
			f = append(f, stmt([]uint16{cSt, cStx}[r.Intn(2)], uint32(r.Intn(16))))
		case c < 10:
			codes := []uint16{cAddK, cAddX, cSubK, cSubX, cMulK, cMulX, cDivK, cDivX, cAndK, cAndX, cOrK, cOrX, cXorK, cXorX, cLshK, cLshX, cRshK, cRshX}
			code := codes[r.Intn(len(codes))]
			k := randomK(r)
			switch code {
			case cDivK:
				if k == 0 {
					k = 3
				}
			case cLshK, cRshK:
				k %= 32
			}
			f = append(f, stmt(code, k))
		case c < 17:
			codes := []uint16{cJeqK, cJeqK, cJeqK, cJeqX, cJgtK, cJgtX, cJgeK, cJgeX, cJsetK, cJsetX}
			jt, jf := uint8(r.Intn(maxOff+1)), uint8(r.Intn(maxOff+1))
			f = append(f, jump(codes[r.Intn(len(codes))], randomK(r), jt, jf))
		case c == 17:
			f = append(f, stmt(cJa, uint32(r.Intn(maxOff+1))))
		case c == 18:
			f = append(f, stmt(cRetK, randomRet(r)))
		default:
			f = append(f, stmt(cRetA, 0))
		}
	}
	if r.Intn(4) == 0 {
		return append(f, stmt(cRetA, 0))
	}
	return append(f, stmt(cRetK, randomRet(r)))
}

// randomData returns seccomp_data that mostly hits the cache.
func randomData(r *rand.Rand) Data {
	d := Data{Nr: int32(r.Intn(530)), Arch: AuditArchX86_64, IP: r.Uint64()}
	switch r.Intn(10) {
	case 0:
		d.Arch = 0x40000003 // AUDIT_ARCH_I386
	case 1:
		d.Nr = int32(r.Uint32())
	}
	for i := range d.Args {
		if r.Intn(2) == 0 {
			d.Args[i] = uint64(r.Intn(8))
		} else {
			d.Args[i] = r.Uint64()
		}
	}
	return d
}
