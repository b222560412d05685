package vmm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lowPlacement is where ringbox puts the memory every mode's guest must
// reach (the supervisor region and the memory file). Guest-physical =
// host-virtual, so these addresses must fit the CPU's guest-physical
// width, which can be as small as 39 bits; the kernel's default mmap
// placement (near 2^47) would not.
const lowPlacement = 0x10_0000_0000 // 64 GiB

// reserveLow reserves size bytes (PROT_NONE, aligned to align) at the
// first free place at or above lowPlacement, ending below limit.
func reserveLow(size, align, limit uintptr) (uintptr, error) {
	const step = 1 << 30
	for at := uintptr(lowPlacement); at+size <= limit; at += step {
		addr := (at + align - 1) &^ (align - 1)
		r, _, errno := unix.Syscall6(unix.SYS_MMAP, addr, size, unix.PROT_NONE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED_NOREPLACE, ^uintptr(0), 0)
		if errno == 0 && r == addr {
			return addr, nil
		}
		if errno == 0 {
			unix.Syscall(unix.SYS_MUNMAP, r, size, 0) // an old kernel ignored NOREPLACE
		}
	}
	return 0, fmt.Errorf("no room for %d bytes of guest memory below %#x (the CPU's guest-physical limit)", size, limit)
}
