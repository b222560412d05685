// The x86 backend's ring0-mode entry and exit code (real ring 0 on
// VMX/SVM KVM). Same design as r0_amd64.s (docs/ring0-mode.md), with what
// real hardware needs instead of PVM's help:
//
// - Two roots per address space, switched here: Go code runs on the kernel
//   root (host memory mirrored in the lower half), the program on its own
//   root. Both share the upper half (supervisor region and an alias of the
//   host text, without the U bit), so this code runs from the text alias.
// - GS: while Go code runs, GS base and KERNEL_GS_BASE both hold the CPU
//   page (alias), so SYSCALL entry can SWAPGS unconditionally and then tell
//   a program's syscall from one made by Go code (a bounce).
// - ERETU becomes IRETQ; the hypervisor's CR2 copy becomes MOV from CR2.

#include "textflag.h"
#include "offsets_amd64.h"

#define SWAPGS BYTE $0x0f; BYTE $0x01; BYTE $0xf8
#define OUT_AL_DX BYTE $0xee
#define WRFSBASE_AX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xd0
#define RDFSBASE_AX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xc0
#define RDGSBASE_AX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xc8
#define RDGSBASE_BX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xcb
#define WRGSBASE_AX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xd8
#define WRGSBASE_BX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xdb
#define XSAVE64_SI BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0x26
#define XRSTOR64_SI BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0x2e
#define VZEROUPPER BYTE $0xc5; BYTE $0xf8; BYTE $0x77
#define LOAD_BP_GS(off) BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x2c; BYTE $0x25; LONG $(off)

// x86r0SwitchToUser(cpu *CPU): as r0SwitchToUser, for the x86 backend.
TEXT ·x86r0SwitchToUser(SB),NOSPLIT,$0-8
	MOVQ cpu+0(FP), DI
	MOVQ SP, R0_KERNRSP(DI)
	MOVQ BP, R0_KERNRBP(DI)
	CMPQ R0_INGUEST(DI), $0
	JEQ onhost
	// Continue at the text alias: the program's root has no lower half
	// of ours.
	MOVQ $·x86r0ToUser(SB), AX
	MOVQ $0xffffff0000000000, BX
	ADDQ BX, AX
	JMP AX
onhost:
	MOVQ DI, R12
	MOVQ R0_VMMSTACK(R12), SP
	JMP ·r0VMMLoop(SB)

// x86r0ToUser enters the program. State: ring 0 on the kernel root, at the
// text alias, GS = CPU page. Also the vCPU's first instruction.
TEXT ·x86r0ToUser(SB),NOSPLIT|NOFRAME,$0
	MOVQ $1, R0_INGUEST(GS)
	MOVQ $0, CPU_QUEUELEN(GS)
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ $0, CPU_NEWCR3(GS)
	// A kick that came while the vCPU was not in user mode (the host sets
	// Kick before it signals the thread): back to Go code before the
	// program runs.
	CMPQ CPU_KICK(GS), $0
	JEQ nokick
	JMP ·x86r0Kicked(SB)
nokick:
	// The program's FP state and FS base.
	MOVQ R0_XSAVEALI(GS), SI
	MOVQ R0_XMASKLO(GS), AX
	MOVQ R0_XMASKHI(GS), DX
	XRSTOR64_SI
	MOVQ R0_USERFS(GS), AX
	WRFSBASE_AX
	MOVQ $1, R0_INUSER(GS)
	// IRETQ frame on the kernel stack, the program's RAX below it.
	MOVQ CPU_KSTACK(GS), SP
	PUSHQ $0x2b
	PUSHQ CPU_RSP(GS)
	PUSHQ CPU_RFLAGS(GS)
	PUSHQ $0x33
	PUSHQ CPU_RIP(GS)
	PUSHQ CPU_RAX(GS)
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
	// The program's root (flushes the TLB), then its GS base; the CPU
	// page stays in KERNEL_GS_BASE for the next entry's SWAPGS.
	MOVQ R0_USERCR3(GS), AX
	MOVQ AX, CR3
	MOVQ R0_USERGS(GS), AX
	WRGSBASE_AX
	POPQ AX
	IRETQ

// x86r0Syscall is the LSTAR target.
TEXT ·x86r0Syscall(SB),NOSPLIT|NOFRAME,$0
	SWAPGS // from the program: GS = CPU page now; from Go code: no change
	CMPQ R0_INUSER(GS), $0
	JEQ bounce
	MOVQ $0, R0_INUSER(GS)

	SAVE_GPRS(0, GS)
	MOVQ SP, CPU_RSP(GS)
	MOVQ CX, CPU_RIP(GS)
	MOVQ R11, CPU_RFLAGS(GS)
	MOVQ $REASON_SYSCALL, CPU_REASON(GS)
	JMP ·x86r0UserEvent(SB)
bounce:
	// Go code in the guest made a host syscall (see r0_amd64.s).

	SAVE_GPRS(R0_SUP, GS)
	MOVQ SP, R0_SUP+UR_RSP(GS)
	MOVQ CX, R0_SUP+UR_RIP(GS)
	MOVQ R11, R0_SUP+UR_RFLAGS(GS)
	// The origin check (origin.go): Go code runs on a kernel root (CR3
	// bit 12 clear); on the program's root the SYSCALL is the program's,
	// whatever InUser says. Never a host syscall: the VMM loop stops the
	// run.
	MOVQ CR3, AX
	TESTQ $0x1000, AX
	JZ gocode
	MOVQ $REASON_FORGED, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	BYTE $0xf4 // HLT
gocode:
	MOVQ $REASON_BOUNCE, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	MOVQ R0_SUP+UR_RBX(GS), BX
	MOVQ R0_SUP+UR_RDX(GS), DX
	MOVQ R0_SUP+UR_RSI(GS), SI
	MOVQ R0_SUP+UR_RDI(GS), DI
	MOVQ R0_SUP+UR_R8(GS), R8
	MOVQ R0_SUP+UR_R9(GS), R9
	MOVQ R0_SUP+UR_R10(GS), R10
	MOVQ R0_SUP+UR_R12(GS), R12
	MOVQ R0_SUP+UR_R13(GS), R13
	MOVQ R0_SUP+UR_R14(GS), R14
	MOVQ R0_SUP+UR_R15(GS), R15
	MOVQ R0_SUP+UR_RFLAGS(GS), R11
	MOVQ R0_SUP+UR_RIP(GS), CX
	MOVQ R0_SUP+UR_RAX(GS), AX
	PUSHQ R11
	POPFQ
	JMP CX

// x86r0Kicked returns from x86r0SwitchToUser as x86r0UserEvent does, the
// program's state untouched: Go's root, FS base and FP environment
// (entered from the host, the vCPU has none of them). State: as
// x86r0ToUser's.
TEXT ·x86r0Kicked(SB),NOSPLIT|NOFRAME,$0
	MOVQ $0, CPU_KICK(GS)
	MOVQ $REASON_KICKED, CPU_REASON(GS)
	// Go code runs next, not the program, whatever the flag says (a stop
	// by a kick in user mode left it set).
	MOVQ $0, R0_INUSER(GS)
	MOVQ R0_KERNCR3(GS), AX
	MOVQ AX, CR3
	MOVQ R0_HOSTFS(GS), AX
	WRFSBASE_AX
	LDMXCSR R0_MXCSR(GS)
	BYTE $0xdb; BYTE $0xe3 // FNINIT
	VZEROUPPER
	CLD
	MOVQ R0_KERNRSP(GS), SP
	LOAD_BP_GS(R0_KERNRBP)
	RET

// x86r0UserEvent finishes an entry from the program. State: ring 0 on the
// program's root, GS = CPU page, KERNEL_GS_BASE = the program's GS base,
// its registers saved, RSP still its own.
TEXT ·x86r0UserEvent(SB),NOSPLIT|NOFRAME,$0
	// GS base and KERNEL_GS_BASE both to the CPU page; keep the
	// program's GS base.
	RDGSBASE_BX
	SWAPGS
	RDGSBASE_AX
	WRGSBASE_BX
	MOVQ AX, R0_USERGS(GS)
	// Go code's root.
	MOVQ R0_KERNCR3(GS), AX
	MOVQ AX, CR3
	RDFSBASE_AX
	MOVQ AX, R0_USERFS(GS)
	MOVQ R0_HOSTFS(GS), AX
	WRFSBASE_AX
	MOVQ R0_XSAVEALI(GS), SI
	MOVQ R0_XMASKLO(GS), AX
	MOVQ R0_XMASKHI(GS), DX
	XSAVE64_SI
	LDMXCSR R0_MXCSR(GS)
	BYTE $0xdb; BYTE $0xe3 // FNINIT
	VZEROUPPER
	CLD
	// Go code continues in the guest, also after a resume into user
	// mode from the host (see r0UserEvent).
	MOVQ $1, R0_INGUEST(GS)
	MOVQ R0_KERNRSP(GS), SP
	LOAD_BP_GS(R0_KERNRBP)
	JMP ·x86r0UserEventRet(SB)

// x86r0UserEventRet returns into Go code. State: Go's root, SP = the task
// goroutine's stack. That stack may have moved while the goroutine ran
// on the host (a stack grown after a leave): a page the guest has not
// mapped yet faults here, and the VMM loop continues this RET on the host
// from ringbox's own text (r0_amd64.s, fault; R0_EVRET).
TEXT ·x86r0UserEventRet(SB),NOSPLIT|NOFRAME,$0
	RET

// x86r0Exception is reached from the vector stubs, on IST1.
TEXT ·x86r0Exception(SB),NOSPLIT|NOFRAME,$0
	TESTQ $3, 24(SP)
	JZ super
	SWAPGS
	MOVQ $0, R0_INUSER(GS)

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
	MOVQ $REASON_EXCEPTION, CPU_REASON(GS)
	JMP ·x86r0UserEvent(SB)
super:
	// A fault in Go code (GS is already the CPU page): the VMM loop
	// continues it on the host (see r0_amd64.s).

	SAVE_GPRS(R0_SUP, GS)
	POPQ AX
	MOVQ AX, R0_SUPVECTOR(GS)
	POPQ AX
	MOVQ AX, R0_SUPERR(GS)
	POPQ AX
	MOVQ AX, R0_SUP+UR_RIP(GS)
	POPQ AX
	POPQ AX
	MOVQ AX, R0_SUP+UR_RFLAGS(GS)
	POPQ AX
	MOVQ AX, R0_SUP+UR_RSP(GS)
	POPQ AX
	MOVQ CR2, AX
	MOVQ AX, R0_FAULTADDR(GS)
	MOVQ R0_SUP+UR_RAX(GS), AX
	MOVQ $REASON_SUPERFAULT, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	// Never resumed: the VMM loop continues this code on the host. Should
	// KVM resume it anyway, say so rather than run on.
	MOVQ $REASON_STALE, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	OUT_AL_DX
	BYTE $0xf4 // HLT

// Exception vector stubs of the x86 backend's ring0 mode.

TEXT ·x86r0Vec0(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $0
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec1(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $1
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec2(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $2
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec3(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $3
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec4(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $4
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec5(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $5
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec6(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $6
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec7(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $7
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec8(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $8
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec9(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $9
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec10(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $10
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec11(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $11
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec12(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $12
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec13(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $13
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec14(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $14
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec15(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $15
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec16(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $16
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec17(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $17
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec18(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $18
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec19(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $19
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec20(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $20
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec21(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $21
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec22(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $22
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec23(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $23
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec24(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $24
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec25(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $25
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec26(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $26
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec27(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $27
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec28(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $28
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec29(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $29
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec30(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $30
	JMP ·x86r0Exception(SB)

TEXT ·x86r0Vec31(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $31
	JMP ·x86r0Exception(SB)

DATA ·x86r0Vectors+0(SB)/8, $·x86r0Vec0(SB)
DATA ·x86r0Vectors+8(SB)/8, $·x86r0Vec1(SB)
DATA ·x86r0Vectors+16(SB)/8, $·x86r0Vec2(SB)
DATA ·x86r0Vectors+24(SB)/8, $·x86r0Vec3(SB)
DATA ·x86r0Vectors+32(SB)/8, $·x86r0Vec4(SB)
DATA ·x86r0Vectors+40(SB)/8, $·x86r0Vec5(SB)
DATA ·x86r0Vectors+48(SB)/8, $·x86r0Vec6(SB)
DATA ·x86r0Vectors+56(SB)/8, $·x86r0Vec7(SB)
DATA ·x86r0Vectors+64(SB)/8, $·x86r0Vec8(SB)
DATA ·x86r0Vectors+72(SB)/8, $·x86r0Vec9(SB)
DATA ·x86r0Vectors+80(SB)/8, $·x86r0Vec10(SB)
DATA ·x86r0Vectors+88(SB)/8, $·x86r0Vec11(SB)
DATA ·x86r0Vectors+96(SB)/8, $·x86r0Vec12(SB)
DATA ·x86r0Vectors+104(SB)/8, $·x86r0Vec13(SB)
DATA ·x86r0Vectors+112(SB)/8, $·x86r0Vec14(SB)
DATA ·x86r0Vectors+120(SB)/8, $·x86r0Vec15(SB)
DATA ·x86r0Vectors+128(SB)/8, $·x86r0Vec16(SB)
DATA ·x86r0Vectors+136(SB)/8, $·x86r0Vec17(SB)
DATA ·x86r0Vectors+144(SB)/8, $·x86r0Vec18(SB)
DATA ·x86r0Vectors+152(SB)/8, $·x86r0Vec19(SB)
DATA ·x86r0Vectors+160(SB)/8, $·x86r0Vec20(SB)
DATA ·x86r0Vectors+168(SB)/8, $·x86r0Vec21(SB)
DATA ·x86r0Vectors+176(SB)/8, $·x86r0Vec22(SB)
DATA ·x86r0Vectors+184(SB)/8, $·x86r0Vec23(SB)
DATA ·x86r0Vectors+192(SB)/8, $·x86r0Vec24(SB)
DATA ·x86r0Vectors+200(SB)/8, $·x86r0Vec25(SB)
DATA ·x86r0Vectors+208(SB)/8, $·x86r0Vec26(SB)
DATA ·x86r0Vectors+216(SB)/8, $·x86r0Vec27(SB)
DATA ·x86r0Vectors+224(SB)/8, $·x86r0Vec28(SB)
DATA ·x86r0Vectors+232(SB)/8, $·x86r0Vec29(SB)
DATA ·x86r0Vectors+240(SB)/8, $·x86r0Vec30(SB)
DATA ·x86r0Vectors+248(SB)/8, $·x86r0Vec31(SB)
GLOBL ·x86r0Vectors(SB), RODATA, $256

// x86r0EventRetAddr returns x86r0UserEventRet's (unaliased) address.
TEXT ·x86r0EventRetAddr(SB),NOSPLIT,$0-8
	MOVQ $·x86r0UserEventRet(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// x86r0Addrs returns the (unaliased) entry points.
TEXT ·x86r0Addrs(SB),NOSPLIT,$0-16
	MOVQ $·x86r0Syscall(SB), AX
	MOVQ AX, syscall+0(FP)
	MOVQ $·x86r0ToUser(SB), AX
	MOVQ AX, toUser+8(FP)
	RET
