package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOCIPause pauses and resumes a process tree standing in for a
// sandbox process and its confined child (sh and a sleep under it), and
// lists the container as it goes.
func TestOCIPause(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "c1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", "sleep 60 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range processTree(cmd.Process.Pid) {
			syscallKill(pid)
		}
		cmd.Wait()
	})
	s := &ociState{OCIVersion: "1.2.0", ID: "c1", Pid: cmd.Process.Pid, Bundle: "/b"}
	if err := ociSave(dir, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "started"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var tree []int
	for deadline := time.Now().Add(10 * time.Second); len(tree) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("sh did not start its child")
		}
		tree = processTree(cmd.Process.Pid)
		time.Sleep(5 * time.Millisecond)
	}
	status := func() string {
		s, err := ociLoad(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s.Status
	}
	if err := ociPause(dir, "c1", false); err == nil {
		t.Error("resume of a running container succeeded")
	}
	if err := ociPause(dir, "c1", true); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "paused" {
		t.Errorf("status after pause: %s", got)
	}
	for _, pid := range tree {
		if st := procState(pid); st != "T" {
			t.Errorf("process %d after pause: state %q, want T", pid, st)
		}
	}
	if err := ociPause(dir, "c1", true); err == nil {
		t.Error("a second pause succeeded")
	}
	out := captureStdout(t, func() error { return ociList(root, "json", false) })
	var listed []ociState
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 || listed[0].Status != "paused" {
		t.Errorf("list --format json while paused: %q (%v)", out, err)
	}
	if err := ociPause(dir, "c1", false); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "running" {
		t.Errorf("status after resume: %s", got)
	}
	for _, pid := range tree {
		if st := procState(pid); st == "T" {
			t.Errorf("process %d still stopped after resume", pid)
		}
	}
	out = captureStdout(t, func() error { return ociList(root, "", false) })
	if !strings.Contains(out, "c1") || !strings.Contains(out, "running") || !strings.Contains(out, strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("list: %q", out)
	}
	if out = captureStdout(t, func() error { return ociList(root, "", true) }); out != "c1\n" {
		t.Errorf("list -q: %q", out)
	}
}

func syscallKill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// captureStdout returns what f prints on os.Stdout.
func captureStdout(t *testing.T, f func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	ferr := f()
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	if ferr != nil {
		t.Fatal(ferr)
	}
	return string(b)
}
