package loader

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodedStack is the initial stack as a program would read it from sp.
type decodedStack struct {
	argc       uint64
	argvPtrs   []uint64
	envpPtrs   []uint64
	auxv       []AuxEntry
	argv, envp []string
	auxvEnd    uint64 // address just past AT_NULL
}

// decodeStack walks data (mapped at [sp, top)) the way a libc _start would,
// failing the test on any pointer outside the region.
func decodeStack(t *testing.T, data []byte, sp, top uint64) decodedStack {
	t.Helper()
	require.Equal(t, top-sp, uint64(len(data)))
	word := func(addr uint64) uint64 {
		require.True(t, addr >= sp && addr+8 <= top, "word at %#x outside [%#x, %#x)", addr, sp, top)
		return binary.LittleEndian.Uint64(data[addr-sp:])
	}
	cstr := func(addr uint64) string {
		require.True(t, addr >= sp && addr < top, "string at %#x outside [%#x, %#x)", addr, sp, top)
		b := data[addr-sp:]
		i := bytes.IndexByte(b, 0)
		require.GreaterOrEqual(t, i, 0, "string at %#x not NUL-terminated within the stack", addr)
		return string(b[:i])
	}
	var d decodedStack
	d.argc = word(sp)
	p := sp + 8
	for i := uint64(0); i < d.argc; i++ {
		d.argvPtrs = append(d.argvPtrs, word(p))
		d.argv = append(d.argv, cstr(word(p)))
		p += 8
	}
	require.Zero(t, word(p), "argv not NULL-terminated")
	p += 8
	for word(p) != 0 {
		d.envpPtrs = append(d.envpPtrs, word(p))
		d.envp = append(d.envp, cstr(word(p)))
		p += 8
	}
	p += 8
	for {
		e := AuxEntry{word(p), word(p + 8)}
		p += 16
		if e.Key == AT_NULL {
			break
		}
		d.auxv = append(d.auxv, e)
	}
	d.auxvEnd = p
	return d
}

func auxLookup(aux []AuxEntry, key uint64) (uint64, int) {
	var v uint64
	n := 0
	for _, e := range aux {
		if e.Key == key {
			v = e.Val
			n++
		}
	}
	return v, n
}

func testRandom() [16]byte {
	var r [16]byte
	for i := range r {
		r[i] = byte(0xa0 + i)
	}
	return r
}

func TestStackLayout(t *testing.T) {
	const top = 0x7fff_ffff_f000
	argv := []string{"/bin/prog", "-v", "", "hello world"}
	envp := []string{"PATH=/usr/bin:/bin", "HOME=/root", "EMPTY="}
	random := testRandom()
	callerAux := []AuxEntry{
		{AT_PHDR, 0x400040}, {AT_PHENT, 56}, {AT_PHNUM, 11}, {AT_PAGESZ, 4096},
		{AT_BASE, 0x7f0000000000}, {AT_FLAGS, 0}, {AT_ENTRY, 0x401000},
		{AT_UID, 1000}, {AT_EUID, 1000}, {AT_GID, 100}, {AT_EGID, 100},
		{AT_SECURE, 0}, {AT_HWCAP, 0x178bfbff}, {AT_HWCAP2, 2}, {AT_CLKTCK, 100},
		{AT_SYSINFO_EHDR, 0x7ffff7fc1000}, {AT_MINSIGSTKSZ, 2048},
	}
	st, err := BuildStack(top, argv, envp, "/bin/prog", random, callerAux)
	require.NoError(t, err)

	data, sp, err := Stack(top, argv, envp, "/bin/prog", random, callerAux)
	require.NoError(t, err)
	assert.Equal(t, st.Data, data)
	assert.Equal(t, st.SP, sp)

	assert.Zero(t, sp%16, "sp %#x not 16-byte aligned", sp)
	assert.Less(t, sp, uint64(top))
	d := decodeStack(t, data, sp, top)

	assert.Equal(t, uint64(len(argv)), d.argc)
	assert.Equal(t, argv, d.argv)
	assert.Equal(t, envp, d.envp)

	// Caller entries are preserved in order, followed by the three
	// entries Stack owns.
	require.Len(t, d.auxv, len(callerAux)+3)
	assert.Equal(t, callerAux, d.auxv[:len(callerAux)])
	assert.Equal(t, st.Auxv[:len(st.Auxv)-1], d.auxv)
	assert.Equal(t, AuxEntry{AT_NULL, 0}, st.Auxv[len(st.Auxv)-1])

	rnd, n := auxLookup(d.auxv, AT_RANDOM)
	require.Equal(t, 1, n)
	require.True(t, rnd >= sp && rnd+16 <= top)
	assert.Equal(t, random[:], data[rnd-sp:rnd-sp+16])
	assert.Equal(t, st.Random, rnd)

	execfn, n := auxLookup(d.auxv, AT_EXECFN)
	require.Equal(t, 1, n)
	assert.Equal(t, st.ExecFn, execfn)
	assert.Equal(t, "/bin/prog\x00", string(data[execfn-sp:]))
	assert.Equal(t, uint64(top)-uint64(len("/bin/prog")+1), execfn, "execfn is the highest string")

	plat, n := auxLookup(d.auxv, AT_PLATFORM)
	require.Equal(t, 1, n)
	assert.Equal(t, st.Platform, plat)
	assert.Equal(t, "x86_64\x00", string(data[plat-sp:plat-sp+7]))

	// High-to-low order: execfn > envp strings > argv strings > random >
	// platform > auxv end.
	assert.Greater(t, execfn, d.envpPtrs[len(envp)-1])
	assert.Greater(t, d.envpPtrs[0], d.argvPtrs[len(argv)-1])
	assert.Greater(t, d.argvPtrs[0], rnd)
	assert.Greater(t, rnd, plat)
	assert.GreaterOrEqual(t, plat, d.auxvEnd)
	assert.Less(t, plat-d.auxvEnd, uint64(16), "padding is less than 16 bytes")

	// Linux-style string areas are contiguous and match the pointers.
	assert.Equal(t, st.ArgStart, d.argvPtrs[0])
	assert.Equal(t, st.ArgEnd, st.EnvStart)
	assert.Equal(t, st.EnvStart, d.envpPtrs[0])
	assert.Equal(t, st.EnvEnd, execfn)
	assert.Equal(t, strings.Join(argv, "\x00")+"\x00", string(data[st.ArgStart-sp:st.ArgEnd-sp]))
	assert.Equal(t, strings.Join(envp, "\x00")+"\x00", string(data[st.EnvStart-sp:st.EnvEnd-sp]))

	assert.Equal(t, uint64(len(argv)), st.Argc)
	assert.Equal(t, sp+8, st.ArgvAddr)
	assert.Equal(t, st.ArgvAddr+8*uint64(len(argv)+1), st.EnvpAddr)
	assert.Equal(t, st.EnvpAddr+8*uint64(len(envp)+1), st.AuxvAddr)
}

func TestStackAlignmentAndShapes(t *testing.T) {
	const top = 0x10000000
	random := testRandom()
	for nargs := 0; nargs <= 5; nargs++ {
		for nenv := 0; nenv <= 4; nenv++ {
			for nAux := 0; nAux <= 3; nAux++ {
				for extra := 0; extra < 16; extra++ {
					var argv, envp []string
					for i := 0; i < nargs; i++ {
						argv = append(argv, strings.Repeat("a", i+extra))
					}
					for i := 0; i < nenv; i++ {
						envp = append(envp, fmt.Sprintf("K%d=%s", i, strings.Repeat("v", extra)))
					}
					var aux []AuxEntry
					for i := 0; i < nAux; i++ {
						aux = append(aux, AuxEntry{AT_UID + uint64(i), uint64(i)})
					}
					execfn := strings.Repeat("e", extra)
					data, sp, err := Stack(top, argv, envp, execfn, random, aux)
					require.NoError(t, err)
					require.Zero(t, sp%16, "args=%d env=%d aux=%d extra=%d: sp %#x", nargs, nenv, nAux, extra, sp)
					d := decodeStack(t, data, sp, top)
					require.Equal(t, uint64(nargs), d.argc)
					require.Equal(t, len(argv), len(d.argv))
					for i := range argv {
						require.Equal(t, argv[i], d.argv[i])
					}
					require.Equal(t, len(envp), len(d.envp))
					for i := range envp {
						require.Equal(t, envp[i], d.envp[i])
					}
					require.Equal(t, append(aux, AuxEntry{AT_RANDOM, 0}, AuxEntry{AT_EXECFN, 0}, AuxEntry{AT_PLATFORM, 0})[:nAux], d.auxv[:nAux])
					rnd, _ := auxLookup(d.auxv, AT_RANDOM)
					require.Equal(t, random[:], data[rnd-sp:rnd-sp+16])
					// Padding below the platform string stays small.
					plat, _ := auxLookup(d.auxv, AT_PLATFORM)
					require.Less(t, plat-d.auxvEnd, uint64(16))
				}
			}
		}
	}
}

func TestStackAuxOverrides(t *testing.T) {
	const top = 0x20000
	random := testRandom()
	aux := []AuxEntry{
		{AT_RANDOM, 1}, {AT_PAGESZ, 4096}, {AT_NULL, 0}, {AT_EXECFN, 2},
		{AT_UID, 7}, {AT_RANDOM, 3}, {AT_NULL, 99},
	}
	orig := append([]AuxEntry(nil), aux...)
	st, err := BuildStack(top, []string{"x"}, nil, "/x", random, aux)
	require.NoError(t, err)
	assert.Equal(t, orig, aux, "caller's slice must not be modified")
	d := decodeStack(t, st.Data, st.SP, top)
	// AT_NULL entries dropped; owned keys replaced in place (all
	// occurrences); AT_PLATFORM appended.
	assert.Equal(t, []AuxEntry{
		{AT_RANDOM, st.Random}, {AT_PAGESZ, 4096}, {AT_EXECFN, st.ExecFn},
		{AT_UID, 7}, {AT_RANDOM, st.Random}, {AT_PLATFORM, st.Platform},
	}, d.auxv)
	assert.Equal(t, []string{"x"}, d.argv)
	assert.Empty(t, d.envp)
}

func TestStackEmpty(t *testing.T) {
	const top = 0x1000
	data, sp, err := Stack(top, nil, nil, "", [16]byte{}, nil)
	require.NoError(t, err)
	assert.Zero(t, sp%16)
	d := decodeStack(t, data, sp, top)
	assert.Zero(t, d.argc)
	assert.Empty(t, d.envp)
	assert.Len(t, d.auxv, 3)
	fn, _ := auxLookup(d.auxv, AT_EXECFN)
	assert.Equal(t, uint64(top-1), fn)
}

func TestStackLimits(t *testing.T) {
	const top = 0x7fff_ffff_f000
	var rnd [16]byte

	// A single string of exactly MaxArgStrLen bytes including the NUL is
	// fine; one more byte is E2BIG.
	_, _, err := Stack(top, []string{strings.Repeat("a", MaxArgStrLen-1)}, nil, "x", rnd, nil)
	require.NoError(t, err)
	_, _, err = Stack(top, []string{strings.Repeat("a", MaxArgStrLen)}, nil, "x", rnd, nil)
	assert.ErrorIs(t, err, ErrTooBig)
	_, _, err = Stack(top, nil, []string{strings.Repeat("a", MaxArgStrLen)}, "x", rnd, nil)
	assert.ErrorIs(t, err, ErrTooBig)
	_, _, err = Stack(top, nil, nil, strings.Repeat("a", MaxArgStrLen), rnd, nil)
	assert.ErrorIs(t, err, ErrTooBig)

	// Total size: 48 strings of 128 KiB-1 plus pointers exceed 6 MiB.
	big := strings.Repeat("b", MaxArgStrLen-1)
	many := make([]string, 48)
	for i := range many {
		many[i] = big
	}
	_, _, err = Stack(top, many[:24], many[24:], "x", rnd, nil)
	assert.ErrorIs(t, err, ErrTooBig)
	// 47 of them fit.
	data, sp, err := Stack(top, many[:24], many[25:], "x", rnd, nil)
	require.NoError(t, err)
	assert.Zero(t, sp%16)
	assert.Less(t, len(data), MaxArgBytes+4096)

	// Count: many empty strings cost 9 bytes each (pointer + NUL).
	lots := make([]string, MaxArgBytes/9+1)
	_, _, err = Stack(top, lots, nil, "", rnd, nil)
	assert.ErrorIs(t, err, ErrTooBig)
	// Pointers alone exceeding the limit are rejected before looking at
	// the strings.
	_, _, err = Stack(top, nil, make([]string, MaxArgBytes/8+1), "", rnd, nil)
	assert.ErrorIs(t, err, ErrTooBig)
}

func TestStackInvalid(t *testing.T) {
	var rnd [16]byte
	_, _, err := Stack(0x10008, nil, nil, "x", rnd, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument, "misaligned top")
	_, _, err = Stack(0x10000, []string{"a\x00b"}, nil, "x", rnd, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument, "NUL in argv")
	_, _, err = Stack(0x10000, nil, []string{"A=\x00"}, "x", rnd, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument, "NUL in envp")
	_, _, err = Stack(0x10000, nil, nil, "x\x00", rnd, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument, "NUL in execfn")
	_, _, err = Stack(0x40, []string{"abc"}, []string{"def"}, "x", rnd, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument, "top too low")
	_, _, err = Stack(0, nil, nil, "", rnd, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument, "top zero")
	_, _, err = Stack(0x10000, nil, nil, "x", rnd, make([]AuxEntry, MaxAuxEntries+1))
	assert.ErrorIs(t, err, ErrInvalidArgument, "too many aux entries")

	// Highest possible top works (no overflow in address arithmetic).
	top := ^uint64(0) &^ 15
	data, sp, err := Stack(top, []string{"a"}, []string{"b=c"}, "x", rnd, []AuxEntry{{AT_PAGESZ, 4096}})
	require.NoError(t, err)
	d := decodeStack(t, data, sp, top)
	assert.Equal(t, []string{"a"}, d.argv)
}
