package ring0

// Reasons the stub stopped, in CPU.Reason.
const (
	ReasonSyscall    = 1
	ReasonException  = 2
	ReasonSuperFault = 3 // an exception in supervisor mode: a ringbox bug
	ReasonDrain      = 4 // the stub applied Queue and asks for more
	ReasonBounce     = 5 // ring0 mode: Go code in the guest made a host syscall
	ReasonLeave      = 6 // ring0 mode: Go code asked to continue on the host
	ReasonInterrupt  = 7 // ring0 mode: the vCPU was kicked while in user mode
	ReasonStubFault  = 8 // ring0 mode: the entry/exit code itself faulted (a ringbox bug)
	ReasonStale      = 9 // ring0 mode: a vCPU parked by a leave was resumed (a ringbox bug)
	// ReasonForged: ring0 mode, a request for the host that did not come
	// from ringbox's own code (the origin check). Never returned: the VMM
	// loop stops the run (exit status 125) rather than act on it.
	ReasonForged = 10
	// ReasonResume is never a stop: the VMM writes it to R0.Req before
	// it runs again a vCPU that r0Leave's request left parked, to have
	// that code go on into the program (as SwitchToUser does in the
	// guest) instead of taking the run for a stale one.
	ReasonResume = 11
	// ReasonKicked: the entry code found Kick set on its way to user
	// mode and stopped before the program ran (its registers are still
	// the ones the host wrote).
	ReasonKicked = 12
)

// QueueCap is how many page-table entry addresses fit in CPU.Queue.
const QueueCap = 480

// ExitPort is the I/O port the stub writes to when it exits to the VMM.
const ExitPort = 0x3f0

// FaultPort is written, touching no memory, when the x86 exit-mode stub
// itself faults; the exception frame is at the top of IST1.
const FaultPort = 0x3f1

// Selectors of the GDT (fixed by PVM: user selectors must be the host's).
const (
	SelKernelCode = 0x10
	SelKernelData = 0x18
	SelUserCode32 = 0x23
	SelUserData   = 0x2b
	SelUserCode   = 0x33
	SelTSS        = 0x40
)

// UserRegs are the user-mode registers saved by the stub. The order is the
// layout the assembly uses (offsets in offsets_amd64.h).
type UserRegs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
}

// CPU is the per-vCPU page shared by the supervisor stub and the host. The
// guest reaches it through its GS base.
type CPU struct {
	Regs    UserRegs // 0x00
	Vector  uint64   // 0x90 exception vector
	ErrCode uint64   // 0x98 exception error code
	CR2     uint64   // 0xa0 faulting address of a #PF
	FrameCS uint64   // 0xa8 CS of the exception frame (0x33 user, 0x10 supervisor)
	FrameSS uint64   // 0xb0
	Reason  uint64   // 0xb8 Reason*
	KStack  uint64   // 0xc0 top of the kernel stack (upper-half address)
	VIF     uint64   // 0xc8 address of the vIF page
	Flush   uint64   // 0xd0 non-zero: flush the TLB before returning to user
	NewCR3  uint64   // 0xd8 non-zero: switch to this kernel root before returning
	Self    uint64   // 0xe0 address of this page
	// QueueLen entries of Queue are addresses of page-table pages in
	// which the host cleared, downgraded or retargeted entries, or which
	// it is about to free. The stub rewrites two bytes of each with their
	// own value: under shadow paging only a guest write to a page table
	// tells KVM to drop its stale copy of it.
	QueueLen  uint64           // 0xe8
	QueueMore uint64           // 0xf0 non-zero: exit with ReasonDrain after applying Queue
	Queue     [QueueCap]uint64 // 0xf8
	// Kick is set by the host (before it signals the vCPU's thread) to
	// stop the program: the entry code, on its way to user mode, finds it
	// and stops there (ReasonKicked), so a kick that came while the vCPU
	// was not in user mode is not lost once it gets there.
	Kick uint64  // 0xff8
	R0   R0State // 0x1000
}

// R0State is the ring0-mode part of the CPU page (its second page).
type R0State struct {
	KernRSP    uint64     // 0x1000 Go continuation: SP at the call of SwitchToUser
	KernRBP    uint64     // 0x1008 and its frame pointer
	HostFS     uint64     // 0x1010 the task thread's FS base (Go TLS)
	UserFS     uint64     // 0x1018 the program's FS base
	InUser     uint64     // 0x1020 1 while the program runs
	InGuest    uint64     // 0x1028 1 while Go code runs in the guest
	UserXsave  uint64     // 0x1030 address of the program's FP/vector state
	LeaveXsave uint64     // 0x1038 buffer for KVM_GET_XSAVE when leaving mid-code
	XMaskLo    uint64     // 0x1040 XCR0, the XSAVE mask
	XMaskHi    uint64     // 0x1048
	VcpuFD     uint64     // 0x1050
	RunAddr    uint64     // 0x1058 the vCPU's kvm_run mapping
	VMMStack   uint64     // 0x1060 top of the host stack of the VMM loop
	Bounces    uint64     // 0x1068 host syscalls made for Go code in the guest
	Leaves     uint64     // 0x1070 times the guest was left
	Fatal      uint64     // 0x1078 why the VMM loop gave up (exit reason, or -errno)
	FaultAddr  uint64     // 0x1080 CR2 of the last supervisor fault
	Sup        UserRegs   // 0x1088 Go code's registers at a bounce, fault or leave
	KRegs      [18]uint64 // 0x1118 struct kvm_regs scratch
	MSRBuf     [4]uint64  // 0x11a8 struct kvm_msrs with one entry
	Entries    uint64     // 0x11c8 times the VMM loop entered KVM_RUN
	// Req says what the guest asks of the VMM loop (ReasonBounce,
	// ReasonLeave, ReasonSuperFault); kept apart from Reason, which
	// describes the program's last event and must survive the host
	// syscalls Go code makes before it reads it.
	Req       uint64 // 0x11d0
	SupVector uint64 // 0x11d8 vector of a supervisor fault
	SupErr    uint64 // 0x11e0 its error code
	// x86 backend (real ring 0): the two roots of the current address
	// space, switched by the entry code, and the program's GS base.
	X86      uint64 // 0x11e8 1 on the x86 backend
	KernCR3  uint64 // 0x11f0
	UserCR3  uint64 // 0x11f8
	UserGS   uint64 // 0x1200
	MXCSR    uint64 // 0x1208 MXCSR for Go code (0x1f80)
	XsaveAli uint64 // 0x1210 upper-half alias of UserXsave
	// ReqSeq counts the guest's requests; ReqDone is the last the VMM
	// loop acted on. A KVM_RUN cut short by a signal right at a request's
	// OUT must not lose it, and a replayed OUT must not repeat it.
	ReqSeq  uint64 // 0x1218
	ReqDone uint64 // 0x1220
	// Intrs counts KVM_RUNs cut short by a host signal (Go's preemption,
	// a kick) and re-entered: entries that are neither requests nor events.
	Intrs uint64 // 0x1228
	// The host code that Go code in the guest runs, for the origin check:
	// ringbox's text and the vDSO, as [Lo, Hi). A bounce, leave or fault
	// request whose RIP lies outside them did not come from ringbox, and
	// the VMM loop stops the run instead of acting on it (HostCode).
	TextLo uint64 // 0x1230
	TextHi uint64 // 0x1238
	VdsoLo uint64 // 0x1240
	VdsoHi uint64 // 0x1248
	// IntrUser counts the Intrs that found the program running (a kick or
	// a preemption request stops it there).
	IntrUser uint64 // 0x1250
	// BouncesBy counts bounces by host syscall number, for --debug.
	BouncesBy [BounceNRs]uint32 // 0x1258
	// EvRet is the upper-half alias of the RET that ends an entry from
	// the program on the x86 backend (x86r0UserEventRet), 0 elsewhere: a
	// fault there is on Go's stack, and continues on the host.
	EvRet uint64 // 0x1958
}

// BounceNRs is how many syscall numbers R0State.BouncesBy counts: every
// one below it (the rest only count in Bounces).
const BounceNRs = 448
