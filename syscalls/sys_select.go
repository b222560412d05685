package syscalls

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_PPOLL, sysPpoll)
	register(unix.SYS_SELECT, sysSelect)
	register(unix.SYS_PSELECT6, sysPselect6)
}

// durationMs converts a wait to poll's milliseconds, rounding up so a
// short wait does not become a non-blocking check.
func durationMs(d time.Duration) int {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return int(min(ms, math.MaxInt32))
}

// withMask runs a wait with the signal mask at maskAddr (if any)
// installed; the old mask returns when the wait ends, or after the
// handler of the signal that cut it short.
func withMask(t *kernel.Task, maskAddr, size uintptr, wait func() (uintptr, error)) (uintptr, error) {
	if maskAddr != 0 {
		if size != sigsetSize {
			return 0, unix.EINVAL
		}
		mask, err := t.MM.CopyInUint64(maskAddr)
		if err != nil {
			return 0, err
		}
		t.SuspendMask(mask)
	}
	r, err := wait()
	if !errors.Is(err, kernel.ErrRestartNoHand) && !errors.Is(err, unix.EINTR) {
		t.EndSuspend()
	}
	return r, err
}

func sysPpoll(t *kernel.Task, a Args) (uintptr, error) {
	addr, nfds := a[0], int(uint32(a[1]))
	if nfds > t.TG.FDs.Limit() {
		return 0, unix.EINVAL
	}
	timeout := -1
	if a[2] != 0 {
		d, err := getTimespec(t, a[2])
		if err != nil {
			return 0, err
		}
		timeout = durationMs(d)
	}
	raw := make([]byte, 8*nfds)
	if _, err := t.MM.CopyIn(addr, raw); err != nil {
		return 0, err
	}
	return withMask(t, a[3], a[4], func() (uintptr, error) {
		n, err := pollFDs(t, raw, timeout)
		if err != nil {
			return 0, err
		}
		if _, err := t.MM.CopyOut(addr, raw); err != nil {
			return 0, err
		}
		return uintptr(n), nil
	})
}

// selectMatch says, for the read, write and except sets, which poll event
// a set asks for and which returned events mark the descriptor ready.
var selectMatch = [3]struct{ asked, ready uint16 }{
	{unix.POLLIN, unix.POLLIN | unix.POLLHUP | unix.POLLERR},
	{unix.POLLOUT, unix.POLLOUT | unix.POLLERR},
	{unix.POLLPRI, unix.POLLPRI},
}

// fdSetMax is FD_SETSIZE: select cannot name higher descriptors.
const fdSetMax = 1024

// selectFDs implements select on the three fd_set pointers with poll.
func selectFDs(t *kernel.Task, nfds int, rp, wp, ep uintptr, timeout int) (uintptr, error) {
	if nfds < 0 || nfds > fdSetMax {
		return 0, unix.EINVAL
	}
	n := (nfds + 63) / 64 * 8
	sets := [3][]byte{}
	for i, p := range []uintptr{rp, wp, ep} {
		sets[i] = make([]byte, n)
		if p != 0 {
			if _, err := t.MM.CopyIn(p, sets[i]); err != nil {
				return 0, err
			}
		}
	}
	isSet := func(set []byte, fd int) bool { return set[fd/8]&(1<<(fd%8)) != 0 }
	var raw []byte
	var fds []int
	for fd := 0; fd < nfds; fd++ {
		var ev uint16
		if isSet(sets[0], fd) {
			ev |= unix.POLLIN
		}
		if isSet(sets[1], fd) {
			ev |= unix.POLLOUT
		}
		if isSet(sets[2], fd) {
			ev |= unix.POLLPRI
		}
		if ev == 0 {
			continue
		}
		var e [8]byte
		binary.LittleEndian.PutUint32(e[0:], uint32(fd))
		binary.LittleEndian.PutUint16(e[4:], ev)
		raw = append(raw, e[:]...)
		fds = append(fds, fd)
	}
	if _, err := pollFDs(t, raw, timeout); err != nil {
		return 0, err
	}
	out := [3][]byte{make([]byte, n), make([]byte, n), make([]byte, n)}
	count := 0
	for i, fd := range fds {
		ev := binary.LittleEndian.Uint16(raw[8*i+4:])
		rev := binary.LittleEndian.Uint16(raw[8*i+6:])
		if rev&unix.POLLNVAL != 0 {
			return 0, unix.EBADF
		}
		for j, m := range selectMatch {
			if ev&m.asked != 0 && rev&m.ready != 0 {
				out[j][fd/8] |= 1 << (fd % 8)
				count++
			}
		}
	}
	for i, p := range []uintptr{rp, wp, ep} {
		if p != 0 {
			if _, err := t.MM.CopyOut(p, out[i]); err != nil {
				return 0, err
			}
		}
	}
	return uintptr(count), nil
}

func sysSelect(t *kernel.Task, a Args) (uintptr, error) {
	timeout := -1
	var d time.Duration
	if a[4] != 0 {
		var err error
		if d, err = getTimeval(t, a[4]); err != nil {
			return 0, err
		}
		timeout = durationMs(d)
	}
	start := time.Now()
	r, err := selectFDs(t, int(int32(a[0])), a[1], a[2], a[3], timeout)
	if a[4] != 0 && (err == nil || errors.Is(err, kernel.ErrRestartNoHand)) {
		// Linux's select writes back the time that was left.
		left := max(d-time.Since(start), 0)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second/time.Microsecond))
		if _, cerr := t.MM.CopyOut(a[4], b[:]); cerr != nil && err == nil {
			return 0, cerr
		}
	}
	return r, err
}

func sysPselect6(t *kernel.Task, a Args) (uintptr, error) {
	timeout := -1
	var d time.Duration
	if a[4] != 0 {
		var err error
		if d, err = getTimespec(t, a[4]); err != nil {
			return 0, err
		}
		timeout = durationMs(d)
	}
	var maskAddr, size uintptr
	if a[5] != 0 {
		var b [16]byte
		if _, err := t.MM.CopyIn(a[5], b[:]); err != nil {
			return 0, err
		}
		maskAddr = uintptr(binary.LittleEndian.Uint64(b[0:]))
		size = uintptr(binary.LittleEndian.Uint64(b[8:]))
	}
	start := time.Now()
	r, err := withMask(t, maskAddr, size, func() (uintptr, error) {
		return selectFDs(t, int(int32(a[0])), a[1], a[2], a[3], timeout)
	})
	if a[4] != 0 && (err == nil || errors.Is(err, kernel.ErrRestartNoHand)) {
		// Like select, pselect6 writes back the time that was left.
		if cerr := putTimespec(t, a[4], max(d-time.Since(start), 0)); cerr != nil && err == nil {
			return 0, cerr
		}
	}
	return r, err
}

// msDuration converts poll's milliseconds (negative: no limit) to a
// duration (negative: no limit).
func msDuration(ms int) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// hostPollSlice bounds one wait in the host's poll for a lone host
// descriptor, so that signals are noticed.
const hostPollSlice = 50 * time.Millisecond

// pollFDs polls the struct pollfd array raw (revents filled in) for up to
// timeout ms (negative: no limit) and returns the number of ready entries.
// It registers on every file that notifies and sleeps until one does, the
// time is up, or a signal arrives (ErrRestartNoHand); files that only
// answer when asked (host descriptors) are asked again every
// pollInterval, or, when one is all there is to wait for, waited for in
// the host's poll in slices.
func pollFDs(t *kernel.Task, raw []byte, timeout int) (int, error) {
	nfds := len(raw) / 8
	type pfd struct {
		fd     int32
		events waiter.EventMask
		rev    waiter.EventMask
		file   *fs.File
		entry  *waiter.Entry
	}
	ps := make([]pfd, nfds)
	for i := range ps {
		p := &ps[i]
		p.fd = int32(binary.LittleEndian.Uint32(raw[8*i:]))
		p.events = waiter.EventMask(binary.LittleEndian.Uint16(raw[8*i+4:]))
		if p.fd >= 0 {
			p.file, _ = t.File(int(p.fd))
		}
	}
	ch := make(chan struct{}, 1)
	var s *sleeper
	registered := false
	defer func() {
		for i := range ps {
			if ps[i].entry != nil {
				fs.EventUnregister(ps[i].file, ps[i].entry)
			}
		}
		if s != nil {
			s.stop()
		}
	}()
	for {
		ready, polled, waitable := 0, 0, 0
		var host *pfd
		for i := range ps {
			p := &ps[i]
			switch {
			case p.fd < 0:
				p.rev = 0
			case p.file == nil:
				p.rev = waiter.EventNval
			default:
				mask := p.events | waiter.EventErr | waiter.EventHup
				p.rev = fs.Readiness(p.file, mask) & mask
				if _, ok := p.file.Impl.(fs.Waitable); ok {
					waitable++
				}
				if p.rev == 0 && fs.NeedsPolling(p.file) {
					polled++
					host = p
				}
			}
			if p.rev != 0 {
				ready++
			}
		}
		if ready > 0 || timeout == 0 || s != nil && s.expired {
			for i := range ps {
				binary.LittleEndian.PutUint16(raw[8*i+6:], uint16(ps[i].rev))
			}
			return ready, nil
		}
		if s == nil {
			s = newSleeper(t, msDuration(timeout))
		}
		if !registered {
			// Register, then look again: an event between the first
			// look and the registration is not lost.
			registered = true
			for i := range ps {
				p := &ps[i]
				if p.file == nil {
					continue
				}
				if _, ok := p.file.Impl.(fs.Waitable); ok {
					p.entry = waiter.NewEntry(p.events|waiter.EventErr|waiter.EventHup, waiter.Signaler(ch))
					fs.EventRegister(p.file, p.entry)
				}
			}
			continue
		}
		if polled == 1 && waitable == 0 && nfds == 1 {
			// A lone host descriptor: wait in the host's poll.
			switch s.check() {
			case wakeSignal:
				return 0, kernel.ErrRestartNoHand
			case wakeTimeout:
				continue
			}
			slice := hostPollSlice
			if left := s.remaining(); left == 0 {
				s.expired = true
				continue
			} else if left > 0 {
				slice = min(slice, left)
			}
			_, _ = host.file.Poll(int16(host.events|waiter.EventErr|waiter.EventHup), durationMs(slice))
			continue
		}
		if s.sleep(ch, polled > 0) == wakeSignal {
			return 0, kernel.ErrRestartNoHand
		}
	}
}
