package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func parseFile(t *testing.T, path string) (*Image, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	r := &checkedReader{t: t, data: data, size: int64(len(data))}
	img, err := Parse(r, r.size)
	require.NoError(t, err)
	assert.LessOrEqual(t, r.reads, 4, "Parse should need only a few reads")
	return img, data
}

// expectFromDebugELF checks img against the standard library's view of the
// same file.
func expectFromDebugELF(t *testing.T, path string, img *Image) {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()

	assert.Equal(t, uint16(f.Type), img.Type)
	assert.Equal(t, f.Entry, img.Entry)

	var ehdr [64]byte
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	_, err = io.ReadFull(fh, ehdr[:])
	require.NoError(t, err)
	phoff := binary.LittleEndian.Uint64(ehdr[32:])
	assert.Equal(t, phoff, img.Phoff)
	assert.Equal(t, uint16(56), img.Phentsize)
	assert.Equal(t, len(f.Progs), int(img.Phnum))

	var (
		loads      []Segment
		interp     string
		execStack  = true
		phdrVaddr  uint64
		phdrMapped bool
		minV       = ^uint64(0)
		maxV       uint64
	)
	phbytes := uint64(len(f.Progs)) * 56
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			prot := 0
			if p.Flags&elf.PF_R != 0 {
				prot |= unix.PROT_READ
			}
			if p.Flags&elf.PF_W != 0 {
				prot |= unix.PROT_WRITE
			}
			if p.Flags&elf.PF_X != 0 {
				prot |= unix.PROT_EXEC
			}
			loads = append(loads, Segment{Vaddr: p.Vaddr, Memsz: p.Memsz, Filesz: p.Filesz, Offset: p.Off, Align: p.Align, Prot: prot})
			minV = min(minV, p.Vaddr)
			maxV = max(maxV, p.Vaddr+p.Memsz)
			if !phdrMapped && p.Off <= phoff && phoff+phbytes <= p.Off+p.Filesz {
				phdrVaddr, phdrMapped = p.Vaddr+phoff-p.Off, true
			}
		case elf.PT_INTERP:
			b, err := io.ReadAll(p.Open())
			require.NoError(t, err)
			interp = strings.TrimRight(string(b), "\x00")
		case elf.PT_GNU_STACK:
			execStack = p.Flags&elf.PF_X != 0
		}
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_PHDR {
			phdrVaddr, phdrMapped = p.Vaddr, true
			break
		}
	}
	assert.Equal(t, loads, img.Segments)
	assert.Equal(t, interp, img.Interp)
	assert.Equal(t, execStack, img.ExecStack)
	assert.Equal(t, phdrMapped, img.PhdrMapped)
	assert.Equal(t, phdrVaddr, img.PhdrVaddr)
	assert.Equal(t, minV&^0xfff, img.MinVaddr)
	assert.Equal(t, (maxV+0xfff)&^0xfff, img.MaxVaddr)
	assert.Equal(t, img.MaxVaddr-img.MinVaddr, img.Size())
	assert.Zero(t, img.MaxAlign&(img.MaxAlign-1))
	assert.GreaterOrEqual(t, img.MaxAlign, uint64(PageSize))
}

func TestParseCompiledBinaries(t *testing.T) {
	for _, tc := range []struct {
		flavor    string
		typ       elf.Type
		interp    bool
		phdr      bool // PT_PHDR present or phdrs inside a PT_LOAD
		execStack bool
	}{
		{"static", elf.ET_EXEC, false, true, false},
		{"static-pie", elf.ET_DYN, false, true, false},
		{"dynamic", elf.ET_DYN, true, true, false},
		{"dynamic-nopie", elf.ET_EXEC, true, true, false},
		{"execstack", elf.ET_DYN, true, true, true},
		{"shared", elf.ET_DYN, false, true, false},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			path := mustCompile(t, tc.flavor)
			img, _ := parseFile(t, path)
			expectFromDebugELF(t, path, img)
			assert.Equal(t, uint16(tc.typ), img.Type)
			if tc.interp {
				assert.True(t, strings.HasPrefix(img.Interp, "/"), "interp %q", img.Interp)
				assert.Contains(t, img.Interp, "ld-linux-x86-64.so")
			} else {
				assert.Empty(t, img.Interp)
			}
			assert.Equal(t, tc.phdr, img.PhdrMapped)
			assert.Equal(t, tc.execStack, img.ExecStack)
			assert.NotEmpty(t, img.Segments)
			if tc.typ == elf.ET_EXEC {
				assert.Equal(t, uint64(0x400000), img.MinVaddr)
			} else {
				assert.Equal(t, uint64(0), img.MinVaddr)
			}
		})
	}
}

func TestParseSystemBinaries(t *testing.T) {
	n := 0
	for _, path := range []string{
		"/lib64/ld-linux-x86-64.so.2",
		"/bin/sh", "/bin/ls", "/usr/bin/env",
	} {
		real, err := os.Stat(path)
		if err != nil || !real.Mode().IsRegular() {
			continue
		}
		f, err := elf.Open(path)
		if err != nil || f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
			continue
		}
		f.Close()
		n++
		t.Run(strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			img, _ := parseFile(t, path)
			expectFromDebugELF(t, path, img)
		})
	}
	if n == 0 {
		t.Skip("no x86-64 system binaries found")
	}
}

func Test32BitRejected(t *testing.T) {
	t.Run("gcc-m32", func(t *testing.T) {
		path := mustCompile(t, "m32")
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		_, err = Parse(bytes.NewReader(data), int64(len(data)))
		assert.ErrorIs(t, err, ErrWrongClass)
	})
	t.Run("handcrafted", func(t *testing.T) {
		// A minimal ELF32 i386 executable header (52 bytes) plus one
		// 32-byte program header.
		b := make([]byte, 52+32)
		copy(b, elf.ELFMAG)
		b[elf.EI_CLASS] = byte(elf.ELFCLASS32)
		b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
		b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
		le := binary.LittleEndian
		le.PutUint16(b[16:], uint16(elf.ET_EXEC))
		le.PutUint16(b[18:], uint16(elf.EM_386))
		le.PutUint32(b[20:], 1)
		le.PutUint32(b[24:], 0x08048000) // e_entry
		le.PutUint32(b[28:], 52)         // e_phoff
		le.PutUint16(b[40:], 52)         // e_ehsize
		le.PutUint16(b[42:], 32)         // e_phentsize
		le.PutUint16(b[44:], 1)          // e_phnum
		le.PutUint32(b[52:], uint32(elf.PT_LOAD))
		le.PutUint32(b[60:], 0x08048000)
		le.PutUint32(b[68:], uint32(len(b)))
		le.PutUint32(b[72:], uint32(len(b)))
		// Sanity: debug/elf agrees this is a 32-bit file.
		f, err := elf.NewFile(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, elf.ELFCLASS32, f.Class)

		_, err = Parse(bytes.NewReader(b), int64(len(b)))
		assert.ErrorIs(t, err, ErrWrongClass)
		// Even truncated to the identification bytes.
		_, err = Parse(bytes.NewReader(b[:16]), 16)
		assert.ErrorIs(t, err, ErrWrongClass)
	})
}

func TestParseCraftedValid(t *testing.T) {
	c := newCrafted()
	b := c.bytes()
	img, err := Parse(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	assert.Equal(t, uint16(elf.ET_EXEC), img.Type)
	assert.Equal(t, c.hdr.Entry, img.Entry)
	assert.Equal(t, uint64(craftedBase+64), img.PhdrVaddr)
	assert.True(t, img.PhdrMapped)
	assert.False(t, img.ExecStack)
	assert.Empty(t, img.Interp)
	require.Len(t, img.Segments, 1)
	assert.Equal(t, ProtRead|ProtExec, img.Segments[0].Prot)
	assert.Equal(t, uint64(craftedBase), img.MinVaddr)
	assert.Equal(t, uint64(craftedBase+0x3000), img.MaxVaddr)

	t.Run("no-gnu-stack-means-exec-stack", func(t *testing.T) {
		c := newCrafted()
		c.phdrs = c.phdrs[:1]
		c.fixup()
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.True(t, img.ExecStack)
	})
	t.Run("interp", func(t *testing.T) {
		c := newCrafted()
		c.addInterp([]byte("/lib/ld.so\x00"))
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.Equal(t, "/lib/ld.so", img.Interp)
	})
	t.Run("interp-max-length", func(t *testing.T) {
		c := newCrafted()
		c.addInterp(append(bytes.Repeat([]byte("a"), MaxInterpLen-1), 0))
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.Len(t, img.Interp, MaxInterpLen-1)
	})
	t.Run("pt-phdr-wins", func(t *testing.T) {
		c := newCrafted()
		c.phdrs = append(c.phdrs, rawPhdr{Type: uint32(elf.PT_PHDR), Off: 64, Vaddr: 0x123040, Filesz: 3 * 56, Memsz: 3 * 56})
		c.fixup()
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.Equal(t, uint64(0x123040), img.PhdrVaddr)
		assert.True(t, img.PhdrMapped)
	})
	t.Run("pt-phdr-before-load-wins", func(t *testing.T) {
		c := newCrafted()
		c.phdrs = append([]rawPhdr{{Type: uint32(elf.PT_PHDR), Off: 64, Vaddr: 0x123040, Filesz: 3 * 56, Memsz: 3 * 56}}, c.phdrs...)
		// fixup treats phdrs[0] as the PT_LOAD; do it by hand.
		c.hdr.Phnum = 3
		size := c.payloadOff() + uint64(len(c.payload))
		c.phdrs[1].Filesz, c.phdrs[1].Memsz = size, size
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.Equal(t, uint64(0x123040), img.PhdrVaddr)
		assert.True(t, img.PhdrMapped)
		require.Len(t, img.Segments, 1)
	})
	t.Run("phdrs-not-mapped", func(t *testing.T) {
		c := newCrafted()
		c.fixup()
		c.phdrs[0].Off = 0x1000 // maps only the payload's page, not the headers
		c.phdrs[0].Vaddr = craftedBase + 0x1000
		c.phdrs[0].Filesz = 0
		b := c.bytes()
		b = append(b, make([]byte, 0x1000)...)
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.False(t, img.PhdrMapped)
		assert.Zero(t, img.PhdrVaddr)
	})
	t.Run("segment-ending-at-user-limit", func(t *testing.T) {
		c := newCrafted()
		c.phdrs = append(c.phdrs, rawPhdr{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Vaddr: UserLimit - 0x1000, Memsz: 0x1000, Align: 0x200000})
		c.fixup()
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.Equal(t, uint64(UserLimit), img.MaxVaddr)
		assert.Equal(t, uint64(0x200000), img.MaxAlign)
		assert.Equal(t, ProtRead|ProtWrite, img.Segments[1].Prot)
	})
	t.Run("et-dyn", func(t *testing.T) {
		c := newCrafted()
		c.hdr.Type = uint16(elf.ET_DYN)
		b := c.bytes()
		img, err := Parse(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		assert.Equal(t, uint16(elf.ET_DYN), img.Type)
	})
}

func TestParseMalformed(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name   string
		mutate func(c *crafted)
		raw    func(b []byte) []byte // applied after serialisation
		want   error
	}{
		{name: "empty", raw: func(b []byte) []byte { return nil }, want: ErrNotELF},
		{name: "3-bytes", raw: func(b []byte) []byte { return b[:3] }, want: ErrNotELF},
		{name: "text", raw: func(b []byte) []byte { return []byte("#!/bin/sh\necho hello world\n") }, want: ErrNotELF},
		{name: "bad-magic", raw: func(b []byte) []byte { b[1] = 'e'; return b }, want: ErrNotELF},
		{name: "truncated-ident-only", raw: func(b []byte) []byte { return b[:16] }, want: ErrBadELF},
		{name: "truncated-header", raw: func(b []byte) []byte { return b[:63] }, want: ErrBadELF},
		{name: "truncated-phdrs", raw: func(b []byte) []byte { return b[:64+56+10] }, want: ErrBadELF},
		{name: "class-none", raw: func(b []byte) []byte { b[elf.EI_CLASS] = 0; return b }, want: ErrWrongClass},
		{name: "big-endian", raw: func(b []byte) []byte { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB); return b }, want: ErrWrongClass},
		{name: "aarch64", mutate: func(c *crafted) { c.hdr.Machine = uint16(elf.EM_AARCH64) }, want: ErrWrongClass},
		{name: "i386-machine-64bit-class", mutate: func(c *crafted) { c.hdr.Machine = uint16(elf.EM_386) }, want: ErrWrongClass},
		{name: "ident-version", raw: func(b []byte) []byte { b[elf.EI_VERSION] = 2; return b }, want: ErrBadELF},
		{name: "e_version", mutate: func(c *crafted) { c.hdr.Version = 0 }, want: ErrBadELF},
		{name: "et-rel", mutate: func(c *crafted) { c.hdr.Type = uint16(elf.ET_REL) }, want: ErrBadELF},
		{name: "et-core", mutate: func(c *crafted) { c.hdr.Type = uint16(elf.ET_CORE) }, want: ErrBadELF},
		{name: "et-none", mutate: func(c *crafted) { c.hdr.Type = 0 }, want: ErrBadELF},
		{name: "entry-kernel", mutate: func(c *crafted) { c.hdr.Entry = 0xffffffff81000000 }, want: ErrBadELF},
		{name: "phentsize-32", mutate: func(c *crafted) { c.hdr.Phentsize = 32 }, want: ErrBadELF},
		{name: "phentsize-64", mutate: func(c *crafted) { c.hdr.Phentsize = 64 }, want: ErrBadELF},
		{name: "phnum-0", mutate: func(c *crafted) { c.hdr.Phnum = 0 }, want: ErrBadELF},
		{name: "phnum-huge", mutate: func(c *crafted) { c.hdr.Phnum = 0xffff }, want: ErrBadELF},
		{name: "phnum-1025", mutate: func(c *crafted) { c.hdr.Phnum = MaxPhnum + 1 }, want: ErrBadELF},
		{name: "phnum-beyond-file", mutate: func(c *crafted) { c.hdr.Phnum = 100 }, want: ErrBadELF},
		{name: "phoff-beyond-file", mutate: func(c *crafted) { c.hdr.Phoff = 1 << 20 }, want: ErrBadELF},
		{name: "phoff-overflow", mutate: func(c *crafted) { c.hdr.Phoff = ^uint64(0) - 8 }, want: ErrBadELF},
		{name: "phoff-int64-negative", mutate: func(c *crafted) { c.hdr.Phoff = 1 << 63 }, want: ErrBadELF},
		{name: "no-load", mutate: func(c *crafted) { c.phdrs[0].Type = uint32(elf.PT_NOTE) }, want: ErrBadELF},
		{name: "filesz-gt-memsz", mutate: func(c *crafted) { c.phdrs[0].Memsz = c.phdrs[0].Filesz - 1 }, want: ErrBadELF},
		{name: "filesz-beyond-file", mutate: func(c *crafted) { c.phdrs[0].Filesz += 1; c.phdrs[0].Memsz += 1 }, want: ErrBadELF},
		{name: "offset-beyond-file", mutate: func(c *crafted) { c.phdrs[0].Off = 1 << 30; c.phdrs[0].Vaddr += 1 << 30 }, want: ErrBadELF},
		{name: "offset-filesz-overflow", mutate: func(c *crafted) {
			c.phdrs[0].Off = ^uint64(0) &^ 0xfff
			c.phdrs[0].Filesz = 0x2000
			c.phdrs[0].Vaddr = 0
		}, want: ErrBadELF},
		{name: "vaddr-memsz-overflow", mutate: func(c *crafted) {
			c.phdrs[0].Vaddr = 0x7ffffffff000
			c.phdrs[0].Memsz = ^uint64(0) - 0x10
		}, want: ErrBadELF},
		{name: "vaddr-wraps-to-low", mutate: func(c *crafted) {
			c.phdrs[0].Vaddr = 0xfffffffffffff000
			c.phdrs[0].Memsz = 0x2000
		}, want: ErrBadELF},
		{name: "vaddr-at-user-limit", mutate: func(c *crafted) {
			c.phdrs[0].Vaddr = UserLimit
		}, want: ErrBadELF},
		{name: "end-beyond-user-limit", mutate: func(c *crafted) {
			c.phdrs[0].Vaddr = UserLimit - 0x1000
			c.phdrs[0].Memsz = 0x1001
		}, want: ErrBadELF},
		{name: "misaligned-vaddr", mutate: func(c *crafted) { c.phdrs[0].Vaddr += 0x10 }, want: ErrBadELF},
		{name: "interp-not-nul-terminated", mutate: func(c *crafted) { c.addInterp([]byte("/lib/ld.so")) }, want: ErrBadELF},
		{name: "interp-empty", mutate: func(c *crafted) { c.addInterp([]byte{0, 0}) }, want: ErrBadELF},
		{name: "interp-size-1", mutate: func(c *crafted) { c.addInterp([]byte{0}) }, want: ErrBadELF},
		{name: "interp-size-0", mutate: func(c *crafted) { c.addInterp(nil) }, want: ErrBadELF},
		{name: "interp-too-long", mutate: func(c *crafted) {
			c.addInterp(append(bytes.Repeat([]byte("a"), MaxInterpLen), 0))
		}, want: ErrBadELF},
		{name: "interp-huge-size", mutate: func(c *crafted) {
			c.addInterp([]byte("/x\x00"))
			c.phdrs[len(c.phdrs)-1].Filesz = 1 << 40
		}, want: ErrBadELF},
		{name: "interp-beyond-file", mutate: func(c *crafted) {
			c.addInterp([]byte("/x\x00"))
			c.phdrs[len(c.phdrs)-1].Off = 1 << 20
		}, want: ErrBadELF},
		{name: "interp-offset-overflow", mutate: func(c *crafted) {
			c.addInterp([]byte("/x\x00"))
			c.phdrs[len(c.phdrs)-1].Off = ^uint64(0) - 1
		}, want: ErrBadELF},
		{name: "claimed-size-lies", raw: func(b []byte) []byte {
			le.PutUint16(b[56:], 1000) // phnum: table extends past the data
			return b
		}, want: ErrBadELF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCrafted()
			if tc.mutate != nil {
				tc.mutate(c)
			}
			b := c.bytes()
			if tc.raw != nil {
				b = tc.raw(b)
			}
			r := &checkedReader{t: t, data: b, size: int64(len(b))}
			img, err := Parse(r, r.size)
			require.Error(t, err)
			assert.Nil(t, img)
			assert.ErrorIs(t, err, tc.want, "got %v", err)
			for _, other := range []error{ErrNotELF, ErrWrongClass, ErrBadELF} {
				if other != tc.want {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

func TestParseReaderShorterThanSize(t *testing.T) {
	// The caller claims a huge file but the reader ends early: reads come
	// back short and Parse reports ErrBadELF without allocating based on
	// the claimed size.
	b := newCrafted().bytes()
	_, err := Parse(bytes.NewReader(b[:100]), 1<<40)
	assert.ErrorIs(t, err, ErrBadELF)
	_, err = Parse(bytes.NewReader(b[:10]), 1<<40)
	assert.ErrorIs(t, err, ErrNotELF)
	_, err = Parse(bytes.NewReader(b), -1)
	assert.ErrorIs(t, err, ErrBadELF)
}

type failingReader struct {
	data    []byte
	failAt  int64
	failErr error
}

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.failAt {
		return 0, r.failErr
	}
	return copy(p, r.data[off:]), nil
}

func TestParseIOErrorPassthrough(t *testing.T) {
	eio := errors.New("disk on fire")
	b := newCrafted().bytes()
	for _, failAt := range []int64{0, 20, 64 + 10} {
		_, err := Parse(failingReader{b, failAt, eio}, int64(len(b)))
		assert.ErrorIs(t, err, eio, "failAt %d", failAt)
		assert.NotErrorIs(t, err, ErrBadELF)
		assert.NotErrorIs(t, err, ErrNotELF)
	}
	c := newCrafted()
	c.addInterp([]byte("/lib/ld.so\x00"))
	b = c.bytes()
	_, err := Parse(failingReader{b, int64(len(b) - 2), eio}, int64(len(b)))
	assert.ErrorIs(t, err, eio)
}

func TestParseManyPhdrs(t *testing.T) {
	// MaxPhnum program headers, all but the first PT_NULL: accepted,
	// and read in one bounded read.
	c := newCrafted()
	for len(c.phdrs) < MaxPhnum {
		c.phdrs = append(c.phdrs, rawPhdr{Type: uint32(elf.PT_NULL)})
	}
	c.fixup()
	c.hdr.Entry = craftedBase
	b := c.bytes()
	r := &checkedReader{t: t, data: b, size: int64(len(b))}
	img, err := Parse(r, r.size)
	require.NoError(t, err)
	assert.Equal(t, uint16(MaxPhnum), img.Phnum)
	assert.Len(t, img.Segments, 1)
}
