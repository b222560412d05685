package pagetables

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// Fuzz windows: each is windowPages pages and straddles an interesting
// boundary, so that ops split and free tables at every level.
const windowPages = 2048 // 8 MiB

var fuzzWindows = [...]uintptr{
	0x0000_0000_3fc0_0000, // crosses 1 GiB (PD boundary)
	0x0000_007f_ffc0_0000, // crosses 512 GiB (PML4 boundary)
	0x0000_7fff_ff80_0000, // end of the lower half
	0xffff_8000_0000_0000, // start of the upper half
	0xffff_ffff_ff80_0000, // end of the address space
}

type modelPage struct {
	pa uintptr
	o  Opts
}

// FuzzOps applies random Map/MapHuge/Unmap/Protect ops and checks Lookup,
// Visit, flush reporting and page accounting against a per-page model.
//
// Input: byte 0 = flags (bit 0: AlwaysUser), then 8-byte ops:
// kind, window, page(2), count(2), pa selector, opts.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 2, 1, 7})
	f.Add([]byte{1,
		1, 0, 0x00, 0x02, 0x00, 0x02, 2, 3, // MapHuge 512 pages at 512
		2, 0, 0x10, 0x02, 0x04, 0x00, 0, 0, // Unmap 4 pages at 528
		3, 0, 0x00, 0x00, 0x00, 0x08, 0, 0, // Protect
		0, 1, 0xf0, 0x03, 0x40, 0x00, 5, 15, // Map across 512 GiB
	})
	f.Add([]byte{0,
		1, 4, 0x00, 0x06, 0x00, 0x02, 4, 1, // MapHuge the last 2 MiB
		3, 4, 0xff, 0x07, 0x01, 0x00, 0, 2, // Protect the last page
		2, 4, 0x00, 0x06, 0x00, 0x02, 0, 0,
	})
	f.Fuzz(runOps)
}

// TestRandomOps runs the fuzz body on pseudo-random inputs so that plain
// go test exercises it too.
func TestRandomOps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 200
	if testing.Short() {
		n = 20
	}
	for i := 0; i < n; i++ {
		data := make([]byte, 1+8*(1+r.IntN(48)))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		// Bias toward larger, page-aligned ranges now and then.
		for j := 1; j+8 <= len(data); j += 8 {
			if r.IntN(4) == 0 {
				data[j+2] = 0
				data[j+3] &= 0x06
				data[j+5] = byte(r.IntN(8))
			}
		}
		runOps(t, data)
	}
}

func runOps(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	a := newTestAlloc(t, 512)
	pt, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	pt.AlwaysUser = data[0]&1 != 0
	model := make(map[uintptr]modelPage)
	data = data[1:]
	for n := 0; len(data) >= 8 && n < 48; n++ {
		op := data[:8]
		data = data[8:]
		win := fuzzWindows[int(op[1])%len(fuzzWindows)]
		page := uintptr(binary.LittleEndian.Uint16(op[2:])) % windowPages
		count := 1 + uintptr(binary.LittleEndian.Uint16(op[4:]))%(windowPages-page)
		va, size := win+page*PageSize, count*PageSize
		// pa: 2 MiB aligned unless bit 0 is set; then congruent
		// to va modulo 2 MiB half of the time.
		pa := uintptr(op[6]>>1) * HugePageSize
		if op[6]&1 != 0 {
			pa += va & (HugePageSize - 1)
		}
		o := Opts{Write: op[7]&1 != 0, Exec: op[7]&2 != 0, User: op[7]&4 != 0, Global: op[7]&8 != 0}
		want := o
		want.User = want.User || pt.AlwaysUser

		// mustFlush: some present page is changed.
		mustFlush := false
		var flush bool
		switch op[0] % 4 {
		case 0, 1:
			for p := uintptr(0); p < count; p++ {
				m, ok := model[va+p*PageSize]
				nm := modelPage{pa + p*PageSize, want}
				mustFlush = mustFlush || ok && m != nm
				model[va+p*PageSize] = nm
			}
			if op[0]%4 == 0 {
				flush, err = pt.Map(va, pa, size, o)
			} else {
				flush, err = pt.MapHuge(va, pa, size, o)
			}
			if err != nil {
				t.Fatalf("map %#x+%#x -> %#x: %v", va, size, pa, err)
			}
		case 2:
			for p := uintptr(0); p < count; p++ {
				if _, ok := model[va+p*PageSize]; ok {
					mustFlush = true
					delete(model, va+p*PageSize)
				}
			}
			flush = pt.Unmap(va, size)
		case 3:
			for p := uintptr(0); p < count; p++ {
				if m, ok := model[va+p*PageSize]; ok {
					mustFlush = mustFlush || m.o != want
					model[va+p*PageSize] = modelPage{m.pa, want}
				}
			}
			flush = pt.Protect(va, size, o)
		}
		if mustFlush && !flush {
			t.Fatalf("op %d on %#x+%#x changed present pages but flush is false", op[0]%4, va, size)
		}
		if pt.Pages() != a.outstanding() {
			t.Fatalf("Pages() = %d, allocator has %d outstanding", pt.Pages(), a.outstanding())
		}
		checkModel(t, pt, model)
	}

	// Unmapping everything leaves only the root.
	for _, w := range fuzzWindows {
		pt.Unmap(w, windowPages*PageSize)
	}
	if pt.Pages() != 1 || a.outstanding() != 1 {
		t.Fatalf("after unmapping all: Pages() = %d, outstanding %d, want 1", pt.Pages(), a.outstanding())
	}
	pt.Release()
	if a.outstanding() != 0 || a.allocs != a.frees {
		t.Fatalf("after Release: outstanding %d, allocs %d, frees %d", a.outstanding(), a.allocs, a.frees)
	}
}

func checkModel(t *testing.T, pt *Tables, model map[uintptr]modelPage) {
	t.Helper()
	for _, w := range fuzzWindows {
		for p := uintptr(0); p < windowPages; p++ {
			va := w + p*PageSize
			pa, o, ok := pt.Lookup(va + 0x10)
			m, mok := model[va]
			if ok != mok || ok && (pa != m.pa+0x10 || o != m.o) {
				t.Fatalf("Lookup(%#x) = %#x %+v %v, model %#x %+v %v", va+0x10, pa, o, ok, m.pa+0x10, m.o, mok)
			}
		}
	}
	// Visit reports every modelled page exactly once, in order.
	seen := 0
	prev := uintptr(0)
	first := true
	pt.Visit(0, 0, func(va, pa, size uintptr, o Opts) bool {
		if !first && va <= prev {
			t.Fatalf("Visit out of order: %#x after %#x", va, prev)
		}
		first = false
		prev = va + size - 1
		if size != PageSize && size != HugePageSize || va%size != 0 || pa%size != 0 {
			t.Fatalf("Visit bad leaf va %#x pa %#x size %#x", va, pa, size)
		}
		for off := uintptr(0); off < size; off += PageSize {
			m, ok := model[va+off]
			if !ok || m.pa != pa+off || m.o != o {
				t.Fatalf("Visit leaf %#x+%#x -> %#x %+v disagrees with model at %#x: %+v %v", va, size, pa, o, va+off, m, ok)
			}
			seen++
		}
		return true
	})
	if seen != len(model) {
		t.Fatalf("Visit saw %d pages, model has %d", seen, len(model))
	}
}
