package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOCIHookRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	st := &ociState{OCIVersion: ociVersion, ID: "c1", Status: "creating", Pid: 4242, Bundle: "/b"}
	h := ociHook{Path: "/bin/sh", Args: []string{"hook0", "-c", `cat > "$OUT"; echo; echo "argv0=$0 arg1=$1"; env | sort`, "zero", "first"},
		Env: []string{"OUT=" + out, "ZED=1"}}
	if err := h.run("prestart", st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got ociState
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("stdin was not the state: %q: %v", b, err)
	}
	if got.ID != "c1" || got.Pid != 4242 || got.Status != "creating" || got.Bundle != "/b" {
		t.Errorf("state on stdin: %+v", got)
	}
	// The output went to the hook's stdout, not into $OUT: run again
	// with the output into the file.
	h.Args[2] = `cat > /dev/null; { tr '\0' ' ' < /proc/$$/cmdline; echo; env | sort; } > "$OUT"`
	if err := h.run("prestart", st); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(out)
	s := string(b)
	if !strings.HasPrefix(s, "hook0 -c ") || !strings.Contains(s, " zero first \n") {
		t.Errorf("args: %q", s)
	}
	var env []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n")[1:] {
		if k, _, _ := strings.Cut(l, "="); k != "PWD" && k != "SHLVL" && k != "_" { // the shell's own
			env = append(env, l)
		}
	}
	if want := "OUT=" + out + " ZED=1"; strings.Join(env, " ") != want {
		t.Errorf("the environment is the hook's own exactly: got %q, want %q", env, want)
	}
}

// TestOCIHookInheritsEnv: a hook without env gets the runtime's, as
// runc's hooks do.
func TestOCIHookInheritsEnv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	t.Setenv("RINGBOX_HOOK_TEST", "inherited")
	h := ociHook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo $RINGBOX_HOOK_TEST > " + out}}
	if err := h.run("prestart", &ociState{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "inherited\n" {
		t.Errorf("got %q", b)
	}
}

func TestOCIHookFailures(t *testing.T) {
	st := &ociState{ID: "c1", Status: "creating"}
	h := ociHook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo no network for you >&2; exit 3"}}
	err := h.run("createRuntime", st)
	if err == nil || !strings.Contains(err.Error(), "hooks.createRuntime /bin/sh: exit status 3: no network for you") {
		t.Errorf("failing hook: %v", err)
	}
	one := 1
	h = ociHook{Path: "/bin/sleep", Args: []string{"sleep", "20"}, Timeout: &one}
	start := time.Now()
	err = h.run("prestart", st)
	if err == nil || !strings.Contains(err.Error(), "timed out after 1 s") || time.Since(start) > 10*time.Second {
		t.Errorf("hook past its timeout: %v after %v", err, time.Since(start))
	}
	// A hook that exits, leaving a child with its output, succeeded.
	h = ociHook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 20 & echo started"}}
	start = time.Now()
	if err := h.run("prestart", st); err != nil || time.Since(start) > 10*time.Second {
		t.Errorf("hook with a child left: %v after %v", err, time.Since(start))
	}
	for _, bad := range []ociHook{{Path: "sh"}, {Path: "/bin/true", Timeout: new(int)}} {
		if err := (&ociHooks{Poststop: []ociHook{bad}}).check(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
		if err := bad.run("poststop", st); err == nil {
			t.Errorf("%+v ran", bad)
		}
	}
	missing := ociHook{Path: "/nonexistent/hook"}
	if err := missing.run("prestart", st); err == nil || !strings.Contains(err.Error(), "/nonexistent/hook") {
		t.Errorf("missing hook: %v", err)
	}
}

// TestOCIHookedNetwork: a new network namespace with hooks that run
// before the start is the sandbox's network, set up by them; without
// such hooks it is --net=none.
func TestOCIHookedNetwork(t *testing.T) {
	pre := &ociHooks{Prestart: []ociHook{{Path: "/usr/bin/setkey"}}}
	post := &ociHooks{Poststart: []ociHook{{Path: "/usr/bin/x"}}}
	newNS := &ociLinux{Namespaces: []ociNamespace{{Type: "network"}}}
	for _, c := range []struct {
		name  string
		spec  ociSpec
		net   string
		netns string
	}{
		{"new, no hooks", ociSpec{Linux: newNS}, "none", ""},
		{"new, poststart only", ociSpec{Linux: newNS, Hooks: post}, "none", ""},
		{"new, prestart", ociSpec{Linux: newNS, Hooks: pre}, "sandbox", ""},
		{"new, createRuntime", ociSpec{Linux: newNS, Hooks: &ociHooks{CreateRuntime: pre.Prestart}}, "sandbox", ""},
		{"path", ociSpec{Linux: &ociLinux{Namespaces: []ociNamespace{{Type: "network", Path: "/run/netns/x"}}}, Hooks: pre}, "sandbox", "/run/netns/x"},
		{"host", ociSpec{Hooks: pre}, "sandbox", ""},
	} {
		o := defaultRunOpts()
		ociNetwork(o, &c.spec)
		if o.net != c.net || o.netns != c.netns {
			t.Errorf("%s: net %q netns %q, want %q %q", c.name, o.net, o.netns, c.net, c.netns)
		}
		if want := c.name == "new, prestart" || c.name == "new, createRuntime"; c.spec.hookedNetns() != want {
			t.Errorf("%s: hookedNetns %v", c.name, !want)
		}
	}
}

// TestOCISysctls: net.* sysctls are set only in a namespace create made
// (a hooked one), others are ignored with a note; a name that is no plain
// sysctl name is refused before anything is written.
func TestOCISysctls(t *testing.T) {
	hooked := &ociSpec{Process: &ociProcess{Args: []string{"/bin/true"}}, Root: &ociRoot{Path: "/nonexistent"},
		Hooks: &ociHooks{Prestart: []ociHook{{Path: "/bin/true"}}},
		Linux: &ociLinux{Namespaces: []ociNamespace{{Type: "network"}},
			Sysctl: map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shmmax": "1"}}}
	_, ignored, err := ociRunOpts(t.TempDir(), hooked)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ignored, ";") != "linux.sysctl kernel.shmmax" {
		t.Errorf("hooked: ignored %q", ignored)
	}
	plain := *hooked
	plain.Hooks = nil
	_, ignored, _ = ociRunOpts(t.TempDir(), &plain)
	if len(ignored) != 2 {
		t.Errorf("no namespace of its own: ignored %q", ignored)
	}
	if err := ociSysctls(&plain, 0); err != nil {
		t.Errorf("nothing to set without a namespace of its own: %v", err)
	}
	for _, bad := range []string{"net.ipv4/../../../etc/x", "net..x", "net.x."} {
		s := *hooked
		// With good names beside it: none is written (pid 0 has no
		// namespace to write in, which would be the error otherwise).
		s.Linux = &ociLinux{Namespaces: hooked.Linux.Namespaces, Sysctl: map[string]string{bad: "1",
			"net.a.b": "1", "net.c.d": "1", "net.e.f": "1", "net.g.h": "1"}}
		if err := ociSysctls(&s, 0); err == nil || !strings.Contains(err.Error(), "not a sysctl name") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
