package nat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Port is one --publish: the host's HostPort on Host (127.0.0.1 unless
// given) reaches Port in the sandbox, over TCP or UDP.
type Port struct {
	Host     netip.Addr
	HostPort uint16
	Port     uint16
	UDP      bool
}

// ParsePort parses [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]. Only loopback host
// addresses are accepted: the sandbox's ports are for this host.
func ParsePort(s string) (Port, error) {
	spec, proto, _ := strings.Cut(s, "/")
	p := Port{Host: netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	switch proto {
	case "", "tcp":
	case "udp":
		p.UDP = true
	default:
		return Port{}, fmt.Errorf("--publish %q: protocol %q (want tcp or udp)", s, proto)
	}
	host := ""
	if strings.HasPrefix(spec, "[") {
		end := strings.Index(spec, "]:")
		if end < 0 {
			return Port{}, fmt.Errorf("--publish %q: want [HOSTIP]:HOSTPORT:PORT", s)
		}
		host, spec = spec[1:end], spec[end+2:]
	}
	parts := strings.Split(spec, ":")
	if len(parts) == 3 && host == "" {
		host, parts = parts[0], parts[1:]
	}
	if host != "" {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.IsLoopback() {
			return Port{}, fmt.Errorf("--publish %q: the host address must be a loopback one (127.0.0.1 or ::1)", s)
		}
		p.Host = a
	}
	if len(parts) != 2 {
		return Port{}, fmt.Errorf("--publish %q: want HOSTPORT:PORT[/udp]", s)
	}
	for i, dst := range []*uint16{&p.HostPort, &p.Port} {
		n, err := strconv.ParseUint(parts[i], 10, 16)
		if err != nil || n == 0 {
			return Port{}, fmt.Errorf("--publish %q: bad port %q (want 1-65535)", s, parts[i])
		}
		*dst = uint16(n)
	}
	return p, nil
}

func (p Port) String() string {
	proto := "tcp"
	if p.UDP {
		proto = "udp"
	}
	return fmt.Sprintf("%s->%d/%s", netip.AddrPortFrom(p.Host, p.HostPort), p.Port, proto)
}

// Listen opens the host side of p. It is done before ringbox confines
// itself, so a port in use fails the start.
func (p Port) Listen() (interface{ Close() error }, error) {
	addr := netip.AddrPortFrom(p.Host, p.HostPort).String()
	if p.UDP {
		return net.ListenPacket("udp", addr)
	}
	return net.Listen("tcp", addr)
}

// DialFunc connects to a port in the sandbox.
type DialFunc func(ctx context.Context, network string, port uint16) (net.Conn, error)

// Serve relays what arrives on l (from Listen) to p.Port in the sandbox
// until l is closed: each TCP connection to a connection of its own, each
// UDP peer to a flow that ends after idle. flush (nil: none) counts the
// relays' copies toward the host, TCP and UDP. Give a UDP port as a
// *PacketListener, whose Close lets the answers in flight out; a plain
// net.PacketConn closed by the caller loses them.
func (p Port) Serve(l interface{ Close() error }, dial DialFunc, idle time.Duration, flush *Flush, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch l := l.(type) {
	case net.Listener:
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				in, err := dial(ctx, "tcp", p.Port)
				cancel()
				if err != nil {
					log.Debug("network: published port", "port", p.String(), "err", err)
					c.Close()
					return
				}
				pipeConns(c, in, flush)
			}()
		}
	case *PacketListener:
		servePackets(p, l, dial, idle, flush, log)
	case net.PacketConn:
		servePackets(p, NewPacketListener(l), dial, idle, flush, log)
	}
}

// PacketListener is a UDP port's host socket for Serve. Its Close ends
// the port gracefully: no new datagram is taken, the flows pass on what
// the sandbox answered (until each is quiet for datagramDrain), and then
// Serve closes the socket, which carries those answers. A program that
// answers and exits at once is still heard.
type PacketListener struct {
	net.PacketConn
	mu     sync.Mutex
	served bool          // Serve has started
	closed bool          // Close was called
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed once the socket is
}

// NewPacketListener wraps pc.
func NewPacketListener(pc net.PacketConn) *PacketListener {
	return &PacketListener{PacketConn: pc, stop: make(chan struct{}), done: make(chan struct{})}
}

// Close implements io.Closer: it starts the graceful end and returns. A
// listener that Serve never took is closed at once.
func (l *PacketListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.stop)
	if !l.served {
		close(l.done)
		return l.PacketConn.Close()
	}
	l.PacketConn.SetReadDeadline(time.Now()) // wakes Serve's read
	return nil
}

// Done is closed once the socket is closed (its port free again).
func (l *PacketListener) Done() <-chan struct{} { return l.done }

// serve marks l as taken by Serve; false if it was closed already.
func (l *PacketListener) serve() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.served = true
	return true
}

// Flush counts the relays still copying toward the host what the
// sandbox sent: once the program has ended, ringbox waits for them
// (Wait) before it exits, as Linux still delivers what a process wrote to
// a socket after the process is gone. A relay that starts once Begin has
// been called is not waited for.
type Flush struct {
	mu      sync.Mutex
	n       int
	closing bool
	zero    chan struct{} // closed when n drops to 0 under Wait
	// waiting is closed by Begin: the datagram relays then pass on what
	// is queued and end (watchDrain).
	waiting chan struct{}
}

// datagramDrain is how long a datagram relay toward the host waits for
// one more datagram once the program has ended: what the program sent
// before it ended is queued in the stacks by then, and goes on at once.
const datagramDrain = 100 * time.Millisecond

// drain is closed when Begin is called: the datagram relays, which have
// no end of their own, then pass on what is queued and end (done) once
// quiet for datagramDrain.
func (f *Flush) drain() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiting == nil {
		f.waiting = make(chan struct{})
		if f.closing {
			close(f.waiting)
		}
	}
	return f.waiting
}

// watchDrain shortens c's read deadline to datagramDrain once drain is
// closed, until stop is; the reader keeps it short from then on
// (drainDeadline). A nil drain never closes.
func watchDrain(c net.Conn, drain <-chan struct{}, stop <-chan struct{}) {
	select {
	case <-drain:
		c.SetReadDeadline(time.Now().Add(datagramDrain))
	case <-stop:
	}
}

// drainDeadline sets c's read deadline for the next datagram: idle from
// now, or datagramDrain once drain is closed. It reports whether it is
// draining. (Checked again after setting it: watchDrain may have set the
// short one just before.)
func drainDeadline(c net.Conn, idle time.Duration, drain <-chan struct{}) bool {
	if !isClosed(drain) {
		c.SetReadDeadline(time.Now().Add(idle))
		if !isClosed(drain) {
			return false
		}
	}
	c.SetReadDeadline(time.Now().Add(datagramDrain))
	return true
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// start counts a relay; false once Begin was called.
func (f *Flush) start() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.n++
	return true
}

func (f *Flush) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n--; f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
}

// Begin starts the end without waiting: no relay is counted from now
// on, and the datagram relays drain. (Wait calls it; calling it first
// on several Flushes lets their relays drain at once.)
func (f *Flush) Begin() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closing && f.waiting != nil {
		close(f.waiting)
	}
	f.closing = true
}

// Wait waits until no counted relay is copying toward the host, or for
// timeout; it reports whether they all finished.
func (f *Flush) Wait(timeout time.Duration) bool {
	f.Begin()
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return true
	}
	if f.zero == nil {
		f.zero = make(chan struct{})
	}
	zero := f.zero
	f.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-zero:
		return true
	case <-t.C:
		return false
	}
}

// pipeConns copies both ways, passing half closes on, then closes both.
// flush (nil: none) counts the copy from sandbox to host until it ends.
func pipeConns(host, sandbox net.Conn, flush *Flush) {
	var wg sync.WaitGroup
	counted := flush != nil && flush.start()
	pump := func(dst, src net.Conn) {
		defer wg.Done()
		if dst == host && counted {
			defer flush.done()
		}
		// Large reads and writes: fewer host syscalls and stack
		// wake-ups per byte than io.Copy's 32 KiB (the plain reader and
		// writer keep io.CopyBuffer from using ReadFrom/WriteTo, which
		// would choose their own).
		buf := make([]byte, relayBuffer)
		io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
		if hc, ok := dst.(halfCloser); ok {
			hc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	wg.Add(2)
	go pump(host, sandbox)
	go pump(sandbox, host)
	wg.Wait()
	host.Close()
	sandbox.Close()
}

// servePackets relays each peer's datagrams to a flow of its own into
// the sandbox, and the answers back; flush (nil: none) counts the flows'
// copies toward the host until they drain. When l is closed (or fails),
// the flows drain and then the socket is closed.
func servePackets(p Port, l *PacketListener, dial DialFunc, idle time.Duration, flush *Flush, log *slog.Logger) {
	if !l.serve() {
		return
	}
	var flushDrain <-chan struct{}
	if flush != nil {
		flushDrain = flush.drain()
	}
	drain := make(chan struct{}) // the flows drain: the port or ringbox is ending
	ended := make(chan struct{})
	go func() {
		select {
		case <-flushDrain:
		case <-l.stop:
		case <-ended:
		}
		close(drain)
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	flows := map[string]net.Conn{}
	buf := make([]byte, 65536)
	for {
		n, from, err := l.ReadFrom(buf)
		if err != nil {
			close(ended)
			wg.Wait()
			l.PacketConn.Close()
			close(l.done)
			return
		}
		key := from.String()
		mu.Lock()
		c, ok := flows[key]
		if !ok && len(flows) < 1024 && !isClosed(drain) {
			c, err = dial(context.Background(), "udp", p.Port)
			if err != nil {
				mu.Unlock()
				log.Debug("network: published port", "port", p.String(), "err", err)
				continue
			}
			flows[key] = c
			counted := flush != nil && flush.start()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if counted {
					defer flush.done()
				}
				stop := make(chan struct{})
				defer close(stop)
				go watchDrain(c, drain, stop)
				b := make([]byte, 65536)
				for {
					drainDeadline(c, idle, drain)
					n, err := c.Read(b)
					if err != nil {
						break
					}
					l.WriteTo(b[:n], from)
				}
				mu.Lock()
				delete(flows, key)
				mu.Unlock()
				c.Close()
			}()
		}
		mu.Unlock()
		if c != nil {
			c.Write(buf[:n])
		}
	}
}
