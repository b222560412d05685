#include "textflag.h"

// stubs<> is not Go code: its bytes are copied into the vDSO image
// (vdso.go) and run there by the program, called with the C ABI. Each
// stub makes one system call: the arguments are already where the syscall
// ABI wants them (DI, SI, DX), the number goes in AX, SYSCALL clobbers
// only CX and R11 (scratch in the C ABI), and AX holds the result or
// -errno on RET, which is what the vDSO's callers expect. Each stub takes
// stubSize (16) bytes, padded with INT3.
TEXT stubs<>(SB), NOSPLIT|NOFRAME, $0-0
	// clock_gettime(clockid, ts)
	MOVL	$228, AX
	SYSCALL
	RET
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	// gettimeofday(tv, tz)
	MOVL	$96, AX
	SYSCALL
	RET
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	// time(t)
	MOVL	$201, AX
	SYSCALL
	RET
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	// clock_getres(clockid, res)
	MOVL	$229, AX
	SYSCALL
	RET
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	// getcpu(cpu, node, cache)
	MOVL	$309, AX
	SYSCALL
	RET
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc
	BYTE $0xcc; BYTE $0xcc; BYTE $0xcc; BYTE $0xcc

// func stubsCode() *byte returns the address of stubs<>.
TEXT ·stubsCode(SB), NOSPLIT, $0-8
	MOVQ	$stubs<>(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
