package vmm

import (
	"bufio"
	"os"
	"reflect"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/vmm/hostmaps"
)

// TrimText drops this process's page-table entries for the read-only
// mappings of its own executable (text and rodata), which stay in the
// host's page cache; the pages it runs or reads again fault back in. Set-up
// code (flags, the loader, the file systems, seccomp, the network stack's
// init) is touched once, and as the kernel maps 64 KiB around each fault
// of a file in its page cache, nearly all of the binary's 8 MiB ended up
// mapped and counted as the sandbox's memory (PSS). Clean pages only: the
// data and bss mappings are writable and are left alone, and so is a
// read-only mapping that holds written private copies. It returns the
// bytes of mappings trimmed.
func TrimText() uintptr {
	pc := reflect.ValueOf(TrimText).Pointer()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	type mapping struct {
		start, end uintptr
		perms      string
		path       string
		anon       bool // holds private copies (relocations, breakpoints)
	}
	var maps []*mapping
	self := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "Anonymous:" && len(maps) > 0 {
			maps[len(maps)-1].anon = fields[1] != "0"
			continue
		}
		hm, ok := hostmaps.Parse(sc.Text())
		if !ok {
			continue // a key line of the mapping above
		}
		m := &mapping{start: hm.Start, end: hm.End, perms: hm.Perms, path: hm.Name}
		if hm.Contains(pc) {
			self = m.path
		}
		maps = append(maps, m)
	}
	if self == "" {
		return 0
	}
	var n uintptr
	for _, m := range maps {
		// Only clean pages: a read-only private mapping may still hold
		// written copies (a relocated GOT, a debugger's breakpoint),
		// which MADV_DONTNEED would lose.
		if m.path != self || strings.ContainsRune(m.perms, 'w') || m.perms[3] != 'p' || m.anon {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); e == 0 {
			n += m.end - m.start
		}
	}
	return n
}
