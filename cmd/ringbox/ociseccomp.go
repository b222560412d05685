package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/seccomp"
	"ringbox/syscalls"
)

// This file compiles config.json's linux.seccomp into one classic BPF
// program for the Go kernel's seccomp (guestkernel/seccomp), with the
// meaning runc gives a profile: runc turns each name of each rule into a
// libseccomp rule and prepends its own "-ENOSYS stub" (patchbpf) to the
// filter libseccomp generates. The facts below come from the runtime-spec
// (config-linux.md, "Seccomp"), runc's libcontainer/seccomp and
// libcontainer/specconv, and libseccomp's rule database (src/db.c).
//
// What reaches the filter. The sandbox runs x86-64 code only: there is no
// int 0x80 (i386) entry and no x32 ABI, so the program checks that
// seccomp_data.arch is AUDIT_ARCH_X86_64, else SECCOMP_RET_KILL_PROCESS
// (libseccomp's bad-architecture default, SCMP_ACT_KILL, kills the thread
// only; no other architecture can reach this filter anyway), and the
// architectures list only has to name known SCMP_ARCH_* values. A
// number with the x32 bit (0x40000000) set is no x86-64 syscall: like any
// number that no rule names, it gets the default action, or ENOSYS under
// the rule below.
//
// Names become numbers through the sandbox's own table (syscalls.Name).
// A name it does not know is skipped and reported, as runc skips (with a
// debug message) names libseccomp does not know; Docker's profile names
// many i386-only calls (chown32, _llseek, ...).
//
// Which rule decides. runc adds one libseccomp rule per name, in profile
// order, and libseccomp then resolves rules for the same number in its
// own way; this compiler reproduces that precedence where it is well
// defined and uses profile order (first match) where libseccomp's answer
// depends on the shape of its decision tree:
//
//  1. A rule whose action (errno included) equals the default action is
//     dropped: runc skips it before calling libseccomp, which refuses such
//     rules. It cannot shadow a later rule of another action.
//  2. If a number has a rule without args (after 1), the first such rule
//     decides every call of that number and its rules with args are
//     ignored: libseccomp keeps an existing unconditional rule and drops
//     later rules for the number, and an unconditional rule added after
//     conditional ones replaces them (db.c, _db_col_rule_add).
//  3. Otherwise the rules with args are tried in profile order and the
//     first whose conditions all hold decides; if none holds the default
//     action applies. libseccomp merges such rules into a tree ordered by
//     argument index and refuses (EEXIST) two rules with identical
//     conditions and different actions, so for overlapping rules of
//     different actions its choice is an artifact of that tree; profile
//     order is what the author reads, is deterministic, and agrees with
//     libseccomp whenever the rules do not overlap or share an action
//     (as in Docker's default profile).
//
// Conditions of one rule are ANDed, on the full 64-bit argument, unsigned.
// The exception is runc's: libseccomp refuses a rule that compares the
// same argument twice, so when a rule does runc (and crun) add one rule
// per condition instead, which ORs them; this compiler does the same so
// that such a profile means what it means under runc.
//
// runc's ENOSYS rule: unless the default action is SCMP_ACT_ALLOW,
// SCMP_ACT_LOG or SCMP_ACT_TRACE (runc counts a tracer as permissive), a
// number greater than the highest x86-64 number that any rule names (rules
// dropped by 1 included, unknown names not) gets ERRNO(ENOSYS), so that
// programs fall back from calls newer than the profile. As in runc, a
// profile whose highest number is 0 (it names only read) gets no such rule.
//
// Deviations from runc: SCMP_ACT_NOTIFY and listenerPath are errors (the
// sandbox has no user notification); flags other than
// SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW and _TSYNC are reported and
// ignored rather than refused; an errnoRet on an action that takes no
// data, an errno above 0xffff, an argument index above 5 or an empty name
// is an error even where runc would skip the rule (the spec says a
// runtime MUST fail on an errnoRet it cannot use, and crun does).
//
// Layout. The program is
//
//	ld arch; jeq AUDIT_ARCH_X86_64, +1; ret KILL_PROCESS; ld nr
//	<binary search over the ranges of numbers that share an outcome>
//
// Every number 0..511, and the numbers above, falls into maximal ranges of
// equal outcome (a constant return, or the code of one number with
// argument rules); a balanced tree of jge instructions on the range
// boundaries picks the range in O(log ranges) steps and each range is one
// leaf, so the program has about two instructions per range plus the
// argument checks. A jge whose "true" branch lies more than 255
// instructions ahead jumps through a BPF_JA, whose offset is 32 bits, so
// lists of any length work. Docker's default profile compiles to 181
// instructions.

// ociSeccomp is config.json's linux.seccomp.
type ociSeccomp struct {
	DefaultAction    string           `json:"defaultAction"`
	DefaultErrnoRet  *uint            `json:"defaultErrnoRet,omitempty"`
	Architectures    []string         `json:"architectures,omitempty"`
	Flags            []string         `json:"flags,omitempty"`
	ListenerPath     string           `json:"listenerPath,omitempty"`
	ListenerMetadata string           `json:"listenerMetadata,omitempty"`
	Syscalls         []ociSyscallRule `json:"syscalls,omitempty"`
	// ArchMap is Docker's profile format (moby's default.json), which
	// dockerd resolves before a runtime sees it: resolveDocker.
	ArchMap []ociArchMap `json:"archMap,omitempty"`
}

// ociArchMap is an entry of a Docker profile's archMap.
type ociArchMap struct {
	Architecture     string   `json:"architecture"`
	SubArchitectures []string `json:"subArchitectures"`
}

// ociSyscallRule is one entry of linux.seccomp.syscalls.
type ociSyscallRule struct {
	Names    []string        `json:"names"`
	Action   string          `json:"action"`
	ErrnoRet *uint           `json:"errnoRet,omitempty"`
	Args     []ociSeccompArg `json:"args,omitempty"`
	// Includes and Excludes are a Docker profile's conditions on the
	// container (resolveDocker).
	Includes *dockerSeccompFilter `json:"includes,omitempty"`
	Excludes *dockerSeccompFilter `json:"excludes,omitempty"`
}

// dockerSeccompFilter is a rule's includes or excludes in a Docker
// profile: capabilities, Go architecture names, a minimum kernel.
type dockerSeccompFilter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// ociSeccompArg is one argument condition of a rule.
type ociSeccompArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// Classic BPF opcodes the compiler emits (linux/filter.h).
const (
	ociBPFLdAbs  = 0x20 // BPF_LD | BPF_W | BPF_ABS
	ociBPFAndK   = 0x54 // BPF_ALU | BPF_AND | BPF_K
	ociBPFJa     = 0x05 // BPF_JMP | BPF_JA
	ociBPFJeqK   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	ociBPFJgtK   = 0x25 // BPF_JMP | BPF_JGT | BPF_K
	ociBPFJgeK   = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	ociBPFRetK   = 0x06 // BPF_RET | BPF_K
	ociBPFMaxJmp = 255  // the reach of jt and jf

	// Offsets in struct seccomp_data (little-endian).
	ociSeccompNrOff   = 0
	ociSeccompArchOff = 4
	ociSeccompArgOff  = 16
)

// ociSeccompNumbers maps the x86-64 syscall names the sandbox knows to
// their numbers.
var ociSeccompNumbers = sync.OnceValue(func() map[string]uint32 {
	m := make(map[string]uint32, 512)
	for nr := range uint32(512) {
		if name := syscalls.Name(uintptr(nr)); !strings.HasPrefix(name, "syscall_") {
			m[name] = nr
		}
	}
	return m
})

// ociSeccompArches are the SCMP_ARCH_* names runc accepts. Only x86-64
// syscalls reach the sandbox's filter, so the list changes nothing once
// it is valid.
var ociSeccompArches = map[string]bool{
	"SCMP_ARCH_X86": true, "SCMP_ARCH_X86_64": true, "SCMP_ARCH_X32": true,
	"SCMP_ARCH_ARM": true, "SCMP_ARCH_AARCH64": true,
	"SCMP_ARCH_MIPS": true, "SCMP_ARCH_MIPS64": true, "SCMP_ARCH_MIPS64N32": true,
	"SCMP_ARCH_MIPSEL": true, "SCMP_ARCH_MIPSEL64": true, "SCMP_ARCH_MIPSEL64N32": true,
	"SCMP_ARCH_PPC": true, "SCMP_ARCH_PPC64": true, "SCMP_ARCH_PPC64LE": true,
	"SCMP_ARCH_S390": true, "SCMP_ARCH_S390X": true,
	"SCMP_ARCH_PARISC": true, "SCMP_ARCH_PARISC64": true,
	"SCMP_ARCH_RISCV64": true, "SCMP_ARCH_LOONGARCH64": true,
	"SCMP_ARCH_M68K": true, "SCMP_ARCH_SH": true, "SCMP_ARCH_SHEB": true,
}

// ociSeccompOps are the comparison operators, SCMP_CMP_*.
var ociSeccompOps = map[string]bool{
	"SCMP_CMP_NE": true, "SCMP_CMP_LT": true, "SCMP_CMP_LE": true, "SCMP_CMP_EQ": true,
	"SCMP_CMP_GE": true, "SCMP_CMP_GT": true, "SCMP_CMP_MASKED_EQ": true,
}

// ociSeccompAction turns an action name and its errnoRet into the filter's
// return value, as runc's getAction does: SCMP_ACT_KILL is KILL_THREAD,
// ERRNO and TRACE carry errnoRet or EPERM.
func ociSeccompAction(action string, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	switch action {
	case "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE":
		if errnoRet != nil {
			if *errnoRet > seccomp.RetData {
				return 0, fmt.Errorf("errnoRet %d does not fit the 16 bits of SECCOMP_RET_DATA", *errnoRet)
			}
			data = uint32(*errnoRet)
		}
	case "SCMP_ACT_NOTIFY":
		return 0, fmt.Errorf("SCMP_ACT_NOTIFY: seccomp user notification is not supported")
	default:
		if errnoRet != nil {
			return 0, fmt.Errorf("errnoRet with %s: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno", action)
		}
	}
	switch action {
	case "SCMP_ACT_ALLOW":
		return seccomp.RetAllow, nil
	case "SCMP_ACT_LOG":
		return seccomp.RetLog, nil
	case "SCMP_ACT_ERRNO":
		return seccomp.RetErrno | data, nil
	case "SCMP_ACT_TRACE":
		return seccomp.RetTrace | data, nil
	case "SCMP_ACT_TRAP":
		return seccomp.RetTrap, nil
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		return seccomp.RetKillThread, nil
	case "SCMP_ACT_KILL_PROCESS":
		return seccomp.RetKillProcess, nil
	}
	return 0, fmt.Errorf("unknown seccomp action %q", action)
}

// ociSeccompAlt is one libseccomp rule for one number: the conditions that
// must all hold and the return value.
type ociSeccompAlt struct {
	args []ociSeccompArg
	ret  uint32
}

// compileOCISeccomp returns the checked program, whether the filter logs
// (SECCOMP_FILTER_FLAG_LOG), and notes on what it ignored (unknown syscall
// names, flags it does not apply); an error for what it cannot honour
// (SCMP_ACT_NOTIFY or a listenerPath, an unknown action or operator, an
// argument index > 5, a program over seccomp.MaxInstructions).
//
// A nil s, or one with neither a defaultAction nor syscalls, is no filter:
// prog is nil and err is nil (runc disables seccomp for it too).
//
// The rules it applies, and why, are described at the top of this file.
func compileOCISeccomp(s *ociSeccomp) (prog *seccomp.Program, log bool, ignored []string, err error) {
	if s == nil || (s.DefaultAction == "" && len(s.Syscalls) == 0) {
		return nil, false, nil, nil
	}
	fail := func(format string, a ...any) (*seccomp.Program, bool, []string, error) {
		return nil, false, nil, fmt.Errorf("linux.seccomp: "+format, a...)
	}
	if s.ListenerPath != "" {
		return fail("listenerPath %q: seccomp user notification is not supported", s.ListenerPath)
	}
	if s.ListenerMetadata != "" {
		ignored = append(ignored, "listenerMetadata: no listenerPath")
	}
	def, err := ociSeccompAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return fail("defaultAction: %v", err)
	}
	for _, f := range s.Flags {
		switch f {
		case "SECCOMP_FILTER_FLAG_LOG":
			log = true
		case "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC":
			// Nothing to do: the Go kernel's seccomp(2) ties no
			// speculation mitigation to filters (it ignores SPEC_ALLOW
			// too), and the filter is installed before the process has
			// threads.
		default:
			ignored = append(ignored, "flag "+f+": not applied")
		}
	}
	for _, a := range s.Architectures {
		if !ociSeccompArches[a] {
			return fail("unknown architecture %q", a)
		}
	}

	numbers := ociSeccompNumbers()
	var (
		alts    [512][]ociSeccompAlt
		maxNr   uint32
		unknown = map[string]bool{}
	)
	for i, r := range s.Syscalls {
		ret, err := ociSeccompAction(r.Action, r.ErrnoRet)
		if err != nil {
			return fail("syscalls[%d]: %v", i, err)
		}
		var seen [6]bool
		sameArg := false
		for _, a := range r.Args {
			if !ociSeccompOps[a.Op] {
				return fail("syscalls[%d]: unknown operator %q", i, a.Op)
			}
			if a.Index > 5 {
				return fail("syscalls[%d]: argument index %d (a syscall has 6 arguments)", i, a.Index)
			}
			sameArg = sameArg || seen[a.Index]
			seen[a.Index] = true
		}
		if len(r.Names) == 0 {
			ignored = append(ignored, fmt.Sprintf("syscalls[%d]: no names", i))
		}
		for _, name := range r.Names {
			if name == "" {
				return fail("syscalls[%d]: empty syscall name", i)
			}
			nr, ok := numbers[name]
			if !ok {
				if !unknown[name] {
					unknown[name] = true
					ignored = append(ignored, fmt.Sprintf("syscall %q: not in the sandbox's x86-64 table", name))
				}
				continue
			}
			maxNr = max(maxNr, nr)
			if ret == def {
				continue // runc skips rules with the default action
			}
			if sameArg {
				// runc's fallback: one rule per condition.
				for _, a := range r.Args {
					alts[nr] = append(alts[nr], ociSeccompAlt{args: []ociSeccompArg{a}, ret: ret})
				}
			} else {
				alts[nr] = append(alts[nr], ociSeccompAlt{args: r.Args, ret: ret})
			}
		}
	}
	enosys := maxNr > 0
	switch s.DefaultAction {
	case "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE":
		enosys = false
	}

	// The outcome of each number; index 512 stands for every number from
	// 512 up (x32 numbers included).
	var ranges []ociSeccompRange
	for nr := uint32(0); nr <= 512; nr++ {
		var o ociSeccompRange
		switch {
		case enosys && nr > maxNr:
			o.code = []seccomp.Instruction{ociRet(seccomp.RetErrno | uint32(unix.ENOSYS))}
		case nr < 512 && len(alts[nr]) > 0:
			o.code, err = ociNumberCode(alts[nr], def)
			if err != nil {
				return fail("%s: %v", syscalls.Name(uintptr(nr)), err)
			}
		default:
			o.code = []seccomp.Instruction{ociRet(def)}
		}
		o.lo = nr
		o.key = ociCodeKey(o.code)
		if n := len(ranges); n > 0 && ranges[n-1].key == o.key {
			continue
		}
		ranges = append(ranges, o)
	}

	code := []seccomp.Instruction{
		{Code: ociBPFLdAbs, K: ociSeccompArchOff},
		{Code: ociBPFJeqK, Jt: 1, K: seccomp.AuditArchX86_64},
		ociRet(seccomp.RetKillProcess),
		{Code: ociBPFLdAbs, K: ociSeccompNrOff},
	}
	code = append(code, ociSearch(ranges)...)
	if len(code) > seccomp.MaxInstructions {
		return fail("the filter needs %d instructions; seccomp allows %d", len(code), seccomp.MaxInstructions)
	}
	prog, err = seccomp.Check(code)
	if err != nil {
		return fail("the compiled filter does not pass seccomp's checks: %v", err)
	}
	return prog, log, ignored, nil
}

// ociSeccompRange is a range of numbers, from lo to the next range's lo,
// that share code (which leaves A, the number, clobbered only on paths
// that return).
type ociSeccompRange struct {
	lo   uint32
	code []seccomp.Instruction
	key  string
}

// ociCodeKey is a string that tells equal code apart from different code.
func ociCodeKey(code []seccomp.Instruction) string {
	var b strings.Builder
	for _, in := range code {
		fmt.Fprintf(&b, "%x,%x,%x,%x;", in.Code, in.Jt, in.Jf, in.K)
	}
	return b.String()
}

// ociRet is "ret #k".
func ociRet(k uint32) seccomp.Instruction {
	return seccomp.Instruction{Code: ociBPFRetK, K: k}
}

// ociSearch lays out a balanced binary search over ranges (sorted by lo,
// the first at 0) with A holding the syscall number: each node is a jge on
// the first number of its right half, whose "false" branch falls into the
// left half. A right half out of jt's reach is reached through a BPF_JA.
func ociSearch(ranges []ociSeccompRange) []seccomp.Instruction {
	if len(ranges) == 1 {
		return ranges[0].code
	}
	m := len(ranges) / 2
	left, right := ociSearch(ranges[:m]), ociSearch(ranges[m:])
	var code []seccomp.Instruction
	if len(left) <= ociBPFMaxJmp {
		code = append(code, seccomp.Instruction{Code: ociBPFJgeK, Jt: uint8(len(left)), K: ranges[m].lo})
	} else {
		code = append(code,
			seccomp.Instruction{Code: ociBPFJgeK, Jt: 0, Jf: 1, K: ranges[m].lo},
			seccomp.Instruction{Code: ociBPFJa, K: uint32(len(left))})
	}
	code = append(code, left...)
	return append(code, right...)
}

// ociNumberCode is the code of a number with argument rules: each rule in
// turn, its conditions falling through to its return and jumping to the
// next rule when one fails, then the default action.
func ociNumberCode(alts []ociSeccompAlt, def uint32) ([]seccomp.Instruction, error) {
	for _, a := range alts {
		if len(a.args) == 0 {
			// libseccomp: an unconditional rule decides the number.
			return []seccomp.Instruction{ociRet(a.ret)}, nil
		}
	}
	var code []seccomp.Instruction
	for _, a := range alts {
		// Build the rule backwards so each condition knows how far its
		// failure jump goes: past the rest of the rule and its return.
		rule := []seccomp.Instruction{ociRet(a.ret)}
		for i := len(a.args) - 1; i >= 0; i-- {
			c, err := ociCondCode(a.args[i], len(rule))
			if err != nil {
				return nil, err
			}
			rule = append(c, rule...)
		}
		code = append(code, rule...)
	}
	return append(code, ociRet(def)), nil
}

// ociCondCode returns the code of one condition on a full 64-bit argument
// (unsigned, high word first): it falls through when the condition holds
// and jumps fail instructions past its end when it does not.
func ociCondCode(a ociSeccompArg, fail int) ([]seccomp.Instruction, error) {
	lo := seccomp.Instruction{Code: ociBPFLdAbs, K: ociSeccompArgOff + 8*uint32(a.Index)}
	hi := seccomp.Instruction{Code: ociBPFLdAbs, K: lo.K + 4}
	vh, vl := uint32(a.Value>>32), uint32(a.Value)

	// Jump targets, resolved once the length of the code is known.
	type target int
	const (
		next target = iota // the following instruction
		pass               // the end of the condition's code: it holds
		miss               // fail instructions past the end: it does not
	)
	type item struct {
		in     seccomp.Instruction
		isJump bool
		t, f   target
	}
	var items []item
	stmt := func(in seccomp.Instruction) { items = append(items, item{in: in}) }
	jump := func(op uint16, k uint32, t, f target) {
		items = append(items, item{in: seccomp.Instruction{Code: op, K: k}, isJump: true, t: t, f: f})
	}
	switch a.Op {
	case "SCMP_CMP_EQ":
		stmt(hi)
		jump(ociBPFJeqK, vh, next, miss)
		stmt(lo)
		jump(ociBPFJeqK, vl, next, miss)
	case "SCMP_CMP_NE":
		stmt(hi)
		jump(ociBPFJeqK, vh, next, pass)
		stmt(lo)
		jump(ociBPFJeqK, vl, miss, next)
	case "SCMP_CMP_GT", "SCMP_CMP_GE":
		stmt(hi)
		jump(ociBPFJgtK, vh, pass, next)
		jump(ociBPFJeqK, vh, next, miss)
		stmt(lo)
		op := uint16(ociBPFJgtK)
		if a.Op == "SCMP_CMP_GE" {
			op = ociBPFJgeK
		}
		jump(op, vl, next, miss)
	case "SCMP_CMP_LT", "SCMP_CMP_LE":
		stmt(hi)
		jump(ociBPFJgtK, vh, miss, next)
		jump(ociBPFJeqK, vh, next, pass)
		stmt(lo)
		op := uint16(ociBPFJgeK) // low word >= value: not LT
		if a.Op == "SCMP_CMP_LE" {
			op = ociBPFJgtK // low word > value: not LE
		}
		jump(op, vl, miss, next)
	case "SCMP_CMP_MASKED_EQ":
		// (arg & value) == valueTwo, word by word.
		dh, dl := uint32(a.ValueTwo>>32), uint32(a.ValueTwo)
		for _, w := range []struct {
			ld   seccomp.Instruction
			m, d uint32
		}{{hi, vh, dh}, {lo, vl, dl}} {
			if w.m == 0 && w.d == 0 {
				continue // 0 == 0 whatever the word
			}
			stmt(w.ld)
			if w.m != 0xffffffff {
				stmt(seccomp.Instruction{Code: ociBPFAndK, K: w.m})
			}
			jump(ociBPFJeqK, w.d, next, miss)
		}
	default:
		return nil, fmt.Errorf("unknown operator %q", a.Op)
	}
	code := make([]seccomp.Instruction, len(items))
	for p, it := range items {
		code[p] = it.in
		if !it.isJump {
			continue
		}
		rest := len(items) - 1 - p // instructions after this one
		for _, x := range []struct {
			t   target
			dst *uint8
		}{{it.t, &code[p].Jt}, {it.f, &code[p].Jf}} {
			n := 0
			switch x.t {
			case pass:
				n = rest
			case miss:
				n = rest + fail
			}
			if n > ociBPFMaxJmp {
				return nil, fmt.Errorf("an argument check would jump %d instructions (at most %d)", n, ociBPFMaxJmp)
			}
			*x.dst = uint8(n)
		}
	}
	return code, nil
}

// loadSeccompFile reads and compiles --seccomp's profile into o.seccomp:
// a usage error (status 2) for a file that cannot be read, parsed or
// honoured.
func (o *runOpts) loadSeccompFile(readFile func(string) ([]byte, error)) error {
	if o.seccompFile == "" {
		return nil
	}
	data, err := readFile(o.seccompFile)
	if err != nil {
		return runUsageErr("--seccomp %s: %v", quoteArg(o.seccompFile), err)
	}
	var s ociSeccomp
	if err := json.Unmarshal(data, &s); err != nil {
		return runUsageErr("--seccomp %s: %v", quoteArg(o.seccompFile), err)
	}
	// A profile in Docker's own format (moby's default.json) is resolved
	// for this program as dockerd would for a container.
	uid := uint32(os.Getuid()) // as programIDs decides
	if o.user.set {
		uid = o.user.uid
	}
	if err := s.resolveDocker(initialCaps(uid, o.caps).Bounding, syscalls.Release); err != nil {
		return runUsageErr("--seccomp %s: %v", quoteArg(o.seccompFile), err)
	}
	prog, log, _, err := compileOCISeccomp(&s)
	if err != nil {
		return runUsageErr("--seccomp %s: %v", quoteArg(o.seccompFile), err)
	}
	o.seccomp, o.seccompLog = prog, log
	return nil
}

// resolveDocker turns a profile in Docker's format into the form dockerd
// hands a runtime, for a program with the bounding capability set
// bounding on an amd64 host running kernel release: archMap gives the
// architectures (x86-64 and its subarchitectures), and a rule stays only
// if its includes all hold (every capability in bounding, amd64 among
// the arches, the kernel at least minKernel) and its excludes do not (any
// capability in bounding, amd64 among the arches, the kernel at least
// minKernel), as moby's profile loader decides. A profile without these
// fields is left as it is.
func (s *ociSeccomp) resolveDocker(bounding uint64, release string) error {
	if len(s.ArchMap) > 0 {
		for _, m := range s.ArchMap {
			if m.Architecture == "SCMP_ARCH_X86_64" {
				s.Architectures = append([]string{m.Architecture}, m.SubArchitectures...)
			}
		}
		s.ArchMap = nil
	}
	hasCap := func(name string) (bool, error) {
		set, unknown := kernel.ParseCaps([]string{name})
		if len(unknown) > 0 {
			return false, fmt.Errorf("unknown capability %q", name)
		}
		return bounding&set != 0, nil
	}
	kernelAtLeast := func(v string) (bool, error) {
		var maj, min, hmaj, hmin int
		if _, err := fmt.Sscanf(v, "%d.%d", &maj, &min); err != nil {
			return false, fmt.Errorf("minKernel %q: %v", v, err)
		}
		if _, err := fmt.Sscanf(release, "%d.%d", &hmaj, &hmin); err != nil {
			return false, fmt.Errorf("kernel release %q: %v", release, err)
		}
		return hmaj > maj || hmaj == maj && hmin >= min, nil
	}
	// holds reports whether every condition of f holds (all: includes) or
	// any does (excludes).
	holds := func(f *dockerSeccompFilter, all bool) (bool, error) {
		var results []bool
		if len(f.Arches) > 0 {
			results = append(results, slices.Contains(f.Arches, "amd64"))
		}
		for _, c := range f.Caps {
			ok, err := hasCap(c)
			if err != nil {
				return false, err
			}
			results = append(results, ok)
		}
		if f.MinKernel != "" {
			ok, err := kernelAtLeast(f.MinKernel)
			if err != nil {
				return false, err
			}
			results = append(results, ok)
		}
		if all {
			return !slices.Contains(results, false), nil
		}
		return slices.Contains(results, true), nil
	}
	var kept []ociSyscallRule
	for _, r := range s.Syscalls {
		if r.Excludes != nil {
			if out, err := holds(r.Excludes, false); err != nil {
				return err
			} else if out {
				continue
			}
		}
		if r.Includes != nil {
			if in, err := holds(r.Includes, true); err != nil {
				return err
			} else if !in {
				continue
			}
		}
		r.Includes, r.Excludes = nil, nil
		kept = append(kept, r)
	}
	s.Syscalls = kept
	return nil
}
