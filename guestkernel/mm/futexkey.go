package mm

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FutexKeyKind says how a futex word is identified.
type FutexKeyKind uint8

// Futex key kinds. A private key and a shared key of the same word in a
// private mapping differ, as on Linux: a FUTEX_WAKE without
// FUTEX_PRIVATE_FLAG does not wake a FUTEX_WAIT_PRIVATE waiter.
const (
	// FutexPrivate: a FUTEX_PRIVATE_FLAG operation, keyed by (MM, Addr).
	FutexPrivate FutexKeyKind = iota + 1
	// FutexSharedMM: a shared operation on a private mapping, keyed by
	// (MM, Addr).
	FutexSharedMM
	// FutexSharedPage: a shared operation on a MAP_SHARED mapping,
	// keyed by the word's address in the memory file (Addr; MM is nil),
	// so every address space that maps the page meets on it.
	FutexSharedPage
)

// FutexKey identifies a futex word for the kernel's futex table. Keys
// are comparable: equal keys name the same futex.
type FutexKey struct {
	Kind FutexKeyKind
	MM   *MM     // the address space, nil for FutexSharedPage
	Addr uintptr // user address, or memory-file address for FutexSharedPage
}

// FutexKey returns the key of the 32-bit futex word at addr: EINVAL if
// addr is not 4-byte aligned, EFAULT if it is outside user space or (for a
// shared operation) not mapped readable. A shared key of a MAP_SHARED
// mapping faults the page in to learn which memory-file page backs it.
func (m *MM) FutexKey(addr uintptr, private bool) (FutexKey, error) {
	if addr&3 != 0 {
		return FutexKey{}, EINVAL
	}
	if addr >= UserEnd {
		return FutexKey{}, EFAULT
	}
	if private {
		return FutexKey{Kind: FutexPrivate, MM: m, Addr: addr}, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vmas.lookup(addr)
	if !ok {
		return FutexKey{}, EFAULT
	}
	shared := v.Shared
	var host uintptr
	if _, err := m.access(addr, 4, false, func(b []byte) { host = uintptr(unsafe.Pointer(&b[0])) }); err != nil {
		return FutexKey{}, futexErr(err)
	}
	if !shared {
		return FutexKey{Kind: FutexSharedMM, MM: m, Addr: addr}, nil
	}
	return FutexKey{Kind: FutexSharedPage, Addr: host}, nil
}

// futexErr maps a failed access to what futex calls return: a shared file
// page past the end of its file is EFAULT (as Linux's get_user_pages).
func futexErr(err error) error {
	if errors.Is(err, ErrBus) {
		return EFAULT
	}
	return err
}

// futexWord calls fn with a pointer to the host memory of the aligned
// 32-bit user word at addr, with the address space locked so the page
// stays mapped meanwhile. write asks for a writable mapping. fn must
// access the word with sync/atomic: user code may run on other vCPUs.
func (m *MM) futexWord(addr uintptr, write bool, fn func(w *uint32)) error {
	if addr&3 != 0 {
		return EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.access(addr, 4, write, func(b []byte) { fn((*uint32)(unsafe.Pointer(&b[0]))) })
	return futexErr(err)
}

// FutexLoad atomically reads the aligned 32-bit word at addr.
func (m *MM) FutexLoad(addr uintptr) (uint32, error) {
	var v uint32
	err := m.futexWord(addr, false, func(w *uint32) { v = atomic.LoadUint32(w) })
	return v, err
}

// FutexCompareAndSwap atomically replaces the word at addr by new if it
// holds old. It returns the value it found (old on success); EAGAIN if
// the word kept changing under it.
func (m *MM) FutexCompareAndSwap(addr uintptr, old, new uint32) (uint32, error) {
	var cur uint32
	busy := false
	err := m.futexWord(addr, true, func(w *uint32) {
		for i := 0; i < futexSpins; i++ {
			if atomic.CompareAndSwapUint32(w, old, new) {
				cur = old
				return
			}
			if cur = atomic.LoadUint32(w); cur != old {
				return
			}
		}
		busy = true
	})
	if err == nil && busy {
		err = unix.EAGAIN
	}
	return cur, err
}

// FutexUpdate atomically replaces the word at addr by fn(old) and returns
// old. fn may run more than once (a compare-and-swap loop against user
// code changing the word); it must be a pure function of its argument.
// EAGAIN if the word kept changing under it.
func (m *MM) FutexUpdate(addr uintptr, fn func(old uint32) uint32) (uint32, error) {
	var old uint32
	busy := true
	err := m.futexWord(addr, true, func(w *uint32) {
		for i := 0; i < futexSpins; i++ {
			old = atomic.LoadUint32(w)
			if atomic.CompareAndSwapUint32(w, old, fn(old)) {
				busy = false
				return
			}
		}
	})
	if err == nil && busy {
		err = unix.EAGAIN
	}
	return old, err
}

// futexSpins bounds the compare-and-swap loops against user code that
// keeps changing a word: past it the operation fails with EAGAIN.
const futexSpins = 1 << 20
