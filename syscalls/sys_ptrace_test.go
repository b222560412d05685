package syscalls

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

// TestUserRegsRoundTrip: GETREGS's image, given back to SETREGS, changes
// nothing; each register lands at its user_regs_struct offset.
func TestUserRegsRoundTrip(t *testing.T) {
	var task kernel.Task
	task.Regs.RAX, task.Regs.RIP, task.Regs.RSP, task.Regs.FSBase = 1, 0x401000, 0x7ffe0000, 0x7f0000001000
	task.Regs.RFLAGS = 0x246
	task.SetOrigRAX(39)
	b := userRegs(&task)
	le := binary.LittleEndian
	assert.Equal(t, uint64(1), le.Uint64(b[10*8:]), "rax")
	assert.Equal(t, uint64(39), le.Uint64(b[15*8:]), "orig_rax")
	assert.Equal(t, uint64(0x401000), le.Uint64(b[16*8:]), "rip")
	assert.Equal(t, uint64(userCS), le.Uint64(b[17*8:]), "cs")
	assert.Equal(t, uint64(0x7f0000001000), le.Uint64(b[21*8:]), "fs_base")
	before := task.Regs
	require.NoError(t, setUserRegs(&task, b[:]))
	assert.Equal(t, before, task.Regs)

	for _, bad := range []struct {
		word int
		v    uint64
	}{{17, 0x10}, {20, 0x18}, {23, 0x2b}, {21, 1 << 47}, {22, ^uint64(0)}} {
		c := b
		le.PutUint64(c[bad.word*8:], bad.v)
		assert.Equal(t, unix.EIO, setUserRegs(&task, c[:]), "word %d = %#x", bad.word, bad.v)
	}
	assert.Equal(t, before, task.Regs, "refused images change nothing")
}

// FuzzPtraceUser: PEEKUSER and POKEUSER at any offset with any value
// never panic, keep the registers the VMM may load (segments, bases in
// user space, only the RFLAGS bits a tracer may change), and a poked
// general register reads back.
func FuzzPtraceUser(f *testing.F) {
	f.Add(uint64(16*8), uint64(0x401000))
	f.Add(uint64(18*8), ^uint64(0))
	f.Add(uint64(userDebugRegs+7*8), uint64(1))
	f.Add(uint64(3), uint64(0))
	f.Fuzz(func(t *testing.T, off, v uint64) {
		var task kernel.Task
		task.Regs.RFLAGS = 0x202
		err := pokeUser(&task, uintptr(off), v)
		if off&7 != 0 || off >= userSize {
			assert.Equal(t, unix.EIO, err)
			_, err = peekUser(&task, uintptr(off))
			assert.Equal(t, unix.EIO, err)
			return
		}
		r := task.Regs
		assert.Less(t, r.FSBase, uint64(1<<47))
		assert.Less(t, r.GSBase, uint64(1<<47))
		assert.Equal(t, uint64(0x202), r.RFLAGS&^userFlags, "RFLAGS bits a tracer may not change")
		got, perr := peekUser(&task, uintptr(off))
		require.NoError(t, perr)
		if err == nil && off < userRegsSize {
			switch off / 8 {
			case 18: // eflags: masked
				assert.Equal(t, v&userFlags, got&userFlags)
			default:
				assert.Equal(t, v, got, "word %d", off/8)
			}
		}
	})
}
