package vmm

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// textRSS returns the resident KiB of this process's executable text and
// rodata mappings (the ones TrimText trims), from /proc/self/smaps.
func textRSS(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[5] == exe && !strings.ContainsRune(fields[1], 'w')
			continue
		}
		if in && len(fields) >= 2 && fields[0] == "Rss:" {
			n, _ := strconv.Atoi(fields[1])
			sum += n
		}
	}
	return sum
}

// TestTrimText: trimming drops the pages of the executable's read-only
// mappings from this process (they fault back in as they are used), and
// the process goes on running.
func TestTrimText(t *testing.T) {
	before := textRSS(t)
	n := TrimText()
	after := textRSS(t)
	t.Logf("text and rodata resident: %d KiB before, %d KiB after trimming %d KiB of mappings", before, after, n>>10)
	if n == 0 {
		t.Fatal("TrimText found no mapping of its own executable")
	}
	if after >= before {
		t.Fatalf("resident text and rodata did not shrink: %d KiB -> %d KiB", before, after)
	}
	// Still runs: code and read-only data come back.
	if s := strconv.Itoa(12345); s != "12345" {
		t.Fatal(s)
	}
}
