// Package hostmaps reads this process's own memory map, /proc/self/maps
// (and the mapping lines of /proc/self/smaps): where ringbox's text, the
// host's vDSO and the other host mappings lie. ring0 mode mirrors them,
// the origin check and the vDSO need their ranges, and start-up trims the
// text it no longer needs. It must run before ringbox confines itself
// (the confined process can still open /proc/self/maps; see vmm/confine).
package hostmaps
