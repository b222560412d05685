package mm

import (
	"bytes"
	"debug/elf"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
)

// pagedExe is an executable with a page cache: its pages live in the
// memory file, made on first use, as a read-only tree's page cache does.
type pagedExe struct {
	*bytes.Reader
	raw   []byte
	mem   *memfile.File
	pages map[int64]uintptr
	asked int
}

func (p *pagedExe) Pager() Pager { return p }

// held implements holder: the cache's own references.
func (p *pagedExe) held() []uintptr {
	var out []uintptr
	for _, pa := range p.pages {
		out = append(out, pa)
	}
	return out
}

func (p *pagedExe) PageAddr(idx int64) (uintptr, error) {
	p.asked++
	if idx < 0 || idx*pageSize >= int64(len(p.raw)) {
		return 0, ErrBus
	}
	if pa, ok := p.pages[idx]; ok {
		return pa, nil
	}
	pa, err := p.mem.Alloc()
	if err != nil {
		return 0, err
	}
	copy(memfile.Page(pa), p.raw[idx*pageSize:])
	p.pages[idx] = pa
	return pa, nil
}

// TestLoadPaged loads a static and a static-pie program from a page cache:
// each segment reads as the file's bytes then zeroes (the tail of the last
// file page is zeroed where the .bss starts), a write to a data page copies
// it (the cached page keeps the file's bytes), and the pages are filled
// as the program touches them, not at load.
func TestLoadPaged(t *testing.T) {
	for _, flags := range [][]string{{"-static"}, {"-static-pie"}} {
		t.Run(flags[0], func(t *testing.T) {
			path := compile(t, flags[0][1:], flags...)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			m, _, mem := newTestMM(t)
			exe := &pagedExe{Reader: bytes.NewReader(raw), raw: raw, mem: mem, pages: map[int64]uintptr{}}
			t.Cleanup(func() {
				for _, pa := range exe.pages {
					mem.Free(pa)
				}
				clear(exe.pages)
			})
			_, err = m.Load(ExecArgs{File: exe, Path: "/prog", Argv: []string{"prog"}})
			require.NoError(t, err)
			ef, err := elf.Open(path)
			require.NoError(t, err)
			defer ef.Close()
			var bias uintptr
			if ef.Type == elf.ET_DYN {
				bias = etDynBase
			}
			paged := false
			for _, p := range ef.Progs {
				if p.Type != elf.PT_LOAD {
					continue
				}
				start := uintptr(p.Vaddr) + bias
				got := make([]byte, p.Memsz)
				_, err := m.CopyIn(start, got)
				require.NoError(t, err, "segment at %#x", start)
				want := make([]byte, p.Memsz)
				copy(want, raw[p.Off:p.Off+p.Filesz])
				assert.True(t, bytes.Equal(want, got), "segment at %#x: contents differ", start)
				v, _ := m.vmas.lookup(start)
				if v.Pager != nil {
					paged = true
					assert.Equal(t, "/prog", v.Name)
				}
				if p.Flags&elf.PF_W != 0 && p.Filesz > 0 {
					// A write copies the page; the cache keeps the file's.
					_, err := m.CopyOut(start, []byte{raw[p.Off] ^ 0xff})
					require.NoError(t, err)
					idx := int64(p.Off / pageSize)
					if pa, ok := exe.pages[idx]; ok {
						assert.Equal(t, raw[p.Off], memfile.Page(pa)[p.Off%pageSize], "the cached page changed")
					}
				}
			}
			assert.True(t, paged, "no segment was mapped from the page cache")
			mustCheck(t, m)
		})
	}
}
