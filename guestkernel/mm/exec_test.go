package mm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/loader"
	"ringbox/guestkernel/memfile"
)

const testProgram = `
#include <stdio.h>
static char bss[300000];
int data[1000] = {42};
int main(int argc, char **argv) {
	bss[argc] = (char)data[0];
	printf("%s %d\n", argv[0], bss[argc]);
	return 0;
}
`

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	builtMu   sync.Mutex
	built     = map[string]error{}
)

// compile builds testProgram with gcc flags into a file named name, once per
// test binary; the test is skipped if gcc cannot.
func compile(t *testing.T, name string, flags ...string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mm-exec-test")
		if buildErr == nil {
			buildErr = os.WriteFile(filepath.Join(buildDir, "prog.c"), []byte(testProgram), 0o644)
		}
	})
	require.NoError(t, buildErr)
	out := filepath.Join(buildDir, name)
	builtMu.Lock()
	defer builtMu.Unlock()
	err, done := built[name]
	if !done {
		if _, lerr := exec.LookPath("gcc"); lerr != nil {
			err = lerr
		} else {
			args := append(append([]string{}, flags...), "-O1", "-o", out, filepath.Join(buildDir, "prog.c"))
			if b, cerr := exec.Command("gcc", args...).CombinedOutput(); cerr != nil {
				err = errors.New(string(b))
			}
		}
		built[name] = err
	}
	if err != nil {
		t.Skipf("cannot build %s test program: %v", name, err)
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func openExe(t *testing.T, path string) *bytes.Reader {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

// initialStack is what the program finds at its stack pointer.
type initialStack struct {
	argc       uint64
	argv, envp []string
	auxv       map[uint64]uint64
	auxvRaw    []uint64
}

func readStack(t *testing.T, m *MM, sp uintptr) initialStack {
	t.Helper()
	var st initialStack
	argc, err := m.CopyInUint64(sp)
	require.NoError(t, err)
	st.argc = argc
	p := sp + 8
	strs := func() []string {
		var s []string
		for {
			ptr, err := m.CopyInUint64(p)
			require.NoError(t, err)
			p += 8
			if ptr == 0 {
				return s
			}
			str, err := m.CopyInString(uintptr(ptr), loader.MaxArgStrLen)
			require.NoError(t, err)
			s = append(s, str)
		}
	}
	st.argv = strs()
	st.envp = strs()
	st.auxv = map[uint64]uint64{}
	for {
		k, err := m.CopyInUint64(p)
		require.NoError(t, err)
		v, err := m.CopyInUint64(p + 8)
		require.NoError(t, err)
		p += 16
		st.auxvRaw = append(st.auxvRaw, k, v)
		if k == loader.AT_NULL {
			break
		}
		st.auxv[k] = v
		require.Less(t, len(st.auxvRaw), 200, "auxv not terminated")
	}
	return st
}

// checkImage verifies that every PT_LOAD segment of the ELF file at path is
// mapped at bias with its protection, name and contents, and returns the
// end of the highest segment.
func checkImage(t *testing.T, m *MM, path, name string, bias uintptr) uintptr {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := elf.NewFile(bytes.NewReader(raw))
	require.NoError(t, err)
	var end uintptr
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		start := uintptr(p.Vaddr) + bias
		end = max(end, start+uintptr(p.Memsz))
		prot := 0
		if p.Flags&elf.PF_R != 0 {
			prot |= ProtRead
		}
		if p.Flags&elf.PF_W != 0 {
			prot |= ProtWrite
		}
		if p.Flags&elf.PF_X != 0 {
			prot |= ProtExec
		}
		fileEnd := pageUp(start + uintptr(p.Filesz))
		for va := start &^ (pageSize - 1); va < start+uintptr(p.Memsz); va += pageSize {
			v, ok := m.vmas.lookup(va)
			require.True(t, ok, "segment page %#x not mapped", va)
			assert.Equal(t, prot, v.Prot&prot, "segment page %#x: prot %#x, want at least %#x", va, v.Prot, prot)
			if va < fileEnd {
				assert.Equal(t, name, v.Name, "file page %#x", va)
			} else {
				assert.Equal(t, "", v.Name, "zero-fill page %#x", va)
			}
			assert.NotZero(t, backing(m, va), "segment page %#x populated at load", va)
			_, o, ok := lookupPT(m, va)
			assert.True(t, ok, "segment page %#x in the page tables", va)
			assert.Equal(t, v.Prot&ProtExec != 0, o.Exec)
		}
		// The contents: the file bytes, then zeroes. (Read through
		// the backing pages: the segment may not be readable.)
		got := make([]byte, p.Memsz)
		for i := range got {
			va := start + uintptr(i)
			got[i] = pageBytes(m, va)[va&(pageSize-1)]
		}
		want := make([]byte, p.Memsz)
		copy(want, raw[p.Off:p.Off+p.Filesz])
		assert.True(t, bytes.Equal(want, got), "segment at %#x: contents differ", start)
		// The rest of the last page reads zero too.
		tail := pageBytes(m, start+uintptr(p.Memsz)-1)[(start+uintptr(p.Memsz)-1)&(pageSize-1)+1:]
		assert.Equal(t, make([]byte, len(tail)), tail)
	}
	return end
}

func pageBytes(m *MM, va uintptr) []byte {
	pa := backing(m, va)
	if pa == 0 {
		return make([]byte, pageSize)
	}
	b := make([]byte, pageSize)
	m.mu.Lock()
	defer m.mu.Unlock()
	copy(b, memfile.Page(pa))
	return b
}

func TestLoadStatic(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags []string
	}{
		{"static", []string{"-static"}},
		{"static-pie", []string{"-static-pie"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := compile(t, c.name, c.flags...)
			m, _, _ := newTestMM(t)
			ef, err := elf.Open(path)
			require.NoError(t, err)
			defer ef.Close()
			var bias uintptr
			if ef.Type == elf.ET_DYN {
				bias = etDynBase
			}

			argv := []string{path, "one", "", "three with spaces"}
			envp := []string{"A=1", "PATH=/bin"}
			vdso, image := testVDSO(t, m)
			res, err := m.Load(ExecArgs{File: openExe(t, path), Path: "/prog", Argv: argv, Envp: envp, UID: 1000, EUID: 0, GID: 100, EGID: 50, Secure: true, HWCap: 0xabc, VDSO: vdso})
			require.NoError(t, err)
			assert.Equal(t, uintptr(ef.Entry)+bias, res.Entry)
			assert.Zero(t, res.SP%16, "sp 16-byte aligned")
			if bias == 0 {
				assert.Equal(t, uintptr(ef.Entry), res.Entry, "a static executable runs at its link address")
			} else {
				assert.GreaterOrEqual(t, res.Entry, uintptr(etDynBase))
			}

			st := readStack(t, m, res.SP)
			assert.Equal(t, uint64(len(argv)), st.argc)
			assert.Equal(t, argv, st.argv)
			assert.Equal(t, envp, st.envp)
			assert.Equal(t, st.auxvRaw, m.Auxv, "MM.Auxv is the vector on the stack")
			assert.Equal(t, uint64(res.Entry), st.auxv[loader.AT_ENTRY])
			assert.Equal(t, uint64(0), st.auxv[loader.AT_BASE], "no interpreter")
			assert.Equal(t, uint64(pageSize), st.auxv[loader.AT_PAGESZ])
			assert.Equal(t, uint64(1000), st.auxv[loader.AT_UID])
			assert.Equal(t, uint64(0), st.auxv[loader.AT_EUID])
			assert.Equal(t, uint64(50), st.auxv[loader.AT_EGID])
			assert.Equal(t, uint64(1), st.auxv[loader.AT_SECURE])
			assert.Equal(t, uint64(100), st.auxv[loader.AT_GID])
			assert.Equal(t, uint64(0xabc), st.auxv[loader.AT_HWCAP])
			checkVDSOMapped(t, m, vdso, image, uintptr(st.auxv[loader.AT_SYSINFO_EHDR]))
			assert.Equal(t, uint64(len(ef.Progs)), st.auxv[loader.AT_PHNUM])
			assert.Equal(t, uint64(56), st.auxv[loader.AT_PHENT])
			execfn, err := m.CopyInString(uintptr(st.auxv[loader.AT_EXECFN]), 4096)
			require.NoError(t, err)
			assert.Equal(t, "/prog", execfn)
			plat, err := m.CopyInString(uintptr(st.auxv[loader.AT_PLATFORM]), 4096)
			require.NoError(t, err)
			assert.Equal(t, "x86_64", plat)
			_, err = m.CopyIn(uintptr(st.auxv[loader.AT_RANDOM]), make([]byte, 16))
			require.NoError(t, err)

			// AT_PHDR points at the program headers, mapped from the file.
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var eh elf.Header64
			require.NoError(t, binary.Read(bytes.NewReader(raw), binary.LittleEndian, &eh))
			phdrs := make([]byte, int(eh.Phnum)*int(eh.Phentsize))
			_, err = m.CopyIn(uintptr(st.auxv[loader.AT_PHDR]), phdrs)
			require.NoError(t, err)
			assert.Equal(t, raw[eh.Phoff:eh.Phoff+uint64(len(phdrs))], phdrs)

			// argv and envp strings where MM says.
			args := make([]byte, m.ArgEnd-m.ArgStart)
			_, err = m.CopyIn(m.ArgStart, args)
			require.NoError(t, err)
			assert.Equal(t, joinNUL(argv), string(args))
			env := make([]byte, m.EnvEnd-m.EnvStart)
			_, err = m.CopyIn(m.EnvStart, env)
			require.NoError(t, err)
			assert.Equal(t, joinNUL(envp), string(env))
			assert.Equal(t, "/prog", m.Exe)

			// The segments.
			end := checkImage(t, m, path, "/prog", bias)

			// The stack VMA.
			sv, ok := m.vmas.lookup(res.SP)
			require.True(t, ok)
			// (the arguments' pages and 128 KiB: it grows on faults below)
			stackStart := StackTop - pageUp(StackTop-res.SP) - stackExpand
			assert.Equal(t, VMA{Start: stackStart, End: StackTop, Prot: rw, MaxProt: rwx, GrowsDown: true, Name: "[stack]"}, *sv)

			// The break starts right after the image; the heap grows
			// there.
			brk := m.Brk(0)
			assert.Equal(t, pageUp(end), brk)
			assert.Equal(t, brk+pages(3), m.Brk(brk+pages(3)))
			hv, ok := m.vmas.lookup(brk)
			require.True(t, ok)
			assert.Equal(t, "[heap]", hv.Name)
			assert.Equal(t, rw, hv.Prot)

			// A fault below the initial stack grows it and maps downwards.
			low := res.SP - pages(40)
			r, _, err := m.HandleFault(low, true, false)
			require.NoError(t, err)
			assert.Equal(t, FaultHandled, r)
			assert.NotZero(t, backing(m, low-pages(faultAround-1)))
			assert.Zero(t, backing(m, low-pages(faultAround)))
			mustCheck(t, m)
		})
	}
}

func joinNUL(s []string) string {
	var b []byte
	for _, x := range s {
		b = append(append(b, x...), 0)
	}
	return string(b)
}

func TestLoadDynamic(t *testing.T) {
	const interp = "/lib64/ld-linux-x86-64.so.2"
	if _, err := os.Stat(interp); err != nil {
		t.Skip("no host dynamic linker")
	}
	path := compile(t, "dynamic")

	m, _, _ := newTestMM(t)
	_, err := m.Load(ExecArgs{File: openExe(t, path), Path: "/prog", Argv: []string{"p"}})
	assert.ErrorIs(t, err, ErrInterp, "no way to open the interpreter")

	m, _, _ = newTestMM(t)
	var opened string
	res, err := m.Load(ExecArgs{File: openExe(t, path), Path: "/prog", Argv: []string{"p"},
		OpenInterp: func(p string) (Executable, error) {
			opened = p
			return openExe(t, p), nil
		}})
	require.NoError(t, err)
	assert.Equal(t, interp, opened)
	st := readStack(t, m, res.SP)
	ibase := uintptr(st.auxv[loader.AT_BASE])
	assert.NotZero(t, ibase)
	assert.Less(t, ibase, uintptr(MmapTop))

	ie, err := elf.Open(interp)
	require.NoError(t, err)
	defer ie.Close()
	assert.Equal(t, uintptr(ie.Entry)+ibase, res.Entry, "the program starts in the interpreter")
	pe, err := elf.Open(path)
	require.NoError(t, err)
	defer pe.Close()
	assert.Equal(t, uint64(pe.Entry)+etDynBase, st.auxv[loader.AT_ENTRY], "AT_ENTRY is the program's")

	checkImage(t, m, path, "/prog", etDynBase)
	checkImage(t, m, interp, interp, ibase)
	mustCheck(t, m)

	// A missing interpreter.
	m, _, _ = newTestMM(t)
	_, err = m.Load(ExecArgs{File: openExe(t, path), Path: "/prog", Argv: []string{"p"},
		OpenInterp: func(p string) (Executable, error) { return nil, os.ErrNotExist }})
	assert.ErrorIs(t, err, ErrInterp)
}

func TestLoadNotELF(t *testing.T) {
	m, _, _ := newTestMM(t)
	_, err := m.Load(ExecArgs{File: bytes.NewReader([]byte("#!/bin/sh\necho hi\n")), Path: "/x", Argv: []string{"x"}})
	assert.ErrorIs(t, err, loader.ErrNotELF)
	assert.Empty(t, m.VMAs())
}

func TestLoadOutOfMemory(t *testing.T) {
	path := compile(t, "static", "-static")
	m, _, _ := newTestMM(t)
	release := exhaust(t, m.mem, 20)
	_, err := m.Load(ExecArgs{File: openExe(t, path), Path: "/prog", Argv: []string{"p"}})
	assert.ErrorIs(t, err, ErrOutOfMemory)
	release()
	mustCheck(t, m)
}
