package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"os"
	"testing"
)

// fuzzVirtualSize is the file size claimed in the second, "sparse" parse
// of each fuzz input: the input followed by zeros. This lets small inputs
// reach the success paths (segments whose file ranges lie beyond the
// input).
const fuzzVirtualSize = 64 << 20

func FuzzParse(f *testing.F) {
	// Seeds: the compiled test binaries (whole, and their first 16 KiB
	// which hold all the headers), plus hand-crafted files.
	//
	// While actually fuzzing (-fuzz), whole binaries larger than 64 KiB
	// (the static ones, ~800 KiB) are left out: mutating and especially
	// minimising inputs that large stalls the fuzzer for minutes, and
	// their 16 KiB prefixes, parsed as sparse files, cover the same
	// headers. A plain "go test" still runs every whole binary.
	fuzzing := false
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		fuzzing = true
	}
	for _, fl := range binaryFlavors {
		path, err := compileFlavor(fl)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if !fuzzing || len(data) <= 64<<10 {
			f.Add(data)
		}
		if len(data) > 16<<10 {
			f.Add(data[:16<<10])
		}
	}
	f.Add(newCrafted().bytes())
	c := newCrafted()
	c.addInterp([]byte("/lib64/ld-linux-x86-64.so.2\x00"))
	c.phdrs = append(c.phdrs, rawPhdr{Type: uint32(elf.PT_PHDR), Off: 64, Vaddr: craftedBase + 64})
	c.fixup()
	f.Add(c.bytes())
	c = newCrafted()
	c.hdr.Type = uint16(elf.ET_DYN)
	c.hdr.Phnum = 0xffff
	f.Add(c.bytes())
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, size := range []int64{int64(len(data)), fuzzVirtualSize} {
			if size < int64(len(data)) {
				continue
			}
			r := &checkedReader{t: t, data: data, size: size}
			img, err := Parse(r, size)
			if r.reads > 4 {
				t.Fatalf("%d reads", r.reads)
			}
			if err != nil {
				if img != nil {
					t.Fatalf("non-nil image with error %v", err)
				}
				n := 0
				for _, e := range []error{ErrNotELF, ErrWrongClass, ErrBadELF} {
					if errors.Is(err, e) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("error %v wraps %d sentinel errors", err, n)
				}
				continue
			}
			checkImageInvariants(t, img, size)
		}
	})
}

func checkImageInvariants(t *testing.T, img *Image, size int64) {
	t.Helper()
	if img.Type != uint16(elf.ET_EXEC) && img.Type != uint16(elf.ET_DYN) {
		t.Fatalf("type %d", img.Type)
	}
	if img.Phentsize != 56 || img.Phnum == 0 || img.Phnum > MaxPhnum {
		t.Fatalf("phentsize %d phnum %d", img.Phentsize, img.Phnum)
	}
	if img.Phoff+uint64(img.Phnum)*56 > uint64(size) {
		t.Fatalf("phdrs beyond file")
	}
	if img.Entry >= UserLimit {
		t.Fatalf("entry %#x", img.Entry)
	}
	if len(img.Segments) == 0 || len(img.Segments) > int(img.Phnum) {
		t.Fatalf("%d segments", len(img.Segments))
	}
	if len(img.Interp) > MaxInterpLen-1 || bytes.IndexByte([]byte(img.Interp), 0) >= 0 {
		t.Fatalf("interp %q", img.Interp)
	}
	if img.MinVaddr%PageSize != 0 || img.MaxVaddr%PageSize != 0 ||
		img.MinVaddr > img.MaxVaddr || img.MaxVaddr > UserLimit {
		t.Fatalf("span [%#x, %#x)", img.MinVaddr, img.MaxVaddr)
	}
	if img.MaxAlign < PageSize || img.MaxAlign&(img.MaxAlign-1) != 0 {
		t.Fatalf("max align %#x", img.MaxAlign)
	}
	for i, s := range img.Segments {
		if s.Filesz > s.Memsz || s.Offset+s.Filesz > uint64(size) || s.Offset > uint64(size) {
			t.Fatalf("segment %d: %+v", i, s)
		}
		if s.Vaddr+s.Memsz > UserLimit || s.Vaddr < img.MinVaddr || s.Vaddr+s.Memsz > img.MaxVaddr {
			t.Fatalf("segment %d: %+v outside span", i, s)
		}
		if (s.Vaddr-s.Offset)%PageSize != 0 {
			t.Fatalf("segment %d misaligned", i)
		}
		if s.Prot&^(ProtRead|ProtWrite|ProtExec) != 0 {
			t.Fatalf("segment %d prot %#x", i, s.Prot)
		}
	}
}
