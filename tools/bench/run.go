package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The platforms the bench knows by name. Others given with -platform are
// passed through to ringbox and labelled with their own name.
const (
	ring0Platform = "kvm"      // ring0 mode: the kernel runs inside the guest
	exitPlatform  = "kvm-exit" // exit mode: every syscall and fault exits
)

// native is the side name of a run without ringbox.
const native = ""

// bench runs the benchmark programs natively and under ringbox on each
// platform.
type bench struct {
	dir       string   // compiled programs
	ringbox   string   // ringbox binary
	platforms []string // --platform values to measure, in table order

	target time.Duration // how long one timed run of a loop program should take
	reps   int           // timed runs per loop row and side (median taken)
	runs   int           // runs of the start-up and hello rows per side (median taken)

	quick bool // -quick: fewer and shorter runs
	// ringboxFlags go to every ringbox run (-hostio).
	ringboxFlags []string

	seen  map[string]string // platform -> the name ringbox --debug reported
	files *files            // the file-system rows' files
	only  *regexp.Regexp    // -rows: the rows to run (nil: all)
}

// sides are native followed by the platforms: the order runs alternate in.
func (b *bench) sides() []string {
	return append([]string{native}, b.platforms...)
}

// maxOps bounds calibrated operation counts.
const maxOps = 1_000_000_000

// job is one benchmark program and how to run it.
type job struct {
	prog  string   // a program compiled into the bench's directory, or an absolute path
	args  []string // a loop program's arguments after the operation count
	flags []string // ringbox run flags before "--": --mount, --tmpfs, --workdir
	dir   string   // the native side's working directory ("": the bench's)
	// env is the program's environment on every side (ringbox gets it as
	// --env flags); nil: empty.
	env []string
	// devNull sends stdout to /dev/null rather than a pipe the bench reads.
	devNull bool
	pilot   int64 // the first operation count calibrate tries (0: 1000)
	// exitOps is the least operation count of the run that counts exits:
	// where the calibrated count is a few slow operations, the VM exits
	// that come with time (host signals) make a few a noisy sample.
	exitOps int64
	reps    int // timed runs per side, if fewer than the bench's
	// sandboxArgs, when set, replace args in the sandbox (an address
	// that differs there: the NAT row's gateway).
	sandboxArgs []string
}

// path is the program's file.
func (j *job) path(dir string) string {
	if filepath.IsAbs(j.prog) {
		return j.prog
	}
	return filepath.Join(dir, j.prog)
}

// loopArgs are a loop program's arguments for n operations.
func (j *job) loopArgs(n int64) []string {
	return append([]string{strconv.FormatInt(n, 10)}, j.args...)
}

// output is what one run of a program produced.
type output struct {
	result string        // the text after "result " on stdout
	first  string        // the first line of stdout
	lines  int           // lines on stdout (0 with devNull)
	start  time.Time     // just before the process was started
	wall   time.Duration // from start to exit
	stderr string
}

// run runs j's program with args, natively (platform "", in j.dir) or under
// ringbox run --platform=platform with j.flags (and --debug when debug is
// set), with an empty environment and stdout on a pipe it drains (or on
// /dev/null with j.devNull). A non-zero exit status is an error.
func (b *bench) run(platform string, debug bool, j *job, args ...string) (*output, error) {
	prog := j.prog
	argv := b.command(platform, debug, j, args)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{}
	if platform == native {
		cmd.Dir = j.dir
		cmd.Env = append(cmd.Env, j.env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var stdout io.ReadCloser
	if j.devNull {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		cmd.Stdout = null
	} else {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	}
	out := &output{start: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s %s: %v", sideName(platform), prog, err)
	}
	var scanErr error
	if stdout != nil {
		sc := bufio.NewScanner(stdout)
		for ; sc.Scan(); out.lines++ {
			if out.lines == 0 {
				out.first = sc.Text()
			}
			if v, ok := strings.CutPrefix(sc.Text(), "result "); ok {
				out.result = v
			}
		}
		io.Copy(io.Discard, stdout) // whatever the scanner left (a too long line)
		scanErr = sc.Err()
	}
	err := cmd.Wait()
	out.wall = time.Since(out.start)
	out.stderr = stderr.String()
	if err != nil {
		return nil, fmt.Errorf("%s run of %s %s failed: %v; stderr: %s",
			sideName(platform), prog, strings.Join(args, " "), err, tail(out.stderr))
	}
	if scanErr != nil {
		return nil, fmt.Errorf("%s %s: reading stdout: %v", sideName(platform), prog, scanErr)
	}
	return out, nil
}

// command is the command line that runs j's program with args natively
// (platform "") or under ringbox run --platform=platform.
func (b *bench) command(platform string, debug bool, j *job, args []string) []string {
	if platform != native && j.sandboxArgs != nil && len(args) > 0 {
		args = append([]string{args[0]}, j.sandboxArgs...)
	}
	argv := append([]string{j.path(b.dir)}, args...)
	if platform == native {
		return argv
	}
	pre := []string{b.ringbox, "run", "--platform=" + platform}
	pre = append(pre, b.ringboxFlags...)
	if debug {
		pre = append(pre, "--debug")
	}
	for _, e := range j.env {
		pre = append(pre, "--env", e)
	}
	pre = append(pre, j.flags...)
	return append(append(pre, "--"), argv...)
}

// sideName names a side in error messages.
func sideName(platform string) string {
	if platform == native {
		return "native"
	}
	return "ringbox --platform=" + platform
}

// tail is the end of a program's stderr, for error messages, on one line.
// When a Go program (ringbox) crashed, the crash's first lines come first:
// the end of its stderr is a register dump or goroutine stacks.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(empty)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) <= 5 {
		return strings.Join(lines, " | ")
	}
	last := strings.Join(lines[len(lines)-5:], " | ")
	for i, l := range lines[:len(lines)-5] {
		if crashRE.MatchString(l) {
			head := lines[i:min(i+6, len(lines)-5)]
			return strings.Join(head, " | ") + " | ... | " + last
		}
	}
	return last
}

// crashRE matches the first line of a Go program's crash report.
var crashRE = regexp.MustCompile(`^(panic: |fatal error: |SIG[A-Z]+: )`)

// perOp runs a loop program for n operations and returns its ns/op.
func (b *bench) perOp(platform string, j *job, n int64) (float64, error) {
	args := j.loopArgs(n)
	out, err := b.run(platform, false, j, args...)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(out.result, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || (n > 0 && v == 0) {
		return 0, fmt.Errorf("%s run of %s %s: want a line \"result NS_PER_OP\" on stdout, got result %q",
			sideName(platform), j.prog, strings.Join(args, " "), out.result)
	}
	return v, nil
}

// calibrate finds the operation count for which one run of a loop program
// takes about b.target: it grows a pilot run tenfold until that takes a
// twentieth of the target, then extrapolates, to no fewer operations than
// least (see pilotOps).
func (b *bench) calibrate(platform string, j *job) (int64, error) {
	pilot, least := pilotOps(j.pilot, b.quick)
	for n := pilot; ; n *= 10 {
		ns, err := b.perOp(platform, j, n)
		if err != nil {
			return 0, err
		}
		if ns*float64(n) >= float64(b.target)/20 || n >= maxOps {
			return min(max(int64(float64(b.target)/ns), least), maxOps), nil
		}
	}
}

// pilotOps are the first pilot run's operation count and the least count
// calibrate returns for a job whose pilot is pilot (0: 1000): a tenth of the
// pilot, at least 1. With -quick the first pilot run has at most 100
// operations (but no fewer than the least): in the x86 lane 1000 operations
// of a loop program take seconds in the sandbox, for a run of 0.1 s.
func pilotOps(pilot int64, quick bool) (first, least int64) {
	if pilot <= 0 {
		pilot = 1000
	}
	least = max(pilot/10, 1)
	if quick {
		return max(min(pilot, 100), least), least
	}
	return pilot, least
}

// loopRow measures a loop program on every side; ops 0 means calibrate the
// operation count for each side. The sides take turns, the median of b.reps
// runs (or j.reps, if fewer) is kept.
func (b *bench) loopRow(r *row, j *job, ops int64) error {
	r.Runs = b.reps
	if j.reps > 0 {
		r.Runs = min(r.Runs, j.reps)
	}
	n := map[string]int64{}
	for _, p := range b.sides() {
		n[p] = ops
		if ops == 0 {
			var err error
			if n[p], err = b.calibrate(p, j); err != nil {
				return err
			}
		}
	}
	r.NativeOps = n[native]
	for _, p := range b.platforms {
		res := &result{Ops: n[p]}
		var err error
		if res.Exits, res.Counters, err = b.exitsPerOp(p, j, max(n[p], j.exitOps)); err != nil {
			return err
		}
		r.Platforms[p] = res
	}
	samples := map[string][]float64{}
	for range r.Runs {
		for _, p := range b.sides() {
			v, err := b.perOp(p, j, n[p])
			if err != nil {
				return err
			}
			samples[p] = append(samples[p], v)
		}
	}
	b.finish(r, samples)
	return nil
}

// exitsPerOp runs a loop program under ringbox --debug with n operations and
// with none, and returns the differences per operation of the VM exits and
// of each counter: the exits of start-up and exit cancel out.
func (b *bench) exitsPerOp(platform string, j *job, n int64) (float64, map[string]float64, error) {
	with, err := b.exits(platform, j, j.loopArgs(n)...)
	if err != nil {
		return 0, nil, err
	}
	without, err := b.exits(platform, j, j.loopArgs(0)...)
	if err != nil {
		return 0, nil, err
	}
	per := map[string]float64{}
	for k, v := range with {
		per[k] = max(v-without[k], 0) / float64(n)
	}
	return max(vmExits(with)-vmExits(without), 0) / float64(n), per, nil
}

// exits runs a program under ringbox --debug and returns its counters. It
// fails if ringbox reports a platform other than the one asked for.
func (b *bench) exits(platform string, j *job, args ...string) (map[string]float64, error) {
	out, err := b.run(platform, true, j, args...)
	if err != nil {
		return nil, err
	}
	return b.counters(platform, j.prog, out)
}

// counters are the counters of a ringbox --debug run of prog that produced
// out. It fails if ringbox reports a platform other than the one asked for.
func (b *bench) counters(platform, prog string, out *output) (map[string]float64, error) {
	m := platformRE.FindStringSubmatch(out.stderr)
	if m == nil {
		return nil, fmt.Errorf("%s --debug %s: no platform= in the debug log; stderr: %s",
			sideName(platform), prog, tail(out.stderr))
	}
	if kind, _, _ := strings.Cut(m[1], "/"); kind != platform {
		return nil, fmt.Errorf("%s --debug %s: ringbox reports platform %s", sideName(platform), prog, m[1])
	}
	b.seen[platform] = m[1]
	ex, err := parseExits(out.stderr)
	if err != nil {
		return nil, fmt.Errorf("%s --debug %s: %v; stderr: %s", sideName(platform), prog, err, tail(out.stderr))
	}
	return ex, nil
}

var platformRE = regexp.MustCompile(`\bplatform=(\S+)`)

// parseExits reads the counters of the line ringbox --debug ends with:
//
//	ringbox: exits: exit.exception=0 ... exit.syscall=17 exit.zapdrain=0 wall=4.82ms
//	ringbox: exits: exit.bounce=9 ... exit.zapdrain=0 kvm_run=11 leave=0 wall=115.145ms
//
// Keys lose their "exit." prefix; wall, the memory gauges (mem.*) and the
// vCPU pool's counters (vcpu.*) are left out.
func parseExits(stderr string) (map[string]float64, error) {
	for line := range strings.Lines(stderr) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "ringbox: exits:")
		if !ok {
			continue
		}
		m := map[string]float64{}
		for _, f := range strings.Fields(rest) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("exits line: bad field %q", f)
			}
			if k == "wall" || strings.HasPrefix(k, "mem.") || strings.HasPrefix(k, "vcpu.") {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("exits line: bad count %q", f)
			}
			m[strings.TrimPrefix(k, "exit.")] = float64(n)
		}
		if len(m) == 0 {
			return nil, errors.New("exits line has no counters")
		}
		return m, nil
	}
	return nil, errors.New(`no "ringbox: exits:" line on stderr`)
}

// vmExits is the number of VM exits of one run from its counters. In ring0
// mode (the counters have kvm_run) every KVM_RUN after the first follows an
// exit; in exit mode it is the sum of the exit.* counters, one per exit.
func vmExits(m map[string]float64) float64 {
	if n, ok := m["kvm_run"]; ok {
		return max(n-1, 0)
	}
	var sum float64
	for _, v := range m {
		sum += v
	}
	return sum
}

// startRow measures the time from just before starting the process to the
// program's first instruction, as the program reports it in CLOCK_REALTIME.
func (b *bench) startRow(r *row) error {
	j := &job{prog: "start"}
	if err := b.wholeRunExits(r, j); err != nil {
		return err
	}
	return b.medians(r, func(platform string) (float64, error) {
		out, err := b.run(platform, false, j)
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(out.result, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s start: want a line \"result NANOSECONDS\" on stdout, got result %q",
				sideName(platform), out.result)
		}
		d := ns - out.start.UnixNano()
		if d < 0 || d > int64(time.Minute) {
			return 0, fmt.Errorf("%s start: first instruction %v after the process was started: clocks disagree",
				sideName(platform), time.Duration(d))
		}
		return float64(d), nil
	})
}

// helloRow measures the wall time of a whole hello world run of prog
// (static, or linked to the host's libc).
func (b *bench) helloRow(r *row, prog string) error {
	j := &job{prog: prog}
	if err := b.wholeRunExits(r, j); err != nil {
		return err
	}
	return b.medians(r, func(platform string) (float64, error) {
		out, err := b.run(platform, false, j)
		if err != nil {
			return 0, err
		}
		if out.first != "hello, world" {
			return 0, fmt.Errorf("%s hello printed %q, want \"hello, world\"", sideName(platform), out.first)
		}
		return float64(out.wall), nil
	})
}

// lsArgs are the arguments of the ls row.
var lsArgs = []string{"-la", "/usr/bin"}

// lsRuns bounds the ls row's runs per side: a run takes a second or more in
// ring0 mode (5 s in the x86 lane); quickLsRuns with -quick.
const (
	lsRuns      = 10
	quickLsRuns = 3
)

// lsRow measures the wall time of a whole run of the host's ls -la /usr/bin,
// a dynamic program, with stdout on /dev/null. One run per side with stdout
// on a pipe first checks that every side lists as many lines; it is also the
// warm-up round, and its ringbox runs (with --debug) give the exits.
func (b *bench) lsRow(r *row) error {
	j := &job{prog: "/bin/ls", devNull: true}
	piped := &job{prog: j.prog}
	lines := map[string]int{}
	for _, p := range b.sides() {
		// The ringbox runs of this round have --debug: their counters are
		// the row's (ls makes the same system calls whatever its stdout).
		out, err := b.run(p, p != native, piped, lsArgs...)
		if err != nil {
			return err
		}
		lines[p] = out.lines
		if out.lines < 3 || out.lines != lines[native] {
			return fmt.Errorf("%s ls %s printed %d lines, native %d", sideName(p),
				strings.Join(lsArgs, " "), out.lines, lines[native])
		}
		if p != native {
			m, err := b.counters(p, piped.prog, out)
			if err != nil {
				return err
			}
			r.Platforms[p] = &result{Exits: vmExits(m), Counters: m}
		}
	}
	runs := min(b.runs, lsRuns)
	if b.quick {
		runs = min(runs, quickLsRuns)
	}
	return b.mediansOf(r, runs, false, func(platform string) (float64, error) {
		out, err := b.run(platform, false, j, lsArgs...)
		if err != nil {
			return 0, err
		}
		return float64(out.wall), nil
	})
}

// cmdRow times whole runs of a host program with args (stdout to
// /dev/null), lsRuns per side (quickLsRuns with -quick), and takes the
// exits from one --debug run: the interpreter and small-command rows whose
// exit counts issue 11 watches.
func (b *bench) cmdRow(r *row, prog string, args ...string) error {
	if _, err := os.Stat(prog); err != nil {
		return fmt.Errorf("%s is not on this host", prog)
	}
	j := &job{prog: prog, devNull: true}
	if err := b.wholeRunExits(r, j, args...); err != nil {
		return err
	}
	runs := min(b.runs, lsRuns)
	if b.quick {
		runs = min(runs, quickLsRuns)
	}
	return b.mediansOf(r, runs, true, func(platform string) (float64, error) {
		out, err := b.run(platform, false, j, args...)
		if err != nil {
			return 0, err
		}
		return float64(out.wall), nil
	})
}

// wholeRunExits sets each platform's exits of r to those of one whole run
// of j's program with args.
func (b *bench) wholeRunExits(r *row, j *job, args ...string) error {
	for _, p := range b.platforms {
		m, err := b.exits(p, j, args...)
		if err != nil {
			return err
		}
		r.Platforms[p] = &result{Exits: vmExits(m), Counters: m}
	}
	return nil
}

// medians runs measure b.runs times on each side, the sides taking turns,
// after one untimed warm-up round, and sets r's figures to the medians.
func (b *bench) medians(r *row, measure func(platform string) (float64, error)) error {
	return b.mediansOf(r, b.runs, true, measure)
}

// mediansOf is medians with runs runs per side, after a warm-up round if
// warm is set.
func (b *bench) mediansOf(r *row, runs int, warm bool, measure func(platform string) (float64, error)) error {
	r.Runs = runs
	samples := map[string][]float64{}
	first := 0
	if warm {
		first = -1
	}
	for i := first; i < runs; i++ {
		for _, p := range b.sides() {
			v, err := measure(p)
			if err != nil {
				return err
			}
			if i >= 0 {
				samples[p] = append(samples[p], v)
			}
		}
	}
	b.finish(r, samples)
	return nil
}

// finish sets r's figures to the medians of samples, keyed by side. The
// platforms measured are those of r.Platforms.
func (b *bench) finish(r *row, samples map[string][]float64) {
	r.Native = median(samples[native])
	for _, p := range b.platforms {
		res := r.Platforms[p]
		if res == nil {
			continue
		}
		res.Platform = b.seen[p]
		res.NS = median(samples[p])
		if r.Native > 0 {
			res.Ratio = res.NS / r.Native
		}
	}
	r.derive()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// progress notes a finished row on stderr.
func progress(r *row, platforms []string) {
	if !r.measured() {
		return // skip and fail noted it
	}
	var b strings.Builder
	fmt.Fprintf(&b, "bench: %s: native %s", r.Name, r.figure(r.Native))
	for _, p := range platforms {
		if res := r.Platforms[p]; res != nil {
			fmt.Fprintf(&b, ", %s %s", label(p), r.figure(res.NS))
		}
	}
	fmt.Fprintf(&b, " (median of %d", r.Runs)
	if r.NativeOps != 0 {
		fmt.Fprintf(&b, "; ops per run: native %d", r.NativeOps)
		for _, p := range platforms {
			if res := r.Platforms[p]; res != nil {
				fmt.Fprintf(&b, ", %s %d", label(p), res.Ops)
			}
		}
	}
	fmt.Fprintf(&b, "; %.1f s)\n", r.Seconds)
	progressLine(b.String())
}

// progressOut takes the bench's notes on its progress.
var progressOut io.Writer = os.Stderr

func progressLine(s string) {
	io.WriteString(progressOut, s)
}
