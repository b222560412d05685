package memfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NewIn is New with the caller choosing where the file lives: resv is a
// reserved (PROT_NONE), 2 MiB-aligned range of span bytes (whole chunks)
// that the file takes over, of which at most limit bytes are ever used.
// The VMM uses it to keep guest memory at addresses the CPU's
// guest-physical width can reach.
func NewIn(resv, span, limit uintptr, onGrow func(addr, size uintptr) error) (*File, error) {
	if resv == 0 || resv&(2<<20-1) != 0 || span == 0 || span%ChunkSize != 0 || limit == 0 || limit > span {
		return nil, fmt.Errorf("memory file: bad reservation %#x+%#x (limit %#x)", resv, span, limit)
	}
	fd, err := unix.MemfdCreate("ringbox-memory", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	return &File{fd: fd, base: resv, span: span, limit: pageCeil(limit), onGrow: onGrow}, nil
}
