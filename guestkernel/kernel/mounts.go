package kernel

import (
	"slices"

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

// RemoveMount drops the topmost mount at target (the last one listed).
func (k *Kernel) RemoveMount(target string) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	for i := len(k.MountTable) - 1; i >= 0; i-- {
		if k.MountTable[i].Target == target {
			k.MountTable = slices.Delete(k.MountTable, i, i+1)
			return
		}
	}
}

// SetMountOptions changes the options shown for the topmost mount at
// target (a remount).
func (k *Kernel) SetMountOptions(target, opts string) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	for i := len(k.MountTable) - 1; i >= 0; i-- {
		if k.MountTable[i].Target == target {
			k.MountTable[i].Options = opts
			return
		}
	}
}

// MountOptions returns the options of the topmost mount at target.
func (k *Kernel) MountOptions(target string) (string, bool) {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	for i := len(k.MountTable) - 1; i >= 0; i-- {
		if k.MountTable[i].Target == target {
			return k.MountTable[i].Options, true
		}
	}
	return "", false
}

// MountAt returns the topmost mount listed at target (a type "none" one
// if none is).
func (k *Kernel) MountAt(target string) procfs.MountInfo {
	k.mountMu.Lock()
	defer k.mountMu.Unlock()
	for i := len(k.MountTable) - 1; i >= 0; i-- {
		if k.MountTable[i].Target == target {
			return k.MountTable[i]
		}
	}
	return procfs.MountInfo{Source: "none", FSType: "none"}
}
