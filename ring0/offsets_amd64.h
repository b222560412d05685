// Offsets into ring0.CPU; TestOffsets checks them against the Go struct.
#define CPU_RAX 0x00
#define CPU_RBX 0x08
#define CPU_RCX 0x10
#define CPU_RDX 0x18
#define CPU_RSI 0x20
#define CPU_RDI 0x28
#define CPU_RBP 0x30
#define CPU_RSP 0x38
#define CPU_R8 0x40
#define CPU_R9 0x48
#define CPU_R10 0x50
#define CPU_R11 0x58
#define CPU_R12 0x60
#define CPU_R13 0x68
#define CPU_R14 0x70
#define CPU_R15 0x78
#define CPU_RIP 0x80
#define CPU_RFLAGS 0x88
#define CPU_VECTOR 0x90
#define CPU_ERRCODE 0x98
#define CPU_CR2 0xa0
#define CPU_FRAMECS 0xa8
#define CPU_FRAMESS 0xb0
#define CPU_REASON 0xb8
#define CPU_KSTACK 0xc0
#define CPU_VIF 0xc8
#define CPU_FLUSH 0xd0
#define CPU_NEWCR3 0xd8
#define CPU_SELF 0xe0
#define CPU_QUEUELEN 0xe8
#define CPU_QUEUEMORE 0xf0
#define CPU_QUEUE 0xf8
#define CPU_KICK 0xff8

#define REASON_SYSCALL 1
#define REASON_EXCEPTION 2
#define REASON_SUPERFAULT 3
#define REASON_DRAIN 4
#define REASON_KICKED 12
#define EXIT_PORT 0x3f0
#define FAULT_PORT 0x3f1

// ring0 mode (R0State, second page)
#define R0_KERNRSP 0x1000
#define R0_KERNRBP 0x1008
#define R0_HOSTFS 0x1010
#define R0_USERFS 0x1018
#define R0_INUSER 0x1020
#define R0_INGUEST 0x1028
#define R0_USERXSAVE 0x1030
#define R0_LEAVEXSAVE 0x1038
#define R0_XMASKLO 0x1040
#define R0_XMASKHI 0x1048
#define R0_VCPUFD 0x1050
#define R0_RUNADDR 0x1058
#define R0_VMMSTACK 0x1060
#define R0_BOUNCES 0x1068
#define R0_LEAVES 0x1070
#define R0_FATAL 0x1078
#define R0_FAULTADDR 0x1080
#define R0_SUP 0x1088
#define R0_KREGS 0x1118
#define R0_MSRBUF 0x11a8
#define R0_ENTRIES 0x11c8
#define R0_REQ 0x11d0
#define R0_SUPVECTOR 0x11d8
#define R0_SUPERR 0x11e0
#define R0_X86 0x11e8
#define R0_KERNCR3 0x11f0
#define R0_USERCR3 0x11f8
#define R0_USERGS 0x1200
#define R0_MXCSR 0x1208
#define R0_XSAVEALI 0x1210
#define R0_REQSEQ 0x1218
#define R0_REQDONE 0x1220
#define R0_INTRS 0x1228
#define R0_TEXTLO 0x1230
#define R0_TEXTHI 0x1238
#define R0_VDSOLO 0x1240
#define R0_VDSOHI 0x1248
#define R0_INTRUSER 0x1250
#define R0_BOUNCESBY 0x1258
#define R0_EVRET 0x1958
#define BOUNCE_NRS 448

// runtime.stackPreempt: g.stackguard0 when Go asks a goroutine to yield.
#define STACK_PREEMPT 0xfffffffffffffade

// UserRegs offsets, relative to a UserRegs.
#define UR_RAX 0x00
#define UR_RBX 0x08
#define UR_RCX 0x10
#define UR_RDX 0x18
#define UR_RSI 0x20
#define UR_RDI 0x28
#define UR_RBP 0x30
#define UR_RSP 0x38
#define UR_R8 0x40
#define UR_R9 0x48
#define UR_R10 0x50
#define UR_R11 0x58
#define UR_R12 0x60
#define UR_R13 0x68
#define UR_R14 0x70
#define UR_R15 0x78
#define UR_RIP 0x80
#define UR_RFLAGS 0x88

#define REASON_BOUNCE 5
#define REASON_LEAVE 6
#define REASON_INTERRUPT 7
#define REASON_STUBFAULT 8
#define REASON_STALE 9
#define REASON_FORGED 10
#define REASON_RESUME 11

// SAVE_GPRS stores every general-purpose register but RSP at
// base+UR_*(seg): the user registers (base 0) or Sup (base R0_SUP).
#define SAVE_GPRS(base, seg) \
	MOVQ AX, base+UR_RAX(seg); \
	MOVQ BX, base+UR_RBX(seg); \
	MOVQ CX, base+UR_RCX(seg); \
	MOVQ DX, base+UR_RDX(seg); \
	MOVQ SI, base+UR_RSI(seg); \
	MOVQ DI, base+UR_RDI(seg); \
	MOVQ BP, base+UR_RBP(seg); \
	MOVQ R8, base+UR_R8(seg); \
	MOVQ R9, base+UR_R9(seg); \
	MOVQ R10, base+UR_R10(seg); \
	MOVQ R11, base+UR_R11(seg); \
	MOVQ R12, base+UR_R12(seg); \
	MOVQ R13, base+UR_R13(seg); \
	MOVQ R14, base+UR_R14(seg); \
	MOVQ R15, base+UR_R15(seg)
