//go:build !cgo

package vmm

const cgoBuild = false
