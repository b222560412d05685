package ring0

// Reasons the stub stopped, in CPU.Reason.
const (
	ReasonSyscall    = 1
	ReasonException  = 2
	ReasonSuperFault = 3 // an exception in supervisor mode: a ringbox bug
	ReasonDrain      = 4 // the stub applied Queue and asks for more
)

// QueueCap is how many page-table entry addresses fit in CPU.Queue.
const QueueCap = 480

// ExitPort is the I/O port the stub writes to when it exits to the VMM.
const ExitPort = 0x3f0

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
}
