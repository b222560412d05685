package vmm

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// mappingOf returns the host mapping (from /proc/self/maps) that contains
// addr: the guest needs the pages of ringbox's own text that hold the
// supervisor code.
func mappingOf(addr uintptr) (start, end uintptr, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s, e, ok := parseRange(sc.Text())
		if ok && s <= addr && addr < e {
			return s, e, nil
		}
	}
	return 0, 0, fmt.Errorf("no mapping of %#x in /proc/self/maps", addr)
}

// parseRange reads the address range that starts a line of
// /proc/self/maps or smaps ("start-end perms ..."); ok is false for any
// other line (smaps' key lines).
func parseRange(line string) (start, end uintptr, ok bool) {
	rng, _, _ := strings.Cut(line, " ")
	lo, hi, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
