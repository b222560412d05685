package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
	"ringbox/guestkernel/kernel"
	"ringbox/netstack/inet"
	"ringbox/netstack/nat"
	"ringbox/syscalls"
	"ringbox/vmm/confine"
)

// network is the sandbox's network as the command line asks for it:
// --net=sandbox's gateway, and --publish's host listeners. nil for the
// default (--net=none, nothing published), whose loopback-only stack the
// first socket makes.
type network struct {
	gw        *nat.Gateway // --net=sandbox only
	st        *inet.Stack
	ports     []nat.Port
	listeners []io.Closer
	// resolvConf is the sandbox's /etc/resolv.conf (--net=sandbox).
	resolvConf []byte
	log        *slog.Logger
	// mirrors are the host listeners for the program's (mirror), by
	// address and port, when the network namespace is an OCI
	// container's own.
	mirrorListens bool
	mirrorMu      sync.Mutex
	mirrors       map[mirrorKey]*mirrored
	mirrorsClosed bool
	// draining are the UDP mirrors closed but still passing answers on:
	// their port is free once they are done.
	draining map[mirrorKey]*nat.PacketListener
	// flush counts the published and mirrored ports' relays copying
	// toward the host (the gateway counts its own).
	flush nat.Flush
}

// flushTimeout bounds how long ringbox, once the program has ended, waits
// for its relays to pass on to the host what the program sent.
const flushTimeout = 2 * time.Second

// mirrored is a host listener standing for the program's listeners on
// one address and port.
type mirrored struct {
	l     interface{ Close() error } // a net.Listener or a *nat.PacketListener
	users int
}

// openNetwork makes the network. It runs before ringbox confines itself:
// host names in --allow-net are resolved, the host's resolver read from
// its /etc/resolv.conf, and the published ports' listeners opened now.
func openNetwork(o *runOpts, log *slog.Logger) (*network, error) {
	if o.net != "sandbox" && len(o.publish) == 0 {
		return nil, nil
	}
	n := &network{ports: o.publish, log: log, mirrorListens: o.mirrorListens && o.net == "sandbox"}
	for i, p := range o.publish {
		var l io.Closer
		var err error
		if o.parentListeners {
			l, err = inheritedListener(p, 3+i)
		} else {
			l, err = p.Listen()
		}
		if err != nil {
			n.close()
			return nil, fail(exitSandbox, "--publish %s: %v", p, err)
		}
		if pc, ok := l.(net.PacketConn); ok {
			l = nat.NewPacketListener(pc) // its Close lets the answers out
		}
		n.listeners = append(n.listeners, l)
	}
	if o.net != "sandbox" {
		st, err := inet.NewLoopback()
		if err != nil {
			n.close()
			return nil, fail(exitSandbox, "network: %v", err)
		}
		n.st = st
		return n, nil
	}
	var policy nat.Policy
	lookup := func(name string) ([]netip.Addr, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	}
	for _, v := range o.allowNet {
		rules, err := nat.ParseRule(v, lookup)
		if err != nil {
			n.close()
			return nil, fail(exitSandbox, "%v", err)
		}
		policy.Rules = append(policy.Rules, rules...)
	}
	hostConf, _ := os.ReadFile(cmp.Or(o.resolvConf, "/etc/resolv.conf"))
	dns, rest := hostResolver(hostConf)
	if !dns.IsValid() {
		log.Debug("network: the host's /etc/resolv.conf names no resolver: DNS in the sandbox is refused")
	}
	n.resolvConf = append([]byte("# ringbox --net=sandbox: the gateway relays DNS to the host's resolver\nnameserver "+nat.Gateway4.String()+"\n"), rest...)
	gw, link, err := nat.New(nat.Config{Policy: policy, DNS: dns, Dialer: &net.Dialer{KeepAlive: 30 * time.Second}, Log: log})
	if err != nil {
		n.close()
		return nil, fail(exitSandbox, "network: %v", err)
	}
	n.gw = gw
	st, err := inet.NewSandbox(inet.Eth{Link: link, Addr4: nat.Sandbox4, Addr6: nat.Sandbox6, Gateway4: nat.Gateway4, Gateway6: nat.Gateway6})
	if err != nil {
		n.close()
		return nil, fail(exitSandbox, "network: %v", err)
	}
	n.st = st
	rules := "public addresses"
	if len(o.allowNet) > 0 {
		rules = strings.Join(o.allowNet, " ")
	}
	log.Debug("network: sandbox", "eth0", nat.Sandbox4.String(), "gateway", nat.Gateway4.String(), "allow", rules, "dns", dns.String())
	return n, nil
}

// hostResolver picks the first nameserver of the host's resolv.conf (port
// 53), and keeps its search and options lines for the sandbox's.
func hostResolver(conf []byte) (netip.AddrPort, []byte) {
	var dns netip.AddrPort
	var rest bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if a, err := netip.ParseAddr(f[1]); err == nil && !dns.IsValid() {
				dns = netip.AddrPortFrom(a, 53)
			}
		case "search", "domain", "options":
			rest.WriteString(strings.Join(f, " ") + "\n")
		}
	}
	return dns, rest.Bytes()
}

// mount shows the sandbox its /etc/resolv.conf (--net=sandbox): a file
// mounted over the root's, when the root has one.
func (n *network) mount(v *fs.VFS) error {
	if n == nil || n.gw == nil {
		return nil
	}
	t := tmpfs.New(1 << 16)
	_, f, err := t.Root().(fs.Creator).Create("resolv.conf", unix.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(n.resolvConf)
	f.Release()
	if err != nil {
		return err
	}
	node, err := t.Root().Lookup("resolv.conf")
	if err != nil {
		return err
	}
	if err := v.MountAt("/etc/resolv.conf", fileFS{node}, true); err != nil {
		n.log.Debug("network: no /etc/resolv.conf in this root to show the gateway's DNS in", "err", err)
	}
	return nil
}

// fileFS is a filesystem of one file, for a file bind mount.
type fileFS struct{ node fs.Node }

func (f fileFS) Root() fs.Node { return f.node }

// start attaches the network to the kernel and serves the published
// ports.
func (n *network) start(k *kernel.Kernel) {
	if n == nil {
		return
	}
	syscalls.SetNetwork(k, n.st)
	dial := func(ctx context.Context, network string, port uint16) (net.Conn, error) {
		return n.st.Dial(ctx, network, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port))
	}
	if n.gw != nil {
		dial = n.gw.DialSandbox
	}
	for i, p := range n.ports {
		go p.Serve(n.listeners[i], dial, time.Minute, &n.flush, n.log)
		n.log.Debug("network: published", "port", p.String())
	}
	if n.mirrorListens && n.gw != nil {
		n.st.SetListenHook(n.mirror)
	}
}

// mirror listens in ringbox's network namespace, an OCI container's own,
// for a TCP listener of the program or a UDP socket bound to a port it
// named (network), so that what reaches the container
// there reaches the program, as it would a runc container's: a listener
// on the unspecified address (or eth0's) is mirrored on every address of
// the namespace (a pod's Service, Docker's port proxy) and relayed
// through the gateway as a published port's connections are (the program
// sees the gateway's address as the peer); one on the sandbox's loopback
// is mirrored on the namespace's loopback only (a sidecar of the pod)
// and relayed to it inside the stack. Listeners of one address and port
// share one mirror; it is closed with the last. A port the namespace
// refuses (in use by another container of the pod, or below
// net.ipv4.ip_unprivileged_port_start: ringbox holds no capability there)
// and an IPv6 address of eth0 (the gateway relays over IPv4) are not
// mirrored, logged under --debug.
func (n *network) mirror(network string, addr netip.Addr, port uint16) func() {
	n.mirrorMu.Lock()
	defer n.mirrorMu.Unlock()
	if n.mirrorsClosed {
		return nil
	}
	var host string
	dial := n.gw.DialSandbox
	switch {
	case !addr.IsValid() || addr.Is4() && !addr.IsLoopback():
		host = ":" + strconv.Itoa(int(port))
	case addr.IsLoopback():
		host = netip.AddrPortFrom(addr, port).String()
		dial = func(ctx context.Context, network string, port uint16) (net.Conn, error) {
			return n.st.Dial(ctx, network, netip.AddrPortFrom(addr, port))
		}
	default:
		n.log.Debug("network: the program's listener is not mirrored (an IPv6 address)", "network", network, "addr", addr, "port", port)
		return nil
	}
	key := mirrorKey{network, addr, port}
	if old := n.draining[key]; old != nil {
		// The program bound the port again: its last socket's mirror
		// holds it until its flows are done.
		n.mirrorMu.Unlock()
		select {
		case <-old.Done():
		case <-time.After(time.Second):
		}
		n.mirrorMu.Lock()
		if n.mirrorsClosed {
			return nil
		}
		if n.draining[key] == old {
			delete(n.draining, key)
		}
	}
	m := n.mirrors[key]
	if m == nil {
		p := nat.Port{HostPort: port, Port: port, UDP: network == "udp"}
		var l interface{ Close() error }
		var err error
		if p.UDP {
			var pc net.PacketConn
			if pc, err = net.ListenPacket("udp", host); err == nil {
				l = nat.NewPacketListener(pc)
			}
		} else {
			l, err = net.Listen("tcp", host)
		}
		if err != nil {
			n.log.Debug("network: the program's listener is not reachable from the container's network namespace", "network", network, "addr", host, "err", err)
			return nil
		}
		m = &mirrored{l: l}
		if n.mirrors == nil {
			n.mirrors = map[mirrorKey]*mirrored{}
		}
		n.mirrors[key] = m
		go p.Serve(l, dial, time.Minute, &n.flush, n.log)
		n.log.Debug("network: mirrored the program's listener in the container's network namespace", "network", network, "addr", host)
	}
	m.users++
	return func() {
		n.mirrorMu.Lock()
		defer n.mirrorMu.Unlock()
		if m.users--; m.users == 0 {
			m.l.Close()
			delete(n.mirrors, key)
			if pl, ok := m.l.(*nat.PacketListener); ok {
				if n.draining == nil {
					n.draining = map[mirrorKey]*nat.PacketListener{}
				}
				n.draining[key] = pl
			}
		}
	}
}

// mirrorKey is a mirrored listener's network (tcp, udp), address
// (invalid: the unspecified one) and port.
type mirrorKey struct {
	network string
	addr    netip.Addr
	port    uint16
}

func (n *network) close() {
	if n == nil {
		return
	}
	// What the program wrote before it ended still reaches the host, as
	// it would from a process that exits on Linux: stop accepting, then
	// let the relays copying toward the host finish (the program's
	// sockets are closed by now, so each stream has its end; datagram
	// flows pass on what is queued, and a UDP port's socket, which
	// carries their answers, closes after them: nat.PacketListener).
	if n.st != nil {
		n.st.SetListenHook(nil)
	}
	for _, l := range n.listeners {
		l.Close()
	}
	n.mirrorMu.Lock()
	n.mirrorsClosed = true
	for _, m := range n.mirrors {
		m.l.Close()
	}
	n.mirrorMu.Unlock()
	deadline := time.Now().Add(flushTimeout)
	n.flush.Begin()
	if n.gw != nil {
		n.gw.Flush.Begin()
	}
	if !n.flush.Wait(flushTimeout) {
		n.log.Debug("network: a relay toward the host did not finish before exit")
	}
	if n.gw != nil && !n.gw.Flush.Wait(max(0, time.Until(deadline))) {
		n.log.Debug("network: a connection through the NAT did not finish before exit")
	}
	if n.gw != nil {
		n.gw.Close()
	}
	if n.st != nil {
		n.st.Close()
	}
}

// listenersEnv tells a confined child that its parent made the listeners
// of the published ports, in order from descriptor 3: their number.
const listenersEnv = "RINGBOX_PUBLISHED_LISTENERS"

// publishListeners makes the published ports' listeners in this process's
// network and returns them as files to hand to the confined child.
func publishListeners(ports []nat.Port) ([]*os.File, error) {
	var files []*os.File
	for _, p := range ports {
		l, err := p.Listen()
		if err == nil {
			var f *os.File
			f, err = listenerFile(l)
			l.Close()
			files = append(files, f)
		}
		if err != nil {
			for _, f := range files {
				f.Close() // Close of a nil *os.File is a no-op
			}
			return nil, fail(exitSandbox, "--publish %s: %v", p, err)
		}
	}
	return files, nil
}

// listenerFile returns a duplicate of l's socket as a file.
func listenerFile(l io.Closer) (*os.File, error) {
	switch l := l.(type) {
	case *net.TCPListener:
		return l.File()
	case *net.UDPConn:
		return l.File()
	}
	return nil, fmt.Errorf("a listener of type %T", l)
}

// inheritedListener turns descriptor fd, made by the parent for p, back
// into a listener of p's kind.
func inheritedListener(p nat.Port, fd int) (io.Closer, error) {
	f := os.NewFile(uintptr(fd), "published "+p.String())
	if f == nil {
		return nil, fmt.Errorf("descriptor %d from the parent is not open", fd)
	}
	defer f.Close()
	if p.UDP {
		return net.FilePacketConn(f)
	}
	return net.FileListener(f)
}

// filterNet is how much of the host's network the confined ringbox keeps
// in its seccomp filter.
func filterNet(o *runOpts) confine.Net {
	switch {
	case o.net == "sandbox" && o.mirrorListens:
		return confine.NetServe
	case o.net == "sandbox":
		return confine.NetDial
	case len(o.publish) > 0:
		return confine.NetAccept
	}
	return confine.NetNone
}
