package nat

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestFlush: Wait returns once the counted relays are done, or at its
// timeout; a relay that starts after Wait is not counted.
func TestFlush(t *testing.T) {
	var f Flush
	if !f.start() || !f.start() {
		t.Fatal("start before Wait")
	}
	go func() { time.Sleep(20 * time.Millisecond); f.done(); f.done() }()
	if !f.Wait(10 * time.Second) {
		t.Fatal("Wait timed out with both relays done")
	}
	if f.start() {
		t.Fatal("a relay started after Wait was counted")
	}
	var g Flush
	g.start()
	if g.Wait(10 * time.Millisecond) {
		t.Fatal("Wait returned true with a relay running")
	}
	g.done()
}

// TestFlushDatagrams: a datagram relay, which has no end of its own,
// passes on what was queued before Begin and ends once quiet, so Wait
// returns soon and nothing the sandbox sent is lost.
func TestFlushDatagrams(t *testing.T) {
	var f Flush
	src, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	peer, err := net.DialUDP("udp", nil, src.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if !f.start() {
		t.Fatal("start before Wait")
	}
	drain := f.drain()
	var got []string
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		defer f.done()
		stop := make(chan struct{})
		defer close(stop)
		go watchDrain(src, drain, stop)
		buf := make([]byte, 100)
		for {
			drainDeadline(src, time.Minute, drain)
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			got = append(got, string(buf[:n]))
		}
	}()
	time.Sleep(50 * time.Millisecond) // the relay waits in Read, its deadline a minute away
	peer.Write([]byte("one"))
	peer.Write([]byte("two"))
	start := time.Now()
	if !f.Wait(10 * time.Second) {
		t.Fatal("Wait timed out: the relay did not drain")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Wait took %v", d)
	}
	<-relayed
	if strings.Join(got, ",") != "one,two" {
		t.Errorf("relayed %q, want one and two", got)
	}
	if f.start() {
		t.Fatal("a datagram relay started after Wait was counted")
	}
}

// TestPacketListenerClose: a UDP port closed (the program's socket gone,
// or ringbox ending) right after the sandbox answered still passes the
// answer on: the flows drain before the host socket closes.
func TestPacketListenerClose(t *testing.T) {
	for i := 0; i < 5; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l := NewPacketListener(pc)
		sandbox, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		dial := func(context.Context, string, uint16) (net.Conn, error) {
			return net.DialUDP("udp", nil, sandbox.LocalAddr().(*net.UDPAddr))
		}
		var f Flush
		served := make(chan struct{})
		go func() { Port{UDP: true}.Serve(l, dial, time.Minute, &f, nil); close(served) }()
		client, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		client.Write([]byte("hello"))
		buf := make([]byte, 100)
		sandbox.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, flow, err := sandbox.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("the sandbox got %q, %v", buf[:n], err)
		}
		sandbox.WriteTo([]byte("served"), flow)
		l.Close()
		if !f.Wait(10 * time.Second) {
			t.Fatal("Wait timed out")
		}
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err = client.Read(buf)
		if err != nil || string(buf[:n]) != "served" {
			t.Fatalf("run %d: the client got %q, %v", i, buf[:n], err)
		}
		<-served
		if _, err := pc.WriteTo([]byte("x"), client.LocalAddr()); err == nil {
			t.Fatal("the host socket is still open after Serve returned")
		}
		client.Close()
		sandbox.Close()
	}
}

// TestPacketListenerUnserved: a UDP port closed before Serve took it
// (a later --publish failed) closes its socket at once, and Serve then
// does nothing with it.
func TestPacketListenerUnserved(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewPacketListener(pc)
	l.Close()
	select {
	case <-l.Done():
	default:
		t.Fatal("Done is not closed")
	}
	if _, err := pc.WriteTo([]byte("x"), pc.LocalAddr()); err == nil {
		t.Fatal("the socket is still open")
	}
	Port{UDP: true}.Serve(l, nil, time.Minute, nil, nil) // returns at once
}
