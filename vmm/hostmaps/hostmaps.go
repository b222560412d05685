package hostmaps

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mapping is one line of a maps file: "start-end perms offset dev inode
// name".
type Mapping struct {
	Start, End uintptr
	Perms      string // four letters, as "r-xp"
	Name       string // a path, "[vdso]", "anon_inode:kvm-vcpu:0", or empty
}

// Contains reports whether addr is in m.
func (m Mapping) Contains(addr uintptr) bool { return m.Start <= addr && addr < m.End }

// Exec reports whether m is executable.
func (m Mapping) Exec() bool { return m.Perms[2] == 'x' }

// Parse reads one line of a maps file; ok is false for any other line
// (smaps' key lines, garbage, an empty or reversed range).
func Parse(line string) (m Mapping, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 5 || len(fields[1]) != 4 {
		return m, false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return m, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return m, false
	}
	m = Mapping{Start: uintptr(s), End: uintptr(e), Perms: fields[1]}
	if len(fields) > 5 {
		m.Name = strings.Join(fields[5:], " ")
	}
	return m, true
}

// Read returns the mappings of the maps file at path, in its order.
func Read(path string) ([]Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []Mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := Parse(sc.Text()); ok {
			ms = append(ms, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ms, nil
}

// Self returns this process's mappings.
func Self() ([]Mapping, error) { return Read("/proc/self/maps") }

// Find returns the mapping of ms that contains addr.
func Find(ms []Mapping, addr uintptr) (Mapping, bool) {
	for _, m := range ms {
		if m.Contains(addr) {
			return m, true
		}
	}
	return Mapping{}, false
}
