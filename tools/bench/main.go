package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

//go:embed progs/*.c progs/*.h
var progSources embed.FS

// progs are the benchmark programs, compiled with gcc -static -O2 plus
// these extra flags.
var progs = map[string][]string{
	"syscall":   nil,
	"clock":     nil,
	"fault":     nil,
	"mmap":      nil,
	"mix":       nil,
	"hello":     nil,
	"start":     {"-nostdlib", "-fno-stack-protector"},
	"openclose": nil,
	"stat":      nil,
	"listdir":   nil,
	"readfile":  nil,
	"writefile": nil,
	"fork":      nil,
	"spawn":     nil,
	"thread":    {"-pthread"},
	"pipepong":  nil,
	"futexpong": {"-pthread"},
	"sock":      nil,
}

// dynamicProgs are compiled without -static (linked to the host's libc),
// each from the source of the program named.
var dynamicProgs = map[string]string{
	"hello-dynamic": "hello",
}

// The size of the first-touch region: 64 MiB, 16 MiB with -quick.
const (
	faultBytes      = 64 << 20
	quickFaultBytes = 16 << 20
)

// The size of the read and write rows' files: 1 GiB, 64 MiB with -quick.
const (
	fileBytes      = 1 << 30
	quickFileBytes = 64 << 20
)

// shmRoot is where the native side of the --tmpfs write row writes: the
// host's tmpfs.
const shmRoot = "/dev/shm"

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
	hostio := flag.String("hostio", "", "run ringbox with --hostio=MODE (thread, exit, auto; default: ringbox's own)")
	only := flag.String("rows", "", "run only the rows whose names match this regular expression (the others show as skipped)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: go run ./tools/bench [-quick] [-ringbox PATH] [-platform NAME] [-hostio MODE] [-rows REGEXP] [-json]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	var rowsRE *regexp.Regexp
	if *only != "" {
		var err error
		if rowsRE, err = regexp.Compile(*only); err != nil {
			return fmt.Errorf("-rows: %v", err)
		}
	}
	began := time.Now()
	if err := checkKVM(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ringbox-bench-")
	if err != nil {
		return err
	}
	var fs *files
	var once sync.Once
	cleanup := func() {
		once.Do(func() {
			fs.remove()
			os.RemoveAll(dir)
		})
	}
	defer cleanup()
	// An interrupted bench still removes its files (a GiB in /dev/shm
	// is memory); the programs it runs get the terminal's signal too.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, unix.SIGTERM, unix.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		s := <-sigs
		cleanup()
		fmt.Fprintf(os.Stderr, "bench: %v: stopped, files removed\n", s)
		os.Exit(1)
	}()

	b := &bench{
		dir:       dir,
		platforms: []string{ring0Platform, exitPlatform},
		target:    time.Second,
		reps:      5,
		runs:      20,
		seen:      map[string]string{},
		only:      rowsRE,
	}
	size := int64(fileBytes)
	if *quick {
		b.quick = true
		b.target, b.reps, b.runs = 100*time.Millisecond, 3, 5
		size = quickFileBytes
	}
	if *platform != "" {
		b.platforms = []string{*platform}
	}
	var notes []string
	if *quick {
		notes = quickNotes(b.platforms)
	}
	if *hostio != "" {
		b.ringboxFlags = append(b.ringboxFlags, "--hostio="+*hostio)
		notes = append(notes, "ringbox runs with --hostio="+*hostio)
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
	made := time.Now()
	fs, err = makeFiles(dir, shmRoot, size, dirEntries)
	if err != nil {
		return fmt.Errorf("making the file-system rows' files: %v", err)
	}
	b.files = fs
	fmt.Fprintf(os.Stderr, "bench: made a %s data file and a %d-entry directory in %s (%s) in %v\n",
		sizeName(size), dirEntries, fs.data, fsName(fs.data), time.Since(made).Round(time.Millisecond))

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
		Emulated:  emulation(),
		Files:     fs.data,
		FilesFS:   fsName(fs.data),
		Shm:       fs.shm,
		ShmFS:     fsName(fs.shm),
		FileBytes: size,
		Notes:     notes,
		Rows:      rows,
		Seconds:   time.Since(began).Seconds(),
	}
	var table io.Writer = os.Stdout
	if *jsonOut {
		table = os.Stderr
	}
	rep.printTable(table)
	if *jsonOut {
		if err := rep.printJSON(os.Stdout); err != nil {
			return err
		}
	}
	return rep.failures()
}

// quickNotes are the header lines that say what -quick leaves out of the
// process rows.
func quickNotes(platforms []string) []string {
	n := []string{fmt.Sprintf("quick: the first-touch row touches %s, not the full run's %s",
		sizeName(quickFaultBytes), sizeName(faultBytes)),
		fmt.Sprintf("quick: the sh row runs seq %d, not the full run's %d; "+
			"the sh, gcc and make rows time one run per side, not %d", quickShLoops, shLoops, toolRuns)}
	if len(platforms) > 1 {
		n = append(n, fmt.Sprintf("quick: the gcc and make rows run natively and in %s mode only",
			label(platforms[0])))
	}
	n = append(n, fmt.Sprintf("quick: the ls row times %d runs per side, not %d", quickLsRuns, lsRuns))
	return n
}

// measure runs every row, in the order of the table.
func (b *bench) measure() ([]*row, error) {
	fs := b.files
	loops, faultSize := shLoops, int64(faultBytes)
	if b.quick {
		loops, faultSize = quickShLoops, quickFaultBytes
	}
	rows := []*row{
		newRow("null syscall (getppid)", "op", &target{
			Text: "ring0 under 1 µs/op and under 3x native", MaxNs: 1e3, MaxRatio: 3}),
		newRow("clock_gettime through libc (vDSO)", "op", nil),
		newRow(fmt.Sprintf("first-touch fault, %s", sizeName(faultSize)), "page", nil),
		newRow("mmap 64 KiB, touch, munmap", "iter", &target{
			Text: "ring0 under 80 µs/iter", MaxNs: 80e3}),
		newRow("start-up to first instruction", "run", &target{
			Text: "ring0 under 10 ms", MaxNs: 10e6}),
		newRow("static hello, whole run", "run", nil),
		newRow("dynamic hello, whole run", "run", &target{
			Text: "ring0 under native + 5 ms", MaxExtraNs: 5e6}),
		newRow("mix: clock_gettime+getpid+write 64B", "iter", nil),
		newRow("open+close existing file", "op", nil),
		newRow("stat existing file", "op", nil),
		newRow(fmt.Sprintf("getdents: list %d-entry dir", dirEntries), "listing", nil),
		newRateRow(fmt.Sprintf("read %s file, 1 MiB reads", sizeName(fs.bigBytes))),
		newRateRow(fmt.Sprintf("write %s+fsync, --tmpfs", sizeName(fs.bigBytes))),
		newRateRow(fmt.Sprintf("write %s+fsync, rw --mount", sizeName(fs.bigBytes))),
		newRow("ls -la /usr/bin, whole run", "run", ratioTarget(2)),
		newRow("python3 -c pass, whole run", "run", ratioTarget(1.5)),
		newRow("python3 -c 'import json, email, http.client, sqlite3', whole run", "run", ratioTarget(1.5)),
		newRow("stat /etc/passwd, whole run", "run", nil),
		newRow("cat /etc/passwd, whole run", "run", nil),
		newMemoryRow(fmt.Sprintf("PSS of a sandbox running sleep %d", pssSleep), &target{
			Text: "ring0 under 12 MB", MaxBytes: 12e6}),
		newRow("fork + wait", "fork", ratioTarget(2)),
		newRow("posix_spawn + exec + wait of /bin/true", "spawn", ratioTarget(2)),
		newRow("pthread create + join", "thread", ratioTarget(2)),
		newRow("pipe ping-pong, 2 processes, 1 byte", "round trip", ratioTarget(1.3)),
		newRow("futex ping-pong, 2 threads", "switch", ratioTarget(1.5)),
		newRateRow(fmt.Sprintf("TCP over loopback, %s, 2 processes", sizeName(fs.bigBytes))).with(
			&target{Text: "ring0 at least 50% of native throughput", MaxRatio: 2}),
		newRow("TCP request/response over loopback, 1 byte", "round trip", ratioTarget(3)),
		newRateRow(fmt.Sprintf("AF_UNIX stream, %s, 2 processes", sizeName(fs.bigBytes))).with(
			&target{Text: "ring0 at least 70% of native throughput", MaxRatio: 1 / 0.7}),
		newRateRow(fmt.Sprintf("TCP through the NAT to a host server, %s", sizeName(fs.bigBytes))).with(
			&target{Text: "ring0 at least 30% of native throughput", MaxRatio: 1 / 0.3}),
		newRow(shRowName(loops), "run", ratioTarget(2)),
		newRow("gcc -O2 hello.c, whole run", "run", ratioTarget(1.5)),
		newRow(fmt.Sprintf("make -j2, %d .c files, whole run", projectModules+1), "run", ratioTarget(1.5)),
	}
	// The file-system rows' files are bound at their own path; the write
	// rows write to their working directory, natively and in the sandbox.
	bind := []string{"--mount", fs.data + ":" + fs.data}
	// The read and write rows move the whole file in every run: seconds
	// in the sandbox. Medians of 3 runs keep the bench in its time.
	mib := fs.bigBytes / chunkSize
	const bigReps = 3
	steps := []func(*row) error{
		func(r *row) error { return b.loopRow(r, &job{prog: "syscall"}, 0) },
		func(r *row) error { return b.loopRow(r, &job{prog: "clock"}, 0) },
		func(r *row) error { return b.loopRow(r, &job{prog: "fault"}, faultSize/4096) },
		func(r *row) error { return b.loopRow(r, &job{prog: "mmap"}, 0) },
		b.startRow,
		func(r *row) error { return b.helloRow(r, "hello") },
		func(r *row) error { return b.helloRow(r, "hello-dynamic") },
		func(r *row) error { return b.loopRow(r, &job{prog: "mix"}, 0) },
		func(r *row) error {
			return b.loopRow(r, &job{prog: "openclose", args: []string{fs.small}, flags: bind}, 0)
		},
		func(r *row) error {
			return b.loopRow(r, &job{prog: "stat", args: []string{fs.small}, flags: bind}, 0)
		},
		func(r *row) error {
			return b.loopRow(r, &job{prog: "listdir", args: []string{fs.dir, strconv.Itoa(dirEntries)},
				flags: bind, pilot: 1}, 0)
		},
		func(r *row) error {
			return b.loopRow(r, &job{prog: "readfile", args: []string{fs.big}, flags: bind, reps: bigReps}, mib)
		},
		func(r *row) error {
			return b.loopRow(r, &job{prog: "writefile", args: []string{"bench.dat"}, dir: fs.shm,
				flags: []string{"--tmpfs", fs.mnt, "--workdir", fs.mnt}, reps: bigReps}, mib)
		},
		func(r *row) error {
			return b.loopRow(r, &job{prog: "writefile", args: []string{"bench.dat"}, dir: fs.rw,
				flags: []string{"--mount", fs.rw + ":" + fs.rw + ":rw", "--workdir", fs.rw}, reps: bigReps}, mib)
		},
		b.lsRow,
		func(r *row) error { return b.cmdRow(r, "/usr/bin/python3", "-c", "pass") },
		func(r *row) error {
			return b.cmdRow(r, "/usr/bin/python3", "-c", "import json, email, http.client, sqlite3")
		},
		func(r *row) error { return b.cmdRow(r, "/usr/bin/stat", "/etc/passwd") },
		func(r *row) error { return b.cmdRow(r, "/bin/cat", "/etc/passwd") },
		b.memoryRow,
		// The process rows' loop programs take little from a count of 1000
		// natively but up to a second per operation in the x86 lane: their
		// calibration starts small.
		func(r *row) error { return b.loopRow(r, &job{prog: "fork", pilot: 10, exitOps: 10}, 0) },
		func(r *row) error {
			return b.loopRow(r, &job{prog: "spawn", args: []string{"/bin/true"}, pilot: 1, exitOps: 5}, 0)
		},
		func(r *row) error { return b.loopRow(r, &job{prog: "thread", pilot: 10, exitOps: 10}, 0) },
		func(r *row) error { return b.loopRow(r, &job{prog: "pipepong", pilot: 100}, 0) },
		func(r *row) error { return b.loopRow(r, &job{prog: "futexpong", pilot: 100}, 0) },
		func(r *row) error { return b.loopRow(r, &job{prog: "sock", args: []string{"tcp"}, reps: bigReps}, mib) },
		func(r *row) error { return b.loopRow(r, &job{prog: "sock", args: []string{"rr"}, pilot: 100}, 0) },
		func(r *row) error {
			return b.loopRow(r, &job{prog: "sock", args: []string{"unix"}, reps: bigReps}, mib)
		},
		func(r *row) error { return b.natRow(r, mib, bigReps) },
		func(r *row) error { return b.shRow(r, loops) },
		b.gccRow,
		b.makeRow,
	}
	// A row that fails is marked so and the others still run; the bench
	// fails after the table (report.failures).
	for i, step := range steps {
		if b.only != nil && !b.only.MatchString(rows[i].Name) {
			rows[i].skip("not selected (-rows)")
			continue
		}
		began := time.Now()
		err := step(rows[i])
		rows[i].Seconds = time.Since(began).Seconds()
		if err != nil {
			rows[i].fail(err)
		}
		progress(rows[i], b.platforms)
	}
	return rows, nil
}

// ratioTarget is the target of ring0 mode under max times native.
func ratioTarget(max float64) *target {
	return &target{Text: fmt.Sprintf("ring0 under %sx native", strconv.FormatFloat(max, 'g', -1, 64)), MaxRatio: max}
}

// emulation describes the software emulation the figures come from, or is
// empty on a hardware host. The x86 lane (tools/x86lane) sets
// RINGBOX_X86LANE=1 in its guest.
func emulation() string {
	if os.Getenv("RINGBOX_X86LANE") != "1" {
		return ""
	}
	return "measured in the x86 lane: QEMU/TCG software emulation with a nested SVM KVM; " +
		"the figures (native ones too) are not comparable with a hardware host"
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
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as README builds it (vmm/confine)
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
	gcc := func(args ...string) error {
		if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("gcc %s: %v: %s", strings.Join(args, " "), err, tail(string(msg)))
		}
		return nil
	}
	for name, extra := range progs {
		args := append([]string{"-static", "-O2", "-Wall", "-o", filepath.Join(dir, name)}, extra...)
		if err := gcc(append(args, filepath.Join(src, name+".c"))...); err != nil {
			return err
		}
	}
	for name, from := range dynamicProgs {
		if err := gcc("-O2", "-Wall", "-o", filepath.Join(dir, name), filepath.Join(src, from+".c")); err != nil {
			return err
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
