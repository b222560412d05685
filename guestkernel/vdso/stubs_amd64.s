#include "textflag.h"

// stubs<> is not Go code: its bytes are copied into the vDSO image
// (elf.go) and run there by the program, called with the C ABI. It is
// eight slots of stubSize (64) bytes, each starting on a 64-byte
// boundary (PCALIGN); elf.go names them by slot.
//
// Slots 0-4 make one system call each: the arguments are already where
// the syscall ABI wants them (DI, SI, DX), the number goes in AX, SYSCALL
// clobbers only CX and R11 (scratch in the C ABI), and AX holds the
// result or -errno on RET, which is what the vDSO's callers expect.
//
// Slots 5-7 are used with the host's clock code: their JMP/CALL rel32
// placeholders (0x5a5a5a5a) are patched to the host's functions in the
// image. They send to the host's code only what the Go kernel reads the
// same way (CLOCK_REALTIME and CLOCK_MONOTONIC: Go's wall clock and
// runtime.nanotime are those host clocks), so a vDSO reading and a
// system call reading never disagree; every other clock id makes the
// system call.
TEXT stubs<>(SB), NOSPLIT|NOFRAME, $0-0
	// Slot 0: clock_gettime(clockid, ts)
	MOVL	$228, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 1: gettimeofday(tv, tz)
	MOVL	$96, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 2: time(t)
	MOVL	$201, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 3: clock_getres(clockid, res)
	MOVL	$229, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 4: getcpu(cpu, node, cache)
	MOVL	$309, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 5: clock_gettime: ids 0 and 1 (unsigned compare: negative
	// ids, the CPU-time clocks of other tasks, are above) tail-jump to
	// the host's __vdso_clock_gettime; the rest make the system call.
	CMPL	DI, $1
	JHI	gettime_syscall
	BYTE	$0xe9; LONG $0x5a5a5a5a
gettime_syscall:
	MOVL	$228, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 6: clock_getres the same way, to the host's
	// __vdso_clock_getres.
	CMPL	DI, $1
	JHI	getres_syscall
	BYTE	$0xe9; LONG $0x5a5a5a5a
getres_syscall:
	MOVL	$229, AX
	SYSCALL
	RET
	PCALIGN	$64
	// Slot 7: time(t) from the host's clock_gettime(CLOCK_REALTIME),
	// to the nanosecond as the Go kernel's time(2) (the host's own
	// __vdso_time reads a value that lags by up to a tick). The frame:
	// the timespec at 0(SP), t saved at 16(SP); SUBQ $24 keeps the stack
	// 16-byte aligned at the CALL.
	SUBQ	$24, SP
	MOVQ	DI, 16(SP)
	XORL	DI, DI
	MOVQ	SP, SI
	BYTE	$0xe8; LONG $0x5a5a5a5a
	MOVQ	0(SP), AX
	MOVQ	16(SP), DI
	TESTQ	DI, DI
	JEQ	time_done
	MOVQ	AX, 0(DI)
time_done:
	ADDQ	$24, SP
	RET
	PCALIGN	$64

// func stubsCode() *byte returns the address of stubs<>.
TEXT ·stubsCode(SB), NOSPLIT, $0-8
	MOVQ	$stubs<>(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
