#include "textflag.h"

// The host I/O thread: a raw thread (not a Go M), made by clone, that runs
// only the loop below, so it never needs a Go P: task goroutines that
// spin on their slots in the guest cannot starve it. All signals are
// blocked in it (the caller blocks them around clone). Layout offsets:
// see layout.go (TestLayout checks them).

#define SLOT_SHIFT 7        // sizeof(slot) == 128
#define NSLOTS 64
#define S_STATE 0
#define S_NR 8
#define S_ARGS 16
#define S_R1 64
#define W_GATE 8192
#define W_PENDING 8196
#define W_BUSY 8200
#define W_SPIN 8208

#define ST_READY 2
#define ST_RUNNING 3
#define ST_DONE 4
#define WAITER 0x100

#define SYS_clone 56
#define SYS_futex 202
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
// CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM
#define CLONE_FLAGS 0x50f00

// RDTSC into AX as one 64-bit value (clobbers DX).
#define TSC RDTSC; SHLQ $32, DX; ORQ DX, AX

// func startThread(w *worker, stack uintptr) int64
TEXT ·startThread(SB), NOSPLIT, $0-24
	// R12 = the worker table, kept by the child (clone copies registers).
	MOVQ w+0(FP), R12
	MOVQ $CLONE_FLAGS, DI
	MOVQ stack+8(FP), SI     // the child's stack top
	XORQ DX, DX              // parent_tid
	XORQ R10, R10            // child_tid
	XORQ R8, R8              // tls
	MOVQ $SYS_clone, AX
	SYSCALL
	CMPQ AX, $0
	JEQ child
	// Parent: AX = the thread's TID, or -errno.
	MOVQ AX, ret+16(FP)
	RET

child:
	// Child: RSP = its own stack, R12 = w. R13 = TSC of the last request
	// served; BX = slot index; R14 = &slots[BX]; R15 = served one this scan.
	TSC
	MOVQ AX, R13

scan:
	XORL R15, R15
	MOVL W_PENDING(R12), AX
	TESTL AX, AX
	JLE idle
	XORQ BX, BX

next:
	MOVQ BX, R14
	SHLQ $SLOT_SHIFT, R14
	ADDQ R12, R14
	MOVL S_STATE(R14), AX
	MOVL AX, CX
	ANDL $~WAITER, CX
	CMPL CX, $ST_READY
	JNE skip
	// Take it: ready -> running, keeping the waiter bit.
	MOVL AX, CX
	ANDL $WAITER, CX
	ORL $ST_RUNNING, CX
	LOCK
	CMPXCHGL CX, S_STATE(R14)
	JNE skip
	LOCK
	DECL W_PENDING(R12)
	TSC
	MOVQ AX, W_BUSY(R12)
	// The request: nr and six arguments, as the syscall ABI wants them.
	MOVQ S_NR(R14), AX
	MOVQ (S_ARGS+0)(R14), DI
	MOVQ (S_ARGS+8)(R14), SI
	MOVQ (S_ARGS+16)(R14), DX
	MOVQ (S_ARGS+24)(R14), R10
	MOVQ (S_ARGS+32)(R14), R8
	MOVQ (S_ARGS+40)(R14), R9
	SYSCALL
	// AX = result or -errno; the caller decodes it.
	MOVQ AX, S_R1(R14)
	MOVQ $0, W_BUSY(R12)
	MOVL $ST_DONE, AX
	XCHGL AX, S_STATE(R14)
	TESTL $WAITER, AX
	JEQ served
	// The caller sleeps on its state word: wake it.
	MOVQ R14, DI
	MOVQ $FUTEX_WAKE_PRIVATE, SI
	MOVQ $1, DX
	XORQ R10, R10
	MOVQ $SYS_futex, AX
	SYSCALL

served:
	MOVL $1, R15

skip:
	INCQ BX
	CMPQ BX, $NSLOTS
	JLT next
	TESTL R15, R15
	JEQ idle
	TSC
	MOVQ AX, R13
	JMP scan

idle:
	// Poll until W_SPIN ticks have passed since the last request.
	TSC
	SUBQ R13, AX
	CMPQ AX, W_SPIN(R12)
	JGE sleep
	// No PAUSE: in a VM, PAUSE loops trigger pause-loop exits that deschedule
	// the vCPU (measured here: 35-75 us per call with PAUSE, not 2 us).
	JMP scan

sleep:
	// Announce the sleep (gate = 1, a full barrier), then look once more
	// so that a request queued before the caller could see gate == 1 is
	// not missed; a later one finds gate == 1 and wakes us.
	MOVL $1, AX
	XCHGL AX, W_GATE(R12)
	MOVL W_PENDING(R12), AX
	TESTL AX, AX
	JG awake
	LEAQ W_GATE(R12), DI
	MOVQ $FUTEX_WAIT_PRIVATE, SI
	MOVQ $1, DX
	XORQ R10, R10
	MOVQ $SYS_futex, AX
	SYSCALL

awake:
	XORL AX, AX
	XCHGL AX, W_GATE(R12)
	TSC
	MOVQ AX, R13
	JMP scan

// func cputicks() int64
TEXT ·cputicks(SB), NOSPLIT, $0-8
	TSC
	MOVQ AX, ret+0(FP)
	RET
