package ring0

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestRegionPopulatesOnInit: a region for many vCPUs takes memory only for
// the vCPUs set up (InitCPU populates all of one vCPU's pages, stacks
// included, so nothing on them faults in the guest).
func TestRegionPopulatesOnInit(t *testing.T) {
	const ncpu = 1024
	size := RegionSize(ncpu)
	// A 2 MiB-aligned range of our own.
	res, err := unix.Mmap(-1, 0, int(size+regionAlign), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(res)
	base := (uintptr(unsafe.Pointer(&res[0])) + regionAlign - 1) &^ (regionAlign - 1)
	r, err := NewRegionAt(base, ncpu)
	if err != nil {
		t.Fatal(err)
	}
	r.SetupPVM(true)
	resident := func(first, n int) int {
		vec := make([]byte, n)
		addr := uintptr(unsafe.Pointer(&r.mem[first*pageSize]))
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, addr, uintptr(n*pageSize), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			t.Fatal(e)
		}
		k := 0
		for _, v := range vec {
			k += int(v & 1)
		}
		return k
	}
	total := int(size / pageSize)
	if k := resident(0, total); k > 1 {
		t.Errorf("%d pages resident before any vCPU is set up, want the IDT's only", k)
	}
	r.InitCPU(700)
	if k := resident(r.cpuOff(700), cpuPages); k != cpuPages {
		t.Errorf("vCPU 700: %d of %d pages resident after InitCPU", k, cpuPages)
	}
	if k := resident(0, total); k != 1+cpuPages {
		t.Errorf("%d pages resident with one vCPU set up, want %d", k, 1+cpuPages)
	}
}
