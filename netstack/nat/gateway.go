package nat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// The sandbox's network with --net=sandbox: eth0 has Sandbox4 and
// Sandbox6, and the gateway (the NAT's stack) is Gateway4 and Gateway6.
// The gateway also answers DNS on port 53, and its address stands for the
// host's loopback (on the ports the policy names).
var (
	Sandbox4 = netip.MustParsePrefix("10.0.2.15/24")
	Gateway4 = netip.MustParseAddr("10.0.2.2")
	Sandbox6 = netip.MustParsePrefix("fd00:0:0:2::15/64")
	Gateway6 = netip.MustParseAddr("fd00:0:0:2::2")
)

// relayBuffer is the size of each relayed connection's buffers (two per
// connection).
const relayBuffer = 128 << 10

// MTU of the link between the sandbox and the gateway. Nothing but
// memory lies between them, so large, as slirp4netns's.
const MTU = 65520

// Dialer makes the host connections. Dial is net.Dialer's in ringbox.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Limits bound what the sandbox can make the NAT hold.
type Limits struct {
	// Flows is the most TCP connections and UDP flows open at once
	// through the NAT; more are refused (RST, or ICMP unreachable).
	Flows int
	// DialTimeout bounds a host connect.
	DialTimeout time.Duration
	// UDPIdle closes a UDP flow that saw no datagram for this long.
	UDPIdle time.Duration
}

// Config is a Gateway's.
type Config struct {
	Policy Policy
	// DNS is the host's resolver that queries to the gateway's port 53 go
	// to; invalid: none (they are refused).
	DNS    netip.AddrPort
	Dialer Dialer
	Limits Limits
	Log    *slog.Logger
}

// Gateway is the NAT: a tcpip stack on the far end of the sandbox's eth0
// that takes every TCP connection and UDP flow the sandbox starts,
// checks the policy, and relays it to a host socket it dials.
type Gateway struct {
	cfg   Config
	s     *stack.Stack
	flows atomic.Int64
	// Counters, for --debug and tests.
	Accepted, Refused atomic.Int64
	// Flush counts the relays copying toward host servers what the
	// program sent.
	Flush Flush

	mu     sync.Mutex
	closed bool
	conns  map[io.Closer]struct{}
}

const gatewayNIC tcpip.NICID = 1

// New makes the gateway and returns it with the sandbox's end of the
// link, which becomes the sandbox stack's eth0.
func New(cfg Config) (*Gateway, stack.LinkEndpoint, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &net.Dialer{}
	}
	if cfg.Limits.Flows <= 0 {
		cfg.Limits.Flows = 1024
	}
	if cfg.Limits.DialTimeout <= 0 {
		cfg.Limits.DialTimeout = 20 * time.Second
	}
	if cfg.Limits.UDPIdle <= 0 {
		cfg.Limits.UDPIdle = time.Minute
	}
	sandboxEnd, gatewayEnd := pipe.New("", "", MTU)
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
	})
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	if err := s.CreateNICWithOptions(gatewayNIC, echoFilter{gatewayEnd}, stack.NICOptions{Name: "gw"}); err != nil {
		return nil, nil, fmt.Errorf("nat: create the gateway's link: %s", err)
	}
	for _, a := range []tcpip.ProtocolAddress{
		{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(Gateway4.As4()), PrefixLen: Sandbox4.Bits()}},
		{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(Gateway6.As16()), PrefixLen: Sandbox6.Bits()}},
	} {
		if err := s.AddProtocolAddress(gatewayNIC, a, stack.AddressProperties{}); err != nil {
			return nil, nil, fmt.Errorf("nat: gateway address %s: %s", a.AddressWithPrefix, err)
		}
	}
	// Every destination arrives here (promiscuous) and is answered from
	// that destination's address (spoofing).
	s.SetPromiscuousMode(gatewayNIC, true)
	s.SetSpoofing(gatewayNIC, true)
	s.SetRouteTable([]tcpip.Route{
		{Destination: header4Any(), NIC: gatewayNIC},
		{Destination: header6Any(), NIC: gatewayNIC},
	})
	g := &Gateway{cfg: cfg, s: s, conns: map[io.Closer]struct{}{}}
	tf := tcp.NewForwarder(s, 0, 256, g.forwardTCP)
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tf.HandlePacket)
	uf := udp.NewForwarder(s, g.forwardUDP)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
	return g, sandboxEnd, nil
}

func header4Any() tcpip.Subnet {
	sn, _ := tcpip.NewSubnet(tcpip.AddrFrom4([4]byte{}), tcpip.MaskFromBytes(make([]byte, 4)))
	return sn
}

func header6Any() tcpip.Subnet {
	sn, _ := tcpip.NewSubnet(tcpip.AddrFrom16([16]byte{}), tcpip.MaskFromBytes(make([]byte, 16)))
	return sn
}

// Close ends every relayed connection and the gateway's stack.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	conns := g.conns
	g.conns = nil
	g.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	g.s.Close()
}

// track remembers c for Close; false if the gateway is closed.
func (g *Gateway) track(cs ...io.Closer) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	for _, c := range cs {
		g.conns[c] = struct{}{}
	}
	return true
}

func (g *Gateway) untrack(cs ...io.Closer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range cs {
		delete(g.conns, c)
	}
}

// target maps a destination the sandbox asked for to the host address to
// dial, or says why not. The gateway's own address stands for the host's
// loopback, and its port 53 for the host's resolver.
func (g *Gateway) target(dst netip.AddrPort) (netip.AddrPort, error) {
	a := dst.Addr().Unmap()
	switch a {
	case Gateway4, Gateway6:
		if dst.Port() == 53 && g.cfg.DNS.IsValid() {
			return g.cfg.DNS, nil
		}
		lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if a == Gateway6 {
			lo = netip.IPv6Loopback()
		}
		host := netip.AddrPortFrom(lo, dst.Port())
		// Only what a rule names: the default policy never allows
		// loopback.
		if ok, why := g.cfg.Policy.Allowed(host); !ok {
			return netip.AddrPort{}, fmt.Errorf("the host's %s: %s", host, why)
		}
		return host, nil
	}
	if Sandbox4.Contains(a) || Sandbox6.Contains(a) {
		return netip.AddrPort{}, errors.New("an address on the sandbox's own network")
	}
	if ok, why := g.cfg.Policy.Allowed(netip.AddrPortFrom(a, dst.Port())); !ok {
		return netip.AddrPort{}, errors.New(why)
	}
	return netip.AddrPortFrom(a, dst.Port()), nil
}

func addrPortOf(a tcpip.Address, port uint16) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return netip.AddrPortFrom(ip, port)
}

// take reserves a flow under the limit.
func (g *Gateway) take() bool {
	if g.flows.Add(1) > int64(g.cfg.Limits.Flows) {
		g.flows.Add(-1)
		return false
	}
	return true
}

func (g *Gateway) refuse(network string, dst netip.AddrPort, why string) {
	g.Refused.Add(1)
	g.cfg.Log.Debug("network: refused", "proto", network, "to", dst.String(), "why", why)
}

// forwardTCP runs, on its own goroutine, for each SYN the sandbox sends.
func (g *Gateway) forwardTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	dst := addrPortOf(id.LocalAddress, id.LocalPort)
	host, err := g.target(dst)
	if err != nil {
		g.refuse("tcp", dst, err.Error())
		r.Complete(true)
		return
	}
	if !g.take() {
		g.refuse("tcp", dst, fmt.Sprintf("more than %d connections through the NAT", g.cfg.Limits.Flows))
		r.Complete(true)
		return
	}
	defer g.flows.Add(-1)
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Limits.DialTimeout)
	out, err := g.cfg.Dialer.DialContext(ctx, "tcp", host.String())
	cancel()
	if err != nil {
		g.refuse("tcp", dst, err.Error())
		r.Complete(true)
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		out.Close()
		r.Complete(true)
		return
	}
	r.Complete(false)
	ep.SocketOptions().SetKeepAlive(true)
	in := gonet.NewTCPConn(&wq, ep)
	g.Accepted.Add(1)
	g.cfg.Log.Debug("network: tcp", "to", dst.String(), "via", host.String())
	g.relay(in, out)
}

// halfCloser is a stream whose sending side can be closed alone.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// relay copies both ways until both sides are done, passing a half
// close on, then closes both; Close ends it early.
func (g *Gateway) relay(in, out net.Conn) {
	g.tracked(in, out, func(in, out net.Conn) { pipeConns(out, in, &g.Flush) })
}

// tracked runs copy(a, b) with both known to Close, or closes both at
// once when the gateway is closed.
func (g *Gateway) tracked(a, b net.Conn, copy func(a, b net.Conn)) {
	if !g.track(a, b) {
		a.Close()
		b.Close()
		return
	}
	defer g.untrack(a, b)
	copy(a, b)
}

// forwardUDP runs, on the stack's goroutine, for the first datagram of
// each flow (source and destination address and port).
func (g *Gateway) forwardUDP(r *udp.ForwarderRequest) bool {
	id := r.ID()
	dst := addrPortOf(id.LocalAddress, id.LocalPort)
	host, err := g.target(dst)
	if err != nil {
		g.refuse("udp", dst, err.Error())
		return false // ICMP port unreachable
	}
	if !g.take() {
		g.refuse("udp", dst, fmt.Sprintf("more than %d flows through the NAT", g.cfg.Limits.Flows))
		return false
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		g.flows.Add(-1)
		return true
	}
	in := gonet.NewUDPConn(&wq, ep)
	go func() {
		defer g.flows.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Limits.DialTimeout)
		out, err := g.cfg.Dialer.DialContext(ctx, "udp", host.String())
		cancel()
		if err != nil {
			g.refuse("udp", dst, err.Error())
			in.Close()
			return
		}
		g.Accepted.Add(1)
		g.cfg.Log.Debug("network: udp", "to", dst.String(), "via", host.String())
		g.relayDatagrams(in, out)
	}()
	return true
}

// relayDatagrams copies datagrams both ways until the flow is idle for
// Limits.UDPIdle, or has drained once g.Flush began (the program ended).
func (g *Gateway) relayDatagrams(a, b net.Conn) { g.tracked(a, b, g.copyDatagrams) }

// copyDatagrams relays between a, the sandbox's side, and b, the
// host's. The copy toward the host is counted in g.Flush: once the
// program has ended it passes on what is queued and ends the flow.
func (g *Gateway) copyDatagrams(a, b net.Conn) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{}, 2)
	pump := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		var waiting <-chan struct{}
		if src == a {
			if g.Flush.start() {
				defer g.Flush.done()
			}
			waiting = g.Flush.drain()
			stop := make(chan struct{})
			defer close(stop)
			go watchDrain(src, waiting, stop)
		}
		buf := make([]byte, 65536)
		for {
			draining := drainDeadline(src, g.cfg.Limits.UDPIdle, waiting)
			n, err := src.Read(buf)
			if err != nil {
				var ne net.Error
				if !draining && errors.As(err, &ne) && ne.Timeout() &&
					time.Since(time.Unix(0, last.Load())) < g.cfg.Limits.UDPIdle {
					continue // the other way was busy
				}
				return
			}
			last.Store(time.Now().UnixNano())
			if _, err := dst.Write(buf[:n]); err != nil && !isTransient(err) {
				return
			}
		}
	}
	go pump(a, b)
	go pump(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}

// isTransient: a datagram the host refused (ECONNREFUSED from an earlier
// ICMP error) does not end the flow.
func isTransient(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout() && oe.Op == "write"
}

// DialSandbox connects, from the gateway, to port on the sandbox's eth0
// address: how a published port reaches the program.
func (g *Gateway) DialSandbox(ctx context.Context, network string, port uint16) (net.Conn, error) {
	addr := tcpip.FullAddress{NIC: gatewayNIC, Addr: tcpip.AddrFrom4(Sandbox4.Addr().As4()), Port: port}
	if network == "udp" {
		return gonet.DialUDP(g.s, nil, &addr, ipv4.ProtocolNumber)
	}
	return gonet.DialContextTCP(ctx, g.s, addr, ipv4.ProtocolNumber)
}
