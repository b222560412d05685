package inet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sys "golang.org/x/sys/unix"

	"ringbox/netstack"
)

func sin(ip [4]byte, port uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, sys.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

func sin6(ip [16]byte, port uint16) []byte {
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b, sys.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[8:], ip[:])
	return b
}

func port(sa []byte) uint16 { return binary.BigEndian.Uint16(sa[2:]) }

// retry calls f until it stops failing with EAGAIN/EINPROGRESS/EALREADY.
func retry[T any](t *testing.T, f func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := f()
		if err == nil {
			return v
		}
		if !errors.Is(err, sys.EAGAIN) && err != sys.EINPROGRESS && err != sys.EALREADY {
			t.Fatalf("%v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func newSock(t *testing.T, st *Stack, fam, typ int) *Socket {
	proto, err := ValidArgs(fam, typ, 0)
	require.NoError(t, err)
	s, err := st.New(fam, typ, proto, netstack.Cred{})
	require.NoError(t, err)
	t.Cleanup(s.Release)
	return s
}

func TestTCPLoopback(t *testing.T) {
	st, err := NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	for _, c := range []struct {
		fam  int
		addr func(uint16) []byte
	}{
		{sys.AF_INET, func(p uint16) []byte { return sin([4]byte{127, 0, 0, 1}, p) }},
		{sys.AF_INET6, func(p uint16) []byte { return sin6([16]byte{15: 1}, p) }},
	} {
		l := newSock(t, st, c.fam, sys.SOCK_STREAM)
		require.NoError(t, l.Bind(nil, c.addr(0)))
		require.NoError(t, l.Listen(nil, 5))
		p := port(l.SockName())
		require.NotZero(t, p)

		cl := newSock(t, st, c.fam, sys.SOCK_STREAM)
		require.Equal(t, sys.EINPROGRESS, cl.Connect(nil, c.addr(p)))
		retry(t, func() (int, error) { return 0, cl.Connect(nil, c.addr(p)) })
		require.Equal(t, sys.EISCONN, cl.Connect(nil, c.addr(p)))
		a := retry(t, func() (netstack.Socket, error) { s, _, err := l.Accept(nil); return s, err })
		defer a.Release()
		n, err := cl.SendMsg(nil, []byte("hello"), nil, nil, 0)
		require.NoError(t, err)
		require.Equal(t, 5, n)
		buf := make([]byte, 16)
		r := retry(t, func() (netstack.RecvResult, error) { return a.RecvMsg(nil, buf, 0, nil) })
		require.Equal(t, "hello", string(buf[:r.N]))
		require.NoError(t, cl.Shutdown(nil, sys.SHUT_WR))
		r = retry(t, func() (netstack.RecvResult, error) { return a.RecvMsg(nil, buf, 0, nil) })
		require.Zero(t, r.N)
		peer, err := a.PeerName()
		require.NoError(t, err)
		require.Equal(t, port(cl.SockName()), port(peer))
	}
}

func TestRefusedAndInUse(t *testing.T) {
	st, err := NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	l := newSock(t, st, sys.AF_INET, sys.SOCK_STREAM)
	require.NoError(t, l.Bind(nil, sin([4]byte{127, 0, 0, 1}, 0)))
	p := port(l.SockName())
	l2 := newSock(t, st, sys.AF_INET, sys.SOCK_STREAM)
	require.Equal(t, sys.EADDRINUSE, l2.Bind(nil, sin([4]byte{127, 0, 0, 1}, p)))

	cl := newSock(t, st, sys.AF_INET, sys.SOCK_STREAM)
	err = cl.Connect(nil, sin([4]byte{127, 0, 0, 1}, p)) // bound, not listening
	deadline := time.Now().Add(5 * time.Second)
	for (err == sys.EINPROGRESS || err == sys.EALREADY) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		err = cl.Connect(nil, sin([4]byte{127, 0, 0, 1}, p))
	}
	require.Equal(t, sys.ECONNREFUSED, err)
}

func TestUDPLoopback(t *testing.T) {
	st, err := NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	a := newSock(t, st, sys.AF_INET, sys.SOCK_DGRAM)
	b := newSock(t, st, sys.AF_INET, sys.SOCK_DGRAM)
	require.NoError(t, a.Bind(nil, sin([4]byte{127, 0, 0, 1}, 0)))
	n, err := b.SendMsg(nil, []byte("ping!"), a.SockName(), nil, 0)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	buf := make([]byte, 3)
	r := retry(t, func() (netstack.RecvResult, error) { return a.RecvMsg(nil, buf, 0, nil) })
	require.Equal(t, 3, r.N)
	require.Equal(t, 5, r.Len)
	require.Equal(t, sys.MSG_TRUNC, r.Flags)
	require.Equal(t, port(b.SockName()), port(r.From))
}

func TestPingLoopback(t *testing.T) {
	st, err := NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	s := newSockProto(t, st, sys.AF_INET, sys.IPPROTO_ICMP)
	// An echo request: type 8, code 0, checksum (filled by the stack),
	// id (the socket's), sequence 1, payload.
	req := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'p', 'i', 'n', 'g'}
	n, err := s.SendMsg(nil, req, sin([4]byte{127, 0, 0, 1}, 0), nil, 0)
	require.NoError(t, err)
	require.Equal(t, len(req), n)
	buf := make([]byte, 64)
	r := retry(t, func() (netstack.RecvResult, error) { return s.RecvMsg(nil, buf, 0, nil) })
	require.Equal(t, byte(0), buf[0], "echo reply")
	require.Equal(t, "ping", string(buf[8:r.N]))
}

func newSockProto(t *testing.T, st *Stack, fam, proto int) *Socket {
	p, err := ValidArgs(fam, sys.SOCK_DGRAM, proto)
	require.NoError(t, err)
	s, err := st.New(fam, sys.SOCK_DGRAM, p, netstack.Cred{})
	require.NoError(t, err)
	t.Cleanup(s.Release)
	return s
}

func TestProcNet(t *testing.T) {
	st, err := NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	l := newSock(t, st, sys.AF_INET, sys.SOCK_STREAM)
	require.NoError(t, l.Bind(nil, sin([4]byte{127, 0, 0, 1}, 8080)))
	require.NoError(t, l.Listen(nil, 16))
	u := newSock(t, st, sys.AF_INET6, sys.SOCK_DGRAM)
	require.NoError(t, u.Bind(nil, sin6([16]byte{15: 1}, 53)))

	tcp, ok := st.ProcNet("tcp")
	require.True(t, ok)
	lines := strings.Split(strings.TrimSpace(tcp), "\n")
	require.Len(t, lines, 2, tcp)
	f := strings.Fields(lines[1])
	// 127.0.0.1:8080, in host byte order; LISTEN is 0A; the inode is ours.
	require.Equal(t, []string{"0:", "0100007F:1F90", "00000000:0000", "0A"}, f[:4])
	require.Equal(t, strconv.FormatUint(l.ino, 10), f[9])

	udp6, _ := st.ProcNet("udp6")
	lines = strings.Split(strings.TrimSpace(udp6), "\n")
	require.Len(t, lines, 2, udp6)
	f = strings.Fields(lines[1])
	require.Equal(t, []string{"0:", "00000000000000000000000001000000:0035", "00000000000000000000000000000000:0000", "07"}, f[:4])
	udp, _ := st.ProcNet("udp")
	require.Equal(t, 1, strings.Count(udp, "\n"), "no IPv4 UDP socket: the header only")

	dev, _ := st.ProcNet("dev")
	require.Contains(t, dev, "    lo:")
	if6, _ := st.ProcNet("if_inet6")
	require.Equal(t, "00000000000000000000000000000001 01 80 10 80       lo\n", if6)
	route, _ := st.ProcNet("route")
	require.Contains(t, route, "lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF")
	_, ok = st.ProcNet("nosuch")
	require.False(t, ok)

	l.Release()
	tcp, _ = st.ProcNet("tcp")
	require.Equal(t, 1, strings.Count(tcp, "\n"), "a released socket is gone")
}

// TestListenHook: the hook hears of each listener with its address
// (invalid for the unspecified one, v4 and v6) and port, once per socket
// (listen again changes only the backlog), and of each UDP socket bound
// to a port it named (not one a client binds to port 0), and its
// function runs when the socket is closed.
func TestListenHook(t *testing.T) {
	st, err := NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	var heard []string
	closed := map[uint16]int{}
	st.SetListenHook(func(network string, a netip.Addr, p uint16) func() {
		heard = append(heard, fmt.Sprintf("%s %s %d", network, a, p))
		return func() { closed[p]++ }
	})
	lo := newSock(t, st, sys.AF_INET, sys.SOCK_STREAM)
	require.NoError(t, lo.Bind(nil, sin([4]byte{127, 0, 0, 1}, 0)))
	require.NoError(t, lo.Listen(nil, 5))
	require.NoError(t, lo.Listen(nil, 50))
	plo := port(lo.SockName())
	any4 := newSock(t, st, sys.AF_INET, sys.SOCK_STREAM)
	require.NoError(t, any4.Bind(nil, sin([4]byte{}, 0)))
	require.NoError(t, any4.Listen(nil, 5))
	p4 := port(any4.SockName())
	any6 := newSock(t, st, sys.AF_INET6, sys.SOCK_STREAM)
	require.NoError(t, any6.Listen(nil, 5)) // unbound: an ephemeral port on ::
	p6 := port(any6.SockName())
	udpClient := newSock(t, st, sys.AF_INET, sys.SOCK_DGRAM)
	require.NoError(t, udpClient.Bind(nil, sin([4]byte{}, 0)))
	udpServer := newSock(t, st, sys.AF_INET, sys.SOCK_DGRAM)
	require.NoError(t, udpServer.Bind(nil, sin([4]byte{}, 5353)))
	require.Equal(t, []string{fmt.Sprintf("tcp 127.0.0.1 %d", plo), fmt.Sprintf("tcp invalid IP %d", p4),
		fmt.Sprintf("tcp invalid IP %d", p6), "udp invalid IP 5353"}, heard)

	any4.Release()
	require.Equal(t, map[uint16]int{p4: 1}, closed)
	lo.Release()
	require.Equal(t, map[uint16]int{p4: 1, plo: 1}, closed)
	udpServer.Release()
	require.Equal(t, map[uint16]int{p4: 1, plo: 1, 5353: 1}, closed)
}
