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

// SetMountAccess shows the topmost mount at target with access
// (a remount): its "ro"/"rw" and flag options (fs.FlagOptions) are
// replaced, the filesystem's own kept after them.
func (k *Kernel) SetMountAccess(target, access string) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	i := k.topmostLocked(target)
	if i < 0 {
		return
	}
	o := access
	for _, opt := range strings.Split(k.MountTable[i].Options, ",") {
		switch opt {
		case "", "ro", "rw", "nosuid", "nodev", "noexec":
		default:
			o += "," + opt
		}
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
