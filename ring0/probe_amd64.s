// Experiments run by vmm's tests to establish facts about the PVM ABI
// (docs/pvm.md). Not used by the sandbox itself.

#include "textflag.h"
#include "offsets_amd64.h"

// PROBE_DONE ends a probe: its reason in the CPU page, then an exit to the
// VMM (OUT to EXIT_PORT; the HLT is never reached).
#define PROBE_DONE(reason) MOVQ $reason, CPU_REASON(GS); MOVQ $EXIT_PORT, DX; BYTE $0xee; BYTE $0xf4

// pvmProbeSyscall executes SYSCALL in supervisor mode. If it lands on
// LSTAR (pvmSyscall), the stub records it as a syscall (Reason 1) with RCX
// = the address after the SYSCALL. If it returns here, RAX holds what the
// hypervisor left and we report Reason 0x55.
TEXT ·pvmProbeSyscall(SB),NOSPLIT|NOFRAME,$0
	MOVQ $0x27, AX
	BYTE $0x0f; BYTE $0x05 // SYSCALL
	MOVQ AX, CPU_RAX(GS)
	MOVQ CX, CPU_RCX(GS)
	PROBE_DONE(0x55)

// pvmProbeZap times a rewrite of the two first bytes of a page-table page
// (at CPU_RDI) by the stub's zap path: it just does the write and exits.
TEXT ·pvmProbeWrite(SB),NOSPLIT|NOFRAME,$0
	MOVQ CPU_RDI(GS), DI
	MOVQ CPU_RSI(GS), CX
again:
	MOVW (DI), AX
	MOVW AX, (DI)
	DECQ CX
	JNZ again
	PROBE_DONE(0x56)

// probeAddrs returns the probe entry points.
TEXT ·probeAddrs(SB),NOSPLIT,$0-16
	MOVQ $·pvmProbeSyscall(SB), AX
	MOVQ AX, sys+0(FP)
	MOVQ $·pvmProbeWrite(SB), AX
	MOVQ AX, write+8(FP)
	RET

// pvmProbeFSBase executes WRFSBASE/RDFSBASE CPU_RSI times in supervisor
// mode (needs CR4.FSGSBASE) and stores the last value read in CPU_RBX.
TEXT ·pvmProbeFSBase(SB),NOSPLIT|NOFRAME,$0
	MOVQ CPU_RSI(GS), CX
	MOVQ $0x12345000, AX
fsloop:
	BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xd0 // WRFSBASE RAX
	BYTE $0xf3; BYTE $0x48; BYTE $0x0f; BYTE $0xae; BYTE $0xc3 // RDFSBASE RBX
	DECQ CX
	JNZ fsloop
	MOVQ BX, CPU_RBX(GS)
	PROBE_DONE(0x57)

// probeFSAddr returns pvmProbeFSBase's address.
TEXT ·probeFSAddr(SB),NOSPLIT,$0-8
	MOVQ $·pvmProbeFSBase(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// pvmProbeTSC reads the TSC, then CPU_RSI more times, in supervisor mode:
// the first reading goes to CPU_RBX, the last to CPU_RCX.
TEXT ·pvmProbeTSC(SB),NOSPLIT|NOFRAME,$0
	MOVQ CPU_RSI(GS), R8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, CPU_RBX(GS)
tscloop:
	RDTSC
	DECQ R8
	JNZ tscloop
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, CPU_RCX(GS)
	PROBE_DONE(0x58)

// probeTSCAddr returns pvmProbeTSC's address.
TEXT ·probeTSCAddr(SB),NOSPLIT,$0-8
	MOVQ $·pvmProbeTSC(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// ProbeRDTSC reads the TSC here (on the host).
TEXT ·ProbeRDTSC(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET
