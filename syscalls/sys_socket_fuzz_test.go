package syscalls

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
	"ringbox/guestkernel/kernel"
)

// Addresses of the socket fuzz targets, in the wait tests' memory
// (waitMem, waitLen bytes). A pointer field below waitLen that a fuzzed
// struct holds is taken as an offset into that memory (fuzzPtr), so that
// the fuzzer reaches good addresses as well as bad ones.
const (
	fzMsg    = waitMem + 0x1000  // struct msghdr
	fzIov    = waitMem + 0x1100  // struct iovec[] (fzIovMax bytes)
	fzName   = waitMem + 0x1400  // sockaddr (fzNameMax bytes)
	fzOptLen = waitMem + 0x1500  // socklen_t
	fzOpt    = waitMem + 0x1600  // option value (fzOptMax bytes)
	fzData   = waitMem + 0x2000  // data (fzDataMax bytes)
	fzCtl    = waitMem + 0x10000 // control buffer, to the end of the memory
	fzEnd    = waitMem + waitLen

	fzIovMax  = 0x300
	fzNameMax = 0x100
	fzOptMax  = 0xa00
	fzDataMax = fzCtl - fzData
	fzCtlMax  = fzEnd - fzCtl
)

// fuzzPtr is the address a fuzzed pointer field stands for.
func fuzzPtr(v uint64) uintptr {
	if v != 0 && v < waitLen {
		return waitMem + uintptr(v)
	}
	return uintptr(v)
}

// sockFuzz is the world of the socket fuzz targets: one process (tasks of
// one thread group with real memory) made once per fuzzing process, and
// emptied after each input.
type sockFuzz struct {
	a *kernel.Task
}

func newSockFuzz(f *testing.F) *sockFuzz {
	a, _ := waitTasks(f)
	z := &sockFuzz{a: a}
	z.newTree()
	return z
}

// newTree gives the process a fresh, empty file tree (its root and
// working directory), as a real process has one.
func (z *sockFuzz) newTree() {
	vfs := fs.NewVFS(tmpfs.New(1<<20), false)
	z.a.K.VFS = vfs
	z.a.TG.SetFSRoot(vfs.Root())
	z.a.TG.SetCwd(vfs.Root())
}

// call runs a syscall handler as a new task of the process: the file
// references it holds until "the end of the syscall" (Task.File) stay
// with that task, and are never given back; reset releases the files
// itself.
func (z *sockFuzz) call(t *testing.T, h Handler, args Args) (uintptr, error) {
	t.Helper()
	nt := &kernel.Task{K: z.a.K, TG: z.a.TG, MM: z.a.MM, TID: 42}
	r, err := h(nt, args)
	var e unix.Errno
	if err != nil && !errors.As(err, &e) && err != kernel.ErrRestartSys && err != kernel.ErrRestartNoHand {
		t.Fatalf("a %T error %v: EIO, a bug in ringbox", err, err)
	}
	return r, err
}

func (z *sockFuzz) must(t *testing.T, h Handler, args Args) uintptr {
	t.Helper()
	r, err := z.call(t, h, args)
	if err != nil {
		t.Fatalf("setting up: %v", err)
	}
	return r
}

// reset closes every descriptor and releases each file once (the
// references the calls held never come back: see call).
func (z *sockFuzz) reset() {
	fdt := z.a.TG.FDs
	var fds []int
	seen := map[*fs.File]bool{}
	var files []*fs.File
	fdt.Each(func(fd int, f *fs.File, _ bool) {
		fds = append(fds, fd)
		if !seen[f] {
			seen[f] = true
			f.IncRef() // closing the descriptor must not release it
			files = append(files, f)
		}
	})
	for _, fd := range fds {
		_ = fdt.Remove(fd)
	}
	for _, f := range files {
		f.Impl.Release()
	}
}

func (z *sockFuzz) put(t *testing.T, addr uintptr, b []byte) {
	t.Helper()
	if _, err := z.a.MM.CopyOut(addr, b); err != nil {
		t.Fatal(err)
	}
}

func (z *sockFuzz) get(t *testing.T, addr uintptr, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := z.a.MM.CopyIn(addr, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// Socket kinds of the fuzz targets.
const (
	kindUnixStream = iota
	kindUnixDgram
	kindUnixSeqpacket
	kindUnixDgramTo // an unconnected datagram socket; the receiver is named "\0fz"
	kindUDP4        // the receiver is 127.0.0.1:fuzzPort
	kindUDP6        // the receiver is [::1]:fuzzPort
	kindNetlink
	kindTCP4 // an unconnected TCP socket (options only)
	kindTCP6
	kindCount
)

const fuzzPort = 7777

func sockaddrIn(ip [4]byte, port uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, unix.AF_INET)
	b = binary.BigEndian.AppendUint16(b, port)
	return append(append(b, ip[:]...), make([]byte, 8)...)
}

func sockaddrIn6(ip [16]byte, port uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, unix.AF_INET6)
	b = binary.BigEndian.AppendUint16(b, port)
	b = append(b, 0, 0, 0, 0)
	return append(append(b, ip[:]...), 0, 0, 0, 0)
}

// sockets makes the sender x and the receiver y of a kind (the same
// socket for the kinds without a receiver), nonblocking, and a pipe
// (r, w) whose ends a control message can carry. On a fresh table they
// are 0, 1, 2, 3.
func (z *sockFuzz) sockets(t *testing.T, kind int) (x, y uintptr) {
	t.Helper()
	const nb = unix.SOCK_NONBLOCK
	switch kind {
	case kindUnixStream, kindUnixDgram, kindUnixSeqpacket:
		typ := []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET}[kind]
		z.must(t, sysSocketpair, Args{unix.AF_UNIX, uintptr(typ | nb), 0, fdsAt})
		b := z.get(t, fdsAt, 8)
		x, y = uintptr(binary.LittleEndian.Uint32(b)), uintptr(binary.LittleEndian.Uint32(b[4:]))
	case kindUnixDgramTo:
		x = z.must(t, sysSocket, Args{unix.AF_UNIX, unix.SOCK_DGRAM | nb, 0})
		y = z.must(t, sysSocket, Args{unix.AF_UNIX, unix.SOCK_DGRAM | nb, 0})
		sa := append(binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX), "\x00fz"...)
		z.put(t, fzName, sa)
		_, _ = z.call(t, sysBind, Args{y, fzName, uintptr(len(sa))})
	case kindUDP4, kindUDP6:
		fam, sa := unix.AF_INET, sockaddrIn([4]byte{127, 0, 0, 1}, fuzzPort)
		if kind == kindUDP6 {
			fam, sa = unix.AF_INET6, sockaddrIn6([16]byte{15: 1}, fuzzPort)
		}
		x = z.must(t, sysSocket, Args{uintptr(fam), unix.SOCK_DGRAM | nb, 0})
		y = z.must(t, sysSocket, Args{uintptr(fam), unix.SOCK_DGRAM | nb, 0})
		z.put(t, fzName, sa)
		_, _ = z.call(t, sysBind, Args{y, fzName, uintptr(len(sa))})
	case kindNetlink:
		x = z.must(t, sysSocket, Args{unix.AF_NETLINK, unix.SOCK_RAW | nb, unix.NETLINK_ROUTE})
		y = x
	case kindTCP4, kindTCP6:
		fam := unix.AF_INET
		if kind == kindTCP6 {
			fam = unix.AF_INET6
		}
		x = z.must(t, sysSocket, Args{uintptr(fam), unix.SOCK_STREAM | nb, 0})
		y = x
	}
	newPipeFDs(t, z.a, unix.O_NONBLOCK)
	return x, y
}

// msghdr is a struct msghdr.
func msghdr(name uintptr, nameLen uint32, iov uintptr, iovLen uint64, ctl uintptr, ctlLen uint64) []byte {
	le := binary.LittleEndian
	b := make([]byte, msghdrSize)
	le.PutUint64(b[0:], uint64(name))
	le.PutUint32(b[8:], nameLen)
	le.PutUint64(b[16:], uint64(iov))
	le.PutUint64(b[24:], iovLen)
	le.PutUint64(b[32:], uint64(ctl))
	le.PutUint64(b[40:], ctlLen)
	return b
}

func iovec1(base uintptr, n uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(base))
	return binary.LittleEndian.AppendUint64(b, n)
}

// cmsg is one control message, padded to 8 bytes.
func cmsg(level, typ int32, data []byte) []byte {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, uint64(cmsgHdrSize+len(data)))
	b = le.AppendUint32(b, uint32(level))
	b = le.AppendUint32(b, uint32(typ))
	b = append(b, data...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// checkControl checks the control messages a receive wrote: each header
// whole and inside the n bytes reported.
func checkControl(t *testing.T, b []byte) {
	t.Helper()
	le := binary.LittleEndian
	for off := 0; off+cmsgHdrSize <= len(b); {
		l := le.Uint64(b[off:])
		if l < cmsgHdrSize || l > uint64(len(b)-off) {
			t.Fatalf("received cmsg_len %d at %d of %d bytes", l, off, len(b))
		}
		off += int(l+7) &^ 7
	}
}

// FuzzSendmsg sends a fuzzed message with sendmsg (or sendmmsg) on a
// socket of each kind: the msghdr (its pointers rebased by fuzzPtr), the
// iovecs, the destination address, the control buffer (SCM_RIGHTS,
// SCM_CREDENTIALS, any level and length) and the flags are all the
// fuzzer's. Then the peer receives with a fuzzed control length and
// flags, and what it reports must fit what it was given.
func FuzzSendmsg(f *testing.F) {
	hdr := func(nameLen uint32, ctlLen int) []byte {
		name := uintptr(0)
		if nameLen > 0 {
			name = fzName - waitMem
		}
		ctl := uintptr(0)
		if ctlLen > 0 {
			ctl = fzCtl
		}
		return msghdr(name, nameLen, fzIov, 1, ctl, uint64(ctlLen))
	}
	iov := iovec1(fzData, 5)
	data := []byte("hello")
	rights := cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, u32s(2, 3))
	creds := cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, u32s(0, 0, 0))
	both := append(append([]byte(nil), creds...), rights...)
	ipTTL := cmsg(unix.IPPROTO_IP, unix.IP_TTL, u32s(5))
	bad := append(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, u32s(2)), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 1, 0, 0, 0)
	abstract := append(binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX), "\x00fz"...)
	in4 := sockaddrIn([4]byte{127, 0, 0, 1}, fuzzPort)
	in6 := sockaddrIn6([16]byte{15: 1}, fuzzPort)
	nlReq := make([]byte, 32)
	binary.LittleEndian.PutUint32(nlReq, 32)
	binary.LittleEndian.PutUint16(nlReq[4:], 18)    // RTM_GETLINK
	binary.LittleEndian.PutUint16(nlReq[6:], 0x301) // NLM_F_REQUEST|NLM_F_DUMP
	nlIov := iovec1(fzData, 32)
	for kind := range kindNetlink {
		name := []byte(nil)
		switch kind {
		case kindUnixDgramTo:
			name = abstract
		case kindUDP4:
			name = in4
		case kindUDP6:
			name = in6
		}
		nl := uint32(len(name))
		f.Add(byte(kind), hdr(nl, 0), iov, name, []byte(nil), data, uint32(0), uint16(0), uint32(0))
		f.Add(byte(kind), hdr(nl, len(rights)), iov, name, rights, data, uint32(0), uint16(64), uint32(unix.MSG_CMSG_CLOEXEC))
		f.Add(byte(kind), hdr(nl, len(creds)), iov, name, creds, data, uint32(0), uint16(64), uint32(0))
		f.Add(byte(kind), hdr(nl, len(both)), iov, name, both, data, uint32(0), uint16(20), uint32(unix.MSG_PEEK))
		f.Add(byte(kind), hdr(nl, len(ipTTL)), iov, name, ipTTL, data, uint32(0), uint16(64), uint32(0))
		f.Add(byte(kind|0x80), hdr(nl, len(bad)), iov, name, bad, data, uint32(unix.MSG_NOSIGNAL), uint16(8), uint32(unix.MSG_TRUNC))
	}
	f.Add(byte(kindNetlink), hdr(0, 0), nlIov, []byte(nil), []byte(nil), nlReq, uint32(0), uint16(0), uint32(0))
	f.Add(byte(kindNetlink), hdr(12, 0), nlIov, make([]byte, 12), []byte(nil), nlReq, uint32(0), uint16(0), uint32(unix.MSG_PEEK))

	z := newSockFuzz(f)
	f.Fuzz(func(t *testing.T, kind byte, hdr, iovs, name, ctl, data []byte, flags uint32, rctl uint16, rflags uint32) {
		defer z.reset()
		x, y := z.sockets(t, int(kind&0x7f)%(kindNetlink+1))
		le := binary.LittleEndian

		// The fuzzer's memory: name, iovecs, control buffer, data.
		z.put(t, fzName, name[:min(len(name), fzNameMax)])
		iovs = append([]byte(nil), iovs[:min(len(iovs), fzIovMax)&^15]...)
		for i := 0; i < len(iovs); i += 16 {
			le.PutUint64(iovs[i:], uint64(fuzzPtr(le.Uint64(iovs[i:]))))
		}
		z.put(t, fzIov, iovs)
		z.put(t, fzCtl, ctl[:min(len(ctl), fzCtlMax)])
		z.put(t, fzData, data[:min(len(data), fzDataMax)])
		var m [msghdrSize]byte
		copy(m[:], hdr)
		for _, off := range []int{0, 16, 32} {
			le.PutUint64(m[off:], uint64(fuzzPtr(le.Uint64(m[off:]))))
		}
		z.put(t, fzMsg, m[:])
		z.put(t, fzMsg+msghdrSize, make([]byte, 8)) // mmsghdr's msg_len

		sflags := uintptr(flags | unix.MSG_DONTWAIT)
		if kind&0x80 != 0 {
			n, err := z.call(t, sysSendmmsg, Args{x, fzMsg, 1, sflags})
			if err == nil && n != 1 {
				t.Fatalf("sendmmsg sent %d of 1", n)
			}
		} else {
			n, err := z.call(t, sysSendmsg, Args{x, fzMsg, sflags})
			if err == nil && n > maxRW {
				t.Fatalf("sendmsg sent %d", n)
			}
		}

		// The peer receives, into a plain msghdr with a control buffer
		// of rctl bytes.
		z.put(t, fzIov, iovec1(fzData, fzDataMax))
		z.put(t, fzMsg, msghdr(fzName, fzNameMax, fzIov, 1, fzCtl, uint64(rctl)))
		n, err := z.call(t, sysRecvmsg, Args{y, fzMsg, uintptr(rflags | unix.MSG_DONTWAIT)})
		if err != nil {
			return
		}
		got := z.get(t, fzMsg, msghdrSize)
		if nl := le.Uint32(got[8:]); nl > 128 {
			t.Fatalf("msg_namelen %d", nl)
		}
		cl := le.Uint64(got[40:])
		if cl > uint64(rctl) {
			t.Fatalf("msg_controllen %d of a %d-byte buffer", cl, rctl)
		}
		checkControl(t, z.get(t, fzCtl, int(cl)))
		if rflags&unix.MSG_TRUNC == 0 && n > fzDataMax {
			t.Fatalf("received %d into %d bytes", n, fzDataMax)
		}
	})
}

// FuzzSockopt sets an option of any level, name, value and length on a
// socket of each kind (and netlink), then gets it back into a buffer of a
// fuzzed length: getsockopt must write no more than that length, and
// report what it wrote.
func FuzzSockopt(f *testing.F) {
	i32 := func(v int32) []byte { return u32s(uint32(v)) }
	tv := append(binary.LittleEndian.AppendUint64(nil, 1), binary.LittleEndian.AppendUint64(nil, 5000)...)
	seeds := []struct {
		level, name int32
		val         []byte
	}{
		{unix.SOL_SOCKET, unix.SO_RCVBUF, i32(4096)},
		{unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, i32(-1)},
		{unix.SOL_SOCKET, unix.SO_RCVTIMEO, tv},
		{unix.SOL_SOCKET, unix.SO_SNDTIMEO, tv[:8]},
		{unix.SOL_SOCKET, unix.SO_LINGER, append(i32(1), i32(5)...)},
		{unix.SOL_SOCKET, unix.SO_PASSCRED, i32(1)},
		{unix.SOL_SOCKET, unix.SO_PEERCRED, make([]byte, 12)},
		{unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo\x00")},
		{unix.SOL_SOCKET, unix.SO_RCVLOWAT, i32(-5)},
		{unix.SOL_SOCKET, unix.SO_MARK, i32(3)},
		{unix.IPPROTO_TCP, unix.TCP_NODELAY, i32(1)},
		{unix.IPPROTO_TCP, unix.TCP_CONGESTION, []byte("cubic\x00")},
		{unix.IPPROTO_TCP, unix.TCP_MAXSEG, i32(536)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, i32(0)},
		{unix.IPPROTO_TCP, unix.TCP_INFO, nil},
		{unix.IPPROTO_TCP, unix.TCP_LINGER2, i32(-1)},
		{unix.IPPROTO_IP, unix.IP_TTL, []byte{7}},
		{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, i32(2)},
		{unix.IPPROTO_IP, unix.IP_TOS, i32(0x10)},
		{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, i32(1)},
		{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, i32(-1)},
		{270, 11, i32(1)}, // SOL_NETLINK, NETLINK_GET_STRICT_CHK
	}
	for i, s := range seeds {
		for kind := range kindCount {
			if (i+kind)%3 == 0 {
				f.Add(byte(kind), s.level, s.name, int32(len(s.val)), s.val, int32(16), false)
			}
		}
		f.Add(byte(i%kindCount), s.level, s.name, int32(len(s.val)), s.val, int32(256), true)
	}
	f.Add(byte(kindUDP4), int32(unix.SOL_SOCKET), int32(unix.SO_RCVBUF), int32(-1), []byte{1, 2, 3, 4}, int32(-1), false)
	f.Add(byte(kindTCP6), int32(unix.IPPROTO_TCP), int32(unix.TCP_INFO), int32(0), []byte(nil), int32(1000), false)

	z := newSockFuzz(f)
	guard := make([]byte, 0x400)
	for i := range guard {
		guard[i] = 0xa5
	}
	f.Fuzz(func(t *testing.T, kind byte, level, name, optlen int32, val []byte, getlen int32, rawPtr bool) {
		defer z.reset()
		x, _ := z.sockets(t, int(kind)%kindCount)
		le := binary.LittleEndian
		z.put(t, fzOpt, val[:min(len(val), fzOptMax)])
		ptr := uintptr(fzOpt)
		if rawPtr && len(val) >= 8 {
			ptr = fuzzPtr(le.Uint64(val)) // a pointer of the fuzzer's
		}
		_, _ = z.call(t, sysSetsockopt, Args{x, uintptr(level), uintptr(name), ptr, uintptr(uint32(optlen))})

		z.put(t, fzOpt, guard)
		z.put(t, fzOptLen, u32s(uint32(getlen)))
		_, err := z.call(t, sysGetsockopt, Args{x, uintptr(level), uintptr(name), fzOpt, fzOptLen})
		after := z.get(t, fzOpt, len(guard))
		if err != nil {
			if string(after) != string(guard) {
				t.Fatalf("getsockopt failed (%v) but wrote its buffer", err)
			}
			return
		}
		n := int32(le.Uint32(z.get(t, fzOptLen, 4)))
		if n < 0 || n > getlen {
			t.Fatalf("getsockopt reported %d bytes of a %d-byte buffer", n, getlen)
		}
		for i := int(n); i < len(guard); i++ {
			if after[i] != guard[i] {
				t.Fatalf("getsockopt of %d bytes wrote byte %d", n, i)
			}
		}
		// The socket still works.
		_, _ = z.call(t, sysGetsockopt, Args{x, unix.SOL_SOCKET, unix.SO_ERROR, fzOpt, fzOptLen})
	})
}

// FuzzSockaddr binds and connects a socket of each kind to an arbitrary
// sockaddr of an arbitrary addrlen, through the syscalls, in a fresh
// file tree each time (AF_UNIX paths make socket nodes).
func FuzzSockaddr(f *testing.F) {
	path := append(binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX), "s\x00"...)
	abstract := append(binary.LittleEndian.AppendUint16(nil, unix.AF_UNIX), "\x00a"...)
	nl := make([]byte, 12)
	binary.LittleEndian.PutUint16(nl, unix.AF_NETLINK)
	for _, s := range []struct {
		kind int
		sa   []byte
	}{
		{kindUnixStream, path}, {kindUnixDgram, abstract}, {kindUnixSeqpacket, path[:2]},
		{kindUnixDgramTo, path}, {kindUDP4, sockaddrIn([4]byte{127, 0, 0, 1}, 0)},
		{kindUDP6, sockaddrIn6([16]byte{15: 1}, 9)}, {kindNetlink, nl},
		{kindTCP4, sockaddrIn([4]byte{127, 0, 0, 1}, 0)}, {kindTCP6, sockaddrIn6([16]byte{}, 0)},
		{kindUDP4, []byte{0, 0}}, {kindTCP6, sockaddrIn6([16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}, 0)},
	} {
		f.Add(byte(s.kind), s.sa, int32(len(s.sa)), byte(3))
	}
	z := newSockFuzz(f)
	f.Fuzz(func(t *testing.T, kind byte, sa []byte, addrlen int32, ops byte) {
		defer z.reset()
		z.newTree()
		k := int(kind) % kindCount
		fam := []int{unix.AF_UNIX, unix.AF_UNIX, unix.AF_UNIX, unix.AF_UNIX,
			unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK, unix.AF_INET, unix.AF_INET6}[k]
		typ := []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET, unix.SOCK_DGRAM,
			unix.SOCK_DGRAM, unix.SOCK_DGRAM, unix.SOCK_RAW, unix.SOCK_STREAM, unix.SOCK_STREAM}[k]
		x := z.must(t, sysSocket, Args{uintptr(fam), uintptr(typ | unix.SOCK_NONBLOCK), 0})
		y := z.must(t, sysSocket, Args{uintptr(fam), uintptr(typ | unix.SOCK_NONBLOCK), 0})
		tcp := k == kindTCP4 || k == kindTCP6
		z.put(t, fzName, sa[:min(len(sa), fzNameMax)])
		alen := uintptr(uint32(addrlen))
		if ops&1 != 0 {
			if _, err := z.call(t, sysBind, Args{x, fzName, alen}); err == nil && ops&4 != 0 {
				_, _ = z.call(t, sysListen, Args{x, 1})
			}
		}
		if ops&2 != 0 && (!tcp || ops&16 != 0) {
			_, _ = z.call(t, sysConnect, Args{y, fzName, alen})
		}
		if ops&8 != 0 && !tcp {
			z.put(t, fzData, []byte("x"))
			_, _ = z.call(t, sysSendto, Args{y, fzData, 1, unix.MSG_DONTWAIT, fzName, alen})
		}
		if ops&4 != 0 {
			_, _ = z.call(t, func(t *kernel.Task, a Args) (uintptr, error) { return doAccept(t, a[0], fzName, fzOptLen, 0) }, Args{x})
		}
		for _, fd := range []uintptr{x, y} {
			z.put(t, fzOptLen, u32s(fzNameMax))
			_, _ = z.call(t, func(t *kernel.Task, a Args) (uintptr, error) { return sockName(t, a, false) }, Args{fd, fzName, fzOptLen})
			z.put(t, fzOptLen, u32s(fzNameMax))
			_, _ = z.call(t, func(t *kernel.Task, a Args) (uintptr, error) { return sockName(t, a, true) }, Args{fd, fzName, fzOptLen})
		}
	})
}
