// The pvm backend's ring0-mode entry and exit code.
//
// In ring0 mode the Go kernel itself runs in the guest, in supervisor mode,
// on the task goroutine's own stack, with the host's address space mapped
// at the same addresses. One logical thread of execution moves between the
// host and the guest:
//
//   host --r0SwitchToUser--> VMM loop (host stack) --KVM_RUN--> guest
//   guest Go code --r0SwitchToUser--> r0ToUser --ERETU--> program
//   program --SYSCALL/exception--> r0Syscall/r0Exception --> r0UserEvent
//           --> returns from r0SwitchToUser, in the guest
//   guest Go code --SYSCALL--> r0Syscall (bounce) --OUT--> VMM loop runs
//           the host syscall, KVM_RUN --> back after the SYSCALL
//   guest Go code faults, clones, exits, or calls r0Leave --OUT--> VMM loop
//           "leaves": continues that code on the host, same registers
//
// In the guest GS base is the CPU page; on the host the VMM loop keeps the
// CPU page in R12. docs/ring0-mode.md has the full picture.

#include "textflag.h"
#include "offsets_amd64.h"

#define SYS_write 1
#define SYS_ioctl 16
#define SYS_exit_group 231
#define KVM_RUN 0xae80
#define KVM_GET_REGS 0x8090ae81
#define KVM_GET_MSRS 0xc008ae88
#define KVM_GET_XSAVE 0x9000aea4
#define MSR_PVM_VIF 0x4b564d10

// Instructions the Go assembler is not asked to spell.
#define WRFSBASE_AX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xd0
#define RDFSBASE_AX BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xc0
#define XSAVE64_SI BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0x26
#define XRSTOR64_SI BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0x2e
#define VZEROUPPER BYTE $0xc5; BYTE $0xf8; BYTE $0x77
#define HYPERCALL BYTE $0xcd; BYTE $0x1b
#define ERETU BYTE $0xcd; BYTE $0x17
#define OUT_AL_DX BYTE $0xee
// Loads of BP, spelled in bytes: vet's frame-pointer rule is for code that
// returns to its caller, which these paths do not.
#define LOAD_BP_GS(off) BYTE $0x65; BYTE $0x48; BYTE $0x8b; BYTE $0x2c; BYTE $0x25; LONG $(off)
#define LOAD_BP_R12(off) BYTE $0x49; BYTE $0x8b; BYTE $0xac; BYTE $0x24; LONG $(off)
#define LOAD_BP_AX(off) BYTE $0x48; BYTE $0x8b; BYTE $0xa8; LONG $(off)

// r0SwitchToUser(cpu *CPU) runs the program until its next event. It
// records where to come back (SP, BP), then either goes to user mode (in
// the guest) or starts the VMM loop (on the host).
TEXT ·r0SwitchToUser(SB),NOSPLIT,$0-8
	MOVQ cpu+0(FP), DI
	MOVQ SP, R0_KERNRSP(DI)
	MOVQ BP, R0_KERNRBP(DI)
	CMPQ R0_INGUEST(DI), $0
	JEQ onhost
	JMP ·r0ToUser(SB)
onhost:
	MOVQ DI, R12
	MOVQ R0_VMMSTACK(R12), SP
	JMP ·r0VMMLoop(SB)

// r0ToUser enters the program. State: guest supervisor mode, GS = CPU page,
// the Go continuation saved. It is also the vCPU's first instruction.
TEXT ·r0ToUser(SB),NOSPLIT|NOFRAME,$0
	MOVQ $1, R0_INGUEST(GS)
	// Switch page tables if asked (hypercall 0x1001 SET_CR3, flushes).
	MOVQ CPU_NEWCR3(GS), BX
	TESTQ BX, BX
	JZ nocr3
	MOVQ $0, CPU_NEWCR3(GS)
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ $0x1001, AX
	HYPERCALL
nocr3:
	// Zap queued page-table pages (see pvm_amd64.s).
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
noqueue:
	MOVQ CPU_FLUSH(GS), AX
	TESTQ AX, AX
	JZ noflush
	MOVQ $0, CPU_FLUSH(GS)
	MOVQ $0x1007, AX
	HYPERCALL
noflush:
	// A kick that came while the vCPU was not in user mode (the host sets
	// Kick before it signals the thread): back to Go code before the
	// program runs.
	CMPQ CPU_KICK(GS), $0
	JEQ nokick
	JMP ·r0Kicked(SB)
nokick:
	// The program's FP/vector state and FS base.
	MOVQ R0_USERXSAVE(GS), SI
	MOVQ R0_XMASKLO(GS), AX
	MOVQ R0_XMASKHI(GS), DX
	XRSTOR64_SI
	MOVQ R0_USERFS(GS), AX
	WRFSBASE_AX
	MOVQ $1, R0_INUSER(GS)
	// ERETU frame on the kernel stack, then every GPR.
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
	ERETU

// r0Kicked returns from r0SwitchToUser as r0UserEvent does, the
// program's state untouched: Go's FS base and FP environment (entered from
// the host, the vCPU has neither). State: as r0ToUser's.
TEXT ·r0Kicked(SB),NOSPLIT|NOFRAME,$0
	MOVQ $0, CPU_KICK(GS)
	MOVQ $REASON_KICKED, CPU_REASON(GS)
	// Go code runs next, not the program, whatever the flag says (a stop
	// by a kick in user mode left it set).
	MOVQ $0, R0_INUSER(GS)
	MOVQ R0_HOSTFS(GS), AX
	WRFSBASE_AX
	LDMXCSR ·r0MXCSR(SB)
	BYTE $0xdb; BYTE $0xe3 // FNINIT
	VZEROUPPER
	CLD
	MOVQ R0_KERNRSP(GS), SP
	LOAD_BP_GS(R0_KERNRBP)
	RET

// r0UserEvent finishes an entry from the program (its GPRs, RIP, RSP and
// RFLAGS are in the CPU page, RSP is still the program's): it saves the
// program's FS base and FP state, gives Go its own back, and returns from
// r0SwitchToUser in the guest.
TEXT ·r0UserEvent(SB),NOSPLIT|NOFRAME,$0
	RDFSBASE_AX
	MOVQ AX, R0_USERFS(GS)
	MOVQ R0_HOSTFS(GS), AX
	WRFSBASE_AX
	MOVQ R0_USERXSAVE(GS), SI
	MOVQ R0_XMASKLO(GS), AX
	MOVQ R0_XMASKHI(GS), DX
	XSAVE64_SI
	// A clean FP environment for Go code (the program may have changed
	// MXCSR or the x87 control word).
	LDMXCSR ·r0MXCSR(SB)
	BYTE $0xdb; BYTE $0xe3 // FNINIT
	VZEROUPPER
	CLD
	// Go code continues in the guest. (The vCPU may have been resumed
	// straight into user mode from the host after a kick, without
	// r0ToUser: the flag must be set here too, or Go code in the guest
	// would take itself for host code.)
	MOVQ $1, R0_INGUEST(GS)
	MOVQ R0_KERNRSP(GS), SP
	LOAD_BP_GS(R0_KERNRBP)
	RET

// r0Syscall is the LSTAR target. A SYSCALL from the program (InUser set)
// is an event; a SYSCALL from Go code in the guest is a host syscall, which
// the VMM loop makes on the host thread ("bounce").
TEXT ·r0Syscall(SB),NOSPLIT|NOFRAME,$0
	CMPQ R0_INUSER(GS), $0
	JEQ bounce
	MOVQ $0, R0_INUSER(GS)

	SAVE_GPRS(0, GS)
	MOVQ SP, CPU_RSP(GS)
	MOVQ CX, CPU_RIP(GS)
	MOVQ R11, CPU_RFLAGS(GS)
	MOVQ $REASON_SYSCALL, CPU_REASON(GS)
	JMP ·r0UserEvent(SB)
bounce:
	// State: Go code's registers, RCX = its RIP, R11 = its RFLAGS.

	SAVE_GPRS(R0_SUP, GS)
	MOVQ SP, R0_SUP+UR_RSP(GS)
	MOVQ CX, R0_SUP+UR_RIP(GS)
	MOVQ R11, R0_SUP+UR_RFLAGS(GS)
	MOVQ $REASON_BOUNCE, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	// The VMM loop put the result in Sup.RAX.
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

// r0Exception is reached from the ring0-mode vector stubs. State: the
// stack holds [vector, error code, RIP, CS, RFLAGS, RSP, SS].
TEXT ·r0Exception(SB),NOSPLIT|NOFRAME,$0
	CMPQ 24(SP), $0x10
	JEQ super
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
	MOVQ CPU_VIF(GS), AX
	MOVQ 8(AX), AX
	MOVQ AX, CPU_CR2(GS)
	MOVQ $REASON_EXCEPTION, CPU_REASON(GS)
	JMP ·r0UserEvent(SB)
super:
	// A fault in Go code in the guest (first touch of host memory not yet
	// mapped for the guest, or a real fault): the VMM loop continues the
	// faulting code on the host, where it is retried.

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
	MOVQ CPU_VIF(GS), AX
	MOVQ 8(AX), AX
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

// r0Leave(cpu *CPU) continues on the host if running in the guest.
TEXT ·r0Leave(SB),NOSPLIT,$0-8
	MOVQ cpu+0(FP), DI
	CMPQ R0_INGUEST(DI), $0
	JNE inguest
	RET
inguest:

	SAVE_GPRS(R0_SUP, GS)
	MOVQ 0(SP), AX
	MOVQ AX, R0_SUP+UR_RIP(GS)
	MOVQ SP, AX
	ADDQ $8, AX
	MOVQ AX, R0_SUP+UR_RSP(GS)
	PUSHFQ
	POPQ AX
	MOVQ AX, R0_SUP+UR_RFLAGS(GS)
	MOVQ $REASON_LEAVE, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	MOVQ $EXIT_PORT, DX
	OUT_AL_DX
	// The VMM loop continued this code on the host. The vCPU runs on
	// from here only when the VMM asks it to (REASON_RESUME): the code,
	// back on the host, entered the program again, and saves an exit's
	// worth of KVM calls (completing the OUT, setting RIP) by letting
	// this vCPU go on to the program itself, as SwitchToUser does in the
	// guest (x86: from the text alias).
	CMPQ R0_REQ(GS), $REASON_RESUME
	JNE stale
	// SP still points into the goroutine stack of the leave, which may
	// have moved since: take the vCPU's own kernel stack, as a restart
	// at the entry point would.
	MOVQ CPU_KSTACK(GS), SP
	CMPQ R0_X86(GS), $0
	JNE resumex86
	JMP ·r0ToUser(SB)
resumex86:
	MOVQ $·x86r0ToUser(SB), AX
	MOVQ $0xffffff0000000000, BX
	ADDQ BX, AX
	JMP AX
stale:
	// Resumed without being asked: say so rather than run on.
	MOVQ $REASON_STALE, R0_REQ(GS)
	INCQ R0_REQSEQ(GS) // a new request (see the VMM loop)
	OUT_AL_DX
	BYTE $0xf4 // HLT

// r0VMMLoop runs the vCPU on the host thread. State: R12 = CPU page, SP =
// the VMM stack; no Go code runs here (signals still reach Go's handlers).
TEXT ·r0VMMLoop(SB),NOSPLIT|NOFRAME,$0
run:
	INCQ R0_ENTRIES(R12)
	MOVQ $SYS_ioctl, AX
	MOVQ R0_VCPUFD(R12), DI
	MOVQ $KVM_RUN, SI
	XORQ DX, DX
	SYSCALL
	CMPQ AX, $-4 // EINTR
	JEQ intr
	CMPQ AX, $-11 // EAGAIN
	JEQ intr
	TESTQ AX, AX
	JNE fatal
	MOVQ R0_RUNADDR(R12), BX
	MOVL 8(BX), AX // exit_reason
	CMPL AX, $2 // KVM_EXIT_IO
	JNE fatalexit
	// An OUT whose request was already acted on (it was taken when a
	// signal cut KVM_RUN short): just go on.
	MOVQ R0_REQSEQ(R12), AX
	CMPQ AX, R0_REQDONE(R12)
	JEQ run
request:
	MOVQ R0_REQSEQ(R12), AX
	MOVQ AX, R0_REQDONE(R12)
	MOVQ R0_REQ(R12), AX
	CMPQ AX, $REASON_BOUNCE
	JEQ bounce
	CMPQ AX, $REASON_SUPERFAULT
	JEQ fault
	CMPQ AX, $REASON_LEAVE
	JEQ leavereq
	CMPQ AX, $REASON_FORGED
	JEQ forgedsys
	// A parked vCPU was resumed (REASON_STALE) or the request is
	// unknown: report it from r0SwitchToUser, whose caller is waiting.
	MOVQ $REASON_STALE, CPU_REASON(R12)
	MOVQ $0, R0_INGUEST(R12)
	MOVQ R0_KERNRSP(R12), SP
	LOAD_BP_R12(R0_KERNRBP)
	RET

intr:
	// A signal: Go's handler has run. If the guest had already made a
	// request (written and counted before its OUT), act on it now.
	INCQ R0_INTRS(R12)
	MOVQ R0_REQSEQ(R12), AX
	CMPQ AX, R0_REQDONE(R12)
	JNE request
	CMPQ R0_INUSER(R12), $0
	JEQ intrcounted
	INCQ R0_INTRUSER(R12)
intrcounted:
	// Else go on, unless Kick asked to stop a vCPU in user mode, or Go's
	// scheduler wants the task goroutine to yield (sysmon's time slice,
	// a stop-the-world, a GC stack scan): it runs the program holding its
	// P, so it must come back to Go code, whose next stack check yields.
	// The goroutine is the thread's g (TLS); g.stackguard0 (offset 16) is
	// stackPreempt when that is asked.
	MOVQ R0_RUNADDR(R12), BX
	CMPB 1(BX), $0 // immediate_exit
	JNE kicked
	MOVQ (TLS), AX
	MOVQ $STACK_PREEMPT, CX
	CMPQ 16(AX), CX
	JNE run
	JMP stopuser
kicked:
	MOVB $0, 1(BX)
stopuser:
	CMPQ R0_INUSER(R12), $0
	JEQ run
	CMPQ R0_X86(R12), $0
	JNE x86intr
	MOVQ $1, R0_MSRBUF(R12)
	MOVQ $MSR_PVM_VIF, R0_MSRBUF+8(R12)
	MOVQ $0, R0_MSRBUF+16(R12)
	MOVQ $SYS_ioctl, AX
	MOVQ R0_VCPUFD(R12), DI
	MOVQ $KVM_GET_MSRS, SI
	LEAQ R0_MSRBUF(R12), DX
	SYSCALL
	CMPQ AX, $1
	JNE fatal
	TESTQ $0x800, R0_MSRBUF+16(R12) // bit 11: the vCPU is in user mode
	JZ run
	MOVQ $SYS_ioctl, AX
	MOVQ R0_VCPUFD(R12), DI
	MOVQ $KVM_GET_REGS, SI
	LEAQ R0_KREGS(R12), DX
	SYSCALL
	TESTQ AX, AX
	JNE fatal
interrupted:
	MOVQ $REASON_INTERRUPT, CPU_REASON(R12)
	MOVQ $0, R0_INGUEST(R12)
	// Return from r0SwitchToUser on the host.
	MOVQ R0_KERNRSP(R12), SP
	LOAD_BP_R12(R0_KERNRBP)
	RET

stubfault:
	MOVQ $REASON_STUBFAULT, CPU_REASON(R12)
	MOVQ $0, R0_INGUEST(R12)
	MOVQ R0_KERNRSP(R12), SP
	LOAD_BP_R12(R0_KERNRBP)
	RET

x86intr:
	// x86: the program's registers, unless the vCPU is still in the
	// entry code (upper half) on its way to user mode.
	MOVQ $SYS_ioctl, AX
	MOVQ R0_VCPUFD(R12), DI
	MOVQ $KVM_GET_REGS, SI
	LEAQ R0_KREGS(R12), DX
	SYSCALL
	TESTQ AX, AX
	JNE fatal
	MOVQ R0_KREGS+128(R12), AX // RIP
	MOVQ $0x800000000000, BX
	CMPQ AX, BX
	JAE run
	JMP interrupted

bounce:
	// The origin check (origin.go): the SYSCALL that ends at Sup.RIP must
	// lie in ringbox's text or the vDSO, and be one there.
	MOVQ R0_SUP+UR_RIP(R12), AX
	LEAQ -2(AX), BX
	CMPQ BX, R0_TEXTLO(R12)
	JB bouncevdso
	CMPQ AX, R0_TEXTHI(R12)
	JA bouncevdso
	JMP bouncebytes
bouncevdso:
	CMPQ BX, R0_VDSOLO(R12)
	JB forgedsys
	CMPQ AX, R0_VDSOHI(R12)
	JA forgedsys
bouncebytes:
	MOVWLZX (BX), CX
	CMPQ CX, $0x050f
	JNE forgedsys
	INCQ R0_BOUNCES(R12)
	MOVQ R0_SUP+UR_RAX(R12), AX
	CMPQ AX, $BOUNCE_NRS
	JAE bouncecounted
	INCL R0_BOUNCESBY(R12)(AX*4)
bouncecounted:
	// Syscalls that create or end threads, or replace the program, are
	// made by the code itself on the host: leave, and retry the SYSCALL.
	CMPQ AX, $56 // clone
	JEQ leavesys
	CMPQ AX, $57 // fork
	JEQ leavesys
	CMPQ AX, $58 // vfork
	JEQ leavesys
	CMPQ AX, $59 // execve
	JEQ leavesys
	CMPQ AX, $60 // exit
	JEQ leavesys
	CMPQ AX, $15 // rt_sigreturn
	JEQ leavesys
	CMPQ AX, $231 // exit_group
	JEQ leavesys
	CMPQ AX, $322 // execveat
	JEQ leavesys
	CMPQ AX, $435 // clone3
	JEQ leavesys
	MOVQ R0_SUP+UR_RDI(R12), DI
	MOVQ R0_SUP+UR_RSI(R12), SI
	MOVQ R0_SUP+UR_RDX(R12), DX
	MOVQ R0_SUP+UR_R10(R12), R10
	MOVQ R0_SUP+UR_R8(R12), R8
	MOVQ R0_SUP+UR_R9(R12), R9
	SYSCALL
	MOVQ AX, R0_SUP+UR_RAX(R12)
	JMP run
leavesys:
	SUBQ $2, R0_SUP+UR_RIP(R12)
	JMP leave

leavereq:
	// The origin check: Go code asked to leave from ringbox's text.
	MOVQ R0_SUP+UR_RIP(R12), AX
	CMPQ AX, R0_TEXTLO(R12)
	JB forgedrax
	CMPQ AX, R0_TEXTHI(R12)
	JAE forgedrax
	JMP leave

fault:
	// A fault on a supervisor stack (the stub's own code, running on the
	// kernel or exception stack) cannot continue on the host: report it
	// from r0SwitchToUser, whose caller is still waiting.
	MOVQ R0_SUP+UR_RSP(R12), AX
	MOVQ $0xffff800000000000, BX
	CMPQ AX, BX
	JAE stubfault
	// The RET that ends an entry from the program (x86 backend) faulted
	// on Go's stack, a page the guest has not mapped yet: do the RET on
	// the host, from the same instruction in ringbox's text.
	MOVQ R0_SUP+UR_RIP(R12), AX
	CMPQ AX, R0_EVRET(R12)
	JNE origin
	MOVQ $0xffffff0000000000, BX // ring0.X86TextDelta
	SUBQ BX, AX
	MOVQ AX, R0_SUP+UR_RIP(R12)
origin:
	// The origin check: the faulting code, continued on the host, must be
	// ringbox's (or the vDSO's).
	MOVQ R0_SUP+UR_RIP(R12), AX
	CMPQ AX, R0_TEXTLO(R12)
	JB faultvdso
	CMPQ AX, R0_TEXTHI(R12)
	JB faultok
faultvdso:
	CMPQ AX, R0_VDSOLO(R12)
	JB forgedrax
	CMPQ AX, R0_VDSOHI(R12)
	JAE forgedrax
faultok:
	// Leaving in the middle of Go code: bring its FP/vector state along.
	MOVQ $SYS_ioctl, AX
	MOVQ R0_VCPUFD(R12), DI
	MOVQ $KVM_GET_XSAVE, SI
	MOVQ R0_LEAVEXSAVE(R12), DX
	SYSCALL
	TESTQ AX, AX
	JNE fatal
	MOVQ R0_LEAVEXSAVE(R12), SI
	MOVQ R0_XMASKLO(R12), AX
	MOVQ R0_XMASKHI(R12), DX
	XRSTOR64_SI

leave:
	// Continue the code whose registers are in Sup, on the host.
	INCQ R0_LEAVES(R12)
	MOVQ $0, R0_INGUEST(R12)
	MOVQ R0_SUP+UR_RSP(R12), SP
	SUBQ $16, SP
	MOVQ R0_SUP+UR_RFLAGS(R12), AX
	MOVQ AX, 0(SP)
	MOVQ R0_SUP+UR_RIP(R12), AX
	MOVQ AX, 8(SP)
	MOVQ R12, AX
	MOVQ R0_SUP+UR_RBX(AX), BX
	MOVQ R0_SUP+UR_RCX(AX), CX
	MOVQ R0_SUP+UR_RDX(AX), DX
	MOVQ R0_SUP+UR_RSI(AX), SI
	MOVQ R0_SUP+UR_RDI(AX), DI
	LOAD_BP_AX(R0_SUP+UR_RBP)
	MOVQ R0_SUP+UR_R8(AX), R8
	MOVQ R0_SUP+UR_R9(AX), R9
	MOVQ R0_SUP+UR_R10(AX), R10
	MOVQ R0_SUP+UR_R11(AX), R11
	MOVQ R0_SUP+UR_R12(AX), R12
	MOVQ R0_SUP+UR_R13(AX), R13
	MOVQ R0_SUP+UR_R14(AX), R14
	MOVQ R0_SUP+UR_R15(AX), R15
	MOVQ R0_SUP+UR_RAX(AX), AX
	BYTE $0x9d // POPFQ (pushed above by hand, not by PUSHFQ)
	RET

forgedsys:
	LEAQ ·r0ForgedMidSys(SB), R13
	JMP forged
forgedrax:
	LEAQ ·r0ForgedMidRAX(SB), R13
forged:
	// The origin check failed: never act on the request. One line on
	// stderr, built on the VMM stack (head, RIP in hex, the string R13
	// points to, RAX in decimal, tail), then exit status 125.
	SUBQ $512, SP
	MOVQ SP, DI
	CLD
	MOVQ ·r0ForgedHead+0(SB), SI
	MOVQ ·r0ForgedHead+8(SB), CX
	REP; MOVSB
	MOVQ R0_SUP+UR_RIP(R12), AX
	MOVQ ·r0HexDigits+0(SB), R8
	MOVQ $16, CX
forgedhex:
	ROLQ $4, AX
	MOVQ AX, BX
	ANDQ $15, BX
	MOVBLZX (R8)(BX*1), DX
	MOVB DX, (DI)
	INCQ DI
	DECQ CX
	JNZ forgedhex
	MOVQ 0(R13), SI
	MOVQ 8(R13), CX
	REP; MOVSB
	// RAX in decimal, right to left from SP+496.
	MOVQ R0_SUP+UR_RAX(R12), AX
	LEAQ 496(SP), R9
	MOVQ R9, R10
	MOVQ $10, R8
forgeddec:
	XORQ DX, DX
	DIVQ R8
	ADDQ $0x30, DX
	DECQ R10
	MOVB DX, (R10)
	TESTQ AX, AX
	JNZ forgeddec
	MOVQ R10, SI
	MOVQ R9, CX
	SUBQ R10, CX
	REP; MOVSB
	MOVQ ·r0ForgedTail+0(SB), SI
	MOVQ ·r0ForgedTail+8(SB), CX
	REP; MOVSB
	MOVQ DI, DX
	SUBQ SP, DX
	MOVQ SP, SI
	MOVQ $2, DI
	MOVQ $SYS_write, AX
	SYSCALL
	MOVQ $SYS_exit_group, AX
	MOVQ $125, DI
	SYSCALL
	BYTE $0xf4

fatalexit:
	MOVL 8(BX), AX
	NEGQ AX
fatal:
	// Nothing sensible can continue: the guest state is lost.
	MOVQ AX, R0_FATAL(R12)
	MOVQ $SYS_write, AX
	MOVQ $2, DI
	LEAQ ·r0FatalMsg(SB), SI
	MOVQ $·r0FatalLen(SB), DX
	MOVQ (DX), DX
	SYSCALL
	MOVQ $SYS_exit_group, AX
	MOVQ $125, DI
	SYSCALL
	BYTE $0xf4

// Exception vector stubs of ring0 mode.

TEXT ·r0Vec0(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $0
	JMP ·r0Exception(SB)

TEXT ·r0Vec1(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $1
	JMP ·r0Exception(SB)

TEXT ·r0Vec2(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $2
	JMP ·r0Exception(SB)

TEXT ·r0Vec3(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $3
	JMP ·r0Exception(SB)

TEXT ·r0Vec4(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $4
	JMP ·r0Exception(SB)

TEXT ·r0Vec5(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $5
	JMP ·r0Exception(SB)

TEXT ·r0Vec6(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $6
	JMP ·r0Exception(SB)

TEXT ·r0Vec7(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $7
	JMP ·r0Exception(SB)

TEXT ·r0Vec8(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $8
	JMP ·r0Exception(SB)

TEXT ·r0Vec9(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $9
	JMP ·r0Exception(SB)

TEXT ·r0Vec10(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $10
	JMP ·r0Exception(SB)

TEXT ·r0Vec11(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $11
	JMP ·r0Exception(SB)

TEXT ·r0Vec12(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $12
	JMP ·r0Exception(SB)

TEXT ·r0Vec13(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $13
	JMP ·r0Exception(SB)

TEXT ·r0Vec14(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $14
	JMP ·r0Exception(SB)

TEXT ·r0Vec15(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $15
	JMP ·r0Exception(SB)

TEXT ·r0Vec16(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $16
	JMP ·r0Exception(SB)

TEXT ·r0Vec17(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $17
	JMP ·r0Exception(SB)

TEXT ·r0Vec18(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $18
	JMP ·r0Exception(SB)

TEXT ·r0Vec19(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $19
	JMP ·r0Exception(SB)

TEXT ·r0Vec20(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $20
	JMP ·r0Exception(SB)

TEXT ·r0Vec21(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $21
	JMP ·r0Exception(SB)

TEXT ·r0Vec22(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $22
	JMP ·r0Exception(SB)

TEXT ·r0Vec23(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $23
	JMP ·r0Exception(SB)

TEXT ·r0Vec24(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $24
	JMP ·r0Exception(SB)

TEXT ·r0Vec25(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $25
	JMP ·r0Exception(SB)

TEXT ·r0Vec26(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $26
	JMP ·r0Exception(SB)

TEXT ·r0Vec27(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $27
	JMP ·r0Exception(SB)

TEXT ·r0Vec28(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $28
	JMP ·r0Exception(SB)

TEXT ·r0Vec29(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $29
	JMP ·r0Exception(SB)

TEXT ·r0Vec30(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $30
	JMP ·r0Exception(SB)

TEXT ·r0Vec31(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $0
	PUSHQ $31
	JMP ·r0Exception(SB)

DATA ·r0Vectors+0(SB)/8, $·r0Vec0(SB)
DATA ·r0Vectors+8(SB)/8, $·r0Vec1(SB)
DATA ·r0Vectors+16(SB)/8, $·r0Vec2(SB)
DATA ·r0Vectors+24(SB)/8, $·r0Vec3(SB)
DATA ·r0Vectors+32(SB)/8, $·r0Vec4(SB)
DATA ·r0Vectors+40(SB)/8, $·r0Vec5(SB)
DATA ·r0Vectors+48(SB)/8, $·r0Vec6(SB)
DATA ·r0Vectors+56(SB)/8, $·r0Vec7(SB)
DATA ·r0Vectors+64(SB)/8, $·r0Vec8(SB)
DATA ·r0Vectors+72(SB)/8, $·r0Vec9(SB)
DATA ·r0Vectors+80(SB)/8, $·r0Vec10(SB)
DATA ·r0Vectors+88(SB)/8, $·r0Vec11(SB)
DATA ·r0Vectors+96(SB)/8, $·r0Vec12(SB)
DATA ·r0Vectors+104(SB)/8, $·r0Vec13(SB)
DATA ·r0Vectors+112(SB)/8, $·r0Vec14(SB)
DATA ·r0Vectors+120(SB)/8, $·r0Vec15(SB)
DATA ·r0Vectors+128(SB)/8, $·r0Vec16(SB)
DATA ·r0Vectors+136(SB)/8, $·r0Vec17(SB)
DATA ·r0Vectors+144(SB)/8, $·r0Vec18(SB)
DATA ·r0Vectors+152(SB)/8, $·r0Vec19(SB)
DATA ·r0Vectors+160(SB)/8, $·r0Vec20(SB)
DATA ·r0Vectors+168(SB)/8, $·r0Vec21(SB)
DATA ·r0Vectors+176(SB)/8, $·r0Vec22(SB)
DATA ·r0Vectors+184(SB)/8, $·r0Vec23(SB)
DATA ·r0Vectors+192(SB)/8, $·r0Vec24(SB)
DATA ·r0Vectors+200(SB)/8, $·r0Vec25(SB)
DATA ·r0Vectors+208(SB)/8, $·r0Vec26(SB)
DATA ·r0Vectors+216(SB)/8, $·r0Vec27(SB)
DATA ·r0Vectors+224(SB)/8, $·r0Vec28(SB)
DATA ·r0Vectors+232(SB)/8, $·r0Vec29(SB)
DATA ·r0Vectors+240(SB)/8, $·r0Vec30(SB)
DATA ·r0Vectors+248(SB)/8, $·r0Vec31(SB)
GLOBL ·r0Vectors(SB), RODATA, $256

DATA ·r0FatalMsg+0(SB)/8, $"ringbox:"
DATA ·r0FatalMsg+8(SB)/8, $" the gue"
DATA ·r0FatalMsg+16(SB)/8, $"st stopp"
DATA ·r0FatalMsg+24(SB)/8, $"ed unexp"
DATA ·r0FatalMsg+32(SB)/8, $"ectedly "
DATA ·r0FatalMsg+40(SB)/8, $"in ring0"
DATA ·r0FatalMsg+48(SB)/8, $" mode (s"
DATA ·r0FatalMsg+56(SB)/8, $"ee dmesg"
DATA ·r0FatalMsg+64(SB)/8, $")\n\000\000\000\000\000\000"
GLOBL ·r0FatalMsg(SB), RODATA, $72
DATA ·r0FatalLen+0(SB)/8, $66
GLOBL ·r0FatalLen(SB), RODATA, $8
DATA ·r0MXCSR+0(SB)/4, $0x1f80
GLOBL ·r0MXCSR(SB), RODATA, $4

// r0Addrs returns the addresses of the ring0-mode entry points.
TEXT ·r0Addrs(SB),NOSPLIT,$0-16
	MOVQ $·r0Syscall(SB), AX
	MOVQ AX, syscall+0(FP)
	MOVQ $·r0ToUser(SB), AX
	MOVQ AX, toUser+8(FP)
	RET

// hostXCR0 returns XCR0 of the host (XGETBV with ECX = 0).
TEXT ·hostXCR0(SB),NOSPLIT,$0-8
	XORL CX, CX
	BYTE $0x0f; BYTE $0x01; BYTE $0xd0 // XGETBV
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET

// Zap(table) rewrites the first two bytes of a page-table page with their
// own value, from Go code in the guest (see r0ToUser).
TEXT ·Zap(SB),NOSPLIT,$0-8
	MOVQ table+0(FP), DI
	MOVW (DI), AX
	MOVW AX, (DI)
	RET

// fsBase returns the current FS base (RDFSBASE).
TEXT ·fsBase(SB),NOSPLIT,$0-8
	RDFSBASE_AX
	MOVQ AX, ret+0(FP)
	RET

// tlsG returns the calling thread's g, as the VMM loop finds it.
TEXT ·tlsG(SB),NOSPLIT,$0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
