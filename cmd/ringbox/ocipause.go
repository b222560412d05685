package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// `ringbox pause` and `resume`: runc freezes a container's cgroup; a
// ringbox container is its sandbox process and the processes it started
// (the confined ringbox that runs the VM), so pause stops them all with
// SIGSTOP and resume continues them with SIGCONT. As with the freezer, the
// program cannot tell: no process in the sandbox sees a stop or a
// SIGCHLD, its clocks go on, and signals sent meanwhile (`kill`) wait
// until resume, but SIGKILL (`delete --force`), which ends the sandbox
// process at once. The file "paused" in the state directory says so.

const pausedFile = "paused"

func ociPaused(dir string) bool { return fileExists(filepath.Join(dir, pausedFile)) }

// ociPause stops (stop true) or continues the container in dir.
func ociPause(dir, id string, stop bool) error {
	s, err := ociLoad(dir)
	if err != nil {
		return err
	}
	switch {
	case stop && s.Status != "running" && s.Status != "created":
		return fmt.Errorf("container %s is %s: only a running or created one can be paused", id, s.Status)
	case !stop && s.Status != "paused":
		return fmt.Errorf("container %s is %s, not paused", id, s.Status)
	}
	sig := unix.SIGCONT
	if stop {
		// Mark it first: a shim that asks meanwhile sees paused.
		if err := os.WriteFile(filepath.Join(dir, pausedFile), nil, 0o600); err != nil {
			return err
		}
		sig = unix.SIGSTOP
	}
	// Stop from the top down, so no process starts a child that the walk
	// has already passed; continue from the bottom up.
	tree := processTree(s.Pid)
	if !stop {
		slices.Reverse(tree)
	}
	for _, pid := range tree {
		if err := unix.Kill(pid, sig); err != nil && err != unix.ESRCH {
			return fmt.Errorf("signal %d: %w", pid, err)
		}
	}
	if stop {
		return waitStopped(tree)
	}
	return os.Remove(filepath.Join(dir, pausedFile))
}

// waitStopped waits (a little) until every process of tree shows as
// stopped, so that pause returns with the container frozen.
func waitStopped(tree []int) error {
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range tree {
		for st := procState(pid); st != "T" && st != ""; st = procState(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("process %d did not stop", pid)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// procState returns the state letter of pid in /proc ("" once gone).
func procState(pid int) string {
	if f := procStatFields(strconv.Itoa(pid)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// procStatFields returns the fields of /proc/PID/stat after the command
// name (state, ppid, ...), nil if there is none.
func procStatFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// processTree returns root and its descendants, parents before their
// children, from the parent links in /proc.
func processTree(root int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := procStatFields(e.Name())
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// ociList prints the containers under root: a table as runc's, their
// states as a JSON array, or (quiet) their IDs.
func ociList(root, format string, quiet bool) error {
	ents, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	states := []*ociState{}
	for _, e := range ents {
		if !e.IsDir() || !ociValidID(e.Name()) {
			continue
		}
		s, err := ociLoad(filepath.Join(root, e.Name()))
		if err != nil {
			continue // being created or deleted
		}
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].ID < states[j].ID })
	switch {
	case quiet:
		for _, s := range states {
			fmt.Println(s.ID)
		}
		return nil
	case format == "json":
		b, err := json.Marshal(states)
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	case format == "" || format == "table":
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created)
		}
		return w.Flush()
	}
	return fail(exitUsage, "list: --format is table or json, not %s", quoteArg(format))
}
