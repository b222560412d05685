//go:build cgo

package vmm

// cgoBuild: Go's runtime in this binary calls the C library for mmap and
// friends (Ring0Unavailable).
const cgoBuild = true
