//go:build cgo

package confine

// cgoBuild: threads made by C code are unknown to Go's runtime, so no
// change can be made on every thread (syscall.AllThreadsSyscall refuses).
const cgoBuild = true
