package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseExits(t *testing.T) {
	stderr := "time=... level=DEBUG msg=\"program loaded\" platform=kvm-exit/pvm\n" +
		"ringbox: exits: exit.exception=0 exit.interrupt=1 exit.other=0 exit.pagefault=2 exit.syscall=17 exit.zapdrain=0 mem.peak_kib=3000 mem.used_kib=2000 wall=4.82ms\n"
	got, err := parseExits(stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"exception": 0, "interrupt": 1, "other": 0, "pagefault": 2, "syscall": 17, "zapdrain": 0}
	if !maps.Equal(got, want) {
		t.Errorf("parseExits = %v, want %v", got, want)
	}
	if n := vmExits(got); n != 20 {
		t.Errorf("exit mode vmExits = %v, want 20", n)
	}
	if m := platformRE.FindStringSubmatch(stderr); m == nil || m[1] != "kvm-exit/pvm" {
		t.Errorf("platform = %v", m)
	}

	ring0 := "ringbox: exits: exit.bounce=9 exit.exception=0 exit.interrupt=0 exit.other=0 exit.pagefault=0 " +
		"exit.syscall=0 exit.zapdrain=0 kvm_run=11 leave=0 wall=115.145ms\n"
	got, err = parseExits(ring0)
	if err != nil {
		t.Fatal(err)
	}
	if got["bounce"] != 9 || got["kvm_run"] != 11 || got["leave"] != 0 {
		t.Errorf("ring0 parseExits = %v", got)
	}
	if n := vmExits(got); n != 10 {
		t.Errorf("ring0 vmExits = %v, want 10 (kvm_run - 1)", n)
	}
	if n := vmExits(map[string]float64{"kvm_run": 0}); n != 0 {
		t.Errorf("vmExits(kvm_run=0) = %v, want 0", n)
	}

	for _, bad := range []string{"", "hello\n", "ringbox: exits: wall=1ms\n", "ringbox: exits: exit.syscall=x\n", "ringbox: exits: junk\n"} {
		if _, err := parseExits(bad); err == nil {
			t.Errorf("parseExits(%q) succeeded", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		ns   float64
		want string
	}{{71.25, "71.2 ns/op"}, {26368.9, "26.37 µs/op"}, {5.3e6, "5.30 ms/op"}, {2.5e9, "2.50 s/op"}} {
		if got := formatNs(c.ns, "op"); got != c.want {
			t.Errorf("formatNs(%v) = %q, want %q", c.ns, got, c.want)
		}
	}
	if got := formatCounters(map[string]float64{"syscall": 1, "pagefault": 0.0625, "other": 0}); got != "pagefault=0.0625 syscall=1" {
		t.Errorf("formatCounters = %q", got)
	}
	if got := formatCount(7.4e-05); got != "7.4e-05" {
		t.Errorf("formatCount = %q", got)
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}

func TestTargets(t *testing.T) {
	for _, c := range []struct {
		ns, ratio float64
		want      string
	}{{900, 2.5, "PASS"}, {1100, 2.5, "MISS"}, {900, 3.5, "MISS"}} {
		r := newRow("null", "op", &target{MaxNs: 1e3, MaxRatio: 3})
		r.Platforms[ring0Platform] = &result{NS: c.ns, Ratio: c.ratio}
		r.derive()
		if r.Target.Verdict != c.want {
			t.Errorf("ring0 %v ns, %vx native: verdict %s, want %s", c.ns, c.ratio, r.Target.Verdict, c.want)
		}
	}
	// Native plus a margin (dynamic hello), and memory (PSS).
	for _, c := range []struct {
		native, ns float64
		want       string
	}{{10e6, 14e6, "PASS"}, {10e6, 15e6, "MISS"}} {
		r := newRow("hello", "run", &target{MaxExtraNs: 5e6})
		r.Native = c.native
		r.Platforms[ring0Platform] = &result{NS: c.ns}
		r.derive()
		if r.Target.Verdict != c.want {
			t.Errorf("native %v, ring0 %v: verdict %s, want %s", c.native, c.ns, r.Target.Verdict, c.want)
		}
	}
	m := newMemoryRow("pss", &target{MaxBytes: 12e6})
	m.Platforms[ring0Platform] = &result{NS: 13e6}
	m.derive()
	if m.Target.Verdict != "MISS" || m.figure(13e6) != "13.0 MB" {
		t.Errorf("memory row: verdict %s, figure %q", m.Target.Verdict, m.figure(13e6))
	}
	r := newRow("null", "op", &target{MaxNs: 1e3})
	r.Platforms[exitPlatform] = &result{NS: 500}
	r.derive()
	if r.Target.Verdict != "not measured" {
		t.Errorf("exit mode only: verdict %s", r.Target.Verdict)
	}
}

// TestTable checks the columns of the table with both platforms and with
// one.
func TestTable(t *testing.T) {
	mk := func(platforms ...string) *report {
		r := newRow("null syscall (getppid)", "op", &target{Text: "ring0 under 1 µs/op", MaxNs: 1e3})
		r.Native = 100
		for _, p := range platforms {
			r.Platforms[p] = &result{NS: 400, Ratio: 4, Exits: 1e-4, Counters: map[string]float64{"kvm_run": 1e-4}}
		}
		if r.Platforms[exitPlatform] != nil {
			r.Platforms[exitPlatform].NS, r.Platforms[exitPlatform].Ratio = 40000, 400
		}
		r.derive()
		return &report{Platforms: platforms, Seen: map[string]string{}, Rows: []*row{r}}
	}
	var buf bytes.Buffer
	mk(ring0Platform, exitPlatform).printTable(&buf)
	out := buf.String()
	for _, want := range []string{"ring0/native", "exit/native", "exit/ring0", "ring0 exits/unit", "exit exits/unit",
		"400.0 ns/op", "40.00 µs/op", "100x", "PASS  null syscall (getppid)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	mk(exitPlatform).printTable(&buf)
	out = buf.String()
	if strings.Contains(out, "exit/ring0") || strings.Contains(out, "ring0/native") || !strings.Contains(out, "not measured") {
		t.Errorf("exit-only table:\n%s", out)
	}
	if strings.Contains(out, "emulation") {
		t.Errorf("a hardware host's table mentions emulation:\n%s", out)
	}
}

// TestEmulationNote: in the x86 lane the table says its figures come from
// software emulation.
func TestEmulationNote(t *testing.T) {
	t.Setenv("RINGBOX_X86LANE", "1")
	rep := &report{Platforms: []string{ring0Platform}, Seen: map[string]string{}, Emulated: emulation()}
	var buf bytes.Buffer
	rep.printTable(&buf)
	if !strings.Contains(buf.String(), "NOTE: measured in the x86 lane: QEMU/TCG software emulation") {
		t.Errorf("no emulation note:\n%s", buf.String())
	}
	t.Setenv("RINGBOX_X86LANE", "")
	if emulation() != "" {
		t.Errorf("emulation() = %q outside the lane", emulation())
	}
}

// TestRateRow checks a row of bytes: MB/s figures, ratios of times, exits
// per MiB, and the -quick note on the size.
func TestRateRow(t *testing.T) {
	r := newRateRow("read 64 MiB file, 1 MiB reads")
	r.Native = 1e5 // 1 MiB in 100 µs: 10486 MB/s
	r.Platforms[ring0Platform] = &result{NS: 1e6, Ratio: 10, Exits: 4.12, Counters: map[string]float64{"bounce": 3.9}}
	r.Platforms[exitPlatform] = &result{NS: 2e5, Ratio: 2, Exits: 1.05, Counters: map[string]float64{"syscall": 1.05}}
	r.derive()
	if r.NativeMBps < 10485 || r.NativeMBps > 10486 || r.Platforms[ring0Platform].MBps < 1048 || r.Platforms[ring0Platform].MBps > 1049 {
		t.Errorf("MB/s: native %v, ring0 %v", r.NativeMBps, r.Platforms[ring0Platform].MBps)
	}
	if r.Speedup != 0.2 {
		t.Errorf("exit/ring0 = %v, want 0.2 (a ratio of times)", r.Speedup)
	}
	rep := &report{Quick: true, Platforms: []string{ring0Platform, exitPlatform}, Seen: map[string]string{},
		Files: "/tmp/x/data", FilesFS: "ext4", Shm: "/dev/shm/x", ShmFS: "tmpfs", FileBytes: quickFileBytes, Rows: []*row{r}}
	var buf bytes.Buffer
	rep.printTable(&buf)
	out := buf.String()
	for _, want := range []string{"10486 MB/s", "1049 MB/s", "5243 MB/s", "10.0x", "0.20x", "4.12/MiB", "1.05/MiB",
		"per MiB: bounce=3.9", "quick: the read and write rows move 64 MiB, not the full run's 1 GiB",
		"files in /tmp/x/data (ext4)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{8313.4, "8313 MB/s"}, {335.2, "335 MB/s"}, {42.25, "42.2 MB/s"}, {1.5, "1.50 MB/s"}} {
		if got := formatRate(c.v); got != c.want {
			t.Errorf("formatRate(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	if mbps(1<<20, 0) != 0 {
		t.Error("mbps of no time is not 0")
	}
	if sizeName(1<<30) != "1 GiB" || sizeName(128<<20) != "128 MiB" {
		t.Errorf("sizeName: %q, %q", sizeName(1<<30), sizeName(128<<20))
	}
}

func TestDataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := writeDataFile(path, 2*chunkSize); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 2*chunkSize {
		t.Fatalf("%d bytes, want %d", len(data), 2*chunkSize)
	}
	for off := 0; off < len(data); off += blockSize {
		if v := binary.LittleEndian.Uint64(data[off:]); v != uint64(off) || data[off+8] != 0xA5 || data[off+blockSize-1] != 0xA5 {
			t.Fatalf("block at %d: stamp %d", off, v)
		}
	}
	if err := writeDataFile(path+"2", 1000); err == nil {
		t.Error("writeDataFile of 1000 bytes succeeded")
	}
}

// TestProgsNative compiles the programs and runs the file-system ones
// natively on small files, as the bench would; also that they fail on wrong
// data and that the bench removes its files.
func TestProgsNative(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	if err := checkTmpfs(shmRoot, 4*chunkSize); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	if err := compileProgs(dir); err != nil {
		t.Fatal(err)
	}
	fs, err := makeFiles(dir, shmRoot, 4*chunkSize, 50)
	defer fs.remove()
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{dir: dir}
	for _, c := range []struct {
		j *job
		n int64
	}{
		{&job{prog: "openclose", args: []string{fs.small}}, 10},
		{&job{prog: "stat", args: []string{fs.small}}, 10},
		{&job{prog: "listdir", args: []string{fs.dir, "50"}}, 2},
		{&job{prog: "readfile", args: []string{fs.big}}, 4},
		{&job{prog: "writefile", args: []string{"bench.dat"}, dir: fs.rw}, 3},
		{&job{prog: "writefile", args: []string{"bench.dat"}, dir: fs.shm}, 3},
	} {
		for _, n := range []int64{c.n, 0} {
			if ns, err := b.perOp(native, c.j, n); err != nil || (n > 0) != (ns > 0) {
				t.Errorf("%s %d: %v ns/op, %v", c.j.prog, n, ns, err)
			}
		}
	}
	for _, d := range []string{fs.rw, fs.shm} {
		if ents, err := os.ReadDir(d); err != nil || len(ents) != 0 {
			t.Errorf("writefile left %v in %s (%v)", ents, d, err)
		}
	}
	// Wrong counts, a short file and a wrong block fail.
	for _, j := range []*job{
		{prog: "listdir", args: []string{fs.dir, "51"}},
		{prog: "readfile", args: []string{fs.big}},
		{prog: "openclose", args: []string{fs.big + ".missing"}},
	} {
		if _, err := b.perOp(native, j, 5); err == nil {
			t.Errorf("%s %v: no error", j.prog, j.args)
		}
	}
	f, err := os.OpenFile(fs.big, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xFF}, chunkSize+3*blockSize)
	f.Close()
	if _, err := b.perOp(native, &job{prog: "readfile", args: []string{fs.big}}, 4); err == nil ||
		!strings.Contains(err.Error(), "wrong data in the block at offset "+strconv.Itoa(chunkSize+3*blockSize)) {
		t.Errorf("readfile of a changed block: %v", err)
	}
	fs.remove()
	if _, err := os.Stat(fs.shm); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", fs.shm, err)
	}
}

func TestTail(t *testing.T) {
	if got := tail("a\nb\n"); got != "a | b" {
		t.Errorf("tail = %q", got)
	}
	if got := tail("1\n2\n3\n4\n5\n6\n7\n"); got != "3 | 4 | 5 | 6 | 7" {
		t.Errorf("tail = %q", got)
	}
	crash := "log\nSIGSEGV: segmentation violation\nPC=0x56b39e m=5\n\ngoroutine 6 [syscall]:\nringbox/vmm.Switch()\n\tring0mode.go:164\nmore\nmore\n" +
		"r1\nr2\nr3\nr4\nr5\n"
	want := "SIGSEGV: segmentation violation | PC=0x56b39e m=5 |  | goroutine 6 [syscall]: | ringbox/vmm.Switch() | \tring0mode.go:164 | ... | r1 | r2 | r3 | r4 | r5"
	if got := tail(crash); got != want {
		t.Errorf("tail of a crash = %q, want %q", got, want)
	}
}

func TestCommand(t *testing.T) {
	b := &bench{dir: "/b", ringbox: "/r/ringbox"}
	j := &job{prog: "gcc-ish", env: []string{"PATH=/usr/bin:/bin"}, flags: []string{"--workdir", "/w"}}
	if got, want := strings.Join(b.command(native, false, j, []string{"-O2", "x.c"}), " "), "/b/gcc-ish -O2 x.c"; got != want {
		t.Errorf("native command = %q, want %q", got, want)
	}
	want := "/r/ringbox run --platform=kvm --debug --env PATH=/usr/bin:/bin --workdir /w -- /b/gcc-ish -O2 x.c"
	if got := strings.Join(b.command(ring0Platform, true, j, []string{"-O2", "x.c"}), " "); got != want {
		t.Errorf("ringbox command = %q, want %q", got, want)
	}
	want = "/r/ringbox run --platform=kvm-exit -- /bin/sh -c true"
	if got := strings.Join(b.command(exitPlatform, false, &job{prog: "/bin/sh"}, []string{"-c", "true"}), " "); got != want {
		t.Errorf("ringbox command = %q, want %q", got, want)
	}
}

// TestNotMeasured: a failed row, a skipped one and one measured in ring0
// mode only (-quick) in a table of both platforms; the failed row makes the
// bench fail.
func TestNotMeasured(t *testing.T) {
	progressOut = io.Discard
	defer func() { progressOut = os.Stderr }()
	failed := newRow("make -j2, 4 .c files, whole run", "run", ratioTarget(1.5))
	failed.Platforms[ring0Platform] = &result{NS: 5}
	failed.fail(errors.New("ringbox --platform=kvm run of /usr/bin/make failed: exit status 2"))
	skipped := newRow("gcc -O2 hello.c, whole run", "run", ratioTarget(1.5))
	skipped.skip("gcc not found")
	one := newRow("sh -c 'for i in $(seq 20); do /bin/true; done'", "run", ratioTarget(2))
	one.Native = 1e9
	one.Platforms[ring0Platform] = &result{NS: 3e9, Ratio: 3, Exits: 1234, Counters: map[string]float64{"kvm_run": 1235}}
	one.derive()
	rep := &report{Quick: true, Platforms: []string{ring0Platform, exitPlatform}, Seen: map[string]string{},
		Notes: quickNotes([]string{ring0Platform, exitPlatform}), Rows: []*row{failed, skipped, one}}
	var buf bytes.Buffer
	rep.printTable(&buf)
	out := buf.String()
	for _, want := range []string{
		"quick: the gcc and make rows run natively and in ring0 mode only",
		"quick: the sh row runs seq 20, not the full run's 200",
		"quick: the first-touch row touches 16 MiB, not the full run's 64 MiB",
		"rows not measured:\n  make -j2, 4 .c files, whole run: FAILED: ringbox --platform=kvm run of /usr/bin/make failed: exit status 2\n" +
			"  gcc -O2 hello.c, whole run: skipped: gcc not found\n",
		"MISS  sh -c 'for i in $(seq 20); do /bin/true; done': ring0 under 2x native; measured 3.00 s/run, 3.00x native",
		"not measured  make -j2, 4 .c files, whole run: ring0 under 1.5x native\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, re := range []string{`(?m)^make -j2, 4 \.c files, whole run +FAILED \(below\)$`, `(?m)^gcc -O2 hello\.c, whole run +skipped \(below\)$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("table does not match %s:\n%s", re, out)
		}
	}
	var shLine string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "sh -c") && strings.Contains(line, "/run") {
			shLine = line
			break
		}
	}
	// native, ring0, exit, ring0/native, exit/native, exit/ring0, exits,
	// exits/s (1234 in 3 s).
	if f := strings.Fields(shLine[strings.Index(shLine, "done'")+5:]); strings.Join(f, " ") != "1.00 s/run 3.00 s/run - 3.00x - - 1234 - 411 -" {
		t.Errorf("ring0-only row: %q", f)
	}
	err := rep.failures()
	if err == nil || err.Error() != "1 of 3 rows failed: make -j2, 4 .c files, whole run" {
		t.Errorf("failures = %v", err)
	}
	buf.Reset()
	if err := rep.printJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"failed": "ringbox --platform=kvm run of`) || !strings.Contains(buf.String(), `"skipped": "gcc not found"`) {
		t.Errorf("JSON:\n%s", buf.String())
	}
	if (&report{Rows: []*row{one, skipped}}).failures() != nil {
		t.Error("a skipped row fails the bench")
	}
	if got := ratioTarget(1.3).Text; got != "ring0 under 1.3x native" {
		t.Errorf("ratioTarget text %q", got)
	}
	if n := quickNotes([]string{exitPlatform}); len(n) != 3 || strings.Contains(strings.Join(n, "\n"), "only") {
		t.Errorf("quick notes with one platform: %q", n)
	}
}

func TestMedianCounters(t *testing.T) {
	res := medianCounters([]map[string]float64{
		{"bounce": 10, "kvm_run": 21},
		{"bounce": 30, "kvm_run": 11, "leave": 1},
		{"bounce": 20, "kvm_run": 31},
	})
	want := map[string]float64{"bounce": 20, "kvm_run": 21, "leave": 0}
	if !maps.Equal(res.Counters, want) || res.Exits != 20 {
		t.Errorf("medianCounters = %v, exits %v; want %v, 20", res.Counters, res.Exits, want)
	}
}

func TestShRow(t *testing.T) {
	if got, want := shRowName(200), "sh -c 'for i in $(seq 200); do /bin/true; done'"; got != want {
		t.Errorf("shRowName = %q, want %q", got, want)
	}
	// The command the row runs prints the count natively.
	out, err := exec.Command("/bin/sh", "-c", shCommand(3)+"; echo $i").Output()
	if err != nil || string(out) != "3\n" {
		t.Errorf("sh printed %q, %v", out, err)
	}
}

// TestProject builds the make row's project natively (when make and gcc are
// there) and checks what its program prints.
func TestProject(t *testing.T) {
	if projectSum(1, 1000) != 2997 {
		t.Errorf("projectSum(1, 1000) = %d, want 2997", projectSum(1, 1000))
	}
	dir := t.TempDir()
	want, err := writeProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(want, "project 2997 ") {
		t.Errorf("want %q", want)
	}
	c, _ := filepath.Glob(filepath.Join(dir, "*.c"))
	if len(c) != projectModules+1 {
		t.Errorf(".c files: %v", c)
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	for range 2 {
		cmd := exec.Command("make", "-B", "-j2")
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make: %v: %s", err, msg)
		}
		if err := runsAndPrints(filepath.Join(dir, projectProg), want); err != nil {
			t.Error(err)
		}
		if err := cleanProject(dir); err != nil {
			t.Fatal(err)
		}
		if o, _ := filepath.Glob(filepath.Join(dir, "*.o")); len(o) != 0 {
			t.Errorf("cleanProject left %v", o)
		}
	}
	if err := runsAndPrints(filepath.Join(dir, projectProg), want); err == nil {
		t.Error("runsAndPrints of a removed program succeeded")
	}
}

// TestProcProgsNative runs the process and thread programs natively, with a
// few operations and with none.
func TestProcProgsNative(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	if err := compileProgs(dir); err != nil {
		t.Fatal(err)
	}
	b := &bench{dir: dir}
	for _, c := range []struct {
		j *job
		n int64
	}{
		{&job{prog: "fork"}, 3},
		{&job{prog: "spawn", args: []string{"/bin/true"}}, 2},
		{&job{prog: "thread"}, 3},
		{&job{prog: "pipepong"}, 10},
		{&job{prog: "futexpong"}, 10},
		{&job{prog: "futexpong"}, 1},
	} {
		for _, n := range []int64{c.n, 0} {
			if ns, err := b.perOp(native, c.j, n); err != nil || (n > 0) != (ns > 0) {
				t.Errorf("%s %d: %v ns/op, %v", c.j.prog, n, ns, err)
			}
		}
	}
	if _, err := b.perOp(native, &job{prog: "spawn", args: []string{"/bin/false"}}, 1); err == nil ||
		!strings.Contains(err.Error(), "/bin/false ended with status") {
		t.Errorf("spawn of /bin/false: %v", err)
	}
}

func TestPilotOps(t *testing.T) {
	for _, c := range []struct {
		pilot        int64
		quick        bool
		first, least int64
	}{
		{0, false, 1000, 100}, {0, true, 100, 100}, {10, false, 10, 1}, {10, true, 10, 1},
		{1, true, 1, 1}, {100, true, 100, 10}, {5000, true, 500, 500},
	} {
		if first, least := pilotOps(c.pilot, c.quick); first != c.first || least != c.least {
			t.Errorf("pilotOps(%d, %v) = %d, %d; want %d, %d", c.pilot, c.quick, first, least, c.first, c.least)
		}
	}
}

// TestTreePSS: a process tree's PSS counts the root and its children.
func TestTreePSS(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	self, err := pssOf(os.Getpid())
	if err != nil || self <= 0 {
		t.Fatalf("pssOf(self) = %d, %v", self, err)
	}
	child, err := pssOf(cmd.Process.Pid)
	if err != nil || child <= 0 {
		t.Fatalf("pssOf(child) = %d, %v", child, err)
	}
	tree, err := treePSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// PSS moves a little between reads; the child must be in the sum.
	if tree < child+self*9/10 {
		t.Errorf("treePSS = %d KiB, want at least self %d + child %d", tree, self, child)
	}
	if _, err := treePSS(1 << 30); err == nil {
		t.Error("treePSS of no process: no error")
	}
	if got := formatMB(11.6e6); got != "11.6 MB" {
		t.Errorf("formatMB = %q", got)
	}
}

// TestEveryProgCompiled: each C program under progs/ is in the progs
// table, so compileProgs builds it (the clock row once failed with "no
// such file" for want of its entry).
func TestEveryProgCompiled(t *testing.T) {
	files, err := progSources.ReadDir("progs")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name, ok := strings.CutSuffix(f.Name(), ".c")
		if !ok {
			continue
		}
		if _, ok := progs[name]; !ok {
			t.Errorf("progs/%s is not in the progs table: it would not be compiled", f.Name())
		}
	}
}
