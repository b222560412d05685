// The x86 backend's exit-mode supervisor stub (standard VMX/SVM KVM).
//
// The guest runs in real ring 0 and ring 3. This code runs from its
// upper-half alias (the host text mapped at X86TextDelta + address), which
// every address space maps without the U bit, so it is reachable on the
// program's own page tables: no CR3 switch on entry. Only PC-relative jumps
// and GS-relative data are used, so it runs at any alias. GS base is the
// CPU page's alias in ring 0 (SWAPGS on every ring change).

#include "textflag.h"
#include "offsets_amd64.h"

#define SWAPGS BYTE $0x0f; BYTE $0x01; BYTE $0xf8
#define OUT_AL_DX BYTE $0xee
#define LOAD_BP_GS(off) BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x2c; BYTE $0x25; LONG $(off)

// x86Syscall is the LSTAR target. State: ring 0, RCX = user RIP, R11 =
// user RFLAGS, RSP = user stack, GS = the user's (swap first).
TEXT ·x86Syscall(SB),NOSPLIT|NOFRAME,$0
	SWAPGS

	SAVE_GPRS(0, GS)
	MOVQ SP, CPU_RSP(GS)
	MOVQ CX, CPU_RIP(GS)
	MOVQ R11, CPU_RFLAGS(GS)
	MOVQ $REASON_SYSCALL, CPU_REASON(GS)
	MOVQ CPU_KSTACK(GS), SP
	CLD
	JMP ·x86Exit(SB)

// x86Exception is reached from the vector stubs, on IST1. State: the stack
// holds [vector, error code, RIP, CS, RFLAGS, RSP, SS]; GS is the user's
// if CS is a user selector.
TEXT ·x86Exception(SB),NOSPLIT|NOFRAME,$0
	TESTQ $3, 24(SP)
	JZ kernel
	SWAPGS
	MOVQ $REASON_EXCEPTION, CPU_REASON(GS)
	JMP save
kernel:
	// A fault in this stub is a ringbox bug, and GS may be wrong: touch
	// no memory, report on the fault port (the frame is on IST1).
	MOVQ $FAULT_PORT, DX
	OUT_AL_DX
	BYTE $0xf4 // HLT
save:

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
	MOVQ CR2, AX
	MOVQ AX, CPU_CR2(GS)
	MOVQ CPU_KSTACK(GS), SP
	CLD
	JMP ·x86Exit(SB)

// x86Exit leaves the guest with an OUT; the VMM resumes after it, which
// returns to user mode.
TEXT ·x86Exit(SB),NOSPLIT|NOFRAME,$0
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	JMP ·x86Return(SB)

// x86Return returns to user mode with the registers in the CPU page. It is
// also the vCPU's first instruction. State: ring 0, RSP = kernel stack,
// GS = the CPU page.
TEXT ·x86Return(SB),NOSPLIT|NOFRAME,$0
top:
	// Switch address space if asked (this flushes the TLB), else flush
	// if asked: page tables changed (nested paging: no zapping needed).
	MOVQ CPU_NEWCR3(GS), AX
	TESTQ AX, AX
	JZ nocr3
	MOVQ $0, CPU_NEWCR3(GS)
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ AX, CR3
nocr3:
	MOVQ CPU_FLUSH(GS), AX
	TESTQ AX, AX
	JZ noflush
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ CR3, AX
	MOVQ AX, CR3
noflush:
	MOVQ $0, CPU_QUEUELEN(GS)
	// A kick that came while the vCPU was not in user mode (the host sets
	// Kick before it signals the thread): exit before the program runs.
	CMPQ CPU_KICK(GS), $0
	JEQ nokick
	MOVQ $0, CPU_KICK(GS)
	MOVQ $REASON_KICKED, CPU_REASON(GS)
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	JMP top
nokick:
	// IRETQ frame on the kernel stack: SS, RSP, RFLAGS, CS, RIP.
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
	LOAD_BP_GS(CPU_RBP)
	MOVQ CPU_R8(GS), R8
	MOVQ CPU_R9(GS), R9
	MOVQ CPU_R10(GS), R10
	MOVQ CPU_R11(GS), R11
	MOVQ CPU_R12(GS), R12
	MOVQ CPU_R13(GS), R13
	MOVQ CPU_R14(GS), R14
	MOVQ CPU_R15(GS), R15
	SWAPGS
	IRETQ

// Exception vector stubs.

TEXT ·x86Vec0(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $0
	JMP ·x86Exception(SB)

TEXT ·x86Vec1(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $1
	JMP ·x86Exception(SB)

TEXT ·x86Vec2(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $2
	JMP ·x86Exception(SB)

TEXT ·x86Vec3(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $3
	JMP ·x86Exception(SB)

TEXT ·x86Vec4(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $4
	JMP ·x86Exception(SB)

TEXT ·x86Vec5(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $5
	JMP ·x86Exception(SB)

TEXT ·x86Vec6(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $6
	JMP ·x86Exception(SB)

TEXT ·x86Vec7(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $7
	JMP ·x86Exception(SB)

TEXT ·x86Vec8(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $8
	JMP ·x86Exception(SB)

TEXT ·x86Vec9(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $9
	JMP ·x86Exception(SB)

TEXT ·x86Vec10(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $10
	JMP ·x86Exception(SB)

TEXT ·x86Vec11(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $11
	JMP ·x86Exception(SB)

TEXT ·x86Vec12(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $12
	JMP ·x86Exception(SB)

TEXT ·x86Vec13(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $13
	JMP ·x86Exception(SB)

TEXT ·x86Vec14(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $14
	JMP ·x86Exception(SB)

TEXT ·x86Vec15(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $15
	JMP ·x86Exception(SB)

TEXT ·x86Vec16(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $16
	JMP ·x86Exception(SB)

TEXT ·x86Vec17(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $17
	JMP ·x86Exception(SB)

TEXT ·x86Vec18(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $18
	JMP ·x86Exception(SB)

TEXT ·x86Vec19(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $19
	JMP ·x86Exception(SB)

TEXT ·x86Vec20(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $20
	JMP ·x86Exception(SB)

TEXT ·x86Vec21(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $21
	JMP ·x86Exception(SB)

TEXT ·x86Vec22(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $22
	JMP ·x86Exception(SB)

TEXT ·x86Vec23(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $23
	JMP ·x86Exception(SB)

TEXT ·x86Vec24(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $24
	JMP ·x86Exception(SB)

TEXT ·x86Vec25(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $25
	JMP ·x86Exception(SB)

TEXT ·x86Vec26(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $26
	JMP ·x86Exception(SB)

TEXT ·x86Vec27(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $27
	JMP ·x86Exception(SB)

TEXT ·x86Vec28(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $28
	JMP ·x86Exception(SB)

TEXT ·x86Vec29(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $29
	JMP ·x86Exception(SB)

TEXT ·x86Vec30(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $30
	JMP ·x86Exception(SB)

TEXT ·x86Vec31(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $31
	JMP ·x86Exception(SB)

DATA ·x86Vectors+0(SB)/8, $·x86Vec0(SB)
DATA ·x86Vectors+8(SB)/8, $·x86Vec1(SB)
DATA ·x86Vectors+16(SB)/8, $·x86Vec2(SB)
DATA ·x86Vectors+24(SB)/8, $·x86Vec3(SB)
DATA ·x86Vectors+32(SB)/8, $·x86Vec4(SB)
DATA ·x86Vectors+40(SB)/8, $·x86Vec5(SB)
DATA ·x86Vectors+48(SB)/8, $·x86Vec6(SB)
DATA ·x86Vectors+56(SB)/8, $·x86Vec7(SB)
DATA ·x86Vectors+64(SB)/8, $·x86Vec8(SB)
DATA ·x86Vectors+72(SB)/8, $·x86Vec9(SB)
DATA ·x86Vectors+80(SB)/8, $·x86Vec10(SB)
DATA ·x86Vectors+88(SB)/8, $·x86Vec11(SB)
DATA ·x86Vectors+96(SB)/8, $·x86Vec12(SB)
DATA ·x86Vectors+104(SB)/8, $·x86Vec13(SB)
DATA ·x86Vectors+112(SB)/8, $·x86Vec14(SB)
DATA ·x86Vectors+120(SB)/8, $·x86Vec15(SB)
DATA ·x86Vectors+128(SB)/8, $·x86Vec16(SB)
DATA ·x86Vectors+136(SB)/8, $·x86Vec17(SB)
DATA ·x86Vectors+144(SB)/8, $·x86Vec18(SB)
DATA ·x86Vectors+152(SB)/8, $·x86Vec19(SB)
DATA ·x86Vectors+160(SB)/8, $·x86Vec20(SB)
DATA ·x86Vectors+168(SB)/8, $·x86Vec21(SB)
DATA ·x86Vectors+176(SB)/8, $·x86Vec22(SB)
DATA ·x86Vectors+184(SB)/8, $·x86Vec23(SB)
DATA ·x86Vectors+192(SB)/8, $·x86Vec24(SB)
DATA ·x86Vectors+200(SB)/8, $·x86Vec25(SB)
DATA ·x86Vectors+208(SB)/8, $·x86Vec26(SB)
DATA ·x86Vectors+216(SB)/8, $·x86Vec27(SB)
DATA ·x86Vectors+224(SB)/8, $·x86Vec28(SB)
DATA ·x86Vectors+232(SB)/8, $·x86Vec29(SB)
DATA ·x86Vectors+240(SB)/8, $·x86Vec30(SB)
DATA ·x86Vectors+248(SB)/8, $·x86Vec31(SB)
GLOBL ·x86Vectors(SB), RODATA, $256

// x86Addrs returns the (unaliased) addresses of the entry points.
TEXT ·x86Addrs(SB),NOSPLIT,$0-16
	MOVQ $·x86Syscall(SB), AX
	MOVQ AX, syscall+0(FP)
	MOVQ $·x86Return(SB), AX
	MOVQ AX, ret+8(FP)
	RET
