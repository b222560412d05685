package netstack

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// Socket timeouts (SO_RCVTIMEO, SO_SNDTIMEO) are kept in jiffies, as
// Linux's at HZ=250: getsockopt returns what setsockopt gave rounded up
// to 4 ms.
const (
	hz   = 250
	tick = time.Second / hz
)

// NoWait is the timeout of a negative SO_RCVTIMEO or SO_SNDTIMEO: do not
// wait at all.
const NoWait = time.Duration(-1)

// TimevalBytes is the struct timeval of a timeout.
func TimevalBytes(d time.Duration) []byte {
	var sec, usec int64
	if d > 0 {
		ticks := int64(d / tick)
		sec, usec = ticks/hz, ticks%hz*(1000000/hz)
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(sec))
	return binary.LittleEndian.AppendUint64(b, uint64(usec))
}

// ParseTimeval reads a timeout's struct timeval as Linux does: usec out
// of range is EDOM, a negative time means no waiting (NoWait), zero means
// no timeout.
func ParseTimeval(b []byte) (time.Duration, error) {
	if len(b) < 16 {
		return 0, unix.EINVAL
	}
	sec := int64(binary.LittleEndian.Uint64(b))
	usec := int64(binary.LittleEndian.Uint64(b[8:]))
	switch {
	case usec < 0 || usec >= 1000000:
		return 0, unix.EDOM
	case sec < 0:
		return NoWait, nil
	case sec == 0 && usec == 0:
		return 0, nil
	case sec >= math.MaxInt64/int64(time.Second)-1:
		return 0, nil // longer than anything: no timeout
	}
	ticks := sec*hz + (usec+1000000/hz-1)/(1000000/hz)
	return time.Duration(ticks) * tick, nil
}
