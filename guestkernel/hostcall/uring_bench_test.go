package hostcall

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The other design issue 11 names for host calls without a VM exit:
// io_uring with a kernel submission-queue thread (IORING_SETUP_SQPOLL). The
// caller writes an SQE into the shared ring and polls the completion ring;
// the kernel's SQ thread picks it up, as the host I/O thread picks up a
// slot. This file is only the measurement (BenchmarkHandoff) behind the
// choice written in docs/how-it-works.md: a minimal ring, mmapped the
// usual way (ringbox would place it in mirrored memory with
// IORING_SETUP_NO_MMAP), serving statx.

// io_uring ABI (include/uapi/linux/io_uring.h).
const (
	uringSetupSQPoll = 1 << 1
	uringFeatSingle  = 1 << 0
	uringOffSQRing   = 0
	uringOffCQRing   = 0x8000000
	uringOffSQEs     = 0x10000000
	uringSQNeedWake  = 1 << 0
	uringEnterSQWake = 1 << 1
	uringOpStatx     = 21
)

type uringSQOff struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQOff struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  uringSQOff
	cqOff                                                                  uringCQOff
}

type uringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off           uint64 // addr2: the statx buffer
	addr          uint64 // the path
	len           uint32 // the statx mask
	opFlags       uint32 // statx flags
	userData      uint64
	bufIndex      uint16
	personality   uint16
	fileIndex     uint32
	addr3, pad    uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// uring is one SQPOLL ring with a single caller.
type uring struct {
	fd                      int
	rings, sqeMem           []byte
	sqTail, sqFlags, cqHead *atomic.Uint32
	cqTail                  *atomic.Uint32
	sqMask, cqMask          uint32
	sqArray                 []uint32
	sqes                    []uringSQE
	cqes                    []uringCQE
	wakes                   int
}

func newURing(entries uint32, idleMs uint32) (*uring, error) {
	p := uringParams{flags: uringSetupSQPoll, sqThreadIdle: idleMs}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, errno
	}
	if p.features&uringFeatSingle == 0 {
		unix.Close(int(fd))
		return nil, unix.ENOSYS
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	rings, err := unix.Mmap(int(fd), uringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Close(int(fd))
		return nil, err
	}
	sqeMem, err := unix.Mmap(int(fd), uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Munmap(rings)
		unix.Close(int(fd))
		return nil, err
	}
	u32 := func(off uint32) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&rings[off])) }
	r := &uring{
		fd: int(fd), rings: rings, sqeMem: sqeMem,
		sqTail: u32(p.sqOff.tail), sqFlags: u32(p.sqOff.flags),
		cqHead: u32(p.cqOff.head), cqTail: u32(p.cqOff.tail),
		sqMask: *(*uint32)(unsafe.Pointer(&rings[p.sqOff.ringMask])),
		cqMask: *(*uint32)(unsafe.Pointer(&rings[p.cqOff.ringMask])),
	}
	r.sqArray = unsafe.Slice((*uint32)(unsafe.Pointer(&rings[p.sqOff.array])), p.sqEntries)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&sqeMem[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&rings[p.cqOff.cqes])), p.cqEntries)
	return r, nil
}

func (r *uring) close() {
	unix.Munmap(r.sqeMem)
	unix.Munmap(r.rings)
	unix.Close(r.fd)
}

// statx submits statx(dirfd, path, flags, mask, buf) and polls for its
// result: no syscall unless the SQ thread went to sleep.
func (r *uring) statx(dirfd int, path *byte, flags int, mask int, buf *unix.Statx_t) int32 {
	tail := r.sqTail.Load()
	i := tail & r.sqMask
	r.sqes[i] = uringSQE{opcode: uringOpStatx, fd: int32(dirfd), addr: uint64(uintptr(unsafe.Pointer(path))),
		off: uint64(uintptr(unsafe.Pointer(buf))), len: uint32(mask), opFlags: uint32(flags), userData: uint64(tail)}
	r.sqArray[i] = i
	r.sqTail.Store(tail + 1)
	if r.sqFlags.Load()&uringSQNeedWake != 0 {
		r.wakes++
		unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 0, 0, uringEnterSQWake, 0, 0)
	}
	head := r.cqHead.Load()
	for r.cqTail.Load() == head {
	}
	res := r.cqes[head&r.cqMask].res
	r.cqHead.Store(head + 1)
	runtime.KeepAlive(path)
	runtime.KeepAlive(buf)
	return res
}

// BenchmarkHandoff: one statx of an open fd (AT_EMPTY_PATH) made directly,
// through the host I/O thread, and through an io_uring SQPOLL ring. On
// the host the direct call is a plain syscall; in ring0 mode's guest it
// would be a VM exit (30-60 us on PVM), and the other two are what
// replaces it. Both hand-offs need a free CPU for the polling side.
func BenchmarkHandoff(b *testing.B) {
	empty := []byte{0}
	var stx unix.Statx_t
	const flags, mask = unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS
	call := func() (uintptr, unix.Errno) {
		return Syscall6(unix.SYS_STATX, 0, uintptr(unsafe.Pointer(&empty[0])), flags, mask, uintptr(unsafe.Pointer(&stx)), 0)
	}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, e := call(); e != 0 {
				b.Fatal(e)
			}
		}
	})
	// thread: the policy ringbox runs with; thread-wait: callers wait for
	// the thread however long it takes (no going direct), the hand-off's
	// own cost.
	for _, v := range []struct {
		name string
		wait bool
	}{{"thread", false}, {"thread-wait", true}} {
		b.Run(v.name, func(b *testing.B) {
			mu.Lock()
			active.Store(nil)
			mu.Unlock()
			p := Policy{Worker: true}
			if v.wait {
				p.CallerSpin = time.Second
			}
			if err := Start(p); err != nil {
				b.Fatal(err)
			}
			defer func() { active.Store(nil) }()
			if v.wait {
				active.Load().backoffTicks = 0
			}
			before := stats.Worker.Load()
			for b.Loop() {
				if _, e := call(); e != 0 {
					b.Fatal(e)
				}
			}
			b.ReportMetric(float64(stats.Worker.Load()-before)/float64(b.N), "handed-off/op")
		})
	}
	b.Run("io_uring-sqpoll", func(b *testing.B) {
		r, err := newURing(64, 200)
		if err != nil {
			b.Skipf("io_uring SQPOLL: %v", err)
		}
		defer r.close()
		for b.Loop() {
			if res := r.statx(0, &empty[0], flags, mask, &stx); res < 0 {
				b.Fatal(unix.Errno(-res))
			}
		}
		b.ReportMetric(float64(r.wakes)/float64(b.N), "wakes/op")
	})
}
