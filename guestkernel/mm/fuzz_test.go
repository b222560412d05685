package mm

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/ring0/pagetables"
)

// The fuzz test drives an MM with random operations and, after each, checks
// the structural invariants (checkGroup) and compares the address
// space with a page-granular model of Linux semantics: which pages are
// mapped with which attributes (from which the VMA list follows, since
// equal neighbours merge) and what every page holds. A Fork operation adds
// an address space (its model is a copy of the parent's, less what
// MADV_DONTFORK and MADV_WIPEONFORK leave out); every operation then acts
// on one of them, and all are compared with their models after each. The
// pages of shared mappings are modelled per memory object, so a write
// through one address space is seen in every one that maps the object.

// Fuzz areas: each is 32 pages around an interesting place.
var fuzzAreas = [...]uintptr{
	0x10000000,                        // plain
	fuzzBrkStart + pages(8),           // the heap
	UserEnd - pages(32),               // the top of user space
	MinAddr - pages(8),                // the bottom (some pages below MinAddr)
	MmapTop - pages(32),               // where hint-less mmaps go
	0x10000000 + 0x200000 - pages(16), // a page-map chunk boundary
	StackTop - pages(16),              // below the stack area's top
	0x7f0000000000,                    // far away, fresh page tables
}

const fuzzBrkStart = 0x20000000

type pageAttr struct {
	prot                 int
	shared, growsDown    bool
	name                 string
	dontFork, wipeOnFork bool
	// obj is the memory object of a shared mapping (the MM's own,
	// recorded when the model maps it); the page's index in it is in
	// model.idx.
	obj Pager
}

// objPage names a page of a memory object.
type objPage struct {
	obj Pager
	idx int64
}

type model struct {
	attrs map[uintptr]pageAttr
	idx   map[uintptr]int64  // page index in attrs[va].obj
	data  map[uintptr][]byte // contents of private pages; absent: zero
	// objData holds the contents of the pages of memory objects
	// (absent: zero); every model of a run shares it.
	objData   map[objPage][]byte
	brk       uintptr
	leaves    map[uintptr]leaf // page-table leaves before the op
	populated map[uintptr]bool // populated pages before the op
}

type leaf struct {
	pa uintptr
	o  pagetables.Opts
}

// inRange returns the mapped pages in [start, end), walking whichever is
// smaller: the range or the mapped set.
func (md *model) inRange(start, end uintptr) []uintptr {
	var s []uintptr
	if end <= start {
		return nil
	}
	if (end-start)/pageSize > uintptr(len(md.attrs)) {
		for va := range md.attrs {
			if va >= start && va < end {
				s = append(s, va)
			}
		}
		return s
	}
	for va := start; va < end && va >= start; va += pageSize {
		if _, ok := md.attrs[va]; ok {
			s = append(s, va)
		}
	}
	return s
}

func (md *model) mapped(start, end uintptr) bool {
	if end <= start || (end-start)/pageSize > uintptr(len(md.attrs)) {
		return end == start
	}
	for va := start; va < end; va += pageSize {
		if _, ok := md.attrs[va]; !ok {
			return false
		}
	}
	return true
}

func (md *model) anyMapped(start, end uintptr) bool {
	return len(md.inRange(start, end)) > 0
}

// unmap forgets [start, end).
func (md *model) unmap(start, end uintptr) {
	for _, va := range md.inRange(start, end) {
		delete(md.attrs, va)
		delete(md.data, va)
		delete(md.idx, va)
	}
}

// errTooBig stops a run whose mappings the page-by-page model cannot follow.
var errTooBig = errors.New("mapping too large for the model")

// maxModelPages bounds a mapping the model follows.
const maxModelPages = 1 << 14

// mapRange maps [start, end) with attributes a; for a shared mapping, the
// pages are those of a.obj from index idx on.
func (md *model) mapRange(start, end uintptr, a pageAttr, idx int64) {
	if (end-start)/pageSize > maxModelPages {
		panic(errTooBig)
	}
	for va := start; va < end; va += pageSize {
		md.attrs[va] = a
		delete(md.data, va)
		delete(md.idx, va)
		if a.obj != nil {
			md.idx[va] = idx + int64((va-start)/pageSize)
		}
	}
}

// pageData returns the contents of the mapped page va (nil: zero).
func (md *model) pageData(va uintptr) []byte {
	if a := md.attrs[va]; a.obj != nil {
		return md.objData[objPage{a.obj, md.idx[va]}]
	}
	return md.data[va]
}

// byteAt is the model's content of va.
func (md *model) byteAt(va uintptr) byte {
	if d := md.pageData(va &^ (pageSize - 1)); d != nil {
		return d[va&(pageSize-1)]
	}
	return 0
}

func (md *model) write(va uintptr, b []byte) {
	for i, c := range b {
		a := va + uintptr(i)
		p := a &^ (pageSize - 1)
		d := md.pageData(p)
		if d == nil {
			if c == 0 {
				continue
			}
			d = make([]byte, pageSize)
			if at := md.attrs[p]; at.obj != nil {
				md.objData[objPage{at.obj, md.idx[p]}] = d
			} else {
				md.data[p] = d
			}
		}
		d[a&(pageSize-1)] = c
	}
}

// zeroPage drops the contents of the mapped page va: its private copy, or
// with obj the memory object's page itself.
func (md *model) zeroPage(va uintptr, obj bool) {
	if a := md.attrs[va]; a.obj != nil {
		if obj {
			delete(md.objData, objPage{a.obj, md.idx[va]})
		}
		return
	}
	delete(md.data, va)
}

// fork returns the model of a child: a copy of md without the
// MADV_DONTFORK pages, and without the contents of the MADV_WIPEONFORK
// ones; shared pages stay those of the same memory objects.
func (md *model) fork() *model {
	c := &model{attrs: map[uintptr]pageAttr{}, idx: map[uintptr]int64{}, data: map[uintptr][]byte{},
		objData: md.objData, brk: md.brk}
	for va, a := range md.attrs {
		if a.dontFork {
			continue
		}
		c.attrs[va] = a
		if a.obj != nil {
			c.idx[va] = md.idx[va]
		} else if d := md.data[va]; d != nil && !a.wipeOnFork {
			c.data[va] = slices.Clone(d)
		}
	}
	return c
}

// growStack applies growStackLocked's rule to the unmapped addr: a
// private grows-down VMA above it takes faultAround pages down to its page
// (fewer where the stack limit or the guard gap to the VMA below stop it).
func (md *model) growStack(addr uintptr) bool {
	vs := md.vmas()
	i := sort.Search(len(vs), func(i int) bool { return vs[i].End > addr })
	if i == len(vs) || !vs[i].GrowsDown || vs[i].Pager != nil {
		return false
	}
	v := vs[i]
	page := addr &^ (pageSize - 1)
	lowest := uintptr(MinAddr)
	if v.End > StackLimit && v.End-StackLimit > lowest {
		lowest = v.End - StackLimit
	}
	if i > 0 {
		lowest = max(lowest, vs[i-1].End+StackGuardGap)
	}
	if page < lowest {
		return false
	}
	start := max(lowest, page-min(page, uintptr(faultAround-1)*pageSize))
	for va := start; va < v.Start; va += pageSize {
		md.attrs[va] = md.attrs[v.Start]
	}
	return true
}

// vmas derives the VMA list: maximal runs of contiguous pages with equal
// attributes.
func (md *model) vmas() []VMA {
	vas := make([]uintptr, 0, len(md.attrs))
	for va := range md.attrs {
		vas = append(vas, va)
	}
	slices.Sort(vas)
	var out []VMA
	for _, va := range vas {
		a := md.attrs[va]
		if n := len(out); n > 0 {
			l := &out[n-1]
			if l.End == va && l.Prot == a.prot && l.Shared == a.shared && l.GrowsDown == a.growsDown && l.Name == a.name &&
				l.DontFork == a.dontFork && l.WipeOnFork == a.wipeOnFork && l.Pager == a.obj &&
				(a.obj == nil || l.PagerOff+int64(l.Len()/pageSize) == md.idx[va]) {
				l.End += pageSize
				continue
			}
		}
		v := VMA{Start: va, End: va + pageSize, Prot: a.prot, MaxProt: rwx, Shared: a.shared, GrowsDown: a.growsDown, Name: a.name,
			DontFork: a.dontFork, WipeOnFork: a.wipeOnFork, Pager: a.obj}
		if a.obj != nil {
			v.PagerOff = md.idx[va]
		}
		out = append(out, v)
	}
	return out
}

// accessible returns how many bytes of [addr, addr+n) an access reaches
// before a page that is unmapped or does not allow it.
func (md *model) accessible(addr uintptr, n int, write bool) int {
	if n < 0 || addr >= UserEnd || uintptr(n) > UserEnd-addr {
		return 0
	}
	done := 0
	for done < n {
		a := addr + uintptr(done)
		at, ok := md.attrs[a&^(pageSize-1)]
		if !ok || at.prot == 0 || write && at.prot&ProtWrite == 0 {
			break
		}
		done += int(min(uintptr(n-done), pageSize-a&(pageSize-1)))
	}
	return done
}

// fuzzMM is one address space of a run and its model.
type fuzzMM struct {
	m   *MM
	as  *fakeAS
	md  *model
	inv int // as.invalidations before the op
}

type fuzzer struct {
	mem *memfile.File
	mms []*fuzzMM // the first process and its forks
	ops []string  // log, for failure messages
	// m, as and md are those of the address space the current op acts on.
	m  *MM
	as *fakeAS
	md *model
}

// maxFuzzMMs bounds the address spaces of a run.
const maxFuzzMMs = 4

func (f *fuzzer) fail(format string, args ...any) error {
	return fmt.Errorf("after ops:\n  %s\n%s", joinLines(f.ops), fmt.Sprintf(format, args...))
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// snapshot records the page tables and the page map of every address
// space before an op.
func (f *fuzzer) snapshot() {
	for _, x := range f.mms {
		x.inv = x.as.invalidations
		x.md.leaves = map[uintptr]leaf{}
		x.m.pt.Visit(0, pagetables.LowerHalfEnd, func(va, pa, size uintptr, o pagetables.Opts) bool {
			x.md.leaves[va] = leaf{pa, o}
			return true
		})
		x.md.populated = map[uintptr]bool{}
		x.m.pages.each(0, UserEnd, func(va, pa uintptr) { x.md.populated[va] = true })
	}
}

// compare checks every MM against its model, and that every reduced or
// removed translation was followed by Invalidate.
func (f *fuzzer) compare() error {
	ms := make([]*MM, len(f.mms))
	for i, x := range f.mms {
		ms[i] = x.m
	}
	if err := checkGroup(ms...); err != nil {
		return f.fail("%v", err)
	}
	for i, x := range f.mms {
		if err := f.compareOne(i, x); err != nil {
			return err
		}
	}
	// Pages of memory objects that no address space has populated.
	for k, d := range f.mms[0].md.objData {
		o := k.obj.(*sharedAnon)
		o.mu.Lock()
		pa, dead := o.pages[k.idx], o.refs <= 0
		o.mu.Unlock()
		if !dead && pa == 0 && !bytes.Equal(d, make([]byte, pageSize)) {
			return f.fail("page %d of a shared object lost its contents", k.idx)
		}
	}
	return nil
}

func (f *fuzzer) compareOne(i int, x *fuzzMM) error {
	md, m := x.md, x.m
	want := md.vmas()
	got := m.VMAs()
	for i := range got {
		got[i].Offset, got[i].Inode = 0, 0
	}
	if !slices.Equal(want, got) {
		return f.fail("MM %d: VMAs\n got %+v\nwant %+v", i, got, want)
	}
	var err error
	m.pages.each(0, UserEnd, func(va, pa uintptr) {
		if err != nil {
			return
		}
		want := md.pageData(va)
		if want == nil {
			want = make([]byte, pageSize)
		}
		if !bytes.Equal(memfile.Page(pa), want) {
			err = f.fail("MM %d: contents of page %#x differ from the model", i, va)
		}
	})
	if err != nil {
		return err
	}
	for va := range md.data {
		if m.pages.get(va) == 0 && !bytes.Equal(md.data[va], make([]byte, pageSize)) {
			return f.fail("MM %d: page %#x lost its contents", i, va)
		}
	}
	if x.as.invalidations == x.inv {
		for va, l := range md.leaves {
			pa, o, ok := m.pt.Lookup(va)
			if !ok || pa != l.pa || l.o.Write && !o.Write || l.o.Exec && !o.Exec {
				return f.fail("MM %d: translation of %#x reduced without Invalidate", i, va)
			}
		}
	}
	return nil
}

// objAt returns the memory object the MM maps at va (nil: none).
func objAt(m *MM, va uintptr) Pager {
	if v, ok := m.vmas.lookup(va); ok {
		return v.Pager
	}
	return nil
}

// fuzzAddr picks an address: an area (half of the time the first) and a
// page in it.
func fuzzAddr(area, page byte) uintptr {
	i := int(area & 15)
	if i < 8 {
		i = 0
	} else {
		i -= 8
	}
	return fuzzAreas[i] + pages(int(page%40))
}

// fuzzLen picks a length: mostly a few pages, sometimes unaligned, zero or
// absurd.
func fuzzLen(b, extra byte) uintptr {
	switch b {
	case 0xff:
		return ^uintptr(0) - uintptr(extra)*pageSize
	case 0xfe:
		return UserEnd
	case 0xfd:
		return 1 << 46
	}
	n := pages(int(b % 24))
	if b&0x80 != 0 && extra != 0 {
		n -= uintptr(extra) // unaligned (or wraps for n == 0: absurd)
	}
	return n
}

// errStop ends a run early without failing it: the memory file is full,
// so later operations would be checked against a model that ignores the
// limit.
var errStop = errors.New("memory limit reached")

// stopOnOOM turns an out-of-memory error into errStop.
func stopOnOOM(err error) bool { return errors.Is(err, ErrOutOfMemory) }

func (f *fuzzer) step(op []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r != errTooBig {
				panic(r)
			}
			ms := make([]*MM, len(f.mms))
			for i, x := range f.mms {
				ms[i] = x.m
			}
			if err = checkGroup(ms...); err == nil {
				err = errTooBig
			}
		}
	}()
	kind, sel, page, ln, p4, a1, a2, a3 := op[0], op[1], op[2], op[3], op[4], op[5], op[6], op[7]
	// The high half of kind picks the address space.
	target := int(kind>>4) % len(f.mms)
	x := f.mms[target]
	f.m, f.as, f.md = x.m, x.as, x.md
	m, md := f.m, f.md
	tag := fmt.Sprintf("[%d] ", target)
	addr := fuzzAddr(sel, page)
	length := fuzzLen(ln, a1)
	if vs := md.vmas(); sel&0x20 != 0 && len(vs) > 0 {
		// Relative to an existing mapping: its start or a page in
		// it; a small or zero length is clamped to its end.
		v := vs[int(page)%len(vs)]
		addr = v.Start
		if a3&0x80 != 0 {
			addr += pages(int(a3&0x7f) % int(v.Len()/pageSize))
		}
		if length == 0 || ln < 0x40 {
			length = min(length-1, v.End-addr-1) + 1 // (0 -1 wraps)
		}
	}
	if sel&0x10 != 0 && a1&3 == 0 {
		addr += 1 + uintptr(a3) // unaligned
	}
	f.snapshot()
	logged := len(f.ops)

	switch kind % 14 {
	case 0, 1: // mmap
		o := MmapOpts{Addr: addr, Len: length, Prot: int(p4 & 7),
			Shared: a2&8 != 0, GrowsDown: a2&0x11 == 0x11, Populate: a2&2 != 0}
		switch (p4 >> 3) & 7 {
		case 0, 1, 2, 3:
			o.Fixed = true
		case 4:
			o.NoReplace = true
		case 5:
			o.Fixed, o.NoReplace = true, true
		case 6: // a hint
		case 7:
			o.Addr = 0
		}
		if a2&4 != 0 {
			o.Name = "[anon:x]"
		}
		if a3 == 0xff {
			o.Prot |= 8 // invalid
		}
		r, err := m.Mmap(o)
		f.ops = append(f.ops, fmt.Sprintf("mmap(%+v) = %#x, %v", o, r, err))
		n := pageUp(o.Len)
		exact := o.Fixed || o.NoReplace
		valid := o.Len != 0 && o.Prot&8 == 0 && n != 0 && n <= UserEnd
		switch {
		case !valid:
			if err == nil {
				return f.fail("invalid mmap succeeded")
			}
		case exact && o.Addr%pageSize == 0 && o.Addr >= MinAddr && o.Addr <= UserEnd-n &&
			!(o.NoReplace && md.anyMapped(o.Addr, o.Addr+n)):
			if o.Populate && errors.Is(err, ENOMEM) {
				// Not enough memory to populate it: the
				// range is unmapped.
				md.unmap(o.Addr, o.Addr+n)
				break
			}
			if err != nil || r != o.Addr {
				return f.fail("fixed mmap failed: %#x, %v", r, err)
			}
		case exact && o.NoReplace && o.Addr%pageSize == 0 && o.Addr >= MinAddr && o.Addr <= UserEnd-n:
			if !errors.Is(err, EEXIST) {
				return f.fail("MAP_FIXED_NOREPLACE over a mapping: %v, want EEXIST", err)
			}
		case exact:
			if err == nil {
				return f.fail("bad fixed mmap succeeded")
			}
		case err == nil:
			if r%pageSize != 0 || r < MinAddr || r > UserEnd-n || md.anyMapped(r, r+n) {
				return f.fail("mmap placed at %#x: overlaps or out of range", r)
			}
		}
		if err == nil {
			at := pageAttr{prot: o.Prot, shared: o.Shared, growsDown: o.GrowsDown, name: o.Name}
			if o.Shared {
				at.obj = objAt(m, r)
				if _, ok := at.obj.(*sharedAnon); !ok {
					return f.fail("a shared anonymous mapping has no memory object: %T", at.obj)
				}
			}
			md.mapRange(r, r+n, at, 0)
		}

	case 2: // munmap
		err := m.Munmap(addr, length)
		f.ops = append(f.ops, fmt.Sprintf("munmap(%#x, %#x) = %v", addr, length, err))
		ok := addr%pageSize == 0 && length != 0 && addr < UserEnd && length <= UserEnd-addr
		if ok != (err == nil) {
			return f.fail("munmap: got %v", err)
		}
		if err == nil {
			md.unmap(addr, addr+pageUp(length))
		}

	case 3: // mprotect
		prot := int(p4 & 7)
		err := m.Mprotect(addr, length, prot)
		f.ops = append(f.ops, fmt.Sprintf("mprotect(%#x, %#x, %d) = %v", addr, length, prot, err))
		n := pageUp(length)
		var want error
		switch {
		case addr%pageSize != 0:
			want = EINVAL
		case length == 0:
		case n == 0 || addr >= UserEnd || n > UserEnd-addr || !md.mapped(addr, addr+n):
			want = ENOMEM
		}
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			return f.fail("mprotect: got %v, want %v", err, want)
		}
		if err == nil && length != 0 {
			for va := addr; va < addr+n; va += pageSize {
				a := md.attrs[va]
				a.prot = prot
				md.attrs[va] = a
			}
		}

	case 4: // mremap
		newLen := fuzzLen(a1, a2)
		flags := [8]int{0, 1, 1, 3, 3, 0, 2, 4}[p4&7] // mostly valid
		newAddr := fuzzAddr(a3, a2)
		r, err := m.Mremap(addr, length, newLen, flags, newAddr)
		f.ops = append(f.ops, fmt.Sprintf("mremap(%#x, %#x, %#x, %d, %#x) = %#x, %v", addr, length, newLen, flags, newAddr, r, err))
		oldN, newN := pageUp(length), pageUp(newLen)
		// The old range must lie in one VMA: mapped, equal attributes.
		inOne := oldN != 0 && oldN <= UserEnd && md.mapped(addr, addr+oldN)
		for va := addr; inOne && va < addr+oldN; va += pageSize {
			inOne = md.attrs[va] == md.attrs[addr] &&
				(md.attrs[va].obj == nil || md.idx[va] == md.idx[addr]+int64((va-addr)/pageSize))
		}
		if err == nil {
			if !inOne || newN == 0 || newN > UserEnd || r%pageSize != 0 || r < MinAddr || r > UserEnd-newN {
				return f.fail("bad mremap succeeded")
			}
			if flags&2 != 0 && r != newAddr {
				return f.fail("MREMAP_FIXED to %#x moved to %#x", newAddr, r)
			}
			if flags&1 == 0 && r != addr {
				return f.fail("mremap without MAYMOVE moved")
			}
			at, idx := md.attrs[addr], md.idx[addr]
			keep := min(oldN, newN)
			moved := map[uintptr][]byte{}
			for off := uintptr(0); off < keep; off += pageSize {
				if d := md.data[addr+off]; d != nil {
					moved[r+off] = d
				}
			}
			md.unmap(addr, addr+oldN)
			// Whatever was at a MREMAP_FIXED target is replaced;
			// otherwise the target (beyond the old range) was free.
			if flags&2 == 0 && md.anyMapped(r, r+newN) {
				return f.fail("mremap grew or moved over a mapping")
			}
			md.unmap(r, r+newN)
			md.mapRange(r, r+newN, at, idx)
			for va, d := range moved {
				md.data[va] = d
			}
		} else {
			validFlags := flags&4 == 0 && (flags&2 == 0 || flags&1 != 0)
			if inOne && flags == 0 && newN != 0 && newN <= oldN {
				return f.fail("mremap shrink failed: %v", err)
			}
			if !inOne && validFlags && addr%pageSize == 0 && oldN != 0 && newN != 0 && newN <= UserEnd && !errors.Is(err, EFAULT) {
				return f.fail("mremap of a range not in one VMA: %v, want EFAULT", err)
			}
		}

	case 5: // brk
		old := md.brk
		target := fuzzBrkStart + pages(int(page%48)) - pages(4) + uintptr(a3)
		if sel&0x40 != 0 {
			target = fuzzBrkStart + 1<<40 + 1 + uintptr(a1) // too far
		}
		got := m.Brk(target)
		f.ops = append(f.ops, fmt.Sprintf("brk(%#x) = %#x", target, got))
		oldEnd, newEnd := pageUp(old), pageUp(target)
		okGrow := target >= fuzzBrkStart && target <= fuzzBrkStart+(1<<40) &&
			(newEnd <= oldEnd || newEnd <= UserEnd && !md.anyMapped(oldEnd, newEnd))
		if okGrow != (got == target) || !okGrow && got != old {
			return f.fail("brk: got %#x (old %#x, want ok=%v)", got, old, okGrow)
		}
		if okGrow {
			if newEnd > oldEnd {
				md.mapRange(oldEnd, newEnd, pageAttr{prot: rw, name: "[heap]"}, 0)
			} else {
				md.unmap(newEnd, oldEnd)
			}
			md.brk = target
		}

	case 6: // madvise
		advs := []int{unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE, unix.MADV_WILLNEED, 999,
			unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK}
		adv := advs[int(p4)%len(advs)]
		err := m.Madvise(addr, length, adv)
		f.ops = append(f.ops, fmt.Sprintf("madvise(%#x, %#x, %d) = %v", addr, length, adv, err))
		n := pageUp(length)
		var want error
		switch {
		case addr%pageSize != 0 || adv == 999:
			want = EINVAL
		case length == 0:
		case n == 0 || addr+n < addr:
			want = EINVAL
		case addr >= UserEnd || n > UserEnd-addr || !md.mapped(addr, addr+n):
			want = ENOMEM
		case adv == unix.MADV_WIPEONFORK:
			// Private anonymous memory only.
			for va := addr; va < addr+n; va += pageSize {
				if md.attrs[va].shared {
					want = EINVAL
				}
			}
		}
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			return f.fail("madvise: got %v, want %v", err, want)
		}
		if err == nil && length != 0 {
			for va := addr; va < addr+n; va += pageSize {
				a := md.attrs[va]
				switch adv {
				case unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE:
					md.zeroPage(va, adv == unix.MADV_REMOVE)
				case unix.MADV_DONTFORK, unix.MADV_DOFORK:
					a.dontFork = adv == unix.MADV_DONTFORK
				case unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK:
					a.wipeOnFork = adv == unix.MADV_WIPEONFORK
				}
				md.attrs[va] = a
			}
		}

	case 7, 8: // fault
		write, exec := p4&1 != 0, p4&2 != 0
		res, code, err := m.HandleFault(addr, write, exec)
		f.ops = append(f.ops, fmt.Sprintf("fault(%#x, w=%v, x=%v) = %d, %d, %v", addr, write, exec, res, code, err))
		if stopOnOOM(err) {
			return errStop
		}
		if err != nil {
			return f.fail("fault: %v", err)
		}
		at, ok := md.attrs[addr&^(pageSize-1)]
		if !ok && md.growStack(addr) {
			at, ok = md.attrs[addr&^(pageSize-1)]
		}
		switch {
		case !ok:
			if res != FaultSIGSEGV || code != segvMapErr {
				return f.fail("fault on unmapped %#x: %d %d", addr, res, code)
			}
		case at.prot == 0 || write && at.prot&ProtWrite == 0 || exec && at.prot&ProtExec == 0:
			if res != FaultSIGSEGV || code != segvAccErr {
				return f.fail("fault on %#x (prot %d): %d %d", addr, at.prot, res, code)
			}
		default:
			if res != FaultHandled {
				return f.fail("fault on %#x not handled", addr)
			}
			pa, o, ok := m.pt.Lookup(addr)
			if !ok || pa != m.pages.get(addr&^(pageSize-1))|addr&(pageSize-1) || write && !o.Write || exec && !o.Exec {
				return f.fail("after the fault %#x is not mapped right", addr)
			}
		}

	case 9, 10, 11: // CopyOut, CopyIn, ZeroOut
		n := int(ln)*37 + int(a1)
		if ln == 0xff && kind%14 == 11 {
			n = -1
		}
		buf := make([]byte, max(n, 0))
		for i := range buf {
			buf[i] = a2 + byte(i)
		}
		var done int
		var err error
		write := true
		switch kind % 14 {
		case 9:
			done, err = m.CopyOut(addr, buf)
		case 10:
			write = false
			done, err = m.CopyIn(addr, buf)
		case 11:
			clear(buf)
			done, err = m.ZeroOut(addr, n)
		}
		f.ops = append(f.ops, fmt.Sprintf("copy(op %d, %#x, %d) = %d, %v", kind%14, addr, n, done, err))
		if stopOnOOM(err) {
			return errStop
		}
		// An access below a stack grows it, page by page, as a fault.
		for va := addr &^ (pageSize - 1); n > 0 && va < addr+uintptr(n) && va < UserEnd; va += pageSize {
			if _, ok := md.attrs[va]; !ok && !md.growStack(va) {
				break
			}
		}
		want := md.accessible(addr, n, write)
		if done != want || (want == n) != (err == nil) || err != nil && !errors.Is(err, EFAULT) {
			return f.fail("copy: got %d, %v; want %d of %d", done, err, want, n)
		}
		if write {
			md.write(addr, buf[:done])
		} else {
			for i := 0; i < done; i++ {
				if buf[i] != md.byteAt(addr+uintptr(i)) {
					return f.fail("CopyIn byte %d at %#x: %#x, model %#x", i, addr+uintptr(i), buf[i], md.byteAt(addr+uintptr(i)))
				}
			}
		}

	case 12: // fork
		if len(f.mms) >= maxFuzzMMs {
			f.ops = append(f.ops, "fork: enough address spaces")
			break
		}
		p := &fakePlatform{mem: f.mem}
		c, err := m.Fork(p)
		f.ops = append(f.ops, fmt.Sprintf("fork() = [%d], %v", len(f.mms), err))
		if stopOnOOM(err) {
			return errStop
		}
		if err != nil {
			return f.fail("fork: %v", err)
		}
		f.mms = append(f.mms, &fuzzMM{m: c, as: p.spaces[0], md: md.fork(), inv: -1})

	case 13: // release (exit or exec)
		if len(f.mms) == 1 {
			f.ops = append(f.ops, "release: the last address space")
			break
		}
		m.Release()
		f.ops = append(f.ops, "release")
		f.mms = slices.Delete(f.mms, target, target+1)
	}
	if len(f.ops) > logged {
		f.ops[logged] = tag + f.ops[logged]
	}
	return f.compare()
}

// fuzzMem is the memory file the fuzz workers share: a file per input
// would exhaust the process's descriptors and mappings.
var (
	fuzzMemOnce sync.Once
	fuzzMem     *memfile.File
	fuzzMemErr  error
)

const opSize = 8

func runFuzz(tb testing.TB, data []byte) {
	fuzzMemOnce.Do(func() { fuzzMem, fuzzMemErr = memfile.New(memfile.ChunkSize, nil) })
	if fuzzMemErr != nil {
		tb.Fatal(fuzzMemErr)
	}
	mem := fuzzMem
	if cur, _ := mem.Used(); cur != 0 {
		tb.Fatalf("memory file not empty at the start: %d bytes", cur)
	}
	p := &fakePlatform{mem: mem}
	m, err := New(p, mem)
	if err != nil {
		tb.Fatal(err)
	}
	m.brkStart, m.brk = fuzzBrkStart, fuzzBrkStart
	md := &model{attrs: map[uintptr]pageAttr{}, idx: map[uintptr]int64{}, data: map[uintptr][]byte{},
		objData: map[objPage][]byte{}, brk: fuzzBrkStart}
	f := &fuzzer{mem: mem, mms: []*fuzzMM{{m: m, as: p.spaces[0], md: md}}}
	release := func() {
		for _, x := range f.mms {
			x.m.Release()
		}
	}
	for len(data) >= opSize && len(f.ops) < 64 {
		if err := f.step(data[:opSize]); err == errTooBig || err == errStop {
			break
		} else if err != nil {
			release()
			tb.Fatal(err)
		}
		data = data[opSize:]
	}
	release()
	if cur, _ := mem.Used(); cur != 0 {
		tb.Fatalf("after Release %d bytes of the memory file are still used", cur)
	}
}

// FuzzMM: 8-byte ops: kind, selector (area, flags), page, length, prot or
// advice, and three bytes of arguments.
func FuzzMM(f *testing.F) {
	f.Add([]byte{
		0, 0x08, 0, 8, 3, 0, 0, 0, // mmap fixed 8 pages rw
		9, 0, 1, 20, 0, 0, 7, 0, // CopyOut
		3, 0, 2, 2, 1, 0, 0, 0, // mprotect r
		2, 0, 4, 1, 0, 0, 0, 0, // munmap
		4, 0, 5, 3, 1, 5, 0, 9, // mremap
		6, 0, 0, 3, 0, 0, 0, 0, // madvise dontneed
		7, 0, 6, 0, 1, 0, 0, 0, // write fault
		5, 0, 10, 0, 0, 0, 0, 0, // brk
		10, 0, 0, 30, 0, 0, 0, 0, // CopyIn
	})
	f.Add([]byte{
		0, 0x40, 0, 4, 3, 0, 0, 0, // mmap hint-less
		0, 0x44, 0, 4, 1, 0, 0, 0, // and another
		4, 0x04, 28, 4, 1, 8, 0, 0, // mremap it
		0, 0x0a, 0, 23, 3, 0, 2, 0, // populate at the top
		11, 0x02, 30, 200, 0, 0, 0, 0, // ZeroOut past the end
		2, 0x02, 0, 0xff, 0, 1, 0, 0, // munmap absurd length
	})
	f.Add([]byte{
		0, 0x2b, 0, 8, 3, 0, 0, 0, // shared mapping in the chunk-boundary area
		9, 0x03, 0, 50, 0, 0, 3, 0,
		6, 0x03, 0, 8, 0, 0, 0, 0, // dontneed keeps shared data
		3, 0x03, 0, 8, 0, 0, 0, 0, // PROT_NONE
		4, 0x03, 0, 8, 3, 8, 0, 0x41, // mremap fixed
		1, 0x1e, 2, 2, 3, 0, 0, 0, // noreplace
	})
	f.Add([]byte{
		0, 0x00, 0, 8, 3, 0, 0, 0, // mmap fixed 8 pages rw
		9, 0x00, 0, 250, 0, 0, 7, 0, // CopyOut over pages 0-2
		6, 0x00, 2, 2, 7, 0, 0, 0, // madvise WIPEONFORK pages 2-3
		6, 0x00, 5, 1, 5, 0, 0, 0, // madvise DONTFORK page 5
		0, 0x00, 10, 4, 3, 0, 8, 0, // mmap shared
		9, 0x00, 10, 40, 0, 0, 9, 0, // CopyOut into it
		12, 0, 0, 0, 0, 0, 0, 0, // fork
		0x17, 0x00, 0, 200, 0, 0, 5, 0, // [1] CopyOut over pages 0-1
		0x18, 0x00, 12, 1, 0, 0, 0, 0, // [1] CopyIn the shared pages
		10, 0x00, 0, 250, 0, 0, 0, 0, // [0] CopyIn
		2, 0x00, 0, 8, 0, 0, 0, 0, // [0] munmap
		0x15, 0x00, 1, 2, 1, 0, 0, 0, // [1] fault
		13, 0, 0, 0, 0, 0, 0, 0, // [0] release
	})
	f.Fuzz(func(t *testing.T, data []byte) { runFuzz(t, data) })
}

// TestMMRandomOps runs the fuzz body on pseudo-random inputs so that plain
// go test exercises it too.
func TestMMRandomOps(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	n := 300
	if testing.Short() {
		n = 30
	}
	for i := 0; i < n; i++ {
		data := make([]byte, opSize*(1+r.IntN(60)))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		// Keep lengths small most of the time.
		for j := 3; j < len(data); j += opSize {
			if r.IntN(8) != 0 {
				data[j] %= 24
			}
		}
		if i%2 == 1 {
			focusOnFork(r, data)
		}
		runFuzz(t, data)
	}
}

// focusOnFork rewrites ops so that they stay in one area and favour what
// interacts with fork: mappings, writes and reads, madvise, forks and
// releases, on any of the address spaces.
func focusOnFork(r *rand.Rand, data []byte) {
	kinds := []int{0, 0, 1, 9, 9, 9, 10, 10, 6, 6, 6, 12, 12, 7, 8, 2, 4, 3, 13, 11, 5}
	for j := 0; j+opSize <= len(data); j += opSize {
		k, hi := kinds[r.IntN(len(kinds))], r.IntN(4)
		// kind%14 == k with kind>>4 == hi.
		data[j] = byte(hi<<4 | (k-2*hi+28)%14)
		sel := data[j+1] &^ 0x0f // area 0
		if r.IntN(8) != 0 {
			sel &^= 0x10 // aligned
		}
		data[j+1] = sel
		if k == 6 && r.IntN(2) == 0 {
			data[j+4] = byte(5 + r.IntN(4)) // fork advice
		}
	}
}
