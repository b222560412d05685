package main

import (
	"maps"
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
	if m := platformRE.FindStringSubmatch(stderr); m == nil || m[1] != "kvm-exit/pvm" {
		t.Errorf("platform = %v", m)
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
	if got := formatExits(map[string]float64{"syscall": 1, "pagefault": 0.0625, "other": 0}); got != "pagefault=0.0625 syscall=1" {
		t.Errorf("formatExits = %q", got)
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}
