package ring0

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestOffsets keeps offsets_amd64.h in step with the CPU struct.
func TestOffsets(t *testing.T) {
	var c CPU
	for _, tc := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"RAX", unsafe.Offsetof(c.Regs.RAX), 0x00},
		{"RBP", unsafe.Offsetof(c.Regs.RBP), 0x30},
		{"RSP", unsafe.Offsetof(c.Regs.RSP), 0x38},
		{"R8", unsafe.Offsetof(c.Regs.R8), 0x40},
		{"R15", unsafe.Offsetof(c.Regs.R15), 0x78},
		{"RIP", unsafe.Offsetof(c.Regs.RIP), 0x80},
		{"RFLAGS", unsafe.Offsetof(c.Regs.RFLAGS), 0x88},
		{"Vector", unsafe.Offsetof(c.Vector), 0x90},
		{"ErrCode", unsafe.Offsetof(c.ErrCode), 0x98},
		{"CR2", unsafe.Offsetof(c.CR2), 0xa0},
		{"FrameCS", unsafe.Offsetof(c.FrameCS), 0xa8},
		{"FrameSS", unsafe.Offsetof(c.FrameSS), 0xb0},
		{"Reason", unsafe.Offsetof(c.Reason), 0xb8},
		{"KStack", unsafe.Offsetof(c.KStack), 0xc0},
		{"VIF", unsafe.Offsetof(c.VIF), 0xc8},
		{"Flush", unsafe.Offsetof(c.Flush), 0xd0},
		{"NewCR3", unsafe.Offsetof(c.NewCR3), 0xd8},
		{"Self", unsafe.Offsetof(c.Self), 0xe0},
		{"QueueLen", unsafe.Offsetof(c.QueueLen), 0xe8},
		{"QueueMore", unsafe.Offsetof(c.QueueMore), 0xf0},
		{"Queue", unsafe.Offsetof(c.Queue), 0xf8},
		{"Kick", unsafe.Offsetof(c.Kick), 0xff8},
		{"R0", unsafe.Offsetof(c.R0), 0x1000},
		{"R0.KernRBP", 0x1000 + unsafe.Offsetof(c.R0.KernRBP), 0x1008},
		{"R0.HostFS", 0x1000 + unsafe.Offsetof(c.R0.HostFS), 0x1010},
		{"R0.InGuest", 0x1000 + unsafe.Offsetof(c.R0.InGuest), 0x1028},
		{"R0.VcpuFD", 0x1000 + unsafe.Offsetof(c.R0.VcpuFD), 0x1050},
		{"R0.FaultAddr", 0x1000 + unsafe.Offsetof(c.R0.FaultAddr), 0x1080},
		{"R0.Sup", 0x1000 + unsafe.Offsetof(c.R0.Sup), 0x1088},
		{"R0.KRegs", 0x1000 + unsafe.Offsetof(c.R0.KRegs), 0x1118},
		{"R0.MSRBuf", 0x1000 + unsafe.Offsetof(c.R0.MSRBuf), 0x11a8},
		{"R0.Entries", 0x1000 + unsafe.Offsetof(c.R0.Entries), 0x11c8},
		{"R0.Req", 0x1000 + unsafe.Offsetof(c.R0.Req), 0x11d0},
		{"R0.SupErr", 0x1000 + unsafe.Offsetof(c.R0.SupErr), 0x11e0},
		{"R0.X86", 0x1000 + unsafe.Offsetof(c.R0.X86), 0x11e8},
		{"R0.UserGS", 0x1000 + unsafe.Offsetof(c.R0.UserGS), 0x1200},
		{"R0.XsaveAli", 0x1000 + unsafe.Offsetof(c.R0.XsaveAli), 0x1210},
		{"R0.ReqSeq", 0x1000 + unsafe.Offsetof(c.R0.ReqSeq), 0x1218},
		{"R0.ReqDone", 0x1000 + unsafe.Offsetof(c.R0.ReqDone), 0x1220},
		{"R0.Intrs", 0x1000 + unsafe.Offsetof(c.R0.Intrs), 0x1228},
		{"R0.TextLo", 0x1000 + unsafe.Offsetof(c.R0.TextLo), 0x1230},
		{"R0.VdsoHi", 0x1000 + unsafe.Offsetof(c.R0.VdsoHi), 0x1248},
		{"R0.IntrUser", 0x1000 + unsafe.Offsetof(c.R0.IntrUser), 0x1250},
		{"R0.BouncesBy", 0x1000 + unsafe.Offsetof(c.R0.BouncesBy), 0x1258},
		{"R0.EvRet", 0x1000 + unsafe.Offsetof(c.R0.EvRet), 0x1958},
	} {
		require.Equal(t, tc.want, tc.got, tc.name)
	}
}

func TestGDTAndGates(t *testing.T) {
	gdt := make([]byte, 4096)
	writeGDT(gdt, 0x123456789000)
	require.Equal(t, byte(0x8b), gdt[SelTSS+5], "busy TSS type")
	idt := make([]byte, 512)
	writeGate(idt, 14, 0x1122334455667788, 1)
	require.Equal(t, []byte{0x88, 0x77, 0x10, 0, 1, 0x8e, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0}, idt[14*16:15*16])
	writeGate(idt, 3, 0x1000, 0)
	require.Equal(t, byte(0xee), idt[3*16+5], "int3 must be allowed from user mode")
}

func TestCPUFitsPage(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(CPU{}), uintptr(2*4096))
}
