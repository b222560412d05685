package nat_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"ringbox/netstack/inet"
	"ringbox/netstack/nat"
)

func TestParseRule(t *testing.T) {
	lookup := func(name string) ([]netip.Addr, error) {
		if name == "example.test" {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("2606:2800::1")}, nil
		}
		return nil, errors.New("no such host")
	}
	for _, c := range []struct {
		in   string
		want string // prefixes and ports, or "error"
	}{
		{"1.2.3.4", "1.2.3.4/32:0"},
		{"1.2.3.4:443", "1.2.3.4/32:443"},
		{"10.0.0.0/8", "10.0.0.0/8:0"},
		{"10.1.2.3/8:22", "10.0.0.0/8:22"},
		{"::1", "::1/128:0"},
		{"[::1]:8080", "::1/128:8080"},
		{"[fd00::/8]:53", "fd00::/8:53"},
		{"example.test:80", "93.184.216.34/32:80 2606:2800::1/128:80"},
		{"localhost-nope.invalid", "error"},
		{"1.2.3.4:0", "error"},
		{"1.2.3.4:70000", "error"},
		{"[::1", "error"},
		{"", "error"},
		{"a b", "error"},
		{"1.2.3.4/40", "error"},
	} {
		rules, err := nat.ParseRule(c.in, lookup)
		got := "error"
		if err == nil {
			var parts []string
			for _, r := range rules {
				parts = append(parts, r.Prefix.String()+":"+itoa(int(r.Port)))
			}
			got = strings.Join(parts, " ")
		}
		if got != c.want {
			t.Errorf("ParseRule(%q) = %s (%v), want %s", c.in, got, err, c.want)
		}
	}
}

func itoa(n int) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[len("0.0.0.0:"):]
}

func TestPolicyDefault(t *testing.T) {
	var p nat.Policy
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:80", true},
		{"[2606:2800::1]:443", true},
		{"127.0.0.1:80", false},
		{"10.1.2.3:80", false},
		{"172.16.0.1:80", false},
		{"192.168.1.1:80", false},
		{"100.64.0.1:80", false},
		{"169.254.169.254:80", false}, // cloud metadata
		{"[fd00:ec2::254]:80", false}, // its IPv6 form
		{"[fe80::1]:80", false},
		{"[::1]:80", false},
		{"[::ffff:169.254.169.254]:80", false},
		{"[64:ff9b::a9fe:a9fe]:80", false}, // NAT64 of the metadata address
		{"0.0.0.0:80", false},
		{"224.0.0.1:80", false},
		{"255.255.255.255:80", false},
	} {
		ok, why := p.Allowed(netip.MustParseAddrPort(c.addr))
		if ok != c.ok {
			t.Errorf("default policy, %s: %v (%s), want %v", c.addr, ok, why, c.ok)
		}
	}
	rules, _ := nat.ParseRule("127.0.0.1:8080", nil)
	more, _ := nat.ParseRule("10.0.0.0/8", nil)
	p = nat.Policy{Rules: append(rules, more...)}
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:8081", false},
		{"10.9.9.9:22", true},
		{"93.184.216.34:80", false}, // rules given: only what they name
		{"169.254.169.254:80", false},
	} {
		ok, why := p.Allowed(netip.MustParseAddrPort(c.addr))
		if ok != c.ok {
			t.Errorf("rules, %s: %v (%s), want %v", c.addr, ok, why, c.ok)
		}
	}
}

func TestParsePort(t *testing.T) {
	for in, want := range map[string]string{
		"8080:80":             "127.0.0.1:8080->80/tcp",
		"8080:80/udp":         "127.0.0.1:8080->80/udp",
		"127.0.0.2:8080:80":   "127.0.0.2:8080->80/tcp",
		"[::1]:8080:80/tcp":   "[::1]:8080->80/tcp",
		"0.0.0.0:8080:80":     "error",
		"8080":                "error",
		"8080:0":              "error",
		"8080:80/sctp":        "error",
		"192.168.1.5:8080:80": "error",
	} {
		p, err := nat.ParsePort(in)
		got := "error"
		if err == nil {
			got = p.String()
		}
		if got != want {
			t.Errorf("ParsePort(%q) = %s (%v), want %s", in, got, err, want)
		}
	}
}

// sandbox makes a sandbox stack behind a gateway with policy's rules.
func sandbox(t *testing.T, rules ...string) (*inet.Stack, *nat.Gateway) {
	t.Helper()
	return sandboxDNS(t, netip.AddrPort{}, rules...)
}

func sandboxDNS(t *testing.T, dns netip.AddrPort, rules ...string) (*inet.Stack, *nat.Gateway) {
	t.Helper()
	var p nat.Policy
	for _, r := range rules {
		rs, err := nat.ParseRule(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Rules = append(p.Rules, rs...)
	}
	g, link, err := nat.New(nat.Config{Policy: p, DNS: dns, Limits: nat.Limits{DialTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := inet.NewSandbox(inet.Eth{Link: link, Addr4: nat.Sandbox4, Addr6: nat.Sandbox6, Gateway4: nat.Gateway4, Gateway6: nat.Gateway6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); g.Close() })
	return st, g
}

// echoServer listens on the host's 127.0.0.1 and echoes each connection.
func echoServer(t *testing.T) *net.TCPListener {
	t.Helper()
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return l
}

func TestGatewayTCP(t *testing.T) {
	l := echoServer(t)
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	st, g := sandbox(t, "127.0.0.1:"+itoa(int(port)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := st.Dial(ctx, "tcp", netip.AddrPortFrom(nat.Gateway4, port))
	if err != nil {
		t.Fatalf("dial the host's loopback through the gateway: %v", err)
	}
	msg := bytes.Repeat([]byte("ringbox "), 64<<10) // 512 KiB
	go func() { c.Write(msg); c.(interface{ CloseWrite() error }).CloseWrite() }()
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %d bytes (want %d), err %v", len(got), len(msg), err)
	}

	// A port no rule names, and an address the rules do not name: refused.
	for _, dst := range []netip.AddrPort{
		netip.AddrPortFrom(nat.Gateway4, port+1),
		netip.MustParseAddrPort("169.254.169.254:80"),
		netip.MustParseAddrPort("93.184.216.34:80"),
	} {
		_, err := st.Dial(ctx, "tcp", dst)
		if !errors.Is(err, syscall.ECONNREFUSED) && (err == nil || !strings.Contains(err.Error(), "refused")) {
			t.Errorf("dial %s: %v, want connection refused", dst, err)
		}
	}
	if g.Accepted.Load() != 1 || g.Refused.Load() != 3 {
		t.Errorf("counters: accepted %d refused %d, want 1 and 3", g.Accepted.Load(), g.Refused.Load())
	}
}

func TestGatewayDefaultRefusesMetadata(t *testing.T) {
	st, g := sandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// 10.1.2.3 is private; the gateway is the host's loopback, which the
	// default policy never names.
	for _, dst := range []string{"169.254.169.254:80", "10.1.2.3:80", "10.0.2.2:22"} {
		ap := netip.MustParseAddrPort(dst)
		if _, err := st.Dial(ctx, "tcp", ap); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("dial %s with the default policy: %v, want refused", dst, err)
		}
	}
	if g.Accepted.Load() != 0 {
		t.Errorf("accepted %d connections, want none", g.Accepted.Load())
	}
}

// udpEcho answers each datagram on the host's 127.0.0.1 with "re: " and
// the datagram.
func udpEcho(t *testing.T) uint16 {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("re: "), buf[:n]...), from)
		}
	}()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

func TestGatewayUDP(t *testing.T) {
	port := udpEcho(t)
	st, _ := sandbox(t, "127.0.0.1:"+itoa(int(port)))
	c, err := st.Dial(context.Background(), "udp", netip.AddrPortFrom(nat.Gateway4, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrips(t, c)
}

// TestGatewayDNS: the gateway's port 53 is the host's resolver (whatever
// the policy), over UDP.
func TestGatewayDNS(t *testing.T) {
	port := udpEcho(t)
	st, _ := sandboxDNS(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), "192.0.2.1")
	c, err := st.Dial(context.Background(), "udp", netip.AddrPortFrom(nat.Gateway4, 53))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrips(t, c)
	// Without a host resolver, refused: the sandbox's connected socket
	// sees the ICMP unreachable as ECONNREFUSED.
	st2, g2 := sandbox(t)
	c2, err := st2.Dial(context.Background(), "udp", netip.AddrPortFrom(nat.Gateway4, 53))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("query"))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("DNS without a host resolver: %v, want connection refused", err)
	}
	if g2.Refused.Load() != 1 {
		t.Errorf("refused %d, want 1", g2.Refused.Load())
	}
}

// TestGatewayIPv6: the gateway's IPv6 address is the host's ::1.
func TestGatewayIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("six"))
			c.Close()
		}
	}()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	st, _ := sandbox(t, "[::1]:"+itoa(int(port)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := st.Dial(ctx, "tcp", netip.AddrPortFrom(nat.Gateway6, port))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	if string(got) != "six" {
		t.Fatalf("over IPv6: %q", got)
	}
}

func roundTrips(t *testing.T, c net.Conn) {
	t.Helper()
	for _, m := range []string{"one", "two"} {
		c.Write([]byte(m))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "re: "+m {
			t.Fatalf("udp through the gateway: %q, %v", buf[:n], err)
		}
	}
}

func TestPublishTCP(t *testing.T) {
	st, g := sandbox(t)
	// A server in the sandbox on port 8000, echoing.
	inner, err := st.Listen("tcp", 8000)
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	go func() {
		for {
			c, err := inner.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	p := nat.Port{Host: netip.MustParseAddr("127.0.0.1"), Port: 8000}
	l, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go p.Serve(l, g.DialSandbox, time.Minute, nil, nil)
	c, err := net.Dial("tcp", l.(net.Listener).Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello"))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if string(got) != "hello" {
		t.Fatalf("published port: %q, %v", got, err)
	}
}

// TestGatewayFlowLimit: past Limits.Flows open connections, the next is
// refused, and a closed one frees its place.
func TestGatewayFlowLimit(t *testing.T) {
	l := echoServer(t)
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	rules, _ := nat.ParseRule("127.0.0.1", nil)
	g, link, err := nat.New(nat.Config{Policy: nat.Policy{Rules: rules}, Limits: nat.Limits{Flows: 2, DialTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := inet.NewSandbox(inet.Eth{Link: link, Addr4: nat.Sandbox4, Gateway4: nat.Gateway4})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close(); g.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dst := netip.AddrPortFrom(nat.Gateway4, port)
	var open []net.Conn
	for range 2 {
		c, err := st.Dial(ctx, "tcp", dst)
		if err != nil {
			t.Fatalf("connection %d: %v", len(open)+1, err)
		}
		open = append(open, c)
	}
	if _, err := st.Dial(ctx, "tcp", dst); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a third connection with Flows 2: %v, want refused", err)
	}
	open[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := st.Dial(ctx, "tcp", dst)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a close, still: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	open[1].Close()
}

// FuzzParse: no input makes the --allow-net or --publish parser panic,
// and what they accept prints back as something they accept again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "[::1]:80", "10.0.0.0/8:22", "example.test", "8080:80/udp", "[::1]:1:2", "::", "[", "]:", "a:b:c"} {
		f.Add(s)
	}
	lookup := func(string) ([]netip.Addr, error) { return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil }
	f.Fuzz(func(t *testing.T, s string) {
		if rules, err := nat.ParseRule(s, lookup); err == nil {
			for _, r := range rules {
				if !r.Prefix.IsValid() {
					t.Fatalf("ParseRule(%q): invalid prefix", s)
				}
				var p nat.Policy
				p.Rules = rules
				p.Allowed(netip.AddrPortFrom(r.Prefix.Addr(), r.Port))
			}
		}
		if p, err := nat.ParsePort(s); err == nil {
			again, err := nat.ParsePort(strings.TrimPrefix(strings.Replace(p.String(), "->", ":", 1), ""))
			if err != nil || again != p {
				t.Fatalf("ParsePort(%q) = %v, whose text %q parses as %v, %v", s, p, p.String(), again, err)
			}
		}
	})
}
