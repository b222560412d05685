package vdso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wantNR is the system call each stub makes.
var wantNR = map[string]uint32{"clock_gettime": 228, "gettimeofday": 96, "time": 201, "clock_getres": 229, "getcpu": 309}

func TestStubs(t *testing.T) {
	b := stubs()
	for i, fn := range funcs {
		s := b[i*stubSize : (i+1)*stubSize]
		// MOVL $nr, AX; SYSCALL; RET.
		assert.Equal(t, byte(0xb8), s[0], fn)
		assert.Equal(t, wantNR[fn], binary.LittleEndian.Uint32(s[1:]), fn)
		assert.Equal(t, []byte{0x0f, 0x05, 0xc3}, s[5:8], fn)
	}
	// The host-dispatch slots: CMPL DI, $1 then a JMP to patch; time's
	// SUBQ $24, SP then a CALL to patch.
	for _, sl := range []int{slotGettimeHost, slotGetresHost} {
		s := b[sl*stubSize : (sl+1)*stubSize]
		assert.Equal(t, []byte{0x83, 0xff, 0x01}, s[:3], "slot %d", sl)
		at := bytes.Index(s, placeholder)
		require.Greater(t, at, 0, "slot %d", sl)
		assert.Equal(t, byte(0xe9), s[at-1], "slot %d", sl)
	}
	s := b[slotTimeHost*stubSize:]
	assert.Equal(t, []byte{0x48, 0x83, 0xec, 0x18}, s[:4])
	assert.NotNil(t, timeFrame(s[:stubSize]), "slot 7's frame is described")
	at := bytes.Index(s[:stubSize], placeholder)
	require.Greater(t, at, 0)
	assert.Equal(t, byte(0xe8), s[at-1])
}

func TestElfHash(t *testing.T) {
	// The values glibc and Go's runtime compare vd_hash with.
	assert.Equal(t, uint32(0x3ae75f6), elfHash("LINUX_2.6"))
	assert.Equal(t, uint32(0), elfHash(""))
}

// lookup finds name through the image's DT_HASH table, as a dynamic
// linker does, and returns its symbol.
func lookup(t *testing.T, img []byte, f *elf.File, name string) (elf.Symbol, bool) {
	t.Helper()
	hs := f.Section(".hash")
	require.NotNil(t, hs)
	h, err := hs.Data()
	require.NoError(t, err)
	syms, err := f.DynamicSymbols()
	require.NoError(t, err)
	le := binary.LittleEndian
	nbucket := le.Uint32(h[0:])
	nchain := le.Uint32(h[4:])
	require.Equal(t, uint32(len(syms)+1), nchain)
	for i := le.Uint32(h[8+4*(elfHash(name)%nbucket):]); i != 0; i = le.Uint32(h[8+4*nbucket+4*i:]) {
		if syms[i-1].Name == name {
			return syms[i-1], true
		}
	}
	return elf.Symbol{}, false
}

func checkImage(t *testing.T, img, hostText []byte) {
	t.Helper()
	require.Zero(t, len(img)%4096)
	f, err := elf.NewFile(bytes.NewReader(img))
	require.NoError(t, err)
	assert.Equal(t, elf.ET_DYN, f.Type)
	assert.Equal(t, elf.EM_X86_64, f.Machine)
	soname, err := f.DynString(elf.DT_SONAME)
	require.NoError(t, err)
	assert.Equal(t, []string{"linux-vdso.so.1"}, soname)
	require.Len(t, f.Progs, 3)
	assert.Equal(t, elf.PT_LOAD, f.Progs[0].Type)
	assert.Equal(t, uint64(0), f.Progs[0].Vaddr)
	assert.Equal(t, uint64(len(img)), f.Progs[0].Memsz)
	assert.Equal(t, elf.PF_R|elf.PF_X, f.Progs[0].Flags)
	assert.Equal(t, elf.PT_DYNAMIC, f.Progs[1].Type)

	table := checkUnwind(t, img, f)
	syms, err := f.DynamicSymbols()
	require.NoError(t, err)
	assert.Len(t, syms, 2*len(funcs))
	for _, s := range syms {
		covered := false
		for _, e := range table {
			fde := img[e[1]:]
			pcRange := uint64(binary.LittleEndian.Uint32(fde[12:]))
			covered = covered || s.Value >= e[0] && s.Value < e[0]+pcRange
		}
		assert.True(t, covered, "%s has an unwind entry", s.Name)
	}
	for _, fn := range funcs {
		for _, name := range []string{"__vdso_" + fn, fn} {
			s, ok := lookup(t, img, f, name)
			require.True(t, ok, name)
			assert.Equal(t, elf.STT_FUNC, elf.ST_TYPE(s.Info), name)
			if name == fn {
				assert.Equal(t, elf.STB_WEAK, elf.ST_BIND(s.Info), name)
			} else {
				assert.Equal(t, elf.STB_GLOBAL, elf.ST_BIND(s.Info), name)
			}
			assert.True(t, s.HasVersion, name)
			assert.Equal(t, "LINUX_2.6", s.Version, name)
			require.NotEqual(t, elf.SHN_UNDEF, s.Section, name)
			require.Less(t, int(s.Section), len(f.Sections), name)
			sec := f.Sections[s.Section]
			assert.Equal(t, elf.SHF_ALLOC|elf.SHF_EXECINSTR, sec.Flags, name)
			assert.True(t, s.Value >= sec.Addr && s.Value+s.Size <= sec.Addr+sec.Size, "%s in %s", name, sec.Name)
			code := img[s.Value:]
			switch {
			case hostText != nil && fn == "gettimeofday":
				// The host's function, byte for byte.
				assert.Equal(t, hostText[s.Value:s.Value+s.Size], code[:s.Size], name)
				assert.Greater(t, s.Size, uint64(0), name)
			case hostText != nil && fn != "getcpu":
				// A slot whose JMP or CALL goes to the host's
				// function.
				host := map[string]string{"clock_gettime": "__vdso_clock_gettime", "time": "__vdso_clock_gettime",
					"clock_getres": "__vdso_clock_getres"}[fn]
				want := hostOffset(t, hostText, host)
				i := 0
				for i < int(stubSize) && code[i] != 0xe9 && code[i] != 0xe8 {
					i++
				}
				require.Less(t, i, int(stubSize), name)
				rel := int32(binary.LittleEndian.Uint32(code[i+1:]))
				assert.Equal(t, want, uint64(int64(s.Value)+int64(i)+5+int64(rel)), "%s jumps to the host's %s", name, host)
			default:
				assert.Equal(t, byte(0xb8), code[0], name)
				assert.Equal(t, wantNR[fn], binary.LittleEndian.Uint32(code[1:]), name)
			}
		}
	}
	_, ok := lookup(t, img, f, "__vdso_getrandom")
	assert.False(t, ok)
	_, ok = lookup(t, img, f, "__vdso_sgx_enter_enclave")
	assert.False(t, ok)
	if hostText != nil {
		// The host's unwind entries are all in the search table.
		hf, err := elf.NewFile(bytes.NewReader(hostText))
		require.NoError(t, err)
		for _, p := range hf.Progs {
			if p.Type == elf.PT_GNU_EH_FRAME {
				host, ok := hostEHTable(hostText, p.Off)
				require.True(t, ok)
				for _, e := range host {
					assert.Contains(t, table, e)
				}
			}
		}
		// Past the ELF header, the host's text is unchanged but for what
		// names the host kernel: its code reaches its data pages and its
		// own constants at the same offsets.
		kept := 0
		for _, sec := range hf.Sections {
			if sec.Size == 0 || sec.Type == elf.SHT_NOBITS {
				continue
			}
			host, ours := hostText[sec.Offset:sec.Offset+sec.Size], img[sec.Offset:sec.Offset+sec.Size]
			if hostKept(sec) {
				assert.Equal(t, host, ours, sec.Name)
				kept++
			} else {
				assert.Equal(t, make([]byte, sec.Size), ours, "%s is zeroed", sec.Name)
			}
		}
		assert.GreaterOrEqual(t, kept, 2, ".text and .eh_frame at least")
	}
}

// checkUnwind reads the image's .eh_frame_hdr through PT_GNU_EH_FRAME as
// an unwinder does and checks its search table: sorted, and each entry's
// FDE starting where the table says. It returns the entries.
func checkUnwind(t *testing.T, img []byte, f *elf.File) [][2]uint64 {
	t.Helper()
	le := binary.LittleEndian
	var hdr uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_GNU_EH_FRAME {
			hdr = p.Off
		}
	}
	require.NotZero(t, hdr, "PT_GNU_EH_FRAME")
	h := img[hdr:]
	require.Equal(t, []byte{1, 0x1b, 0x03, 0x3b}, h[:4])
	frame := int64(hdr) + 4 + int64(int32(le.Uint32(h[4:])))
	cie := img[frame:]
	assert.Equal(t, uint32(0), le.Uint32(cie[4:]), "a CIE first")
	assert.Equal(t, "zR", string(cie[9:11]))
	n := int(le.Uint32(h[8:]))
	var table [][2]uint64
	for i := 0; i < n; i++ {
		pc := uint64(int64(hdr) + int64(int32(le.Uint32(h[12+8*i:]))))
		fde := uint64(int64(hdr) + int64(int32(le.Uint32(h[16+8*i:]))))
		if i > 0 {
			assert.Greater(t, pc, table[i-1][0], "sorted")
		}
		begin := uint64(int64(fde) + 8 + int64(int32(le.Uint32(img[fde+8:]))))
		assert.Equal(t, pc, begin, "entry %d: the FDE starts where the table says", i)
		assert.NotZero(t, le.Uint32(img[fde+4:]), "an FDE, not a CIE")
		table = append(table, [2]uint64{pc, fde})
	}
	return table
}

// hostOffset is the offset of function name in the host's vDSO text.
func hostOffset(t *testing.T, text []byte, name string) uint64 {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(text))
	require.NoError(t, err)
	fns, err := hostSymbols(f, len(text))
	require.NoError(t, err)
	h, ok := fns[name[len("__vdso_"):]]
	require.True(t, ok, name)
	return h.off
}

func TestImageStubs(t *testing.T) {
	img, err := Image(nil)
	require.NoError(t, err)
	assert.Len(t, img, 4096)
	checkImage(t, img, nil)
	// The slots that lead to host code are INT3 only.
	f, err := elf.NewFile(bytes.NewReader(img))
	require.NoError(t, err)
	text := f.Section(".text")
	require.NotNil(t, text)
	code := img[text.Offset+slotGettimeHost*stubSize : text.Offset+nSlots*stubSize]
	assert.Equal(t, bytes.Repeat([]byte{0xcc}, len(code)), code)
}

func TestImageHost(t *testing.T) {
	h, err := FindHost()
	require.NoError(t, err, "every x86-64 Linux host this runs on has a vDSO")
	assert.Greater(t, h.DataEnd, h.DataStart)
	assert.Zero(t, h.DataStart%4096)
	assert.Zero(t, len(h.Text)%4096)
	img, err := Image(h.Text)
	require.NoError(t, err)
	assert.Len(t, img, len(h.Text)+4096)
	checkImage(t, img, h.Text)
}

func TestImageBadHost(t *testing.T) {
	for _, text := range [][]byte{
		[]byte("not an ELF file at all"),
		make([]byte, 4096),
	} {
		_, err := Image(text)
		assert.Error(t, err)
	}
	// An ELF object without the clock functions: the stub image with
	// its __vdso_ names changed.
	img, err := Image(nil)
	require.NoError(t, err)
	_, err = Image(bytes.ReplaceAll(img, []byte("__vdso_"), []byte("__xdso_")))
	assert.ErrorContains(t, err, "none of the clock functions")
}

func TestHostHoles(t *testing.T) {
	h, err := FindHost()
	require.NoError(t, err)
	require.Len(t, h.Holes, int(h.DataEnd-h.DataStart)/4096)
	present := 0
	for i, hole := range h.Holes {
		if !hole {
			present++
			// A present page reads without a fault.
			assert.True(t, readable(h.DataStart+uintptr(i)*4096))
		}
	}
	assert.Greater(t, present, 0, "the host's clock data page is backed")
	assert.False(t, readable(0x1000), "a read of an unmapped page faults and is caught")
}
