package main

import (
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
)

// minimalSysfs builds the few /sys files programs commonly read (CPU
// lists, the huge page size), as a read-only in-memory tree.
func minimalSysfs() (fs.FS, error) {
	t := tmpfs.New(1 << 20)
	cpus := fmt.Sprintf("0-%d\n", runtime.NumCPU()-1)
	if runtime.NumCPU() == 1 {
		cpus = "0\n"
	}
	files := map[string]string{
		"devices/system/cpu/online":                     cpus,
		"devices/system/cpu/possible":                   cpus,
		"devices/system/cpu/present":                    cpus,
		"kernel/mm/transparent_hugepage/enabled":        "always [madvise] never\n",
		"kernel/mm/transparent_hugepage/hpage_pmd_size": "2097152\n",
	}
	for p, content := range files {
		dir := t.Root()
		parts := strings.Split(p, "/")
		for _, name := range parts[:len(parts)-1] {
			next, err := dir.Lookup(name)
			if err == unix.ENOENT {
				if err := dir.(fs.Mutable).Mkdir(name, 0o755); err != nil {
					return nil, err
				}
				next, err = dir.Lookup(name)
			}
			if err != nil {
				return nil, err
			}
			dir = next
		}
		_, f, err := dir.(fs.Creator).Create(parts[len(parts)-1], unix.O_WRONLY, 0o444)
		if err != nil {
			return nil, err
		}
		f.Write([]byte(content))
		f.Release()
	}
	return t, nil
}
