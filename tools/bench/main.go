package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

//go:embed progs/*.c progs/*.h
var progSources embed.FS

// progs are the benchmark programs, compiled with gcc -static -O2 plus
// these extra flags.
var progs = map[string][]string{
	"syscall": nil,
	"fault":   nil,
	"mmap":    nil,
	"mix":     nil,
	"hello":   nil,
	"start":   {"-nostdlib", "-fno-stack-protector"},
}

// faultPages is the size of the first-touch region: 64 MiB.
const faultPages = 64 << 20 / 4096

func main() {
	if err := benchMain(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func benchMain() error {
	quick := flag.Bool("quick", false, "fewer and shorter runs (CI smoke test)")
	ringbox := flag.String("ringbox", "", "use this ringbox binary instead of building ./cmd/ringbox")
	platform := flag.String("platform", "", "measure only ringbox --platform=NAME against native (default: both kvm and kvm-exit)")
	jsonOut := flag.Bool("json", false, "print JSON on stdout (the table then goes to stderr)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: go run ./tools/bench [-quick] [-ringbox PATH] [-platform NAME] [-json]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	began := time.Now()
	if err := checkKVM(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ringbox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	b := &bench{
		dir:       dir,
		platforms: []string{ring0Platform, exitPlatform},
		target:    time.Second,
		reps:      5,
		runs:      20,
		seen:      map[string]string{},
	}
	if *quick {
		b.target, b.reps, b.runs = 100*time.Millisecond, 3, 5
	}
	if *platform != "" {
		b.platforms = []string{*platform}
	}
	if *ringbox != "" {
		if b.ringbox, err = filepath.Abs(*ringbox); err != nil {
			return err
		}
	} else {
		b.ringbox = filepath.Join(dir, "ringbox")
		if err := buildRingbox(b.ringbox); err != nil {
			return err
		}
	}
	if err := compileProgs(dir); err != nil {
		return err
	}

	rows, err := b.measure()
	if err != nil {
		return err
	}
	rep := &report{
		Quick:     *quick,
		Ringbox:   b.ringbox,
		Platforms: b.platforms,
		Seen:      b.seen,
		CPU:       cpuModel(),
		CPUs:      runtime.NumCPU(),
		Rows:      rows,
		Seconds:   time.Since(began).Seconds(),
	}
	var table io.Writer = os.Stdout
	if *jsonOut {
		table = os.Stderr
	}
	rep.printTable(table)
	if *jsonOut {
		return rep.printJSON(os.Stdout)
	}
	return nil
}

// measure runs every row, in the order of the table.
func (b *bench) measure() ([]*row, error) {
	rows := []*row{
		newRow("null syscall (getppid)", "op", &target{
			Text: "ring0 under 1 µs/op and under 3x native", MaxNs: 1e3, MaxRatio: 3}),
		newRow("first-touch fault, 64 MiB", "page", nil),
		newRow("mmap 64 KiB, touch, munmap", "iter", &target{
			Text: "ring0 under 80 µs/iter", MaxNs: 80e3}),
		newRow("start-up to first instruction", "run", &target{
			Text: "ring0 under 10 ms", MaxNs: 10e6}),
		newRow("static hello, whole run", "run", nil),
		newRow("mix: clock_gettime+getpid+write 64B", "iter", nil),
	}
	steps := []func(*row) error{
		func(r *row) error { return b.loopRow(r, "syscall", 0) },
		func(r *row) error { return b.loopRow(r, "fault", faultPages) },
		func(r *row) error { return b.loopRow(r, "mmap", 0) },
		b.startRow,
		b.helloRow,
		func(r *row) error { return b.loopRow(r, "mix", 0) },
	}
	for i, step := range steps {
		if err := step(rows[i]); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// checkKVM fails unless /dev/kvm opens read-write and answers
// KVM_GET_API_VERSION with the stable API version 12.
func checkKVM() error {
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("/dev/kvm is unusable: %v (ringbox needs read-write access to KVM)", err)
	}
	defer unix.Close(fd)
	const kvmGetAPIVersion = 0xAE00
	v, err := unix.IoctlRetInt(fd, kvmGetAPIVersion)
	if err != nil {
		return fmt.Errorf("/dev/kvm is unusable: KVM_GET_API_VERSION: %v", err)
	}
	if v != 12 {
		return fmt.Errorf("/dev/kvm is unusable: KVM API version %d, want 12", v)
	}
	return nil
}

// buildRingbox builds ./cmd/ringbox of the module the go command is run in.
func buildRingbox(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if _, err := os.Stat(filepath.Join(root, "cmd", "ringbox")); err != nil {
		return errors.New("run from the ringbox module (go run ./tools/bench) or pass -ringbox PATH")
	}
	cmd := exec.Command("go", "build", "-o", out, "./cmd/ringbox")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/ringbox: %v: %s", err, tail(string(msg)))
	}
	return nil
}

// compileProgs writes the embedded C sources to dir/src and compiles each
// program to dir/NAME.
func compileProgs(dir string) error {
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return err
	}
	files, err := progSources.ReadDir("progs")
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := progSources.ReadFile("progs/" + f.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, f.Name()), data, 0o644); err != nil {
			return err
		}
	}
	for name, extra := range progs {
		args := append([]string{"-static", "-O2", "-Wall", "-o", filepath.Join(dir, name)}, extra...)
		args = append(args, filepath.Join(src, name+".c"))
		if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("gcc %s: %v: %s", strings.Join(args, " "), err, tail(string(msg)))
		}
	}
	return nil
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
