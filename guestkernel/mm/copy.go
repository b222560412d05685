package mm

import (
	"unsafe"

	"ringbox/guestkernel/memfile"
)

// access walks [addr, addr+n) page by page, populating pages as needed, and
// calls fn with the host memory of each piece. write asks for a writable
// mapping. Caller holds mu.
func (m *MM) access(addr uintptr, n int, write bool, fn func(b []byte)) (int, error) {
	return m.accessAs(addr, n, write, false, fn)
}

// accessAs is access; force lets a write into a private mapping that the
// program may not write (a debugger's breakpoint in its code): the page
// is made the address space's own, and stays read-only to the program.
func (m *MM) accessAs(addr uintptr, n int, write, force bool, fn func(b []byte)) (int, error) {
	if n == 0 {
		return 0, nil
	}
	if n < 0 || addr >= UserEnd || uintptr(n) > UserEnd-addr {
		return 0, EFAULT
	}
	done := 0
	for done < n {
		a := addr + uintptr(done)
		v, ok := m.vmas.lookup(a)
		if !ok {
			// Below a stack, as a fault there would: a signal frame
			// pushed past what the program has touched.
			v, ok = m.growStackLocked(a)
		}
		// Like the MMU (and HandleFault): any access right allows
		// reading, as PROT_WRITE and PROT_EXEC pages are readable on
		// x86.
		if !ok || v.Prot&(ProtRead|ProtWrite|ProtExec) == 0 || write && v.Prot&ProtWrite == 0 && (!force || v.Shared) ||
			v.HostPhys != 0 {
			return done, EFAULT
		}
		page := a &^ (pageSize - 1)
		pa := m.pages.get(page)
		if pa == 0 {
			if err := m.populate(v, page, 1); err != nil {
				return done, err
			}
			pa = m.pages.get(page)
		}
		if write && m.pages.isCOW(page) {
			var err error
			if pa, err = m.ownPage(v, page); err != nil {
				return done, err
			}
		}
		off := a - page
		k := min(uintptr(n-done), pageSize-off)
		fn(memfile.Bytes(pa+off, k))
		done += int(k)
	}
	return done, nil
}

// CopyIn copies user memory at addr into dst. It returns the bytes copied
// and EFAULT if the range is not all readable.
func (m *MM) CopyIn(addr uintptr, dst []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := 0
	return m.access(addr, len(dst), false, func(b []byte) { off += copy(dst[off:], b) })
}

// CopyOut copies src to user memory at addr.
func (m *MM) CopyOut(addr uintptr, src []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := 0
	return m.access(addr, len(src), true, func(b []byte) { off += copy(b, src[off:]) })
}

// ForceCopyOut copies src to user memory at addr as ptrace's POKEDATA
// does: a private mapping is written even where the program may not write
// (its own copy of the page); a shared one only where it may.
func (m *MM) ForceCopyOut(addr uintptr, src []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := 0
	return m.accessAs(addr, len(src), true, true, func(b []byte) { off += copy(b, src[off:]) })
}

// ZeroOut writes n zero bytes at addr.
func (m *MM) ZeroOut(addr uintptr, n int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.access(addr, n, true, func(b []byte) { clear(b) })
}

// CopyInString reads a NUL-terminated string of at most max bytes
// (excluding the NUL). It returns EFAULT for a bad pointer (or a string
// running into unreadable memory) and ErrStringTooLong when no NUL is found
// within max+1 bytes; it never reads past the NUL.
func (m *MM) CopyInString(addr uintptr, max int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var buf []byte
	for len(buf) <= max {
		page := (addr + uintptr(len(buf))) | (pageSize - 1)
		chunk := int(page-(addr+uintptr(len(buf)))) + 1
		if rest := max - len(buf); rest < chunk-1 { // (max+1 could overflow)
			chunk = rest + 1
		}
		found := false
		_, err := m.access(addr+uintptr(len(buf)), chunk, false, func(b []byte) {
			if found {
				return
			}
			for i, c := range b {
				if c == 0 {
					buf = append(buf, b[:i]...)
					found = true
					return
				}
			}
			buf = append(buf, b...)
		})
		if found {
			return string(buf), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", ErrStringTooLong
}

// ErrStringTooLong is returned by CopyInString for an unterminated string.
var ErrStringTooLong = errStringTooLong{}

type errStringTooLong struct{}

func (errStringTooLong) Error() string { return "string too long" }

// CopyInUint64 reads a little-endian uint64.
func (m *MM) CopyInUint64(addr uintptr) (uint64, error) {
	var b [8]byte
	if _, err := m.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return *(*uint64)(unsafe.Pointer(&b[0])), nil
}

// CopyOutUint64 writes a little-endian uint64.
func (m *MM) CopyOutUint64(addr uintptr, v uint64) error {
	b := (*[8]byte)(unsafe.Pointer(&v))
	_, err := m.CopyOut(addr, b[:])
	return err
}

// Translate returns the memory-file address (host and guest-physical) of
// the byte at user address addr and whether its mapping is shared
// (MAP_SHARED: a file's own pages or shared anonymous memory, the same
// pages in every address space that maps them). The page is populated as a
// read would populate it; EFAULT if addr is not readable.
//
// The address is a snapshot: a private page changes at its next write
// after a fork (copy-on-write), and any page is freed by munmap, madvise
// or exec. A shared mapping's page stays the same while it is mapped.
// A caller that keeps the address (a shared futex key) and needs the page
// not to be reused meanwhile takes a reference on the page with
// memfile.File.IncRef while holding mu (translateLocked) and gives it
// back with Free.
func (m *MM) Translate(addr uintptr) (pa uintptr, shared bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.translateLocked(addr)
}

// translateLocked is Translate with mu held.
func (m *MM) translateLocked(addr uintptr) (uintptr, bool, error) {
	var pa uintptr
	if _, err := m.access(addr, 1, false, func(b []byte) { pa = uintptr(unsafe.Pointer(&b[0])) }); err != nil {
		return 0, false, err
	}
	v, _ := m.vmas.lookup(addr)
	return pa, v.Shared, nil
}
