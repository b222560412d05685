package syscalls

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/epoll"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_EPOLL_CREATE, sysEpollCreate)
	register(unix.SYS_EPOLL_CREATE1, sysEpollCreate1)
	register(unix.SYS_EPOLL_CTL, sysEpollCtl)
	register(unix.SYS_EPOLL_WAIT, sysEpollWait)
	register(unix.SYS_EPOLL_PWAIT, sysEpollPwait)
	register(unix.SYS_EPOLL_PWAIT2, sysEpollPwait2)
}

// epollEventSize is sizeof(struct epoll_event) on x86-64 (packed).
const epollEventSize = 12

// maxEpollEvents is EP_MAX_EVENTS: the largest maxevents.
const maxEpollEvents = math.MaxInt32 / epollEventSize

func sysEpollCreate(t *kernel.Task, a Args) (uintptr, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return makeEpoll(t, 0)
}

func sysEpollCreate1(t *kernel.Task, a Args) (uintptr, error) {
	flags := int(int32(a[0]))
	if flags&^unix.EPOLL_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	return makeEpoll(t, flags)
}

func makeEpoll(t *kernel.Task, flags int) (uintptr, error) {
	f := fs.NewFile(epoll.New(), unix.O_RDWR)
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.EPOLL_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

// epollOf returns the epoll set of descriptor fd: EBADF if there is no
// such descriptor, EINVAL if it is not an epoll set.
func epollOf(t *kernel.Task, fd int) (*epoll.EventPoll, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	ep, ok := f.Impl.(*epoll.EventPoll)
	if !ok {
		return nil, unix.EINVAL
	}
	return ep, nil
}

func sysEpollCtl(t *kernel.Task, a Args) (uintptr, error) {
	epfd, op, fd := int(int32(a[0])), int(int32(a[1])), int(int32(a[2]))
	var events uint32
	var data uint64
	if op != unix.EPOLL_CTL_DEL {
		var b [epollEventSize]byte
		if _, err := t.MM.CopyIn(a[3], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		events = binary.LittleEndian.Uint32(b[0:])
		data = binary.LittleEndian.Uint64(b[4:])
	}
	epf, err := t.File(epfd)
	if err != nil {
		return 0, err
	}
	tf, err := t.File(fd)
	if err != nil {
		return 0, err
	}
	if !epoll.CanPoll(tf) {
		return 0, unix.EPERM
	}
	ep, ok := epf.Impl.(*epoll.EventPoll)
	if !ok || epf == tf {
		return 0, unix.EINVAL
	}
	switch op {
	case unix.EPOLL_CTL_ADD:
		return 0, ep.Add(tf, fd, events, data)
	case unix.EPOLL_CTL_MOD:
		return 0, ep.Mod(tf, fd, events, data)
	case unix.EPOLL_CTL_DEL:
		return 0, ep.Del(tf, fd)
	}
	return 0, unix.EINVAL
}

// epollWait waits up to timeout (negative: no limit) for events of the
// set epfd and stores at most max of them at addr. A signal ends it with
// EINTR: epoll_wait is never restarted.
func epollWait(t *kernel.Task, epfd int, addr uintptr, max int, timeout time.Duration) (uintptr, error) {
	if max <= 0 || max > maxEpollEvents {
		return 0, unix.EINVAL
	}
	ep, err := epollOf(t, epfd)
	if err != nil {
		return 0, err
	}
	var s *sleeper
	var e *waiter.Entry
	var ch chan struct{}
	defer func() {
		if e != nil {
			ep.EventUnregister(e)
		}
		if s != nil {
			s.stop()
		}
	}()
	final := timeout == 0
	for {
		if evs := ep.Collect(max); len(evs) > 0 {
			b := make([]byte, epollEventSize*len(evs))
			for i, ev := range evs {
				binary.LittleEndian.PutUint32(b[epollEventSize*i:], ev.Events)
				binary.LittleEndian.PutUint64(b[epollEventSize*i+4:], ev.Data)
			}
			if _, err := t.MM.CopyOut(addr, b); err != nil {
				return 0, unix.EFAULT
			}
			return uintptr(len(evs)), nil
		}
		if final {
			return 0, nil
		}
		if s == nil {
			s = newSleeper(t, timeout)
			// Register, then collect again before sleeping.
			e, ch = waiter.NewChannelEntry(waiter.ReadableEvents)
			ep.EventRegister(e)
			continue
		}
		switch s.sleep(ch, ep.NeedsPolling()) {
		case wakeSignal:
			return 0, unix.EINTR
		case wakeTimeout:
			final = true // one last look, as Linux
		}
	}
}

func sysEpollWait(t *kernel.Task, a Args) (uintptr, error) {
	return epollWait(t, int(int32(a[0])), a[1], int(int32(a[2])), msDuration(int(int32(a[3]))))
}

func sysEpollPwait(t *kernel.Task, a Args) (uintptr, error) {
	return withMask(t, a[4], a[5], func() (uintptr, error) {
		return epollWait(t, int(int32(a[0])), a[1], int(int32(a[2])), msDuration(int(int32(a[3]))))
	})
}

func sysEpollPwait2(t *kernel.Task, a Args) (uintptr, error) {
	timeout := time.Duration(-1)
	if a[3] != 0 {
		d, err := getTimespec(t, a[3])
		if err != nil {
			return 0, err
		}
		timeout = d
	}
	return withMask(t, a[4], a[5], func() (uintptr, error) {
		return epollWait(t, int(int32(a[0])), a[1], int(int32(a[2])), timeout)
	})
}
