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

// bench runs the benchmark programs natively and under ringbox.
type bench struct {
	dir      string // compiled programs
	ringbox  string // ringbox binary
	platform string // --platform value, or "" for ringbox's default

	target time.Duration // how long one timed run of a loop program should take
	reps   int           // timed runs per loop row and side (median taken)
	runs   int           // runs of the start-up and hello rows per side (median taken)

	platformSeen string // platform ringbox --debug reported
}

// maxOps bounds calibrated operation counts.
const maxOps = 1_000_000_000

// output is what one run of a program produced.
type output struct {
	result string        // the text after "result " on stdout
	first  string        // the first line of stdout
	start  time.Time     // just before the process was started
	wall   time.Duration // from start to exit
	stderr string
}

// run runs dir/prog with args, natively or under ringbox (with --debug when
// debug is set), with an empty environment and stdout on a pipe it drains.
// A non-zero exit status is an error.
func (b *bench) run(sandboxed, debug bool, prog string, args ...string) (*output, error) {
	argv := append([]string{filepath.Join(b.dir, prog)}, args...)
	if sandboxed {
		pre := []string{b.ringbox, "run"}
		if b.platform != "" {
			pre = append(pre, "--platform="+b.platform)
		}
		if debug {
			pre = append(pre, "--debug")
		}
		argv = append(append(pre, "--"), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	out := &output{start: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s %s: %v", side(sandboxed), prog, err)
	}
	sc := bufio.NewScanner(stdout)
	for lines := 0; sc.Scan(); lines++ {
		if lines == 0 {
			out.first = sc.Text()
		}
		if v, ok := strings.CutPrefix(sc.Text(), "result "); ok {
			out.result = v
		}
	}
	io.Copy(io.Discard, stdout) // whatever the scanner left (a too long line)
	err = cmd.Wait()
	out.wall = time.Since(out.start)
	out.stderr = stderr.String()
	if err != nil {
		return nil, fmt.Errorf("%s run of %s %s failed: %v; stderr: %s",
			side(sandboxed), prog, strings.Join(args, " "), err, tail(out.stderr))
	}
	if sc.Err() != nil {
		return nil, fmt.Errorf("%s %s: reading stdout: %v", side(sandboxed), prog, sc.Err())
	}
	return out, nil
}

func side(sandboxed bool) string {
	if sandboxed {
		return "ringbox"
	}
	return "native"
}

// tail is the end of a program's stderr, for error messages.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(empty)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// perOp runs a loop program for n operations and returns its ns/op.
func (b *bench) perOp(sandboxed bool, prog string, n int64) (float64, error) {
	out, err := b.run(sandboxed, false, prog, strconv.FormatInt(n, 10))
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(out.result, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || (n > 0 && v == 0) {
		return 0, fmt.Errorf("%s run of %s %d: want a line \"result NS_PER_OP\" on stdout, got result %q",
			side(sandboxed), prog, n, out.result)
	}
	return v, nil
}

// calibrate finds the operation count for which one run of a loop program
// takes about b.target: it grows a pilot run tenfold until that takes a
// twentieth of the target, then extrapolates.
func (b *bench) calibrate(sandboxed bool, prog string) (int64, error) {
	for n := int64(1000); ; n *= 10 {
		ns, err := b.perOp(sandboxed, prog, n)
		if err != nil {
			return 0, err
		}
		if ns*float64(n) >= float64(b.target)/20 || n >= maxOps {
			return min(max(int64(float64(b.target)/ns), 100), maxOps), nil
		}
	}
}

// loopRow measures a loop program on both sides; ops 0 means calibrate the
// operation count. Native and ringbox runs alternate, the median of b.reps
// runs is kept.
func (b *bench) loopRow(name, unit, prog string, ops int64) (*row, error) {
	r := &row{Name: name, Unit: unit, NativeOps: ops, RingboxOps: ops, Runs: b.reps}
	var err error
	if ops == 0 {
		if r.NativeOps, err = b.calibrate(false, prog); err != nil {
			return nil, err
		}
		if r.RingboxOps, err = b.calibrate(true, prog); err != nil {
			return nil, err
		}
	}
	if r.Exits, err = b.exitsPerOp(prog, r.RingboxOps); err != nil {
		return nil, err
	}
	var native, sandboxed []float64
	for range b.reps {
		v, err := b.perOp(false, prog, r.NativeOps)
		if err != nil {
			return nil, err
		}
		native = append(native, v)
		if v, err = b.perOp(true, prog, r.RingboxOps); err != nil {
			return nil, err
		}
		sandboxed = append(sandboxed, v)
	}
	r.set(median(native), median(sandboxed))
	progress(r)
	return r, nil
}

// exitsPerOp runs a loop program under ringbox --debug with n operations and
// with none, and returns the difference of the exit counters per operation:
// the exits of start-up and exit cancel out.
func (b *bench) exitsPerOp(prog string, n int64) (map[string]float64, error) {
	with, err := b.exits(prog, strconv.FormatInt(n, 10))
	if err != nil {
		return nil, err
	}
	without, err := b.exits(prog, "0")
	if err != nil {
		return nil, err
	}
	per := map[string]float64{}
	for k, v := range with {
		per[k] = max(v-without[k], 0) / float64(n)
	}
	return per, nil
}

// exits runs a program under ringbox --debug and returns its exit counters.
func (b *bench) exits(prog string, args ...string) (map[string]float64, error) {
	out, err := b.run(true, true, prog, args...)
	if err != nil {
		return nil, err
	}
	if m := platformRE.FindStringSubmatch(out.stderr); m != nil {
		b.platformSeen = m[1]
	}
	ex, err := parseExits(out.stderr)
	if err != nil {
		return nil, fmt.Errorf("ringbox --debug %s: %v; stderr: %s", prog, err, tail(out.stderr))
	}
	return ex, nil
}

var platformRE = regexp.MustCompile(`\bplatform=(\S+)`)

// parseExits reads the counters of the line ringbox --debug ends with:
//
//	ringbox: exits: exit.exception=0 ... exit.syscall=17 exit.zapdrain=0 wall=4.82ms
//
// Keys lose their "exit." prefix; wall is left out.
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
			if k == "wall" {
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

// startRow measures the time from just before starting the process to the
// program's first instruction, as the program reports it in CLOCK_REALTIME.
func (b *bench) startRow() (*row, error) {
	r := &row{Name: "start-up to first instruction", Unit: "run", Runs: b.runs}
	var err error
	if r.Exits, err = b.exits("start"); err != nil {
		return nil, err
	}
	startup := func(sandboxed bool) (float64, error) {
		out, err := b.run(sandboxed, false, "start")
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(out.result, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("start: want a line \"result NANOSECONDS\" on stdout, got result %q", out.result)
		}
		d := ns - out.start.UnixNano()
		if d < 0 || d > int64(time.Minute) {
			return 0, fmt.Errorf("start: first instruction %v after the process was started: clocks disagree", time.Duration(d))
		}
		return float64(d), nil
	}
	if err := b.medians(r, startup); err != nil {
		return nil, err
	}
	progress(r)
	return r, nil
}

// helloRow measures the wall time of a whole static hello world run.
func (b *bench) helloRow() (*row, error) {
	r := &row{Name: "static hello, whole run", Unit: "run", Runs: b.runs}
	var err error
	if r.Exits, err = b.exits("hello"); err != nil {
		return nil, err
	}
	wall := func(sandboxed bool) (float64, error) {
		out, err := b.run(sandboxed, false, "hello")
		if err != nil {
			return 0, err
		}
		if out.first != "hello, world" {
			return 0, fmt.Errorf("hello printed %q, want \"hello, world\"", out.first)
		}
		return float64(out.wall), nil
	}
	if err := b.medians(r, wall); err != nil {
		return nil, err
	}
	progress(r)
	return r, nil
}

// medians runs measure b.runs times on each side, alternating, after one
// untimed warm-up run each, and sets r to the medians.
func (b *bench) medians(r *row, measure func(sandboxed bool) (float64, error)) error {
	var native, sandboxed []float64
	for i := -1; i < b.runs; i++ {
		n, err := measure(false)
		if err != nil {
			return err
		}
		s, err := measure(true)
		if err != nil {
			return err
		}
		if i >= 0 {
			native, sandboxed = append(native, n), append(sandboxed, s)
		}
	}
	r.set(median(native), median(sandboxed))
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// progress notes a finished row on stderr.
func progress(r *row) {
	ops := ""
	if r.NativeOps != 0 {
		ops = fmt.Sprintf(", %d/%d ops per run", r.NativeOps, r.RingboxOps)
	}
	fmt.Fprintf(os.Stderr, "bench: %s: native %s, ringbox %s (median of %d%s)\n",
		r.Name, formatNs(r.Native, r.Unit), formatNs(r.Ringbox, r.Unit), r.Runs, ops)
}
