package mqueue

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

func anyone(unix.Stat_t) error { return nil }

func TestLimits(t *testing.T) {
	ns := NewNamespace()
	user := Owner{UID: 1000, Budget: 819200}
	// Ten default queues cost 10 * (10*8 + 10*8192) bytes: 819200 fits
	// nine of them, not ten (Linux's arithmetic).
	for i := range 9 {
		_, err := ns.Open(string(rune('a'+i)), unix.O_CREAT, 0o600, nil, user, anyone)
		require.NoError(t, err, "queue %d", i)
	}
	_, err := ns.Open("j", unix.O_CREAT, 0o600, nil, user, anyone)
	require.Equal(t, unix.EMFILE, err, "past RLIMIT_MSGQUEUE")
	require.NoError(t, ns.Unlink("a", anyone))
	_, err = ns.Open("j", unix.O_CREAT, 0o600, nil, user, anyone)
	require.NoError(t, err, "an unlinked queue gives its budget back")

	_, err = ns.Open("big", unix.O_CREAT, 0o600, &Attr{MaxMsg: 11, MsgSize: 1}, user, anyone)
	require.Equal(t, unix.EINVAL, err, "past msg_max without CAP_SYS_RESOURCE")
	root := Owner{Privileged: true, Budget: 1 << 40}
	_, err = ns.Open("big", unix.O_CREAT, 0o600, &Attr{MaxMsg: 11, MsgSize: 1}, root, anyone)
	require.NoError(t, err)
	_, err = ns.Open("huge", unix.O_CREAT, 0o600, &Attr{MaxMsg: HardMsgMax + 1, MsgSize: 1}, root, anyone)
	require.Equal(t, unix.EINVAL, err)
	for _, bad := range []string{"", "a/b", string(make([]byte, 256))} {
		_, err = ns.Open(bad, unix.O_CREAT, 0o600, nil, root, anyone)
		require.Error(t, err, "name %q", bad)
	}
	_, err = ns.Open("nosuch", 0, 0, nil, root, anyone)
	require.Equal(t, unix.ENOENT, err)
}

func TestQueueOrderAndNotify(t *testing.T) {
	ns := NewNamespace()
	q, err := ns.Open("q", unix.O_CREAT, 0o600, &Attr{MaxMsg: 3, MsgSize: 8}, Owner{Budget: 1 << 20}, anyone)
	require.NoError(t, err)
	require.NoError(t, q.SetNotify(7, &Notification{PID: 7, Signo: 10, Value: 42}))
	require.Equal(t, unix.EBUSY, q.SetNotify(8, &Notification{PID: 8, Signo: 10}))
	fire, err := q.Send([]byte("low"), 1)
	require.NoError(t, err)
	require.Equal(t, &Notification{PID: 7, Signo: 10, Value: 42}, fire, "the first message into an empty queue fires")
	fire, err = q.Send([]byte("high"), 9)
	require.NoError(t, err)
	require.Nil(t, fire, "one shot")
	_, err = q.Send([]byte("toolong!!"), 1)
	require.Equal(t, unix.EMSGSIZE, err)
	_, err = q.Send([]byte("low2"), 1)
	require.NoError(t, err)
	_, err = q.Send([]byte("x"), 1)
	require.Equal(t, unix.EAGAIN, err, "full")
	for _, want := range []string{"high", "low", "low2"} {
		data, _, err := q.Receive(8)
		require.NoError(t, err)
		require.Equal(t, want, string(data))
	}
	_, _, err = q.Receive(8)
	require.Equal(t, unix.EAGAIN, err)
	_, _, err = q.Receive(7)
	require.Equal(t, unix.EMSGSIZE, err)
	// A waiting receiver takes the message: no notification then.
	require.NoError(t, q.SetNotify(7, &Notification{PID: 7, Signo: 10}))
	q.Waiting(1)
	fire, _ = q.Send([]byte("x"), 0)
	require.Nil(t, fire)
}

func TestFS(t *testing.T) {
	ns := NewNamespace()
	root := ns.FS(func() Owner { return Owner{UID: 5, Budget: 1 << 20} }).Root()
	_, impl, err := root.(fs.Mutable).Create("made", unix.O_RDWR, 0o640)
	require.NoError(t, err)
	q, err := ns.Open("made", 0, 0, nil, Owner{}, anyone)
	require.NoError(t, err)
	q.Send([]byte("abc"), 0)
	buf := make([]byte, 100)
	n, _ := impl.Read(buf)
	require.Equal(t, "QSIZE:3          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n", string(buf[:n]))
	node, err := root.Lookup("made")
	require.NoError(t, err)
	st, _ := node.Stat()
	require.Equal(t, uint32(unix.S_IFREG|0o640), st.Mode)
	require.Equal(t, uint32(5), st.Uid)
	d, err := root.Open(unix.O_RDONLY)
	require.NoError(t, err)
	ents, err := d.(fs.DirReader).ReadDir(0, 10)
	require.NoError(t, err)
	require.Len(t, ents, 1)
	require.Equal(t, "made", ents[0].Name)
	require.NoError(t, root.(fs.Mutable).Unlink("made"))
	_, err = root.Lookup("made")
	require.Equal(t, unix.ENOENT, err)
}
