package ipc

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func send(t *testing.T, ns *Namespace, id int32, typ int64, text string) {
	t.Helper()
	require.NoError(t, ns.MsgSend(newWaiter(), user(1), id, typ, []byte(text), NoWait))
}

func recv(t *testing.T, ns *Namespace, id int32, typ int64, flags int) string {
	t.Helper()
	m, err := ns.MsgReceive(newWaiter(), user(2), id, 100, typ, flags|NoWait)
	require.NoError(t, err)
	return string(m.Text)
}

func TestMsgTypes(t *testing.T) {
	ns := newNS(t)
	id, err := ns.MsgGet(user(1), Private, 0o600)
	require.NoError(t, err)
	send(t, ns, id, 3, "c1")
	send(t, ns, id, 1, "a1")
	send(t, ns, id, 2, "b1")
	send(t, ns, id, 1, "a2")
	send(t, ns, id, 3, "c2")

	ds, _, err := ns.MsgStatCmd(user(1), id, false, false)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), ds.Qnum)
	assert.Equal(t, uint64(10), ds.Cbytes)
	assert.Equal(t, uint64(MsgMNB), ds.Qbytes)
	assert.Equal(t, int32(1), ds.LSPID)

	assert.Equal(t, "b1", recv(t, ns, id, 2, 0), "first of type 2")
	assert.Equal(t, "c1", recv(t, ns, id, 1, MsgExcept), "first not of type 1")
	assert.Equal(t, "a1", recv(t, ns, id, -3, 0), "lowest type up to 3, first of it")
	// MSG_COPY: by position, left in the queue.
	assert.Equal(t, "c2", recv(t, ns, id, 1, MsgCopy))
	_, err = ns.MsgReceive(newWaiter(), user(2), id, 100, 5, MsgCopy|NoWait)
	assert.Equal(t, unix.ENOMSG, err)
	_, err = ns.MsgReceive(newWaiter(), user(2), id, 100, 0, MsgCopy)
	assert.Equal(t, unix.EINVAL, err, "MSG_COPY needs IPC_NOWAIT")
	assert.Equal(t, "a2", recv(t, ns, id, 0, 0), "the first")
	_, err = ns.MsgReceive(newWaiter(), user(2), id, 100, 2, NoWait)
	assert.Equal(t, unix.ENOMSG, err)
	m, err := ns.MsgReceive(newWaiter(), user(2), id, 100, math.MinInt64, NoWait)
	require.NoError(t, err)
	assert.Equal(t, "c2", string(m.Text))
	assert.Equal(t, int64(3), m.Type)

	// Too long: E2BIG, the message stays; MSG_NOERROR truncates.
	send(t, ns, id, 7, "0123456789")
	_, err = ns.MsgReceive(newWaiter(), user(2), id, 4, 0, NoWait)
	assert.Equal(t, unix.E2BIG, err)
	m, err = ns.MsgReceive(newWaiter(), user(2), id, 4, 0, NoWait|MsgNoError)
	require.NoError(t, err)
	assert.Equal(t, "0123", string(m.Text))
	ds, _, _ = ns.MsgStatCmd(user(1), id, false, false)
	assert.Equal(t, uint64(0), ds.Qnum)
	assert.Equal(t, uint64(0), ds.Cbytes)
	assert.Equal(t, int32(2), ds.LRPID)

	// Bad input.
	w := newWaiter()
	assert.Equal(t, unix.EINVAL, ns.MsgSend(w, user(1), id, 0, nil, 0), "type 0")
	assert.Equal(t, unix.EINVAL, ns.MsgSend(w, user(1), id, 1, make([]byte, MsgMax+1), 0))
	assert.Equal(t, unix.EINVAL, ns.MsgSend(w, user(1), id+1, 1, nil, 0))
	assert.Equal(t, unix.EACCES, ns.MsgSend(w, other(3), id, 1, nil, 0))
	_, err = ns.MsgReceive(w, other(3), id, 1, 0, NoWait)
	assert.Equal(t, unix.EACCES, err)
	_, err = ns.MsgReceive(w, user(2), id, -1, 0, NoWait)
	assert.Equal(t, unix.EINVAL, err)
	require.NoError(t, ns.MsgRemove(user(1), id))
	assert.Equal(t, int64(0), ns.Used())
}

func TestMsgFullQueue(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	id, err := ns.MsgGet(c, Private, 0o600)
	require.NoError(t, err)
	big := make([]byte, MsgMax)
	send(t, ns, id, 1, string(big))
	send(t, ns, id, 1, string(big))
	assert.Equal(t, unix.EAGAIN, ns.MsgSend(newWaiter(), c, id, 1, []byte{1}, NoWait))

	// A blocked sender goes on when a receiver makes room.
	done := make(chan error, 1)
	go func() { done <- ns.MsgSend(newWaiter(), c, id, 2, []byte("late"), 0) }()
	blocked(t, done)
	recv(t, ns, id, 0, MsgNoError)
	require.NoError(t, result(t, done, time.Second))
	assert.Equal(t, "late", recv(t, ns, id, 2, 0))

	// msg_qbytes: lowered by the owner, not raised above MSGMNB.
	assert.Equal(t, unix.EPERM, ns.MsgSetCmd(c, id, SetPerm{UID: 1000, GID: 1000, Mode: 0o600}, MsgMNB+1))
	require.NoError(t, ns.MsgSetCmd(c, id, SetPerm{UID: 1000, GID: 1000, Mode: 0o600}, 10))
	assert.Equal(t, unix.EAGAIN, ns.MsgSend(newWaiter(), c, id, 1, make([]byte, 11), NoWait))
	require.NoError(t, ns.MsgSetCmd(c, id, SetPerm{UID: 1000, GID: 1000, Mode: 0o600}, 3))
	recv(t, ns, id, 0, MsgNoError) // the other big one
	// At most msg_qbytes messages, even empty ones.
	for i := 0; i < 3; i++ {
		send(t, ns, id, 1, "")
	}
	assert.Equal(t, unix.EAGAIN, ns.MsgSend(newWaiter(), c, id, 1, nil, NoWait))

	// A signal ends a blocked send (EINTR); removal ends it with EIDRM.
	w := newWaiter()
	go func() { done <- ns.MsgSend(w, c, id, 1, nil, 0) }()
	blocked(t, done)
	w.signal()
	assert.Equal(t, unix.EINTR, result(t, done, time.Second))
	go func() { done <- ns.MsgSend(newWaiter(), c, id, 1, nil, 0) }()
	blocked(t, done)
	require.NoError(t, ns.MsgRemove(c, id))
	assert.Equal(t, unix.EIDRM, result(t, done, time.Second))
	assert.Equal(t, int64(0), ns.Used())
}

func TestMsgBlockedReceivers(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	id, err := ns.MsgGet(c, Private, 0o600)
	require.NoError(t, err)
	type res struct {
		m   *Message
		err error
	}
	start := func(typ int64, size, flags int) (chan res, *testWaiter) {
		ch := make(chan res, 1)
		w := newWaiter()
		go func() {
			m, err := ns.MsgReceive(w, user(5), id, size, typ, flags)
			ch <- res{m, err}
		}()
		time.Sleep(10 * time.Millisecond)
		return ch, w
	}
	get := func(ch chan res) res {
		select {
		case r := <-ch:
			return r
		case <-time.After(time.Second):
			t.Fatal("receiver still blocked")
			return res{}
		}
	}
	r5, _ := start(5, 100, 0)
	rSmall, _ := start(0, 2, 0)
	rAny, _ := start(0, 100, 0)
	rIntr, w := start(9, 100, 0)

	// Type 5 goes to its receiver although two others wait for any.
	send(t, ns, id, 5, "five")
	r := get(r5)
	require.NoError(t, r.err)
	assert.Equal(t, "five", string(r.m.Text))
	// The next one is too long for the first "any" receiver: it fails
	// with E2BIG and the message goes to the next one.
	send(t, ns, id, 1, "hello")
	r = get(rSmall)
	assert.Equal(t, unix.E2BIG, r.err)
	r = get(rAny)
	require.NoError(t, r.err)
	assert.Equal(t, "hello", string(r.m.Text))
	ds, _, _ := ns.MsgStatCmd(c, id, false, false)
	assert.Equal(t, uint64(0), ds.Qnum, "handed over, never queued")
	assert.Equal(t, int32(5), ds.LRPID)

	w.signal()
	assert.Equal(t, unix.EINTR, get(rIntr).err)
	rGone, _ := start(0, 100, 0)
	require.NoError(t, ns.MsgRemove(c, id))
	assert.Equal(t, unix.EIDRM, get(rGone).err)
	_, err = ns.MsgReceive(newWaiter(), c, id, 10, 0, 0)
	assert.Equal(t, unix.EINVAL, err)
}

func TestMsgBudget(t *testing.T) {
	ns := newNS(t)
	ns.SetBudget(objectCost + 3*(msgCost+100))
	c := user(1)
	id, err := ns.MsgGet(c, Private, 0o600)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		send(t, ns, id, 1, string(make([]byte, 100)))
	}
	assert.Equal(t, unix.ENOMEM, ns.MsgSend(newWaiter(), c, id, 1, make([]byte, 100), NoWait))
	recv(t, ns, id, 0, 0)
	send(t, ns, id, 1, string(make([]byte, 100)))
	info, max := ns.MsgInfoCmd(true)
	assert.Equal(t, int32(1), info.MsgPool)
	assert.Equal(t, int32(3), info.MsgMap)
	assert.Equal(t, int32(300), info.MsgTQL)
	assert.Equal(t, 0, max)
	require.NoError(t, ns.MsgRemove(c, id))
	assert.Equal(t, int64(0), ns.Used())
	info, _ = ns.MsgInfoCmd(true)
	assert.Equal(t, MsgInfoData{MsgSSZ: 16, MsgMax: MsgMax, MsgMNB: MsgMNB, MsgMNI: MsgMNI, MsgSeg: 0xffff}, info)
}
