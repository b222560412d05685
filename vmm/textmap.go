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
		line := sc.Text()
		rng, _, _ := strings.Cut(line, " ")
		lo, hi, ok := strings.Cut(rng, "-")
		if !ok {
			continue
		}
		s, err1 := strconv.ParseUint(lo, 16, 64)
		e, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if uintptr(s) <= addr && addr < uintptr(e) {
			return uintptr(s), uintptr(e), nil
		}
	}
	return 0, 0, fmt.Errorf("no mapping of %#x in /proc/self/maps", addr)
}
