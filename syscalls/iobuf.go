package syscalls

import "sync"

// Staging buffers. read, write, their vector and socket forms, and
// sendfile/copy_file_range move data between the program's memory and a
// file through a kernel buffer of up to ioChunk bytes. Allocating one per
// call made the Go kernel's garbage collector run every few dozen
// megabytes moved, and in ring0 mode each collection's preemption signals
// and worker wake-ups are VM exits (on PVM tens of microseconds each):
// a 1 GiB write to tmpfs took 45 signal-cut KVM_RUNs per MiB. The buffers
// are recycled instead. Only the bytes a call filled are ever copied out,
// so what an earlier call left in a buffer never reaches a program.
var ioBufs = sync.Pool{New: func() any { return new([ioChunk]byte) }}

// smallIO is the size up to which a plain allocation is cheaper than the
// pool (and small enough to cost the collector little).
const smallIO = 4096

// ioBuf is a staging buffer of n bytes (n <= ioChunk); release gives it
// back once nothing refers to it any more.
type ioBuf struct {
	b    []byte
	page *[ioChunk]byte
}

func getIOBuf(n uintptr) ioBuf {
	if n <= smallIO {
		return ioBuf{b: make([]byte, n)}
	}
	p := ioBufs.Get().(*[ioChunk]byte)
	return ioBuf{b: p[:n], page: p}
}

func (b ioBuf) release() {
	if b.page != nil {
		ioBufs.Put(b.page)
	}
}
