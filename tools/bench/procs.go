package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"ringbox/netstack/nat"
)

// The process and thread rows: loop programs that fork, spawn, create
// threads and ping-pong between two processes or two threads (progs/), and
// whole runs of real programs that start many processes: a shell loop, gcc
// and make.

// The sh row runs /bin/true this many times; quickShLoops with -quick.
const (
	shLoops      = 200
	quickShLoops = 20
)

// toolRuns are the timed runs per side of the sh, gcc and make rows; 1 with
// -quick (a run of gcc takes seconds in the x86 lane, make -j2 tens of
// seconds).
const toolRuns = 5

// toolPath is the environment of the sh, gcc and make rows on every side.
const toolPath = "PATH=/usr/local/bin:/usr/bin:/bin"

// shCommand is the sh row's loop as the table names it.
func shCommand(loops int) string {
	return fmt.Sprintf("for i in $(seq %d); do /bin/true; done", loops)
}

// shRowName names the sh row.
func shRowName(loops int) string {
	return fmt.Sprintf("sh -c '%s'", shCommand(loops))
}

// tool is a whole run of a real program: the sh, gcc and make rows.
type tool struct {
	job  *job
	args []string
	// prepare readies the next run (removes what the last one made), if
	// not nil.
	prepare func() error
	// check checks what a run printed and made.
	check     func(out *output) error
	platforms []string // the platforms measured: the bench's or fewer
	runs      int      // timed runs per side
}

// toolRow measures the wall time of whole runs of a real program. One
// untimed native run first warms the host's page cache, which every side
// reads the program's files through; then the sides take turns for t.runs
// rounds. Every ringbox run has --debug, which adds only its counters line
// and a few log lines: the row's counters and exits are the medians of the
// timed runs'. Every run is checked.
func (b *bench) toolRow(r *row, t *tool) error {
	r.Runs = t.runs
	once := func(p string) (*output, error) {
		if t.prepare != nil {
			if err := t.prepare(); err != nil {
				return nil, err
			}
		}
		out, err := b.run(p, p != native, t.job, t.args...)
		if err != nil {
			return nil, err
		}
		if err := t.check(out); err != nil {
			return nil, fmt.Errorf("%s %s %s: %v", sideName(p), t.job.prog, strings.Join(t.args, " "), err)
		}
		return out, nil
	}
	if _, err := once(native); err != nil {
		return err
	}
	samples := map[string][]float64{}
	counts := map[string][]map[string]float64{}
	for range t.runs {
		for _, p := range append([]string{native}, t.platforms...) {
			out, err := once(p)
			if err != nil {
				return err
			}
			samples[p] = append(samples[p], float64(out.wall))
			if p != native {
				m, err := b.counters(p, t.job.prog, out)
				if err != nil {
					return err
				}
				counts[p] = append(counts[p], m)
			}
		}
	}
	for _, p := range t.platforms {
		r.Platforms[p] = medianCounters(counts[p])
	}
	b.finish(r, samples)
	return nil
}

// medianCounters is a result whose exits are the median of runs' VM exits
// and whose counters are each the median of runs' values.
func medianCounters(runs []map[string]float64) *result {
	res := &result{Counters: map[string]float64{}}
	var exits []float64
	keys := map[string]bool{}
	for _, m := range runs {
		exits = append(exits, vmExits(m))
		for k := range m {
			keys[k] = true
		}
	}
	for k := range keys {
		var v []float64
		for _, m := range runs {
			v = append(v, m[k])
		}
		res.Counters[k] = median(v)
	}
	res.Exits = median(exits)
	return res
}

// shRow measures sh -c 'for i in $(seq N); do /bin/true; done' (dash on
// Debian: a fork and an exec per loop). The command ends with "; echo $i",
// and every run must print N.
func (b *bench) shRow(r *row, loops int) error {
	want := strconv.Itoa(loops)
	return b.toolRow(r, &tool{
		job:  &job{prog: "/bin/sh", env: []string{toolPath}},
		args: []string{"-c", shCommand(loops) + "; echo $i"},
		check: func(out *output) error {
			if out.first != want || out.lines != 1 {
				return fmt.Errorf("printed %d lines, the first %q; want one line %q", out.lines, out.first, want)
			}
			return nil
		},
		platforms: b.platforms,
		runs:      b.toolRuns(),
	})
}

// toolRuns are the timed runs per side of the sh, gcc and make rows.
func (b *bench) toolRuns() int {
	if b.quick {
		return 1
	}
	return toolRuns
}

// buildPlatforms are the platforms of the gcc and make rows: with -quick
// only the first (ring0 mode by default), to keep the run short.
func (b *bench) buildPlatforms() []string {
	if b.quick {
		return b.platforms[:1]
	}
	return b.platforms
}

// buildJob runs prog in dir on every side: natively there, in the sandbox
// with dir bound read-write at its own path as the working directory.
func buildJob(prog, dir string) *job {
	return &job{prog: prog, dir: dir, env: []string{toolPath},
		flags: []string{"--mount", dir + ":" + dir + ":rw", "--workdir", dir}}
}

// gccRow measures gcc -O2 hello.c (progs/hello.c) in a directory of its
// own; every run must make an a.out that prints "hello, world" natively.
// The row is skipped when gcc is missing.
func (b *bench) gccRow(r *row) error {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		r.skip("gcc not found: " + err.Error())
		return nil
	}
	dir := filepath.Join(b.dir, "gcc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	src, err := progSources.ReadFile("progs/hello.c")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.c"), src, 0o644); err != nil {
		return err
	}
	aout := filepath.Join(dir, "a.out")
	return b.toolRow(r, &tool{
		job:     buildJob(gcc, dir),
		args:    []string{"-O2", "hello.c"},
		prepare: func() error { return removeAll(aout) },
		check: func(*output) error {
			return runsAndPrints(aout, "hello, world\n")
		},
		platforms: b.buildPlatforms(),
		runs:      b.toolRuns(),
	})
}

// makeRow measures make -B -j2 of the project writeProject makes; every run
// must build a program that prints what the project computes. The row is
// skipped when make or gcc is missing.
func (b *bench) makeRow(r *row) error {
	mk, err := exec.LookPath("make")
	if err != nil {
		r.skip("make not found: " + err.Error())
		return nil
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		r.skip("gcc not found: " + err.Error())
		return nil
	}
	dir := filepath.Join(b.dir, "make")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	want, err := writeProject(dir)
	if err != nil {
		return err
	}
	return b.toolRow(r, &tool{
		job:     buildJob(mk, dir),
		args:    []string{"-B", "-j2"},
		prepare: func() error { return cleanProject(dir) },
		check: func(*output) error {
			return runsAndPrints(filepath.Join(dir, projectProg), want)
		},
		platforms: b.buildPlatforms(),
		runs:      b.toolRuns(),
	})
}

// runsAndPrints runs prog natively and fails unless it prints want.
func runsAndPrints(prog, want string) error {
	out, err := exec.Command(prog).Output()
	if err != nil {
		return fmt.Errorf("the program it built, %s: %v", prog, err)
	}
	if string(out) != want {
		return fmt.Errorf("the program it built, %s, printed %q, want %q", prog, out, want)
	}
	return nil
}

// removeAll removes files that may not exist.
func removeAll(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// The make row's project: projectModules modules m1.c ... and main.c, which
// prints what they compute, a header and a Makefile that compiles each .c
// file with gcc -O2 and links projectProg.
const (
	projectModules = 3
	projectProg    = "prog"
	projectArg     = 1000
)

// writeProject writes the make row's project into dir and returns what its
// program prints.
func writeProject(dir string) (string, error) {
	files := map[string]string{}
	var decls, calls, objs strings.Builder
	var want strings.Builder
	want.WriteString("project")
	objs.WriteString("main.o")
	for k := 1; k <= projectModules; k++ {
		files[fmt.Sprintf("m%d.c", k)] = fmt.Sprintf(`#include "proj.h"

long m%[1]d(long x) {
	long s = 0;
	for (long i = 0; i < x; i++)
		s += (i * %[1]d) %% 7;
	return s;
}
`, k)
		fmt.Fprintf(&decls, "long m%d(long);\n", k)
		fmt.Fprintf(&calls, "\tprintf(\" %%ld\", m%d(%d));\n", k, projectArg)
		fmt.Fprintf(&objs, " m%d.o", k)
		fmt.Fprintf(&want, " %d", projectSum(k, projectArg))
	}
	want.WriteString("\n")
	files["proj.h"] = decls.String()
	files["main.c"] = "#include <stdio.h>\n#include \"proj.h\"\n\nint main(void) {\n\tprintf(\"project\");\n" +
		calls.String() + "\tprintf(\"\\n\");\n\treturn 0;\n}\n"
	files["Makefile"] = "CC = gcc\nCFLAGS = -O2 -Wall\nOBJS = " + objs.String() + "\n\n" +
		projectProg + ": $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n" +
		"%.o: %.c proj.h\n\t$(CC) $(CFLAGS) -c $<\n"
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return want.String(), nil
}

// projectSum is what module k of the project computes for x.
func projectSum(k, x int) int {
	s := 0
	for i := range x {
		s += i * k % 7
	}
	return s
}

// cleanProject removes what a build of the project made.
func cleanProject(dir string) error {
	paths := []string{filepath.Join(dir, projectProg), filepath.Join(dir, "main.o")}
	for k := 1; k <= projectModules; k++ {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("m%d.o", k)))
	}
	return removeAll(paths...)
}

// natRow times mib MiB sent to a server on the host's 127.0.0.1 that reads
// it all, then closes: natively straight to it, in the sandbox through
// --net=sandbox's NAT (the gateway's address, the port allowed).
func (b *bench) natRow(r *row, mib int64, reps int) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	return b.loopRow(r, &job{prog: "sock", args: []string{"to", "127.0.0.1", port}, reps: reps,
		sandboxArgs: []string{"to", nat.Gateway4.String(), port},
		flags:       []string{"--net=sandbox", "--allow-net", "127.0.0.1:" + port}}, mib)
}
