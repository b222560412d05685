package kernel

import (
	"slices"
	"strings"

	"ringbox/fs/procfs"
)

// Mounts returns the mount table (/proc/mounts).
func (k *Kernel) Mounts() []procfs.MountInfo {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	return slices.Clone(k.MountTable)
}

// AddMount appends a mount made by mount(2), with a mount ID of its own
// (the table's first mounts are numbered by their place, from 1).
func (k *Kernel) AddMount(mi procfs.MountInfo) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	if k.nextMount == 0 {
		k.nextMount = len(k.MountTable) + 1000
	}
	k.nextMount++
	mi.ID = k.nextMount
	k.MountTable = append(k.MountTable, mi)
}

// topmostLocked is the index of the topmost mount listed at target (the
// last one), -1 if none.
func (k *Kernel) topmostLocked(target string) int {
	for i := len(k.MountTable) - 1; i >= 0; i-- {
		if k.MountTable[i].Target == target {
			return i
		}
	}
	return -1
}

// RemoveMount drops the topmost mount at target.
func (k *Kernel) RemoveMount(target string) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	if i := k.topmostLocked(target); i >= 0 {
		k.MountTable = slices.Delete(k.MountTable, i, i+1)
	}
}

// SetMountReadOnly shows the topmost mount at target as ro or rw (a
// remount): the first option, which is one of them.
func (k *Kernel) SetMountReadOnly(target string, ro bool) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	i := k.topmostLocked(target)
	if i < 0 {
		return
	}
	first, rest, _ := strings.Cut(k.MountTable[i].Options, ",")
	if first != "rw" && first != "ro" {
		rest = k.MountTable[i].Options
	}
	o := map[bool]string{true: "ro", false: "rw"}[ro]
	if rest != "" {
		o += "," + rest
	}
	k.MountTable[i].Options = o
}

// MountAt returns the topmost mount listed at target (a type "none" one
// if none is).
func (k *Kernel) MountAt(target string) procfs.MountInfo {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	if i := k.topmostLocked(target); i >= 0 {
		return k.MountTable[i]
	}
	return procfs.MountInfo{Source: "none", FSType: "none"}
}
