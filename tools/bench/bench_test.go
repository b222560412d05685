package main

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

func TestParseExits(t *testing.T) {
	stderr := "time=... level=DEBUG msg=\"program loaded\" platform=kvm-exit/pvm\n" +
		"ringbox: exits: exit.exception=0 exit.interrupt=1 exit.other=0 exit.pagefault=2 exit.syscall=17 exit.zapdrain=0 wall=4.82ms\n"
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
}
