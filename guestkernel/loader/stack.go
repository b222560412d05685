package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Auxiliary vector keys (Linux values).
const (
	AT_NULL         = 0
	AT_PHDR         = 3
	AT_PHENT        = 4
	AT_PHNUM        = 5
	AT_PAGESZ       = 6
	AT_BASE         = 7
	AT_FLAGS        = 8
	AT_ENTRY        = 9
	AT_UID          = 11
	AT_EUID         = 12
	AT_GID          = 13
	AT_EGID         = 14
	AT_PLATFORM     = 15
	AT_HWCAP        = 16
	AT_CLKTCK       = 17
	AT_SECURE       = 23
	AT_RANDOM       = 25
	AT_HWCAP2       = 26
	AT_EXECFN       = 31
	AT_SYSINFO_EHDR = 33
	AT_MINSIGSTKSZ  = 51
)

// auxFilledByStack is the number of auxv entries Stack sets itself
// (AT_RANDOM, AT_EXECFN, AT_PLATFORM).
const auxFilledByStack = 3

// Platform is the string AT_PLATFORM points to.
const Platform = "x86_64"

// Limits on the initial stack, modelled on Linux with the default 8 MiB
// stack rlimit.
const (
	// MaxArgStrLen is the largest single argv/envp/execfn string,
	// including its terminating NUL (Linux MAX_ARG_STRLEN).
	MaxArgStrLen = 32 * PageSize
	// MaxArgStrings is the largest number of argv or envp strings
	// (Linux MAX_ARG_STRINGS).
	MaxArgStrings = 0x7FFFFFFF
	// MaxArgBytes bounds the sum of all argv, envp and execfn string
	// sizes (with NULs) plus one pointer per argv and envp entry: Linux's
	// most, whatever the stack rlimit (execve applies a quarter of that
	// limit before it gets here).
	MaxArgBytes = 6 << 20
	// MaxAuxEntries bounds the caller-supplied auxv entries.
	MaxAuxEntries = 64
)

var (
	// ErrTooBig reports that argv/envp exceed the limits (E2BIG).
	ErrTooBig = errors.New("argument list too long")
	// ErrInvalidArgument reports unusable Stack arguments, such as a
	// misaligned top or a string containing NUL (EINVAL).
	ErrInvalidArgument = errors.New("invalid argument")
)

// AuxEntry is one auxiliary vector entry.
type AuxEntry struct{ Key, Val uint64 }

// InitialStack describes a laid-out initial stack. All addresses are guest
// virtual addresses within [SP, SP+len(Data)).
type InitialStack struct {
	Data []byte // bytes to copy to [SP, top)
	SP   uint64 // initial %rsp; points at argc; 16-byte aligned

	Argc     uint64
	ArgvAddr uint64 // address of argv[0] pointer (SP+8)
	EnvpAddr uint64 // address of envp[0] pointer
	AuxvAddr uint64 // address of the first auxv entry

	// String areas, as Linux's mm->arg_start etc.: argv strings occupy
	// [ArgStart, ArgEnd), envp strings [EnvStart, EnvEnd), with NULs.
	ArgStart, ArgEnd uint64
	EnvStart, EnvEnd uint64

	ExecFn   uint64 // address of the execfn string (AT_EXECFN)
	Random   uint64 // address of the 16 random bytes (AT_RANDOM)
	Platform uint64 // address of the platform string (AT_PLATFORM)

	// Auxv is the auxiliary vector as written, including the final
	// AT_NULL entry (what Linux exposes as /proc/pid/auxv).
	Auxv []AuxEntry
}

// Stack lays out the System V x86-64 initial stack below top (top is
// exclusive, 16-aligned).
//
// Layout from high to low addresses: the execfn string; the argv strings
// followed (upwards) by the envp strings; 16 random bytes (AT_RANDOM); the
// platform string "x86_64" (AT_PLATFORM); padding so that the final sp is
// 16-byte aligned; auxv (AT_NULL-terminated: the caller's entries, with
// AT_RANDOM, AT_EXECFN and AT_PLATFORM set by Stack); envp,
// NULL-terminated; argv, NULL-terminated; argc at sp.
//
// It returns the bytes to copy to [sp, top) and sp. See BuildStack for the
// rules applied to the arguments.
func Stack(top uint64, argv, envp []string, execfn string, random [16]byte, auxv []AuxEntry) (data []byte, sp uint64, err error) {
	st, err := BuildStack(top, argv, envp, execfn, random, auxv)
	if err != nil {
		return nil, 0, err
	}
	return st.Data, st.SP, nil
}

// BuildStack is Stack, returning the full description of the layout.
//
// Caller auxv entries are kept in order; AT_NULL entries among them are
// dropped, and AT_RANDOM, AT_EXECFN and AT_PLATFORM entries have their
// values replaced (those missing are appended). Strings must not contain
// NUL bytes. Errors wrap ErrTooBig (limits, see MaxArgBytes) or
// ErrInvalidArgument.
func BuildStack(top uint64, argv, envp []string, execfn string, random [16]byte, auxv []AuxEntry) (*InitialStack, error) {
	if top%16 != 0 {
		return nil, fmt.Errorf("%w: stack top %#x not 16-byte aligned", ErrInvalidArgument, top)
	}
	if len(auxv) > MaxAuxEntries {
		return nil, fmt.Errorf("%w: %d auxv entries exceed %d", ErrInvalidArgument, len(auxv), MaxAuxEntries)
	}
	if len(argv) > MaxArgStrings || len(envp) > MaxArgStrings {
		return nil, fmt.Errorf("%w: %d arguments, %d environment strings", ErrTooBig, len(argv), len(envp))
	}

	// Account for sizes before allocating anything. Each step keeps
	// total <= MaxArgBytes, so nothing overflows.
	total := uint64(len(argv)+len(envp)) * 8
	if total > MaxArgBytes {
		return nil, fmt.Errorf("%w: %d strings", ErrTooBig, len(argv)+len(envp))
	}
	add := func(what string, i int, s string) error {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%w: %s[%d] contains a NUL byte", ErrInvalidArgument, what, i)
		}
		n := uint64(len(s)) + 1
		if n > MaxArgStrLen {
			return fmt.Errorf("%w: %s[%d] is %d bytes (max %d)", ErrTooBig, what, i, n, MaxArgStrLen)
		}
		total += n
		if total > MaxArgBytes {
			return fmt.Errorf("%w: arguments and environment exceed %d bytes", ErrTooBig, MaxArgBytes)
		}
		return nil
	}
	if err := add("execfn", 0, execfn); err != nil {
		return nil, err
	}
	var argBytes, envBytes uint64
	for i, s := range argv {
		if err := add("argv", i, s); err != nil {
			return nil, err
		}
		argBytes += uint64(len(s)) + 1
	}
	for i, s := range envp {
		if err := add("envp", i, s); err != nil {
			return nil, err
		}
		envBytes += uint64(len(s)) + 1
	}

	// Final auxiliary vector.
	aux := make([]AuxEntry, 0, len(auxv)+auxFilledByStack+1)
	for _, e := range auxv {
		if e.Key != AT_NULL {
			aux = append(aux, e)
		}
	}

	// Compute addresses from the top down.
	execLen := uint64(len(execfn)) + 1
	strBytes := execLen + argBytes + envBytes + 16 + uint64(len(Platform)) + 1
	nwords := 1 + uint64(len(argv)) + 1 + uint64(len(envp)) + 1 + 2*(uint64(len(aux))+auxFilledByStack+1)
	need := strBytes + nwords*8 + 15 // bounded: ~2 MiB + small
	if top < need {
		return nil, fmt.Errorf("%w: stack top %#x too low for %d bytes", ErrInvalidArgument, top, need)
	}
	st := &InitialStack{Argc: uint64(len(argv))}
	st.ExecFn = top - execLen
	st.EnvEnd = st.ExecFn
	st.EnvStart = st.EnvEnd - envBytes
	st.ArgEnd = st.EnvStart
	st.ArgStart = st.ArgEnd - argBytes
	st.Random = st.ArgStart - 16
	st.Platform = st.Random - uint64(len(Platform)) - 1

	// Fill in the entries Stack owns, replacing caller values.
	owned := [auxFilledByStack]AuxEntry{{AT_RANDOM, st.Random}, {AT_EXECFN, st.ExecFn}, {AT_PLATFORM, st.Platform}}
	var seen [auxFilledByStack]bool
	for i := range aux {
		for j, o := range owned {
			if aux[i].Key == o.Key {
				aux[i].Val = o.Val
				seen[j] = true
			}
		}
	}
	for j, o := range owned {
		if !seen[j] {
			aux = append(aux, o)
		}
	}
	aux = append(aux, AuxEntry{AT_NULL, 0})
	st.Auxv = aux

	nwords = 1 + uint64(len(argv)) + 1 + uint64(len(envp)) + 1 + 2*uint64(len(aux))
	st.SP = (st.Platform - nwords*8) &^ 15
	st.ArgvAddr = st.SP + 8
	st.EnvpAddr = st.ArgvAddr + 8*(uint64(len(argv))+1)
	st.AuxvAddr = st.EnvpAddr + 8*(uint64(len(envp))+1)

	data := make([]byte, top-st.SP)
	st.Data = data
	off := func(addr uint64) []byte { return data[addr-st.SP:] }
	le := binary.LittleEndian

	copy(off(st.ExecFn), execfn) // NUL already present (zeroed)
	copy(off(st.Random), random[:])
	copy(off(st.Platform), Platform)

	le.PutUint64(off(st.SP), st.Argc)
	p := st.ArgStart
	for i, s := range argv {
		copy(off(p), s)
		le.PutUint64(off(st.ArgvAddr+8*uint64(i)), p)
		p += uint64(len(s)) + 1
	}
	for i, s := range envp {
		copy(off(p), s)
		le.PutUint64(off(st.EnvpAddr+8*uint64(i)), p)
		p += uint64(len(s)) + 1
	}
	for i, e := range aux {
		le.PutUint64(off(st.AuxvAddr+16*uint64(i)), e.Key)
		le.PutUint64(off(st.AuxvAddr+16*uint64(i)+8), e.Val)
	}
	return st, nil
}
