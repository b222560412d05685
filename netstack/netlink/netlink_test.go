package netlink

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	sys "golang.org/x/sys/unix"

	"ringbox/netstack"
	"ringbox/netstack/inet"
)

// parse splits packed netlink messages into their types.
func parse(t *testing.T, b []byte) []uint16 {
	var types []uint16
	for len(b) >= nlmsgHdrLen {
		n := int(binary.LittleEndian.Uint32(b))
		require.GreaterOrEqual(t, n, nlmsgHdrLen)
		require.LessOrEqual(t, n, len(b))
		types = append(types, binary.LittleEndian.Uint16(b[4:]))
		b = b[min(align4(n), len(b)):]
	}
	require.Empty(t, b)
	return types
}

func request(typ, flags uint16, body []byte) []byte {
	m := newMsg(typ, flags, 7, 0)
	m.put(body)
	return m.done()
}

func TestRouteDumps(t *testing.T) {
	st, err := inet.NewLoopback()
	require.NoError(t, err)
	defer st.Close()
	s := New(st, sys.SOCK_RAW, netstack.Cred{PID: 4242})
	defer s.Release()
	require.NoError(t, s.Bind(nil, sockaddr(0, 0)))
	require.Equal(t, uint32(4242), binary.LittleEndian.Uint32(s.SockName()[4:]))

	buf := make([]byte, 8192)
	for _, c := range []struct {
		typ  uint16
		want []uint16
	}{
		{rtmGetLink, []uint16{rtmNewLink, nlmDone}},
		{rtmGetAddr, []uint16{rtmNewAddr, rtmNewAddr, nlmDone}},
		{rtmGetRoute, []uint16{rtmNewRoute, rtmNewRoute, rtmNewRoute, rtmNewRoute, nlmDone}},
		{99, []uint16{nlmError}},
	} {
		_, err := s.SendMsg(nil, request(c.typ, nlmFRequest|nlmFDump, make([]byte, 16)), nil, nil, 0)
		require.NoError(t, err)
		r, err := s.RecvMsg(nil, buf, 0, nil)
		require.NoError(t, err)
		require.Equal(t, c.want, parse(t, buf[:r.N]), "type %d", c.typ)
	}
	_, err = s.RecvMsg(nil, buf, 0, nil)
	require.Equal(t, sys.EAGAIN, err)
}
