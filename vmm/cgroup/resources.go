package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Set writes r's limits into the group. Fields that are nil or empty are
// left as they are, so `update` changes only what it names. A limit
// whose controller the group lacks is an error that says so.
func (g *Group) Set(r *Resources) error {
	if r == nil {
		return nil
	}
	if g.V2 {
		return g.setV2(r)
	}
	return g.setV1(r)
}

func (g *Group) setV2(r *Resources) error {
	var w writes
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			w.add("memory.max", maxOr(*m.Limit))
		}
		if m.Reservation != nil {
			w.add("memory.low", maxOr(*m.Reservation))
		}
		if m.Swap != nil {
			// v2 bounds swap alone; the spec's figure is memory+swap.
			switch {
			case *m.Swap < 0:
				w.addIfThere("memory.swap.max", "max")
			case m.Limit == nil || *m.Limit < 0:
				return fmt.Errorf("memory.swap %d needs memory.limit (it is memory plus swap)", *m.Swap)
			case *m.Swap < *m.Limit:
				return fmt.Errorf("memory.swap %d is below memory.limit %d (it is memory plus swap)", *m.Swap, *m.Limit)
			default:
				w.addIfThere("memory.swap.max", strconv.FormatInt(*m.Swap-*m.Limit, 10))
			}
		}
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil || c.Period != nil {
			quota, period := "max", uint64(100000)
			if c.Quota != nil && *c.Quota > 0 {
				quota = strconv.FormatInt(*c.Quota, 10)
			}
			if c.Period != nil && *c.Period > 0 {
				period = *c.Period
			}
			if c.Quota == nil {
				// A period alone keeps the quota there is.
				if cur, err := readFile(filepath.Join(g.Dirs[0], "cpu.max")); err == nil {
					quota, _, _ = strings.Cut(cur, " ")
				}
			}
			w.add("cpu.max", quota+" "+strconv.FormatUint(period, 10))
		}
		if c.Shares != nil && *c.Shares != 0 {
			w.add("cpu.weight", strconv.FormatUint(SharesToWeight(*c.Shares), 10))
		}
		if c.Cpus != "" {
			w.add("cpuset.cpus", c.Cpus)
		}
		if c.Mems != "" {
			w.add("cpuset.mems", c.Mems)
		}
	}
	for k, v := range r.Unified {
		if k == "" || strings.ContainsAny(k, "/\x00") || k == "." || k == ".." || strings.HasPrefix(k, "cgroup.") {
			return fmt.Errorf("linux.resources.unified: %q is not a controller's file", k)
		}
		w.add(k, v)
	}
	return w.run(g.Dirs)
}

func (g *Group) setV1(r *Resources) error {
	if len(r.Unified) > 0 {
		return errors.New("linux.resources.unified needs cgroup v2; this host has v1")
	}
	var w writes
	if m := r.Memory; m != nil {
		// memory+swap is at least memory at every step: a higher limit
		// raises memsw first, a lower one lowers memory first.
		limit, swap := "", ""
		if m.Limit != nil {
			limit = strconv.FormatInt(*m.Limit, 10)
		}
		if m.Swap != nil {
			swap = strconv.FormatInt(*m.Swap, 10)
		}
		raising := m.Limit != nil && (*m.Limit < 0 || *m.Limit > currentV1(g.Dirs, "memory.limit_in_bytes"))
		if raising && swap != "" {
			w.addIfThere("memory.memsw.limit_in_bytes", swap)
			swap = ""
		}
		if limit != "" {
			w.add("memory.limit_in_bytes", limit)
		}
		if swap != "" {
			w.addIfThere("memory.memsw.limit_in_bytes", swap)
		}
		if m.Reservation != nil {
			w.add("memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10))
		}
	}
	if c := r.CPU; c != nil {
		if c.Period != nil && *c.Period > 0 {
			w.add("cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10))
		}
		if c.Quota != nil {
			w.add("cpu.cfs_quota_us", strconv.FormatInt(max(*c.Quota, -1), 10))
		}
		if c.Shares != nil && *c.Shares != 0 {
			w.add("cpu.shares", strconv.FormatUint(*c.Shares, 10))
		}
		if c.Cpus != "" {
			w.add("cpuset.cpus", c.Cpus)
		}
		if c.Mems != "" {
			w.add("cpuset.mems", c.Mems)
		}
	}
	return w.run(g.Dirs)
}

// SharesToWeight maps v1's cpu.shares (2..262144, 1024 the default) onto
// v2's cpu.weight (1..10000, 100 the default) linearly, as runc and
// crun do, so that one config gives the same weight on either.
func SharesToWeight(shares uint64) uint64 {
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// maxOr is a v2 limit: a number, or "max" for none (-1).
func maxOr(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// currentV1 reads a v1 limit, for the order of memory writes.
func currentV1(dirs []string, file string) int64 {
	for _, d := range dirs {
		if s, err := readFile(filepath.Join(d, file)); err == nil {
			v, _ := strconv.ParseInt(s, 10, 64)
			return v
		}
	}
	return 0
}

// write is a value for a cgroup file; optional ones may be absent (swap
// accounting off).
type write struct {
	file, value string
	optional    bool
}

// writes is an ordered list of them.
type writes []write

func (w *writes) add(file, value string)        { *w = append(*w, write{file, value, false}) }
func (w *writes) addIfThere(file, value string) { *w = append(*w, write{file, value, true}) }

// run writes each file in the first of dirs that has it (v1: the tree
// of its controller).
func (w writes) run(dirs []string) error {
	for _, x := range w {
		done := false
		for _, d := range dirs {
			name := filepath.Join(d, x.file)
			err := writeFile(name, x.value)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("cgroup %s: writing %q: %w", name, x.value, explain(err))
			}
			done = true
			break
		}
		if !done && !x.optional {
			ctl, _, _ := strings.Cut(x.file, ".")
			return fmt.Errorf("cgroup %s: no %s file: the %s controller is not on for this group", dirs[0], x.file, ctl)
		}
	}
	return nil
}

// explain adds what the kernel's bare errno means for a cgroup write.
func explain(err error) error {
	switch {
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("%w (usage is above the new limit, or the group's parent forbids it)", err)
	case errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("%w (a value the kernel does not take here)", err)
	}
	return err
}
