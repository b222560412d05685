package nat

import (
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
