package netlink

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	sys "golang.org/x/sys/unix"

	"ringbox/netstack"
	"ringbox/netstack/inet"
)

// fakeSource is a Source with lo and an eth0 with gateways, as
// --net=sandbox has.
type fakeSource struct{}

func (fakeSource) Interfaces() []inet.Interface {
	return []inet.Interface{
		{Index: 1, Name: "lo", Flags: 0x49, MTU: 65536, Addrs: []inet.Prefix{
			{Addr: []byte{127, 0, 0, 1}, Len: 8}, {Addr: make16(15, 1), Len: 128}}},
		{Index: 2, Name: "eth0", Flags: 0x1043, MTU: 1500, Addrs: []inet.Prefix{
			{Addr: []byte{10, 0, 2, 15}, Len: 24}, {Addr: make16(0, 0xfd, 15, 2), Len: 64}},
			Gateways: [][]byte{{10, 0, 2, 2}, make16(0, 0xfd, 15, 1)}},
	}
}

// make16 is an IPv6 address with bytes set at the given index/value
// pairs.
func make16(kv ...int) []byte {
	b := make([]byte, 16)
	for i := 0; i+1 < len(kv); i += 2 {
		b[kv[i]] = byte(kv[i+1])
	}
	return b
}

var (
	fuzzStackOnce sync.Once
	fuzzStack     *inet.Stack
	fuzzStackErr  error
)

// fuzzSources are the two sources a fuzzed socket reports: a real
// loopback stack and fakeSource.
func fuzzSources(tb testing.TB) []Source {
	fuzzStackOnce.Do(func() { fuzzStack, fuzzStackErr = inet.NewLoopback() })
	if fuzzStackErr != nil {
		tb.Fatal(fuzzStackErr)
	}
	return []Source{fuzzStack, fakeSource{}}
}

// Operations of FuzzSocket's little program.
const (
	opSend = iota
	opSendTo
	opBind
	opConnect
	opSetSockOpt
	opGetSockOpt
	opRecv
	opShutdown
	opIoctl
	opWrite
	opCount
)

// checkReplies checks that a received datagram is a sequence of whole,
// aligned netlink messages, as a program's NLMSG_NEXT loop expects.
func checkReplies(t *testing.T, b []byte) {
	t.Helper()
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			t.Fatalf("%d trailing bytes, less than a header", len(b))
		}
		n := int(binary.LittleEndian.Uint32(b))
		if n < nlmsgHdrLen || n > len(b) {
			t.Fatalf("message length %d of %d bytes", n, len(b))
		}
		if n%4 != 0 && align4(n) > len(b) {
			t.Fatalf("message length %d not padded in %d bytes", n, len(b))
		}
		b = b[min(align4(n), len(b)):]
	}
}

// checkTimeout checks a set SO_RCVTIMEO or SO_SNDTIMEO against the
// struct timeval rules every socket family follows (Linux's
// sock_set_timeout, netstack.ParseTimeval), and getsockopt against
// what was set.
func checkTimeout(t *testing.T, s *Socket, level, name int, val []byte, err error) {
	t.Helper()
	if level != sys.SOL_SOCKET || (name != sys.SO_RCVTIMEO && name != sys.SO_SNDTIMEO) {
		return
	}
	want, werr := netstack.ParseTimeval(val)
	if err != werr {
		t.Fatalf("setsockopt(%d, %x): %v, want %v", name, val, err, werr)
	}
	if err != nil {
		return
	}
	r, w := s.Timeouts()
	got := r
	if name == sys.SO_SNDTIMEO {
		got = w
	}
	if got != want {
		t.Fatalf("setsockopt(%d, %x): timeout %v, want %v", name, val, got, want)
	}
	b, err := s.GetSockOpt(nil, level, name)
	if err != nil || string(b) != string(netstack.TimevalBytes(want)) {
		t.Fatalf("getsockopt(%d) after %x: %x, %v", name, val, b, err)
	}
}

// FuzzSocket runs a program of socket operations on a NETLINK_ROUTE
// socket: sends of arbitrary request bytes (to arbitrary addresses),
// binds and connects with arbitrary sockaddrs, options of any level,
// name and value, and receives of what came back. Each step is
// op, then for most ops a length byte and that many bytes of argument.
func FuzzSocket(f *testing.F) {
	req := func(typ, flags uint16, body []byte) []byte {
		m := newMsg(typ, flags, 1, 0)
		m.put(body)
		return m.done()
	}
	step := func(op byte, arg []byte) []byte { return append([]byte{op, byte(len(arg))}, arg...) }
	dump := func(typ uint16) []byte { return req(typ, nlmFRequest|nlmFDump, make([]byte, 16)) }
	ifi := make([]byte, 16)
	binary.LittleEndian.PutUint32(ifi[4:], 1)
	seeds := [][]byte{
		append(step(opSend, dump(rtmGetLink)), step(opRecv, []byte{0xff, 0xff, 0})...),
		append(step(opSend, dump(rtmGetAddr)), step(opRecv, []byte{0x10, 0, 0})...),
		append(step(opSend, dump(rtmGetRoute)), step(opRecv, []byte{0xff, 0xff, sys.MSG_PEEK})...),
		append(step(opSend, req(rtmGetLink, nlmFRequest|nlmFAck, ifi)), step(opRecv, []byte{0xff, 0xff, 0})...),
		append(step(opSend, append(dump(rtmGetAddr), dump(rtmGetRoute)...)), step(opRecv, nil)...),
		append(step(opSend, req(nlmNoop, nlmFRequest|nlmFAck, nil)), step(opRecv, nil)...),
		append(step(opSend, req(99, nlmFRequest, []byte{1, 2, 3})), step(opRecv, nil)...),
		step(opBind, sockaddr(0, 0)),
		append(step(opBind, sockaddr(1234, 1)), step(opBind, sockaddr(0, 0))...),
		step(opConnect, sockaddr(0, 0)),
		step(opConnect, []byte{0, 0}),
		step(opSendTo, append(sockaddr(0, 0), dump(rtmGetLink)...)),
		step(opSetSockOpt, append([]byte{1, 0, 0, 0, sys.SO_RCVBUF, 0, 0, 0}, 0, 0, 1, 0)),
		step(opSetSockOpt, append([]byte{1, 0, 0, 0, sys.SO_RCVTIMEO, 0, 0, 0}, make([]byte, 16)...)),
		step(opSetSockOpt, []byte{solNetlink & 0xff, solNetlink >> 8, 0, 0, 11, 0, 0, 0, 1, 0, 0, 0}),
		step(opGetSockOpt, []byte{1, 0, 0, 0, sys.SO_TYPE, 0, 0, 0}),
		append(step(opShutdown, []byte{0}), step(opRecv, nil)...),
		append(step(opWrite, dump(rtmGetLink)), step(opIoctl, []byte{0})...),
	}
	for _, s := range seeds {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	sources := fuzzSources(f)
	f.Fuzz(func(t *testing.T, which byte, prog []byte) {
		s := New(sources[int(which)%len(sources)], sys.SOCK_RAW, netstack.Cred{PID: 4000 + int32(which)})
		defer s.Release()
		le := binary.LittleEndian
		buf := make([]byte, 1<<16)
		for steps := 0; len(prog) > 0 && steps < 64; steps++ {
			op := prog[0] % opCount
			prog = prog[1:]
			var arg []byte
			if len(prog) > 0 {
				n := min(int(prog[0]), len(prog)-1)
				arg, prog = prog[1:1+n], prog[1+n:]
			}
			switch op {
			case opSend, opWrite:
				var err error
				if op == opSend {
					_, err = s.SendMsg(nil, arg, nil, nil, 0)
				} else {
					_, err = s.Write(arg)
				}
				if err != nil && err != sys.ENOBUFS {
					t.Fatalf("send: %v", err)
				}
			case opSendTo:
				// The first byte is the address length.
				if len(arg) == 0 {
					continue
				}
				k := min(int(arg[0]), len(arg)-1)
				to, data := arg[1:1+k], arg[1+k:]
				if k == 0 {
					to = nil // the syscalls pass no address for an empty one
				}
				_, err := s.SendMsg(nil, data, to, nil, 0)
				// As Linux's netlink_sendmsg: an address is a whole
				// sockaddr_nl of AF_NETLINK, or EINVAL.
				if to != nil && (len(to) < sys.SizeofSockaddrNetlink || le.Uint16(to) != sys.AF_NETLINK) && err != sys.EINVAL {
					t.Fatalf("sendto %x: %v, want EINVAL", to, err)
				}
			case opBind:
				_ = s.Bind(nil, arg)
			case opConnect:
				_ = s.Connect(nil, arg)
			case opSetSockOpt, opGetSockOpt:
				var lv [8]byte
				copy(lv[:], arg)
				level, name := int(int32(le.Uint32(lv[:]))), int(int32(le.Uint32(lv[4:])))
				if op == opSetSockOpt {
					val := arg[min(8, len(arg)):]
					err := s.SetSockOpt(nil, level, name, val)
					checkTimeout(t, s, level, name, val, err)
				} else {
					_, _ = s.GetSockOpt(nil, level, name)
				}
			case opRecv:
				size, flags := len(buf), 0
				if len(arg) >= 2 {
					size = min(int(le.Uint16(arg)), len(buf))
				}
				if len(arg) >= 3 {
					flags = int(arg[2])
				}
				r, err := s.RecvMsg(nil, buf[:size], flags, nil)
				if err != nil {
					if !errors.Is(err, sys.EAGAIN) {
						t.Fatalf("recv: %v", err)
					}
					continue
				}
				if r.N > size || r.N > r.Len {
					t.Fatalf("recv: N %d, Len %d of a %d-byte buffer", r.N, r.Len, size)
				}
				if r.N == r.Len {
					checkReplies(t, buf[:r.N])
				}
				_ = s.SockName()
			case opShutdown:
				how := 0
				if len(arg) > 0 {
					how = int(int8(arg[0]))
				}
				_ = s.Shutdown(nil, how)
			case opIoctl:
				_, _ = s.Ioctl(sys.SIOCINQ)
				_, _ = s.Ioctl(sys.SIOCOUTQ)
				_ = s.Readiness(0xffff)
			}
		}
		// Everything queued is well formed.
		for {
			r, err := s.RecvMsg(nil, buf, 0, nil)
			if err != nil || r.N == 0 {
				break
			}
			if r.N == r.Len {
				checkReplies(t, buf[:r.N])
			}
		}
	})
}
