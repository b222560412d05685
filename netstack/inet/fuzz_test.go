package inet

import (
	"encoding/binary"
	"sync"
	"testing"

	sys "golang.org/x/sys/unix"

	"ringbox/netstack"
)

var (
	fuzzStackOnce sync.Once
	fuzzStack     *Stack
	fuzzStackErr  error
)

func sharedStack(tb testing.TB) *Stack {
	fuzzStackOnce.Do(func() { fuzzStack, fuzzStackErr = NewLoopback() })
	if fuzzStackErr != nil {
		tb.Fatal(fuzzStackErr)
	}
	return fuzzStack
}

// FuzzAddr feeds arbitrary sockaddr bytes to parseAddr of both families
// (an address that parses must survive formatAddr and parseAddr again),
// then to bind, connect and sendto of UDP sockets and bind of TCP
// sockets of the in-process loopback stack.
func FuzzAddr(f *testing.F) {
	f.Add(byte(0), sin([4]byte{127, 0, 0, 1}, 0))
	f.Add(byte(1), sin([4]byte{127, 0, 0, 1}, 9))
	f.Add(byte(2), sin6([16]byte{15: 1}, 0))
	f.Add(byte(3), sin6([16]byte{15: 1}, 9))
	f.Add(byte(2), sin6([16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}, 9))
	f.Add(byte(3), append(sin6([16]byte{0: 0xfe, 1: 0x80, 15: 1}, 9)[:24], 1, 0, 0, 0))
	f.Add(byte(0), make([]byte, 16))
	f.Add(byte(1), []byte{0, 0})
	f.Add(byte(4), sin([4]byte{10, 1, 2, 3}, 80))
	f.Add(byte(5), sin6([16]byte{0: 0x20, 1: 1}, 80)[:24])
	st := sharedStack(f)
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		for _, fam := range []int{sys.AF_INET, sys.AF_INET6} {
			a, err := parseAddr(fam, b)
			if err != nil {
				continue
			}
			raw := formatAddr(fam, a)
			a2, err := parseAddr(fam, raw)
			if err != nil {
				t.Fatalf("family %d: %x parses to %v, formats to %x: %v", fam, b, a, raw, err)
			}
			if a2 != a {
				t.Fatalf("family %d: %x parses to %v, then %v", fam, b, a, a2)
			}
		}
		_ = addrFamily(b)

		fam := []int{sys.AF_INET, sys.AF_INET6}[which&1]
		typ := []int{sys.SOCK_DGRAM, sys.SOCK_STREAM}[which>>1&1]
		proto, err := ValidArgs(fam, typ, 0)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.New(fam, typ, proto, netstack.Cred{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Release()
		if which&4 != 0 {
			_ = s.Bind(nil, b)
			_ = s.SockName()
		}
		if typ == sys.SOCK_DGRAM {
			_ = s.Connect(nil, b)
			_, _ = s.PeerName()
			_, _ = s.SendMsg(nil, []byte("x"), b, nil, 0)
			_, _ = s.RecvMsg(nil, make([]byte, 4), 0, nil)
			_ = s.Connect(nil, binary.LittleEndian.AppendUint16(nil, sys.AF_UNSPEC))
		} else {
			_ = s.Bind(nil, b)
			_ = s.SockName()
		}
	})
}
