package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// ---- compiled test binaries ----

const testProgram = `
#include <stdio.h>
static char bss[65536];
int data = 42;
int main(int argc, char **argv) {
	bss[argc] = (char)data;
	printf("%s %d\n", argv[0], bss[argc]);
	return 0;
}
`

// binaryFlavor is a way of compiling testProgram.
type binaryFlavor struct {
	name  string
	flags []string
}

var binaryFlavors = []binaryFlavor{
	{"static", []string{"-static"}},
	{"static-pie", []string{"-static-pie"}},
	{"dynamic", nil},
	{"dynamic-nopie", []string{"-no-pie"}},
	{"execstack", []string{"-z", "execstack"}},
	{"shared", []string{"-shared", "-fPIC"}},
	{"m32", []string{"-m32"}},
}

var (
	buildDir     string
	buildDirErr  error
	buildDirOnce sync.Once

	builtMu sync.Mutex
	built   = map[string]builtBinary{}
)

type builtBinary struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// compileFlavor compiles testProgram with the given flavor (once per test
// binary run) and returns its path, or an error if the toolchain cannot
// produce it.
func compileFlavor(fl binaryFlavor) (string, error) {
	builtMu.Lock()
	defer builtMu.Unlock()
	if b, ok := built[fl.name]; ok {
		return b.path, b.err
	}
	buildDirOnce.Do(func() {
		buildDir, buildDirErr = os.MkdirTemp("", "loader-test-")
	})
	if buildDirErr != nil {
		return "", buildDirErr
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		built[fl.name] = builtBinary{err: err}
		return "", err
	}
	src := filepath.Join(buildDir, "prog.c")
	if err := os.WriteFile(src, []byte(testProgram), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(buildDir, fl.name)
	args := append(append([]string{}, fl.flags...), "-O1", "-o", out, src)
	cmd := exec.Command(gcc, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		err = fmt.Errorf("gcc %v: %v\n%s", args, err, msg)
		built[fl.name] = builtBinary{err: err}
		return "", err
	}
	built[fl.name] = builtBinary{path: out}
	return out, nil
}

func mustCompile(t testing.TB, name string) string {
	t.Helper()
	for _, fl := range binaryFlavors {
		if fl.name == name {
			p, err := compileFlavor(fl)
			if err != nil {
				t.Skipf("cannot build %s binary: %v", name, err)
			}
			return p
		}
	}
	t.Fatalf("unknown flavor %q", name)
	return ""
}

// ---- hand-crafted ELF files ----

type rawPhdr struct {
	Type   uint32
	Flags  uint32
	Off    uint64
	Vaddr  uint64
	Paddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

type rawELF struct {
	Ident     [16]byte
	Type      uint16
	Machine   uint16
	Version   uint32
	Entry     uint64
	Phoff     uint64
	Shoff     uint64
	Flags     uint32
	Ehsize    uint16
	Phentsize uint16
	Phnum     uint16
	Shentsize uint16
	Shnum     uint16
	Shstrndx  uint16
}

// crafted describes a small ELF file: header, program headers right after
// it, then payload.
type crafted struct {
	hdr     rawELF
	phdrs   []rawPhdr
	payload []byte
}

const craftedBase = 0x400000

// payloadOff is the file offset of the payload.
func (c *crafted) payloadOff() uint64 { return 64 + 56*uint64(len(c.phdrs)) }

// newCrafted returns a valid static ET_EXEC with one R+X PT_LOAD covering
// the whole file (and some bss) and a PT_GNU_STACK without PF_X.
func newCrafted() *crafted {
	c := &crafted{}
	copy(c.hdr.Ident[:], elf.ELFMAG)
	c.hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	c.hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	c.hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	c.hdr.Type = uint16(elf.ET_EXEC)
	c.hdr.Machine = uint16(elf.EM_X86_64)
	c.hdr.Version = uint32(elf.EV_CURRENT)
	c.hdr.Phoff = 64
	c.hdr.Ehsize = 64
	c.hdr.Phentsize = 56
	c.payload = bytes.Repeat([]byte{0xcc}, 256)
	c.phdrs = []rawPhdr{
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Vaddr: craftedBase, Paddr: craftedBase, Align: 0x1000},
		{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W), Align: 16},
	}
	c.hdr.Entry = craftedBase + c.payloadOff()
	c.fixup()
	return c
}

// fixup sets phnum and makes the first PT_LOAD cover the whole file.
func (c *crafted) fixup() {
	c.hdr.Phnum = uint16(len(c.phdrs))
	size := c.payloadOff() + uint64(len(c.payload))
	c.phdrs[0].Filesz = size
	c.phdrs[0].Memsz = size + 0x2000
}

func (c *crafted) bytes() []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, &c.hdr)
	for i := range c.phdrs {
		binary.Write(&b, binary.LittleEndian, &c.phdrs[i])
	}
	b.Write(c.payload)
	return b.Bytes()
}

// addInterp appends a PT_INTERP pointing at path (written verbatim into the
// payload, the caller includes any NUL).
func (c *crafted) addInterp(path []byte) {
	c.phdrs = append(c.phdrs, rawPhdr{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Align: 1})
	c.fixup()
	off := c.payloadOff() + uint64(len(c.payload))
	c.payload = append(c.payload, path...)
	c.phdrs[len(c.phdrs)-1].Off = off
	c.phdrs[len(c.phdrs)-1].Vaddr = craftedBase + off
	c.phdrs[len(c.phdrs)-1].Filesz = uint64(len(path))
	c.phdrs[len(c.phdrs)-1].Memsz = uint64(len(path))
	c.fixup()
}

// ---- readers ----

// checkedReader is an io.ReaderAt over data that fails the test on reads
// that are unreasonably large or start at negative offsets.
type checkedReader struct {
	t    testing.TB
	data []byte
	// size is the size reported to Parse; reads beyond len(data) but
	// below size return zeros (a sparse file).
	size  int64
	reads int
}

const maxReasonableRead = 64 << 10

func (r *checkedReader) ReadAt(p []byte, off int64) (int, error) {
	r.reads++
	if len(p) > maxReasonableRead {
		r.t.Fatalf("ReadAt of %d bytes", len(p))
	}
	if off < 0 {
		r.t.Fatalf("ReadAt at negative offset %d", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > r.size-off {
		n = int(r.size - off)
	}
	for i := range p[:n] {
		p[i] = 0
	}
	if off < int64(len(r.data)) {
		copy(p[:n], r.data[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
