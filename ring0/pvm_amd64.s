// The pvm backend's exit-mode supervisor stub.
//
// On entry from user mode PVM has already switched CR3 to the kernel root
// of the root pair and swapped GS so that GS base points at this vCPU's
// ring0.CPU page. The stub never touches Go state: it only uses the CPU page
// (through GS) and the vCPU's kernel stack, so it can run with no Go runtime
// mapped at all.

#include "textflag.h"
#include "offsets_amd64.h"


// pvmSyscall is the LSTAR target. State: RCX = user RIP, R11 = user RFLAGS,
// RSP = the user's stack, every other GPR = the user's value, GS = kernel.
TEXT ·pvmSyscall(SB),NOSPLIT|NOFRAME,$0
	SAVE_GPRS(0, GS)
	MOVQ SP, CPU_RSP(GS)
	MOVQ CX, CPU_RIP(GS)
	MOVQ R11, CPU_RFLAGS(GS)
	MOVQ $REASON_SYSCALL, CPU_REASON(GS)
	// From here on we run on the vCPU's own (upper-half) kernel stack.
	MOVQ CPU_KSTACK(GS), SP
	CLD
	JMP ·pvmExit(SB)

// pvmException is reached from the vector stubs. State: the stack holds
// [vector, error code, RIP, CS, RFLAGS, RSP, SS] (TSS.RSP0 stack for a user
// fault; the current stack for a supervisor fault); GPRs are the faulting
// context's.
TEXT ·pvmException(SB),NOSPLIT|NOFRAME,$0
	SAVE_GPRS(0, GS)
	POPQ AX
	MOVQ AX, CPU_VECTOR(GS)
	POPQ AX
	MOVQ AX, CPU_ERRCODE(GS)
	POPQ AX
	MOVQ AX, CPU_RIP(GS)
	POPQ AX
	MOVQ AX, CPU_FRAMECS(GS)
	POPQ AX
	MOVQ AX, CPU_RFLAGS(GS)
	POPQ AX
	MOVQ AX, CPU_RSP(GS)
	POPQ AX
	MOVQ AX, CPU_FRAMESS(GS)
	// PVM writes the #PF address at vIF+8 (a MOV from CR2 would exit).
	MOVQ CPU_VIF(GS), AX
	MOVQ 8(AX), AX
	MOVQ AX, CPU_CR2(GS)
	MOVQ $REASON_EXCEPTION, CPU_REASON(GS)
	MOVQ CPU_FRAMECS(GS), AX
	CMPQ AX, $0x10
	JNE user
	MOVQ $REASON_SUPERFAULT, CPU_REASON(GS)
user:
	MOVQ CPU_KSTACK(GS), SP
	CLD
	JMP ·pvmExit(SB)

// pvmExit leaves the guest: an OUT to EXIT_PORT is a KVM_EXIT_IO. The VMM
// resumes the vCPU at the next instruction, which returns to user mode.
TEXT ·pvmExit(SB),NOSPLIT|NOFRAME,$0
	MOVQ $EXIT_PORT, DX
	BYTE $0xee // OUTB AL, DX
	JMP ·pvmReturn(SB)

// pvmReturn returns to user mode with the registers in the CPU page. It is
// also the vCPU's first instruction. State: RSP = kernel stack, GS = kernel.
TEXT ·pvmReturn(SB),NOSPLIT|NOFRAME,$0
top:
	// Switch page tables if the host asked (hypercall 0x1001 SET_CR3; it
	// also flushes the TLB).
	MOVQ CPU_NEWCR3(GS), BX
	TESTQ BX, BX
	JZ nocr3
	MOVQ $0, CPU_NEWCR3(GS)
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ $0x1001, AX
	BYTE $0xcd; BYTE $0x1b // INT $0x1b: hypercall
nocr3:
	// Rewrite the first two bytes of each queued page-table page with
	// their own value. The write traps to KVM, and a write narrower than an
	// entry makes it drop its whole shadow of that page.
	MOVQ CPU_QUEUELEN(GS), CX
	TESTQ CX, CX
	JZ noqueue
	MOVQ CPU_SELF(GS), SI
	ADDQ $CPU_QUEUE, SI
rewrite:
	MOVQ (SI), DI
	MOVW (DI), AX
	MOVW AX, (DI)
	ADDQ $8, SI
	DECQ CX
	JNZ rewrite
	MOVQ $0, CPU_QUEUELEN(GS)
	MOVQ $1, CPU_FLUSH(GS)
	MOVQ CPU_QUEUEMORE(GS), AX
	TESTQ AX, AX
	JZ noqueue
	// More entries than fit: exit so the host refills the queue, then
	// start over.
	MOVQ $REASON_DRAIN, CPU_REASON(GS)
	MOVQ $EXIT_PORT, DX
	BYTE $0xee // OUTB AL, DX
	JMP top
noqueue:
	// Flush the TLB if the host changed present page-table entries
	// (hypercall 0x1007 FLUSH_TLB).
	MOVQ CPU_FLUSH(GS), AX
	TESTQ AX, AX
	JZ noflush
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ $0x1007, AX
	BYTE $0xcd; BYTE $0x1b // INT $0x1b: hypercall
noflush:
	// A kick that came while the vCPU was not in user mode (the host sets
	// Kick before it signals the thread): exit before the program runs.
	CMPQ CPU_KICK(GS), $0
	JEQ nokick
	MOVQ $0, CPU_KICK(GS)
	MOVQ $REASON_KICKED, CPU_REASON(GS)
	MOVQ $EXIT_PORT, DX
	BYTE $0xee // OUTB AL, DX
	JMP top
nokick:
	// Build the ERETU frame on the kernel stack: SS, RSP, RFLAGS, CS, RIP.
	MOVQ CPU_KSTACK(GS), SP
	PUSHQ $0x2b
	PUSHQ CPU_RSP(GS)
	PUSHQ CPU_RFLAGS(GS)
	PUSHQ $0x33
	PUSHQ CPU_RIP(GS)
	MOVQ CPU_RAX(GS), AX
	MOVQ CPU_RBX(GS), BX
	MOVQ CPU_RCX(GS), CX
	MOVQ CPU_RDX(GS), DX
	MOVQ CPU_RSI(GS), SI
	MOVQ CPU_RDI(GS), DI
	// MOVQ CPU_RBP(GS), BP, spelled in bytes: this code never returns into
	// Go, so vet's frame-pointer rule does not apply to it.
	BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x2c; BYTE $0x25; LONG $CPU_RBP
	MOVQ CPU_R8(GS), R8
	MOVQ CPU_R9(GS), R9
	MOVQ CPU_R10(GS), R10
	MOVQ CPU_R11(GS), R11
	MOVQ CPU_R12(GS), R12
	MOVQ CPU_R13(GS), R13
	MOVQ CPU_R14(GS), R14
	MOVQ CPU_R15(GS), R15
	// RSP points at the RIP slot: ERETU (INT $0x17) to user mode.
	BYTE $0xcd; BYTE $0x17

// Exception vector stubs: push a zero error code where the CPU pushes none,
// then the vector number, and join pvmException.

TEXT ·pvmVec0(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $0
	JMP ·pvmException(SB)

TEXT ·pvmVec1(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $1
	JMP ·pvmException(SB)

TEXT ·pvmVec2(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $2
	JMP ·pvmException(SB)

TEXT ·pvmVec3(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $3
	JMP ·pvmException(SB)

TEXT ·pvmVec4(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $4
	JMP ·pvmException(SB)

TEXT ·pvmVec5(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $5
	JMP ·pvmException(SB)

TEXT ·pvmVec6(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $6
	JMP ·pvmException(SB)

TEXT ·pvmVec7(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $7
	JMP ·pvmException(SB)

TEXT ·pvmVec8(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $8
	JMP ·pvmException(SB)

TEXT ·pvmVec9(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $9
	JMP ·pvmException(SB)

TEXT ·pvmVec10(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $10
	JMP ·pvmException(SB)

TEXT ·pvmVec11(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $11
	JMP ·pvmException(SB)

TEXT ·pvmVec12(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $12
	JMP ·pvmException(SB)

TEXT ·pvmVec13(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $13
	JMP ·pvmException(SB)

TEXT ·pvmVec14(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $14
	JMP ·pvmException(SB)

TEXT ·pvmVec15(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $15
	JMP ·pvmException(SB)

TEXT ·pvmVec16(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $16
	JMP ·pvmException(SB)

TEXT ·pvmVec17(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $17
	JMP ·pvmException(SB)

TEXT ·pvmVec18(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $18
	JMP ·pvmException(SB)

TEXT ·pvmVec19(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $19
	JMP ·pvmException(SB)

TEXT ·pvmVec20(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $20
	JMP ·pvmException(SB)

TEXT ·pvmVec21(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $21
	JMP ·pvmException(SB)

TEXT ·pvmVec22(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $22
	JMP ·pvmException(SB)

TEXT ·pvmVec23(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $23
	JMP ·pvmException(SB)

TEXT ·pvmVec24(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $24
	JMP ·pvmException(SB)

TEXT ·pvmVec25(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $25
	JMP ·pvmException(SB)

TEXT ·pvmVec26(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $26
	JMP ·pvmException(SB)

TEXT ·pvmVec27(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $27
	JMP ·pvmException(SB)

TEXT ·pvmVec28(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $28
	JMP ·pvmException(SB)

TEXT ·pvmVec29(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $29
	JMP ·pvmException(SB)

TEXT ·pvmVec30(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $30
	JMP ·pvmException(SB)

TEXT ·pvmVec31(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $31
	JMP ·pvmException(SB)

// pvmVectors holds the address of each vector stub, for the IDT.
DATA ·pvmVectors+0(SB)/8, $·pvmVec0(SB)
DATA ·pvmVectors+8(SB)/8, $·pvmVec1(SB)
DATA ·pvmVectors+16(SB)/8, $·pvmVec2(SB)
DATA ·pvmVectors+24(SB)/8, $·pvmVec3(SB)
DATA ·pvmVectors+32(SB)/8, $·pvmVec4(SB)
DATA ·pvmVectors+40(SB)/8, $·pvmVec5(SB)
DATA ·pvmVectors+48(SB)/8, $·pvmVec6(SB)
DATA ·pvmVectors+56(SB)/8, $·pvmVec7(SB)
DATA ·pvmVectors+64(SB)/8, $·pvmVec8(SB)
DATA ·pvmVectors+72(SB)/8, $·pvmVec9(SB)
DATA ·pvmVectors+80(SB)/8, $·pvmVec10(SB)
DATA ·pvmVectors+88(SB)/8, $·pvmVec11(SB)
DATA ·pvmVectors+96(SB)/8, $·pvmVec12(SB)
DATA ·pvmVectors+104(SB)/8, $·pvmVec13(SB)
DATA ·pvmVectors+112(SB)/8, $·pvmVec14(SB)
DATA ·pvmVectors+120(SB)/8, $·pvmVec15(SB)
DATA ·pvmVectors+128(SB)/8, $·pvmVec16(SB)
DATA ·pvmVectors+136(SB)/8, $·pvmVec17(SB)
DATA ·pvmVectors+144(SB)/8, $·pvmVec18(SB)
DATA ·pvmVectors+152(SB)/8, $·pvmVec19(SB)
DATA ·pvmVectors+160(SB)/8, $·pvmVec20(SB)
DATA ·pvmVectors+168(SB)/8, $·pvmVec21(SB)
DATA ·pvmVectors+176(SB)/8, $·pvmVec22(SB)
DATA ·pvmVectors+184(SB)/8, $·pvmVec23(SB)
DATA ·pvmVectors+192(SB)/8, $·pvmVec24(SB)
DATA ·pvmVectors+200(SB)/8, $·pvmVec25(SB)
DATA ·pvmVectors+208(SB)/8, $·pvmVec26(SB)
DATA ·pvmVectors+216(SB)/8, $·pvmVec27(SB)
DATA ·pvmVectors+224(SB)/8, $·pvmVec28(SB)
DATA ·pvmVectors+232(SB)/8, $·pvmVec29(SB)
DATA ·pvmVectors+240(SB)/8, $·pvmVec30(SB)
DATA ·pvmVectors+248(SB)/8, $·pvmVec31(SB)
GLOBL ·pvmVectors(SB), RODATA, $256

// pvmAddrs returns the addresses of the entry points.
TEXT ·pvmAddrs(SB),NOSPLIT,$0-24
	MOVQ $·pvmSyscall(SB), AX
	MOVQ AX, syscall+0(FP)
	MOVQ $·pvmReturn(SB), AX
	MOVQ AX, ret+8(FP)
	MOVQ $·pvmException(SB), AX
	MOVQ AX, exc+16(FP)
	RET
