package hostcall

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkFstat compares fstat through the host I/O thread with a direct
// syscall (on the host both are plain syscalls; in the guest the direct
// one is a VM exit).
func BenchmarkFstat(b *testing.B) {
	var st unix.Stat_t
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if err := Fstat(0, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("thread", func(b *testing.B) {
		if err := Start(Policy{Worker: true}); err != nil {
			b.Fatal(err)
		}
		defer func() { active.Store(nil) }()
		for b.Loop() {
			if err := Fstat(0, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
}
