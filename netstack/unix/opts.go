package unix

import (
	"encoding/binary"
	"math"

	sys "golang.org/x/sys/unix"

	"ringbox/fs/waiter"
	"ringbox/netstack"
)

// noWait is the timeout of a negative SO_RCVTIMEO or SO_SNDTIMEO.
const noWait = netstack.NoWait

// SO_RCVTIMEO_NEW and SO_SNDTIMEO_NEW (the same struct on x86-64).
const (
	soRcvtimeoNew = 66
	soSndtimeoNew = 67
	soCookie      = 57
)

// boolOpts are the SOL_SOCKET flags a socket only keeps (0 or 1).
var boolOpts = map[int]bool{
	sys.SO_DEBUG: true, sys.SO_DONTROUTE: true, sys.SO_BROADCAST: true, sys.SO_KEEPALIVE: true,
	sys.SO_OOBINLINE: true, sys.SO_NO_CHECK: true, sys.SO_REUSEADDR: true, sys.SO_REUSEPORT: true,
	sys.SO_TIMESTAMP: true, sys.SO_TIMESTAMPNS: true, sys.SO_PASSSEC: true, sys.SO_RXQ_OVFL: true,
	sys.SO_WIFI_STATUS: true, sys.SO_NOFCS: true, sys.SO_SELECT_ERR_QUEUE: true, sys.SO_ZEROCOPY: true,
}

// intOpts are the SOL_SOCKET integers a socket only keeps, with their
// defaults.
var intOpts = map[int]int32{
	sys.SO_PRIORITY: 0, sys.SO_RCVLOWAT: 1, sys.SO_MARK: 0, sys.SO_BUSY_POLL: 0, sys.SO_INCOMING_CPU: -1,
}

func intBytes(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// The struct timeval of SO_RCVTIMEO and SO_SNDTIMEO (netstack/timeout.go).
var (
	timevalBytes = netstack.TimevalBytes
	parseTimeval = netstack.ParseTimeval
)

// GetSockOpt implements netstack.Socket: SOL_SOCKET options only (other
// levels are EOPNOTSUPP, as for Linux's AF_UNIX).
func (s *Socket) GetSockOpt(ctx netstack.Context, level, name int) ([]byte, error) {
	if level != sys.SOL_SOCKET {
		return nil, sys.EOPNOTSUPP
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case sys.SO_TYPE:
		return intBytes(int32(s.typ)), nil
	case sys.SO_DOMAIN:
		return intBytes(sys.AF_UNIX), nil
	case sys.SO_PROTOCOL:
		return intBytes(0), nil
	case sys.SO_ERROR:
		e := s.err
		s.err = 0
		return intBytes(int32(e)), nil
	case sys.SO_SNDBUF:
		return intBytes(int32(s.sndbuf)), nil
	case sys.SO_RCVBUF:
		return intBytes(int32(s.rcvbuf)), nil
	case sys.SO_ACCEPTCONN:
		return intBytes(boolInt(s.state == stateListening)), nil
	case sys.SO_PASSCRED:
		return intBytes(boolInt(s.passcred)), nil
	case sys.SO_SNDLOWAT:
		return intBytes(1), nil
	case sys.SO_PEEK_OFF:
		return intBytes(-1), nil
	case sys.SO_PEERCRED:
		b := binary.LittleEndian.AppendUint32(nil, uint32(s.peerCred.PID))
		b = binary.LittleEndian.AppendUint32(b, s.peerCred.UID)
		return binary.LittleEndian.AppendUint32(b, s.peerCred.GID), nil
	case sys.SO_RCVTIMEO, soRcvtimeoNew:
		return timevalBytes(s.rcvtimeo), nil
	case sys.SO_SNDTIMEO, soSndtimeoNew:
		return timevalBytes(s.sndtimeo), nil
	case sys.SO_LINGER:
		b := binary.LittleEndian.AppendUint32(nil, uint32(s.linger.Onoff))
		return binary.LittleEndian.AppendUint32(b, uint32(s.linger.Linger)), nil
	case soCookie:
		return binary.LittleEndian.AppendUint64(nil, s.ino), nil
	}
	if boolOpts[name] {
		return intBytes(s.opts[name]), nil
	}
	if def, ok := intOpts[name]; ok {
		if v, set := s.opts[name]; set {
			return intBytes(v), nil
		}
		return intBytes(def), nil
	}
	return nil, sys.ENOPROTOOPT
}

// SetSockOpt implements netstack.Socket.
func (s *Socket) SetSockOpt(ctx netstack.Context, level, name int, val []byte) error {
	if level != sys.SOL_SOCKET {
		return sys.EOPNOTSUPP
	}
	if len(val) < 4 {
		return sys.EINVAL
	}
	v := int32(binary.LittleEndian.Uint32(val))
	privileged := ctx.Cred().EUID == 0
	switch name {
	case sys.SO_SNDBUF, sys.SO_SNDBUFFORCE:
		size, err := bufSize(v, name == sys.SO_SNDBUFFORCE, privileged, minSndBuf)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.sndbuf = size
		s.mu.Unlock()
		s.q.Notify(waiter.WritableEvents)
		return nil
	case sys.SO_RCVBUF, sys.SO_RCVBUFFORCE:
		size, err := bufSize(v, name == sys.SO_RCVBUFFORCE, privileged, minRcvBuf)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.rcvbuf = size
		s.mu.Unlock()
		return nil
	case sys.SO_PASSCRED:
		s.mu.Lock()
		s.passcred = v != 0
		s.mu.Unlock()
		return nil
	case sys.SO_RCVTIMEO, soRcvtimeoNew, sys.SO_SNDTIMEO, soSndtimeoNew:
		d, err := parseTimeval(val)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if name == sys.SO_RCVTIMEO || name == soRcvtimeoNew {
			s.rcvtimeo = d
		} else {
			s.sndtimeo = d
		}
		s.mu.Unlock()
		return nil
	case sys.SO_LINGER:
		if len(val) < 8 {
			return sys.EINVAL
		}
		s.mu.Lock()
		s.linger.Onoff = boolInt(v != 0)
		if v != 0 {
			s.linger.Linger = int32(binary.LittleEndian.Uint32(val[4:]))
		}
		s.mu.Unlock()
		return nil
	case sys.SO_PEEK_OFF:
		return sys.EOPNOTSUPP
	case sys.SO_MARK:
		if !privileged {
			return sys.EPERM
		}
	case sys.SO_RCVLOWAT:
		if v < 0 {
			v = math.MaxInt32
		}
		if v == 0 {
			v = 1
		}
	}
	if boolOpts[name] {
		v = boolInt(v != 0)
	} else if _, ok := intOpts[name]; !ok {
		return sys.ENOPROTOOPT
	}
	s.mu.Lock()
	if s.opts == nil {
		s.opts = map[int]int32{}
	}
	s.opts[name] = v
	s.mu.Unlock()
	return nil
}

// bufSize is the buffer size SO_SNDBUF or SO_RCVBUF make of v: doubled
// (Linux counts its bookkeeping), at most MaxBuf*2 (the FORCE variants,
// for root, up to maxForcedBuf), at least min.
func bufSize(v int32, force, privileged bool, minSize int) (int, error) {
	if force && !privileged {
		return 0, sys.EPERM
	}
	limit := uint32(MaxBuf)
	if force {
		limit = maxForcedBuf / 2
		v = max(v, 0)
	}
	n := min(uint32(v), limit)
	return max(int(n)*2, minSize), nil
}
