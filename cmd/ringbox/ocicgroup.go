package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ringbox/vmm/cgroup"
)

// A container's host control group (linux.cgroupsPath): create makes it
// and starts the sandbox process in it, so the sandbox's whole use of
// the host (guest memory, vCPU threads, the Go kernel) is bounded by
// linux.resources and read by `docker stats` and containerd's metrics;
// update changes its limits; delete removes it. ROOT/ID/cgroup.json
// records where it is.

// ociCgroupFile is the record of a container's group in its state
// directory.
const ociCgroupFile = "cgroup.json"

// ociMakeCgroup makes the group a config asks for, with its limits. nil
// and no error: the config names none, or the host has no cgroup file
// system (note says so, for the caller to print).
func ociMakeCgroup(systemd bool, spec *ociSpec, dir string) (g *cgroup.Group, note string, err error) {
	l := spec.Linux
	if l == nil || l.CgroupsPath == "" {
		return nil, "", nil
	}
	g, err = cgroup.Create(l.CgroupsPath, systemd)
	if errors.Is(err, cgroup.ErrNoCgroupFS) {
		return nil, "linux.cgroupsPath (the host has no cgroup file system mounted; the sandbox's own limits hold)", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("linux.cgroupsPath %s: %w", l.CgroupsPath, err)
	}
	fail := func(err error) (*cgroup.Group, string, error) {
		g.Remove()
		return nil, "", err
	}
	if err := g.Set(l.Resources); err != nil {
		return fail(fmt.Errorf("linux.resources: %w", err))
	}
	b, _ := json.Marshal(g)
	if err := os.WriteFile(filepath.Join(dir, ociCgroupFile), b, 0o600); err != nil {
		return fail(err)
	}
	return g, "", nil
}

// ociLoadCgroup is a container's group, nil if it has none.
func ociLoadCgroup(dir string) *cgroup.Group {
	b, err := os.ReadFile(filepath.Join(dir, ociCgroupFile))
	if err != nil {
		return nil
	}
	var g cgroup.Group
	if json.Unmarshal(b, &g) != nil || len(g.Dirs) == 0 {
		return nil
	}
	return &g
}

// ociJoinCgroup moves the sandbox process into its group as its first
// step, before it makes any other process or maps the guest's memory:
// where create could not start it there (v1 has no clone3
// CLONE_INTO_CGROUP, nor has a v2 kernel before 5.7); in it already, the
// join changes nothing.
func ociJoinCgroup(dir string) error {
	g := ociLoadCgroup(dir)
	if g == nil || os.Getenv("RINGBOX_CONFINED") != "" {
		return nil // none, or in it already (the confined child)
	}
	return g.Join(0)
}

// ociRemove removes a stopped container: its group (killing what is
// left in it), then its state directory.
func ociRemove(dir string) error {
	if g := ociLoadCgroup(dir); g != nil {
		if err := g.Remove(); err != nil {
			return err
		}
	}
	return os.RemoveAll(dir)
}

// ociGuestMemory is the guest's memory for a container whose limit, as
// its group's, bounds the whole sandbox: the limit less a reserve for
// ringbox's own use of the host (the Go kernel's heap, its caches, the
// host page tables of the guest's memory; about 10-20 MiB), so that a
// program that fills the memory meets the guest's out-of-memory killer
// and not the host's, which would take the whole sandbox.
func ociGuestMemory(limit uint64) uint64 {
	reserve := min(limit/2, 16<<20+limit/16)
	return limit - reserve
}

// ociUpdate is `ringbox update`: new limits for a running container's
// group, from --resources FILE (- for stdin; linux.resources as JSON) or
// runc's flags. The guest's own memory and task limits were fixed at
// create; the group's bound the sandbox from outside.
func ociUpdate(dir, id string, flags map[string]string) error {
	s, err := ociLoad(dir)
	if err != nil {
		return err
	}
	if s.Status == "stopped" {
		return fmt.Errorf("container %s is not running", id)
	}
	var r cgroup.Resources
	if f, ok := flags["resources"]; ok {
		var in io.Reader = os.Stdin
		if f != "-" {
			fh, err := os.Open(f)
			if err != nil {
				return fmt.Errorf("update: --resources: %w", err)
			}
			defer fh.Close()
			in = fh
		}
		b, err := io.ReadAll(io.LimitReader(in, 1<<20))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return fail(exitUsage, "update: --resources: %v", err)
		}
	}
	if err := ociUpdateFlags(&r, flags); err != nil {
		return fail(exitUsage, "update: %v", err)
	}
	if r.Pids != nil {
		fmt.Fprintf(os.Stderr, "ringbox: update: the pids limit is the sandbox's, set at create; not changed\n")
		r.Pids = nil
	}
	g := ociLoadCgroup(dir)
	if g == nil {
		return fmt.Errorf("container %s has no cgroup (its config gave no linux.cgroupsPath): nothing to update", id)
	}
	return g.Set(&r)
}

// ociUpdateValued are runc update's flags that take a value.
var ociUpdateValued = []string{"memory", "memory-reservation", "memory-swap", "cpu-quota", "cpu-period", "cpu-share",
	"cpuset-cpus", "cpuset-mems", "pids-limit", "blkio-weight", "kernel-memory", "kernel-memory-tcp", "cpu-rt-period",
	"cpu-rt-runtime", "l3-cache-schema", "mem-bw-schema"}

// ociUpdateFlags are runc update's flags (the ones ringbox has a group
// file for), over what --resources gave.
func ociUpdateFlags(r *cgroup.Resources, flags map[string]string) error {
	mem := func() *cgroup.Memory {
		if r.Memory == nil {
			r.Memory = &cgroup.Memory{}
		}
		return r.Memory
	}
	cpu := func() *cgroup.CPU {
		if r.CPU == nil {
			r.CPU = &cgroup.CPU{}
		}
		return r.CPU
	}
	size := func(name string) (*int64, error) {
		v := flags[name]
		if v == "-1" {
			n := int64(-1)
			return &n, nil
		}
		n, err := parseSize(v)
		if err != nil {
			return nil, fmt.Errorf("--%s: %v", name, err)
		}
		i := int64(n)
		return &i, nil
	}
	num := func(name string) (int64, error) {
		n, err := strconv.ParseInt(flags[name], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("--%s: want a number, got %s", name, quoteArg(flags[name]))
		}
		return n, nil
	}
	for name := range flags {
		var err error
		switch name {
		case "resources":
		case "memory":
			mem().Limit, err = size(name)
		case "memory-reservation":
			mem().Reservation, err = size(name)
		case "memory-swap":
			mem().Swap, err = size(name)
		case "cpu-quota":
			var n int64
			n, err = num(name)
			cpu().Quota = &n
		case "cpu-period", "cpu-share":
			var n int64
			if n, err = num(name); err == nil && n < 0 {
				err = fmt.Errorf("--%s: negative", name)
			}
			u := uint64(n)
			if name == "cpu-period" {
				cpu().Period = &u
			} else {
				cpu().Shares = &u
			}
		case "cpuset-cpus":
			cpu().Cpus = flags[name]
		case "cpuset-mems":
			cpu().Mems = flags[name]
		case "pids-limit":
			var n int64
			n, err = num(name)
			r.Pids = &cgroup.Pids{Limit: n}
		default:
			if strings.HasPrefix(name, "blkio") || strings.HasPrefix(name, "kernel-memory") || strings.HasPrefix(name, "cpu-rt") ||
				name == "l3-cache-schema" || name == "mem-bw-schema" {
				return fmt.Errorf("--%s is not supported", name)
			}
			return fmt.Errorf("unknown flag --%s", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
