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
}

// faultPages is the size of the first-touch region: 64 MiB.
const faultPages = 64 << 20 / 4096

// The size of the read and write rows' files: 1 GiB, 128 MiB with -quick.
const (
	fileBytes      = 1 << 30
	quickFileBytes = 128 << 20
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
	}
	size := int64(fileBytes)
	if *quick {
		b.target, b.reps, b.runs = 100*time.Millisecond, 3, 5
		size = quickFileBytes
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
	fs := b.files
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
		newRow("open+close existing file", "op", nil),
		newRow("stat existing file", "op", nil),
		newRow(fmt.Sprintf("getdents: list %d-entry dir", dirEntries), "listing", nil),
		newRateRow(fmt.Sprintf("read %s file, 1 MiB reads", sizeName(fs.bigBytes))),
		newRateRow(fmt.Sprintf("write %s+fsync, --tmpfs", sizeName(fs.bigBytes))),
		newRateRow(fmt.Sprintf("write %s+fsync, rw --mount", sizeName(fs.bigBytes))),
		newRow("ls -la /usr/bin, whole run", "run", nil),
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
		func(r *row) error { return b.loopRow(r, &job{prog: "fault"}, faultPages) },
		func(r *row) error { return b.loopRow(r, &job{prog: "mmap"}, 0) },
		b.startRow,
		b.helloRow,
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
	}
	for i, step := range steps {
		if err := step(rows[i]); err != nil {
			return nil, err
		}
	}
	return rows, nil
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
