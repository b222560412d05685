package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The memory row (issue 11): the proportional set size of a sandbox
// running `sleep`, ringbox's processes summed (the host side of the whole
// sandbox: the Go kernel, the memory file's touched pages, the VM's page
// tables), against the native sleep's own. PSS shares each page among the
// processes that map it, so libraries the host's other processes use
// count for little on both sides.

const (
	pssSleep = 5 // seconds the program sleeps
	pssAt    = 3 // seconds after the start at which PSS is read
)

// memoryRow measures the PSS of `sleep` natively and in the sandbox,
// medians of up to 3 runs per side (1 with -quick).
func (b *bench) memoryRow(r *row) error {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return fmt.Errorf("sleep is not on this host")
	}
	j := &job{prog: sleep, devNull: true}
	for _, p := range b.platforms {
		r.Platforms[p] = &result{}
	}
	runs := min(b.runs, 3)
	if b.quick {
		runs = 1
	}
	return b.mediansOf(r, runs, false, func(platform string) (float64, error) {
		return b.pss(platform, j)
	})
}

// pss runs j's program (sleep pssSleep) on platform, reads the PSS of its
// process tree pssAt seconds in, and waits for it to end.
func (b *bench) pss(platform string, j *job) (float64, error) {
	argv := b.command(platform, false, j, []string{strconv.Itoa(pssSleep)})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%s sleep: %v", sideName(platform), err)
	}
	time.Sleep(pssAt * time.Second)
	kb, perr := treePSS(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%s run of sleep failed: %v; stderr: %s", sideName(platform), err, tail(stderr.String()))
	}
	if perr != nil {
		return 0, fmt.Errorf("%s: PSS: %v", sideName(platform), perr)
	}
	return float64(kb) * 1024, nil
}

// treePSS is the summed PSS, in KiB, of pid and its descendants.
func treePSS(pid int) (int64, error) {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		data, err := os.ReadFile(s)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parens.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, err1 := strconv.Atoi(f[1])
		p, err2 := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		if err1 == nil && err2 == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var total int64
	todo := []int{pid}
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		kb, err := pssOf(p)
		if err != nil {
			if p == pid {
				return 0, err
			}
			continue
		}
		total += kb
	}
	return total, nil
}

// pssOf reads one process's PSS (KiB) from smaps_rollup.
func pssOf(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no Pss line in /proc/%d/smaps_rollup", pid)
}

// formatMB shows bytes in MB (10^6 bytes) with 3 or 4 digits.
func formatMB(v float64) string {
	mb := v / 1e6
	switch {
	case mb >= 100:
		return fmt.Sprintf("%.0f MB", mb)
	case mb >= 10:
		return fmt.Sprintf("%.1f MB", mb)
	}
	return fmt.Sprintf("%.2f MB", mb)
}
