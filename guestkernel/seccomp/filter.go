package seccomp

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Instruction is struct sock_filter, one classic BPF instruction.
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// Decode turns len(b)/InstructionSize little-endian struct sock_filter
// records into instructions. Trailing bytes that do not make a whole record
// are ignored.
func Decode(b []byte) []Instruction {
	insns := make([]Instruction, len(b)/InstructionSize)
	for i := range insns {
		r := b[i*InstructionSize : (i+1)*InstructionSize]
		insns[i] = Instruction{
			Code: binary.LittleEndian.Uint16(r[0:2]),
			Jt:   r[2],
			Jf:   r[3],
			K:    binary.LittleEndian.Uint32(r[4:8]),
		}
	}
	return insns
}

// Encode is the inverse of Decode: it lays instructions out as
// little-endian struct sock_filter records (for PTRACE_SECCOMP_GET_FILTER).
func Encode(insns []Instruction) []byte {
	b := make([]byte, len(insns)*InstructionSize)
	for i, in := range insns {
		r := b[i*InstructionSize : (i+1)*InstructionSize]
		binary.LittleEndian.PutUint16(r[0:2], in.Code)
		r[2] = in.Jt
		r[3] = in.Jf
		binary.LittleEndian.PutUint32(r[4:8], in.K)
	}
	return b
}

// Data is struct seccomp_data, the input of a filter. Filters see it as 64
// bytes in the guest's (little-endian) layout: nr at offset 0, arch at 4,
// instruction_pointer at 8 and args[i] at 16+8*i.
type Data struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// dataSize is sizeof(struct seccomp_data).
const dataSize = 64

// AuditArchX86_64 is AUDIT_ARCH_X86_64, the only architecture whose results
// are cached.
const AuditArchX86_64 = 0xc000003e

// Filter return values and masks, as in linux/seccomp.h.
const (
	RetKillProcess = 0x80000000
	RetKillThread  = 0x00000000
	RetTrap        = 0x00030000
	RetErrno       = 0x00050000
	RetUserNotif   = 0x7fc00000
	RetTrace       = 0x7ff00000
	RetLog         = 0x7ffc0000
	RetAllow       = 0x7fff0000
	RetActionFull  = 0xffff0000
	RetData        = 0x0000ffff
)

// MaxInstructions is BPF_MAXINSNS, the longest filter accepted.
const MaxInstructions = 4096

// MaxInstructionsPerPath is MAX_INSNS_PER_PATH, the bound on the total
// length of a stack of filters (256 KiB of struct sock_filter).
const MaxInstructionsPerPath = 32768

// memWords is BPF_MEMWORDS, the number of scratch memory cells.
const memWords = 16

// Classic BPF opcode fields (linux/filter.h, linux/bpf_common.h).
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07

	sizeW = 0x00

	modeIMM = 0x00
	modeABS = 0x20
	modeMEM = 0x60
	modeLEN = 0x80

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// op is the interpreter's decoded form of an accepted opcode. The values are
// dense so that the interpreter's switch compiles to a jump table.
type op uint8

const (
	opInvalid op = iota
	opLdNr       // A = nr
	opLdArch     // A = arch
	opLdIPLo     // A = low word of instruction_pointer
	opLdIPHi     // A = high word of instruction_pointer
	opLdArgLo    // A = low word of args[k]
	opLdArgHi    // A = high word of args[k]
	opLdImm      // A = k (also LD W LEN, with k = 64)
	opLdxImm     // X = k (also LDX W LEN, with k = 64)
	opLdMem      // A = M[k]
	opLdxMem     // X = M[k]
	opSt         // M[k] = A
	opStx        // M[k] = X
	opAddK
	opAddX
	opSubK
	opSubX
	opMulK
	opMulX
	opDivK
	opDivX
	opAndK
	opAndX
	opOrK
	opOrX
	opXorK
	opXorX
	opLshK
	opLshX
	opRshK
	opRshX
	opNeg
	opTax
	opTxa
	opRetK
	opRetA
	opJa
	opJeqK
	opJeqX
	opJgtK
	opJgtX
	opJgeK
	opJgeX
	opJsetK
	opJsetX
)

// insn is a decoded instruction. For opLdArgLo/opLdArgHi k is the argument
// index; for everything else it is the instruction's k.
type insn struct {
	op     op
	jt, jf uint8
	k      uint32
}

// aluOps maps the ALU opcodes seccomp accepts to their decoded form.
var aluOps = map[uint16]op{
	classALU | aluADD | srcK: opAddK,
	classALU | aluADD | srcX: opAddX,
	classALU | aluSUB | srcK: opSubK,
	classALU | aluSUB | srcX: opSubX,
	classALU | aluMUL | srcK: opMulK,
	classALU | aluMUL | srcX: opMulX,
	classALU | aluDIV | srcK: opDivK,
	classALU | aluDIV | srcX: opDivX,
	classALU | aluAND | srcK: opAndK,
	classALU | aluAND | srcX: opAndX,
	classALU | aluOR | srcK:  opOrK,
	classALU | aluOR | srcX:  opOrX,
	classALU | aluXOR | srcK: opXorK,
	classALU | aluXOR | srcX: opXorX,
	classALU | aluLSH | srcK: opLshK,
	classALU | aluLSH | srcX: opLshX,
	classALU | aluRSH | srcK: opRshK,
	classALU | aluRSH | srcX: opRshX,
	classALU | aluNEG:        opNeg,
}

// condJumps maps the conditional jumps seccomp accepts to their decoded form.
var condJumps = map[uint16]op{
	classJMP | jmpJEQ | srcK:  opJeqK,
	classJMP | jmpJEQ | srcX:  opJeqX,
	classJMP | jmpJGT | srcK:  opJgtK,
	classJMP | jmpJGT | srcX:  opJgtX,
	classJMP | jmpJGE | srcK:  opJgeK,
	classJMP | jmpJGE | srcX:  opJgeX,
	classJMP | jmpJSET | srcK: opJsetK,
	classJMP | jmpJSET | srcX: opJsetX,
}

// decode validates the instruction at pc of an n-instruction filter the way
// bpf_check_classic and seccomp_check_filter do together, and returns its
// decoded form. ok is false for anything Linux refuses.
func decode(in Instruction, pc, n int) (d insn, ok bool) {
	d = insn{jt: in.Jt, jf: in.Jf, k: in.K}
	switch in.Code {
	case classLD | sizeW | modeABS:
		// seccomp: 32-bit aligned and inside struct seccomp_data.
		if in.K >= dataSize || in.K&3 != 0 {
			return d, false
		}
		switch w := in.K / 4; {
		case w == 0:
			d.op = opLdNr
		case w == 1:
			d.op = opLdArch
		case w == 2:
			d.op = opLdIPLo
		case w == 3:
			d.op = opLdIPHi
		default:
			d.k = (w - 4) / 2
			if (w-4)%2 == 0 {
				d.op = opLdArgLo
			} else {
				d.op = opLdArgHi
			}
		}
	case classLD | sizeW | modeLEN:
		d.op, d.k = opLdImm, dataSize
	case classLDX | sizeW | modeLEN:
		d.op, d.k = opLdxImm, dataSize
	case classLD | modeIMM:
		d.op = opLdImm
	case classLDX | modeIMM:
		d.op = opLdxImm
	case classLD | modeMEM, classLDX | modeMEM, classST, classSTX:
		if in.K >= memWords {
			return d, false
		}
		switch in.Code {
		case classLD | modeMEM:
			d.op = opLdMem
		case classLDX | modeMEM:
			d.op = opLdxMem
		case classST:
			d.op = opSt
		default:
			d.op = opStx
		}
	case classMISC | miscTAX:
		d.op = opTax
	case classMISC | miscTXA:
		d.op = opTxa
	case classRET | retK:
		d.op = opRetK
	case classRET | retA:
		d.op = opRetA
	case classJMP | jmpJA:
		// Forward, and landing inside the filter.
		if uint64(in.K) >= uint64(n-pc-1) {
			return d, false
		}
		d.op = opJa
	default:
		if o, found := aluOps[in.Code]; found {
			switch o {
			case opDivK:
				if in.K == 0 {
					return d, false
				}
			case opLshK, opRshK:
				if in.K >= 32 {
					return d, false
				}
			}
			d.op = o
			return d, true
		}
		if o, found := condJumps[in.Code]; found {
			if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
				return d, false
			}
			d.op = o
			return d, true
		}
		return d, false
	}
	return d, true
}

// Program is a checked seccomp filter, ready to run. It is immutable and
// safe for concurrent use.
type Program struct {
	// orig is the filter as the user supplied it.
	orig []Instruction
	// code is the decoded filter.
	code []insn
	// constant has bit nr set when the result for syscall nr on
	// AuditArchX86_64 does not depend on the instruction pointer or the
	// arguments; cache[nr] then holds it. cache is nil when no bit is set.
	constant [cacheSize / 64]uint64
	cache    *[cacheSize]uint32
}

// Check validates a filter as seccomp(2) does (bpf_check_classic followed by
// seccomp_check_filter) and returns it ready to run. It returns unix.EINVAL
// for anything Linux refuses: an empty or too long filter, an opcode seccomp
// does not allow, an out-of-range constant, a jump out of the filter, a
// filter that does not end with a return, or a load from a scratch cell that
// may not have been stored.
func Check(insns []Instruction) (*Program, error) {
	n := len(insns)
	if n == 0 || n > MaxInstructions {
		return nil, unix.EINVAL
	}
	code := make([]insn, n)
	for pc, in := range insns {
		d, ok := decode(in, pc, n)
		if !ok {
			return nil, unix.EINVAL
		}
		code[pc] = d
	}
	if last := code[n-1].op; last != opRetK && last != opRetA {
		return nil, unix.EINVAL
	}
	if !checkLoadsAndStores(code) {
		return nil, unix.EINVAL
	}
	p := &Program{
		orig: append([]Instruction(nil), insns...),
		code: code,
	}
	p.buildCache()
	return p, nil
}

// checkLoadsAndStores is Linux's check_load_and_stores: a single forward
// pass that tracks which scratch cells are certainly written. A jump hands
// its set to its targets and resets the running set; every instruction
// starts from the running set intersected with what the jumps to it carry.
// It reports whether every load reads a written cell. It follows Linux
// exactly, including that a return does not reset the running set.
func checkLoadsAndStores(code []insn) bool {
	masks := make([]uint16, len(code))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, in := range code {
		valid &= masks[pc]
		switch in.op {
		case opSt, opStx:
			valid |= 1 << (in.k % memWords)
		case opLdMem, opLdxMem:
			if valid&(1<<(in.k%memWords)) == 0 {
				return false
			}
		case opJa:
			masks[pc+1+int(in.k)] &= valid
			valid = 0xffff
		case opJeqK, opJeqX, opJgtK, opJgtX, opJgeK, opJgeX, opJsetK, opJsetX:
			masks[pc+1+int(in.jt)] &= valid
			masks[pc+1+int(in.jf)] &= valid
			valid = 0xffff
		}
	}
	return true
}

// Len returns the number of instructions of the filter.
func (p *Program) Len() int {
	if p == nil {
		return 0
	}
	return len(p.orig)
}

// Instructions returns a copy of the filter as it was given to Check, for
// PTRACE_SECCOMP_GET_FILTER.
func (p *Program) Instructions() []Instruction {
	if p == nil {
		return nil
	}
	return append([]Instruction(nil), p.orig...)
}

// ActionAvailable reports whether action is one this package can return and
// the sandbox carries out, as SECCOMP_GET_ACTION_AVAIL does: the action must
// be exactly one of the RetXxx actions (no data bits). RetUserNotif is not
// offered.
func ActionAvailable(action uint32) bool {
	switch action {
	case RetKillProcess, RetKillThread, RetTrap, RetErrno, RetTrace, RetLog, RetAllow:
		return true
	}
	return false
}
