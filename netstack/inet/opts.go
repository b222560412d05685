package inet

import (
	"encoding/binary"
	"math"
	"time"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"ringbox/netstack"
)

// noWait is the timeout of a negative SO_RCVTIMEO or SO_SNDTIMEO.
const noWait = netstack.NoWait

// Option numbers x/sys/unix may lack.
const (
	soRcvtimeoNew = 66
	soSndtimeoNew = 67
	tcpInfoSize   = 104 // struct tcp_info up to tcpi_total_retrans
)

func intBytes(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(int32(v))) }

func boolInt(b bool) int {
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

// GetSockOpt implements netstack.Socket.
func (s *Socket) GetSockOpt(_ netstack.Context, level, name int) ([]byte, error) {
	switch level {
	case sys.SOL_SOCKET:
		return s.getSocketOpt(name)
	case sys.IPPROTO_TCP:
		if !s.stream() {
			return nil, s.otherLevel()
		}
		return s.getTCPOpt(name)
	case sys.IPPROTO_IP:
		return s.getIPOpt(name)
	case sys.IPPROTO_IPV6:
		if s.family != sys.AF_INET6 {
			return nil, s.otherLevel()
		}
		return s.getIPv6Opt(name)
	}
	return nil, s.otherLevel()
}

// otherLevel is getsockopt's error for a level the socket does not have:
// the IP layer's answer, EOPNOTSUPP from IPv4's and ENOPROTOOPT from
// IPv6's, as Linux's ip_getsockopt and ipv6_getsockopt.
func (s *Socket) otherLevel() error {
	if s.family == sys.AF_INET6 {
		return sys.ENOPROTOOPT
	}
	return sys.EOPNOTSUPP
}

// SetSockOpt implements netstack.Socket.
func (s *Socket) SetSockOpt(_ netstack.Context, level, name int, val []byte) error {
	switch level {
	case sys.SOL_SOCKET:
		return s.setSocketOpt(name, val)
	case sys.IPPROTO_TCP:
		if !s.stream() {
			return sys.ENOPROTOOPT // as the IP layers' setsockopt
		}
		return s.setTCPOpt(name, val)
	case sys.IPPROTO_IP:
		return s.setIPOpt(name, val)
	case sys.IPPROTO_IPV6:
		if s.family != sys.AF_INET6 {
			return sys.ENOPROTOOPT
		}
		return s.setIPv6Opt(name, val)
	}
	return sys.ENOPROTOOPT
}

func (s *Socket) getSocketOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case sys.SO_TYPE:
		return intBytes(s.typ), nil
	case sys.SO_DOMAIN:
		return intBytes(s.family), nil
	case sys.SO_PROTOCOL:
		return intBytes(s.proto), nil
	case sys.SO_ERROR:
		if err := errno(s.ep.LastError()); err != nil {
			return intBytes(int(err.(sys.Errno))), nil
		}
		return intBytes(0), nil
	case sys.SO_ACCEPTCONN:
		return intBytes(boolInt(so.GetAcceptConn())), nil
	case sys.SO_REUSEADDR:
		return intBytes(boolInt(so.GetReuseAddress())), nil
	case sys.SO_REUSEPORT:
		return intBytes(boolInt(so.GetReusePort())), nil
	case sys.SO_KEEPALIVE:
		return intBytes(boolInt(so.GetKeepAlive())), nil
	case sys.SO_BROADCAST:
		return intBytes(boolInt(so.GetBroadcast())), nil
	case sys.SO_NO_CHECK:
		return intBytes(boolInt(so.GetNoChecksum())), nil
	case sys.SO_PASSCRED:
		return intBytes(boolInt(so.GetPassCred())), nil
	case sys.SO_SNDBUF:
		return intBytes(int(so.GetSendBufferSize())), nil
	case sys.SO_RCVBUF:
		return intBytes(int(so.GetReceiveBufferSize())), nil
	case sys.SO_LINGER:
		l := so.GetLinger()
		b := intBytes(boolInt(l.Enabled))
		return append(b, intBytes(int(l.Timeout/time.Second))...), nil
	case sys.SO_RCVTIMEO, soRcvtimeoNew, sys.SO_SNDTIMEO, soSndtimeoNew:
		r, w := s.Timeouts()
		if name == sys.SO_RCVTIMEO || name == soRcvtimeoNew {
			return timevalBytes(r), nil
		}
		return timevalBytes(w), nil
	case sys.SO_OOBINLINE:
		s.mu.Lock()
		defer s.mu.Unlock()
		return intBytes(boolInt(s.oobinline)), nil
	case sys.SO_PRIORITY:
		s.mu.Lock()
		defer s.mu.Unlock()
		return intBytes(s.priority), nil
	case sys.SO_RCVLOWAT:
		return intBytes(max(int(so.GetRcvlowat()), 1)), nil
	case sys.SO_SNDLOWAT:
		return intBytes(1), nil
	case sys.SO_PEERCRED:
		var b []byte
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, ^uint32(0))
		return binary.LittleEndian.AppendUint32(b, ^uint32(0)), nil
	}
	return nil, sys.ENOPROTOOPT
}

func (s *Socket) setSocketOpt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	if name == sys.SO_RCVTIMEO || name == soRcvtimeoNew || name == sys.SO_SNDTIMEO || name == soSndtimeoNew {
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
	}
	if name == sys.SO_BINDTODEVICE {
		if len(val) == 0 || val[0] == 0 || string(trimNul(val)) == "lo" {
			return nil
		}
		return sys.ENODEV
	}
	if len(val) < 4 {
		return sys.EINVAL
	}
	v := int(int32(binary.LittleEndian.Uint32(val)))
	switch name {
	case sys.SO_REUSEADDR:
		so.SetReuseAddress(v != 0)
	case sys.SO_REUSEPORT:
		so.SetReusePort(v != 0)
	case sys.SO_KEEPALIVE:
		so.SetKeepAlive(v != 0)
	case sys.SO_BROADCAST:
		so.SetBroadcast(v != 0)
	case sys.SO_NO_CHECK:
		so.SetNoChecksum(v != 0)
	case sys.SO_PASSCRED:
		so.SetPassCred(v != 0)
	case sys.SO_SNDBUF, sys.SO_SNDBUFFORCE:
		so.SetSendBufferSize(int64(max(v, 0))*2, true)
	case sys.SO_RCVBUF, sys.SO_RCVBUFFORCE:
		so.SetReceiveBufferSize(int64(max(v, 0))*2, true)
	case sys.SO_LINGER:
		if len(val) < 8 {
			return sys.EINVAL
		}
		secs := int(int32(binary.LittleEndian.Uint32(val[4:])))
		so.SetLinger(tcpip.LingerOption{Enabled: v != 0, Timeout: time.Duration(max(secs, 0)) * time.Second})
	case sys.SO_OOBINLINE:
		s.mu.Lock()
		s.oobinline = v != 0
		s.mu.Unlock()
	case sys.SO_PRIORITY:
		s.mu.Lock()
		s.priority = v
		s.mu.Unlock()
	case sys.SO_RCVLOWAT:
		if v < 0 {
			v = math.MaxInt32
		}
		so.SetRcvlowat(int32(max(v, 1)))
	case sys.SO_SNDLOWAT:
		return sys.ENOPROTOOPT
	case sys.SO_TIMESTAMP, sys.SO_TIMESTAMPNS:
		// Receive time stamps are not kept; turning them off is fine.
		if v != 0 {
			return sys.ENOPROTOOPT
		}
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

func trimNul(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// tcpInfo is the struct tcp_info of a TCP socket, up to
// tcpi_total_retrans (what tcpip knows is filled in: state, RTO, RTT,
// congestion window).
func (s *Socket) tcpInfo() []byte {
	var info tcpip.TCPInfoOption
	b := make([]byte, tcpInfoSize)
	if err := s.ep.GetSockOpt(&info); err != nil {
		return b
	}
	le := binary.LittleEndian
	b[0] = byte(linuxTCPState(info.State))
	b[1] = byte(info.CcState)
	mss, _ := s.ep.GetSockOptInt(tcpip.MaxSegOption)
	le.PutUint32(b[8:], uint32(info.RTO/time.Microsecond))  // tcpi_rto
	le.PutUint32(b[16:], uint32(mss))                       // tcpi_snd_mss
	le.PutUint32(b[20:], uint32(mss))                       // tcpi_rcv_mss
	le.PutUint32(b[68:], uint32(info.RTT/time.Microsecond)) // tcpi_rtt
	le.PutUint32(b[72:], uint32(info.RTTVar/time.Microsecond))
	le.PutUint32(b[76:], info.SndSsthresh)
	le.PutUint32(b[80:], info.SndCwnd)
	le.PutUint32(b[84:], 65535) // tcpi_advmss
	return b
}

// linuxTCPState is Linux's TCP_* state number of a tcpip state.
func linuxTCPState(st tcpip.EndpointState) int {
	switch tcp.EndpointState(st) {
	case tcp.StateEstablished:
		return 1
	case tcp.StateSynSent, tcp.StateConnecting:
		return 2
	case tcp.StateSynRecv:
		return 3
	case tcp.StateFinWait1:
		return 4
	case tcp.StateFinWait2:
		return 5
	case tcp.StateTimeWait:
		return 6
	case tcp.StateClose, tcp.StateInitial, tcp.StateBound, tcp.StateError:
		return 7
	case tcp.StateCloseWait:
		return 8
	case tcp.StateLastAck:
		return 9
	case tcp.StateListen:
		return 10
	case tcp.StateClosing:
		return 11
	}
	return 7
}

// TCP option numbers x/sys/unix may lack.
const (
	tcpUserTimeout = 18
)

func (s *Socket) getTCPOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case sys.TCP_NODELAY:
		return intBytes(boolInt(!so.GetDelayOption())), nil
	case sys.TCP_CORK:
		return intBytes(boolInt(so.GetCorkOption())), nil
	case sys.TCP_QUICKACK:
		return intBytes(boolInt(so.GetQuickAck())), nil
	case sys.TCP_INFO:
		return s.tcpInfo(), nil
	case sys.TCP_MAXSEG:
		v, err := s.ep.GetSockOptInt(tcpip.MaxSegOption)
		return intBytes(v), errno(err)
	case sys.TCP_KEEPCNT:
		v, err := s.ep.GetSockOptInt(tcpip.KeepaliveCountOption)
		return intBytes(v), errno(err)
	case sys.TCP_SYNCNT:
		v, err := s.ep.GetSockOptInt(tcpip.TCPSynCountOption)
		return intBytes(v), errno(err)
	case sys.TCP_WINDOW_CLAMP:
		v, err := s.ep.GetSockOptInt(tcpip.TCPWindowClampOption)
		return intBytes(v), errno(err)
	case sys.TCP_KEEPIDLE:
		var o tcpip.KeepaliveIdleOption
		err := s.ep.GetSockOpt(&o)
		return intBytes(int(time.Duration(o) / time.Second)), errno(err)
	case sys.TCP_KEEPINTVL:
		var o tcpip.KeepaliveIntervalOption
		err := s.ep.GetSockOpt(&o)
		return intBytes(int(time.Duration(o) / time.Second)), errno(err)
	case tcpUserTimeout:
		var o tcpip.TCPUserTimeoutOption
		err := s.ep.GetSockOpt(&o)
		return intBytes(int(time.Duration(o) / time.Millisecond)), errno(err)
	case sys.TCP_LINGER2:
		var o tcpip.TCPLingerTimeoutOption
		err := s.ep.GetSockOpt(&o)
		return intBytes(int(time.Duration(o) / time.Second)), errno(err)
	case sys.TCP_DEFER_ACCEPT:
		var o tcpip.TCPDeferAcceptOption
		err := s.ep.GetSockOpt(&o)
		return intBytes(int(time.Duration(o) / time.Second)), errno(err)
	case sys.TCP_CONGESTION:
		var o tcpip.CongestionControlOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errno(err)
		}
		b := make([]byte, 16) // TCP_CA_NAME_MAX
		copy(b, o)
		return b, nil
	}
	return nil, sys.ENOPROTOOPT
}

func (s *Socket) setTCPOpt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	if name == sys.TCP_CONGESTION {
		o := tcpip.CongestionControlOption(trimNul(val))
		return errno(s.ep.SetSockOpt(&o))
	}
	if len(val) < 4 {
		return sys.EINVAL
	}
	v := int(int32(binary.LittleEndian.Uint32(val)))
	switch name {
	case sys.TCP_NODELAY:
		so.SetDelayOption(v == 0)
	case sys.TCP_CORK:
		so.SetCorkOption(v != 0)
	case sys.TCP_QUICKACK:
		so.SetQuickAck(v != 0)
	case sys.TCP_MAXSEG:
		return errno(s.ep.SetSockOptInt(tcpip.MaxSegOption, v))
	case sys.TCP_KEEPCNT:
		if v < 1 || v > 127 {
			return sys.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, v))
	case sys.TCP_SYNCNT:
		return errno(s.ep.SetSockOptInt(tcpip.TCPSynCountOption, v))
	case sys.TCP_WINDOW_CLAMP:
		return errno(s.ep.SetSockOptInt(tcpip.TCPWindowClampOption, v))
	case sys.TCP_KEEPIDLE, sys.TCP_KEEPINTVL:
		if v < 1 || v > 32767 {
			return sys.EINVAL
		}
		d := time.Duration(v) * time.Second
		if name == sys.TCP_KEEPIDLE {
			o := tcpip.KeepaliveIdleOption(d)
			return errno(s.ep.SetSockOpt(&o))
		}
		o := tcpip.KeepaliveIntervalOption(d)
		return errno(s.ep.SetSockOpt(&o))
	case tcpUserTimeout:
		if v < 0 {
			return sys.EINVAL
		}
		o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
		return errno(s.ep.SetSockOpt(&o))
	case sys.TCP_LINGER2:
		o := tcpip.TCPLingerTimeoutOption(time.Duration(v) * time.Second)
		return errno(s.ep.SetSockOpt(&o))
	case sys.TCP_DEFER_ACCEPT:
		o := tcpip.TCPDeferAcceptOption(time.Duration(max(v, 0)) * time.Second)
		return errno(s.ep.SetSockOpt(&o))
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) getIPOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case sys.IP_TOS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TOSOption)
		return intBytes(v), errno(err)
	case sys.IP_TTL:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TTLOption)
		if v == 0 {
			v = 64
		}
		return intBytes(v), errno(err)
	case sys.IP_MULTICAST_TTL:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		return intBytes(v), errno(err)
	case sys.IP_MULTICAST_LOOP:
		return intBytes(boolInt(so.GetMulticastLoop())), nil
	case sys.IP_RECVTOS:
		return intBytes(boolInt(so.GetReceiveTOS())), nil
	case sys.IP_RECVTTL:
		return intBytes(boolInt(so.GetReceiveTTL())), nil
	case sys.IP_PKTINFO:
		return intBytes(boolInt(so.GetReceivePacketInfo())), nil
	case sys.IP_RECVERR:
		return intBytes(boolInt(so.GetIPv4RecvError())), nil
	case sys.IP_MTU_DISCOVER:
		v, err := s.ep.GetSockOptInt(tcpip.MTUDiscoverOption)
		return intBytes(v), errno(err)
	}
	return nil, sys.ENOPROTOOPT
}

// optInt reads an IP-level option value: an int, or (as Linux takes for
// many IP options) a single byte.
func optInt(val []byte) (int, error) {
	switch {
	case len(val) >= 4:
		return int(int32(binary.LittleEndian.Uint32(val))), nil
	case len(val) >= 1:
		return int(val[0]), nil
	}
	return 0, sys.EINVAL
}

func (s *Socket) setIPOpt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	v, err := optInt(val)
	if err != nil {
		return err
	}
	switch name {
	case sys.IP_TOS:
		return errno(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, v&0xff))
	case sys.IP_TTL:
		if v == -1 {
			v = 0
		}
		if v < 0 || v > 255 {
			return sys.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, v))
	case sys.IP_MULTICAST_TTL:
		if v == -1 {
			v = 1
		}
		if v < 0 || v > 255 {
			return sys.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, v))
	case sys.IP_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	case sys.IP_RECVTOS:
		so.SetReceiveTOS(v != 0)
	case sys.IP_RECVTTL:
		so.SetReceiveTTL(v != 0)
	case sys.IP_PKTINFO:
		so.SetReceivePacketInfo(v != 0)
	case sys.IP_RECVERR:
		so.SetIPv4RecvError(v != 0)
	case sys.IP_MTU_DISCOVER:
		return errno(s.ep.SetSockOptInt(tcpip.MTUDiscoverOption, v))
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) getIPv6Opt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case sys.IPV6_V6ONLY:
		return intBytes(boolInt(so.GetV6Only())), nil
	case sys.IPV6_TCLASS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6TrafficClassOption)
		return intBytes(v), errno(err)
	case sys.IPV6_UNICAST_HOPS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6HopLimitOption)
		if v == -1 || v == 0 {
			v = 64
		}
		return intBytes(v), errno(err)
	case sys.IPV6_RECVPKTINFO:
		return intBytes(boolInt(so.GetIPv6ReceivePacketInfo())), nil
	case sys.IPV6_RECVTCLASS:
		return intBytes(boolInt(so.GetReceiveTClass())), nil
	case sys.IPV6_RECVERR:
		return intBytes(boolInt(so.GetIPv6RecvError())), nil
	case sys.IPV6_MULTICAST_LOOP:
		return intBytes(boolInt(so.GetMulticastLoop())), nil
	}
	return nil, sys.ENOPROTOOPT
}

func (s *Socket) setIPv6Opt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	if len(val) < 4 {
		return sys.EINVAL
	}
	v := int(int32(binary.LittleEndian.Uint32(val)))
	switch name {
	case sys.IPV6_V6ONLY:
		if s.stream() {
			if a, _ := s.ep.GetLocalAddress(); a.Port != 0 {
				return sys.EINVAL
			}
		}
		so.SetV6Only(v != 0)
	case sys.IPV6_TCLASS:
		if v == -1 {
			v = 0
		}
		if v < 0 || v > 255 {
			return sys.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, v))
	case sys.IPV6_UNICAST_HOPS:
		if v < -1 || v > 255 {
			return sys.EINVAL
		}
		return errno(s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, v))
	case sys.IPV6_RECVPKTINFO:
		so.SetIPv6ReceivePacketInfo(v != 0)
	case sys.IPV6_RECVTCLASS:
		so.SetReceiveTClass(v != 0)
	case sys.IPV6_RECVERR:
		so.SetIPv6RecvError(v != 0)
	case sys.IPV6_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}
