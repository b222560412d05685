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
// TCP relays' copies toward the host.
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
	case net.PacketConn:
		servePackets(p, l, dial, idle, log)
	}
}

// Flush counts the relays still copying toward the host what the
// sandbox sent: once the program has ended, ringbox waits for them
// (Wait) before it exits, as Linux still delivers what a process wrote to
// a socket after the process is gone. A relay that starts once Wait has
// been called is not waited for.
type Flush struct {
	mu      sync.Mutex
	n       int
	closing bool
	zero    chan struct{} // closed when n drops to 0 under Wait
}

// start counts a relay; false once Wait was called.
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

// Wait waits until no counted relay is copying toward the host, or for
// timeout; it reports whether they all finished.
func (f *Flush) Wait(timeout time.Duration) bool {
	f.mu.Lock()
	f.closing = true
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

func servePackets(p Port, pc net.PacketConn, dial DialFunc, idle time.Duration, log *slog.Logger) {
	var mu sync.Mutex
	flows := map[string]net.Conn{}
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			mu.Lock()
			for _, c := range flows {
				c.Close()
			}
			mu.Unlock()
			return
		}
		key := from.String()
		mu.Lock()
		c, ok := flows[key]
		if !ok && len(flows) < 1024 {
			c, err = dial(context.Background(), "udp", p.Port)
			if err != nil {
				mu.Unlock()
				log.Debug("network: published port", "port", p.String(), "err", err)
				continue
			}
			flows[key] = c
			go func() {
				b := make([]byte, 65536)
				for {
					c.SetReadDeadline(time.Now().Add(idle))
					n, err := c.Read(b)
					if err != nil {
						break
					}
					pc.WriteTo(b[:n], from)
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
