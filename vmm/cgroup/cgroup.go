package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resources are the linux.resources of an OCI config that a group
// carries, with the spec's field names: a config.json and `update
// --resources` decode into it.
type Resources struct {
	Memory  *Memory           `json:"memory,omitempty"`
	CPU     *CPU              `json:"cpu,omitempty"`
	Pids    *Pids             `json:"pids,omitempty"`
	Unified map[string]string `json:"unified,omitempty"`
}

// Memory is linux.resources.memory, in bytes; -1 is no limit.
type Memory struct {
	Limit       *int64 `json:"limit,omitempty"`
	Reservation *int64 `json:"reservation,omitempty"`
	// Swap is memory plus swap, as the spec (and cgroup v1) has it.
	Swap *int64 `json:"swap,omitempty"`
}

// CPU is linux.resources.cpu: CFS shares, quota and period (µs), and the
// cpuset.
type CPU struct {
	Shares *uint64 `json:"shares,omitempty"`
	Quota  *int64  `json:"quota,omitempty"`
	Period *uint64 `json:"period,omitempty"`
	Cpus   string  `json:"cpus,omitempty"`
	Mems   string  `json:"mems,omitempty"`
}

// Pids is linux.resources.pids. The guest kernel enforces it; Set does
// not write it to the host group (doc.go).
type Pids struct {
	Limit int64 `json:"limit"`
}

// ErrNoCgroupFS is Create's error when the host has no cgroup file
// system mounted.
var ErrNoCgroupFS = errors.New("no cgroup file system is mounted")

// Group is a control group on the host: its directory in the unified
// tree (V2), or one in each mounted v1 tree.
type Group struct {
	V2   bool     `json:"v2"`
	Dirs []string `json:"dirs"`
}

// procSelf is where the caller's mountinfo and cgroup files are read (a
// variable for the tests).
var procSelf = "/proc/self"

// Create makes the group at path (a cgroupfs path, or with systemd a
// SLICE:PREFIX:NAME one) in the host's cgroup trees, turning on, in v2,
// the controllers its limits need in every group above it.
func Create(path string, systemd bool) (*Group, error) {
	if systemd {
		p, err := SystemdPath(path)
		if err != nil {
			return nil, err
		}
		path = p
	}
	mi, err := os.ReadFile(procSelf + "/mountinfo")
	if err != nil {
		return nil, err
	}
	own, err := os.ReadFile(procSelf + "/cgroup")
	if err != nil {
		return nil, err
	}
	trees := pickTrees(parseMounts(mi))
	if len(trees) == 0 {
		return nil, ErrNoCgroupFS
	}
	v2own, v1own := parseOwn(own)
	g := &Group{V2: trees[0].v2}
	for _, t := range trees {
		base := v2own
		if !t.v2 {
			base = v1own[t.key()]
		}
		dir, err := t.dirFor(path, base)
		if err != nil {
			return nil, err
		}
		if err := makeDirs(t, dir); err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", dir, err)
		}
		g.Dirs = append(g.Dirs, dir)
	}
	return g, nil
}

// makeDirs makes dir and the groups above it in tree t: v2 turns on the
// controllers along the way (a controller must be on in a parent's
// cgroup.subtree_control to be in its children), v1's cpuset copies its
// parent's CPUs and memory nodes into each new group (a process cannot
// join a cpuset group that has none).
func makeDirs(t mount, dir string) error {
	rel, _ := filepath.Rel(t.dir, dir)
	cur := t.dir
	for _, c := range strings.Split(rel, "/") {
		if c == "." || c == "" {
			continue
		}
		if t.v2 {
			enableControllers(cur)
		}
		next := filepath.Join(cur, c)
		err := os.Mkdir(next, 0o755)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err == nil && slices.Contains(t.ctls, "cpuset") {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := readFile(filepath.Join(next, f)); err == nil && v == "" {
					pv, _ := readFile(filepath.Join(cur, f))
					if err := writeFile(filepath.Join(next, f), pv); err != nil {
						return err
					}
				}
			}
		}
		cur = next
	}
	return nil
}

// v2Controllers are the controllers a v2 group is given.
var v2Controllers = []string{"cpu", "cpuset", "memory", "io", "hugetlb", "pids"}

// enableControllers turns on, for dir's children, each controller of
// v2Controllers that dir has. One at a time: one the kernel refuses
// (a group with processes of its own cannot hand domain controllers
// down) leaves the others on; Set then says which limit has no file.
func enableControllers(dir string) {
	have, err := readFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return
	}
	on, _ := readFile(filepath.Join(dir, "cgroup.subtree_control"))
	for _, c := range v2Controllers {
		if slices.Contains(strings.Fields(have), c) && !slices.Contains(strings.Fields(on), c) {
			writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+"+c)
		}
	}
}

// Dir is the v2 group's directory (for clone3's CLONE_INTO_CGROUP); a
// nil group has none.
func (g *Group) Dir() (string, bool) {
	if g == nil || !g.V2 || len(g.Dirs) != 1 {
		return "", false
	}
	return g.Dirs[0], true
}

// Join moves process pid (0: the caller) into the group.
func (g *Group) Join(pid int) error {
	for _, d := range g.Dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("cgroup %s: join: %w", d, err)
		}
	}
	return nil
}

// Procs lists the host processes in the group.
func (g *Group) Procs() ([]int, error) {
	var pids []int
	for _, d := range g.Dirs {
		s, err := readFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for _, f := range strings.Fields(s) {
			if p, err := strconv.Atoi(f); err == nil && !slices.Contains(pids, p) {
				pids = append(pids, p)
			}
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// Remove kills what is left in the group and removes its directories
// (not the groups above, which may be shared: Docker's /docker). A group
// already gone is no error.
func (g *Group) Remove() error {
	var last error
	for try := 0; try < 300; try++ {
		last = nil
		for _, d := range g.Dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				last = fmt.Errorf("cgroup %s: %w", d, err)
			}
		}
		if last == nil {
			return nil
		}
		// Busy: processes are left, or the kernel has not finished
		// with the dead ones yet.
		if try%50 == 0 {
			g.kill()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return last
}

// kill SIGKILLs every process in the group: all at once through v2's
// cgroup.kill where the kernel has it (5.14), else one by one.
func (g *Group) kill() {
	if g.V2 && writeFile(filepath.Join(g.Dirs[0], "cgroup.kill"), "1") == nil {
		return
	}
	pids, _ := g.Procs()
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// mount is a mounted cgroup tree.
type mount struct {
	dir  string   // where it is mounted
	root string   // which of its groups is mounted there
	v2   bool     // the unified tree
	ctls []string // v1: its controllers, and name=NAME for a named tree
}

// key is how /proc/self/cgroup names a v1 tree: its controllers, joined.
func (m mount) key() string {
	c := slices.Clone(m.ctls)
	slices.Sort(c)
	return strings.Join(c, ",")
}

// dirFor is the directory of group path in the tree: an absolute path is
// from the tree's root, a relative one from own (the caller's group). No
// path leaves the mounted part of the tree.
func (m mount) dirFor(path, own string) (string, error) {
	full := path
	if !strings.HasPrefix(path, "/") {
		full = own + "/" + path
	}
	full = filepath.Clean("/" + full)
	if full == "/" {
		return "", fmt.Errorf("cgroup path %q: the root group", path)
	}
	rel, ok := strings.CutPrefix(full, m.root)
	if m.root == "/" {
		rel, ok = full, true
	}
	if !ok || !strings.HasPrefix(rel, "/") {
		// Outside the mounted part, or the mounted group itself (a
		// container gets a group of its own below it).
		return "", fmt.Errorf("cgroup path %q: not below the tree mounted at %s (its group %s)", path, m.dir, m.root)
	}
	return m.dir + rel, nil
}

// parseMounts reads the cgroup trees out of a mountinfo file.
func parseMounts(mountinfo []byte) []mount {
	var out []mount
	for _, line := range strings.Split(string(mountinfo), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		m := mount{dir: unescape(f[4]), root: unescape(f[3]), v2: g[0] == "cgroup2"}
		if !m.v2 {
			for _, o := range strings.Split(g[2], ",") {
				switch {
				case o == "rw" || o == "ro" || o == "xattr" || o == "clone_children" || o == "noprefix" ||
					o == "cpuset_v2_mode" || strings.HasPrefix(o, "release_agent="):
				default:
					m.ctls = append(m.ctls, o)
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pickTrees chooses the trees a group is made in: the unified one where
// it has the memory or cpu controller or no v1 tree has any controller
// (a v2 host), else every v1 tree with controllers, once each (a v1 or
// hybrid host, whose unified tree holds what v1 does not: systemd's
// bookkeeping, perhaps hugetlb).
func pickTrees(ms []mount) []mount {
	var v2, v1 []mount
	seen := map[string]bool{}
	for _, m := range ms {
		switch {
		case m.v2:
			v2 = append(v2, m)
		case len(m.ctls) > 0 && !seen[m.key()]:
			seen[m.key()] = true
			v1 = append(v1, m)
		}
	}
	for _, m := range v2 {
		c, _ := readFile(filepath.Join(m.dir, "cgroup.controllers"))
		if f := strings.Fields(c); slices.Contains(f, "memory") || slices.Contains(f, "cpu") {
			return []mount{m}
		}
	}
	if len(v1) == 0 && len(v2) > 0 {
		return v2[:1]
	}
	return v1
}

// parseOwn reads /proc/self/cgroup: the caller's group in the unified
// tree, and in each v1 tree by its key.
func parseOwn(b []byte) (string, map[string]string) {
	v2 := "/"
	v1 := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		c := strings.Split(parts[1], ",")
		slices.Sort(c)
		v1[strings.Join(c, ",")] = parts[2]
	}
	return v2, v1
}

// SystemdPath turns the systemd driver's SLICE:PREFIX:NAME into the
// group systemd makes for that unit: NAME's scope PREFIX-NAME.scope in
// SLICE, or the slice NAME itself when it is one. An empty SLICE is
// system.slice.
func SystemdPath(p string) (string, error) {
	parts := strings.Split(p, ":")
	if len(parts) != 3 || parts[2] == "" {
		return "", fmt.Errorf("cgroup path %q: the systemd driver's form is SLICE:PREFIX:NAME", p)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	if strings.HasSuffix(name, ".slice") {
		return expandSlice(name, p)
	}
	dir, err := expandSlice(slice, p)
	if err != nil {
		return "", err
	}
	unit := name + ".scope"
	if prefix != "" {
		unit = prefix + "-" + unit
	}
	if strings.Contains(unit, "/") {
		return "", fmt.Errorf("cgroup path %q: a unit name with a slash", p)
	}
	return strings.TrimSuffix(dir, "/") + "/" + unit, nil
}

// expandSlice is a slice's group: a-b.slice is in a.slice, at
// /a.slice/a-b.slice; -.slice is the root.
func expandSlice(slice, whole string) (string, error) {
	if slice == "-.slice" {
		return "/", nil
	}
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("cgroup path %q: %q is not a slice's name", whole, slice)
	}
	var path, prefix string
	for _, c := range strings.Split(name, "-") {
		if c == "" {
			return "", fmt.Errorf("cgroup path %q: %q is not a slice's name", whole, slice)
		}
		path += "/" + prefix + c + ".slice"
		prefix += c + "-"
	}
	return path, nil
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(bytes.TrimSpace(b)), err
}

// writeFile writes one value to a cgroup file (which must exist: the
// kernel makes them; a missing one is a controller the group lacks).
func writeFile(name, v string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
