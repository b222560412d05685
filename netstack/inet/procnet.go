package inet

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The stack's live sockets, for /proc/net (register in wrap, forget in
// Release).
func (st *Stack) register(s *Socket) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.socks == nil {
		st.socks = map[*Socket]struct{}{}
	}
	st.socks[s] = struct{}{}
}

func (st *Stack) forget(s *Socket) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.socks, s)
}

func (st *Stack) sockets() []*Socket {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]*Socket, 0, len(st.socks))
	for s := range st.socks {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Socket) int { return int(a.ino) - int(b.ino) })
	return out
}

// ProcNet returns the text of /proc/net/NAME for the files the stack
// knows (tcp, tcp6, udp, udp6, dev, if_inet6, route), in Linux's
// formats; ok is false for other names.
func (st *Stack) ProcNet(name string) (text string, ok bool) {
	switch name {
	case "tcp", "tcp6", "udp", "udp6":
		return st.procSockets(name), true
	case "dev":
		return st.procDev(), true
	case "if_inet6":
		return st.procIfInet6(), true
	case "route":
		return st.procRoute(), true
	}
	return "", false
}

// procSockets is /proc/net/{tcp,tcp6,udp,udp6}: one line per socket of
// that protocol and family (an AF_INET6 socket with IPv4-mapped
// addresses stays in the 6 file, as on Linux).
func (st *Stack) procSockets(name string) string {
	var b strings.Builder
	if strings.HasPrefix(name, "tcp") {
		b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n")
	} else {
		b.WriteString("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n")
	}
	wantFam := sys.AF_INET
	if strings.HasSuffix(name, "6") {
		wantFam = sys.AF_INET6
	}
	wantProto := sys.IPPROTO_TCP
	if strings.HasPrefix(name, "udp") {
		wantProto = sys.IPPROTO_UDP
	}
	n := 0
	for _, s := range st.sockets() {
		if s.family != wantFam || s.proto != wantProto {
			continue
		}
		local, _ := s.ep.GetLocalAddress()
		remote, _ := s.ep.GetRemoteAddress()
		state := linuxState(s)
		rx, _ := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		tx, _ := s.ep.GetSockOptInt(tcpip.SendQueueSizeOption)
		if wantProto == sys.IPPROTO_TCP {
			fmt.Fprintf(&b, "%4d: %s %s %02X %08X:%08X 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n",
				n, procAddr(wantFam, local), procAddr(wantFam, remote), state, tx, rx, s.uid, s.ino)
		} else {
			fmt.Fprintf(&b, "%5d: %s %s %02X %08X:%08X 00:00000000 00000000 %5d        0 %d 2 0000000000000000 0\n",
				n, procAddr(wantFam, local), procAddr(wantFam, remote), state, tx, rx, s.uid, s.ino)
		}
		n++
	}
	return b.String()
}

// linuxState is the socket's state as Linux's TCP_* numbers: tcpip's TCP
// states are numbered as Linux's; a UDP socket is ESTABLISHED when
// connected, else CLOSE.
func linuxState(s *Socket) uint32 {
	const tcpEstablished, tcpClose, tcpListen = 1, 7, 10
	st := s.ep.State()
	if s.proto == sys.IPPROTO_TCP {
		if st >= 1 && st <= 11 {
			return st
		}
		return tcpClose
	}
	if _, err := s.ep.GetRemoteAddress(); err == nil {
		return tcpEstablished
	}
	return tcpClose
}

// procAddr is an address and port as /proc/net shows them: the address's
// 32-bit words in host (little-endian) order, in hex.
func procAddr(fam int, a tcpip.FullAddress) string {
	raw := a.Addr.AsSlice()
	if fam == sys.AF_INET {
		var w [4]byte
		if len(raw) == 4 {
			copy(w[:], raw)
		} else if len(raw) == 16 {
			copy(w[:], raw[12:])
		}
		return fmt.Sprintf("%08X:%04X", binary.LittleEndian.Uint32(w[:]), a.Port)
	}
	var w [16]byte
	switch len(raw) {
	case 16:
		copy(w[:], raw)
	case 4: // an IPv4 peer of an AF_INET6 socket: v4-mapped
		w[10], w[11] = 0xff, 0xff
		copy(w[12:], raw)
	}
	var s strings.Builder
	for i := 0; i < 16; i += 4 {
		fmt.Fprintf(&s, "%08X", binary.LittleEndian.Uint32(w[i:]))
	}
	return fmt.Sprintf("%s:%04X", s.String(), a.Port)
}

// procDev is /proc/net/dev: each interface's counters.
func (st *Stack) procDev() string {
	var b strings.Builder
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	infos := st.s.NICInfo()
	ids := make([]tcpip.NICID, 0, len(infos))
	for id := range infos {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		info := infos[id]
		rx, tx := info.Stats.Rx, info.Stats.Tx
		fmt.Fprintf(&b, "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			info.Name, rx.Bytes.Value(), rx.Packets.Value(), 0, 0, 0, 0, 0, 0,
			tx.Bytes.Value(), tx.Packets.Value(), 0, 0, 0, 0, 0, 0)
	}
	return b.String()
}

// procIfInet6 is /proc/net/if_inet6: each IPv6 address with its
// interface index, prefix length, scope and flags.
func (st *Stack) procIfInet6() string {
	var b strings.Builder
	for _, ifc := range st.Interfaces() {
		for _, p := range ifc.Addrs {
			if len(p.Addr) != 16 {
				continue
			}
			scope := 0x00 // global
			switch {
			case p.Addr[0] == 0xfe && p.Addr[1]&0xc0 == 0x80:
				scope = 0x20 // link
			case ifc.Flags&0x8 != 0:
				scope = 0x10 // host
			}
			fmt.Fprintf(&b, "%x %02x %02x %02x %02x %8s\n", p.Addr, ifc.Index, p.Len, scope, 0x80, ifc.Name)
		}
	}
	return b.String()
}

// procRoute is /proc/net/route: the IPv4 routes (destination, gateway
// and mask as little-endian hex words).
func (st *Stack) procRoute() string {
	var b strings.Builder
	b.WriteString("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n")
	names := map[tcpip.NICID]string{}
	for id, info := range st.s.NICInfo() {
		names[id] = info.Name
	}
	le := func(a []byte) uint32 {
		if len(a) != 4 {
			return 0
		}
		return binary.LittleEndian.Uint32(a)
	}
	for _, r := range st.s.GetRouteTable() {
		if r.Destination.ID().Len() != header.IPv4AddressSize {
			continue
		}
		flags := 0x1 // RTF_UP
		gw := uint32(0)
		if r.Gateway.Len() > 0 {
			flags |= 0x2 // RTF_GATEWAY
			gw = le(r.Gateway.AsSlice())
		}
		dst, mask := r.Destination.ID(), r.Destination.Mask()
		fmt.Fprintf(&b, "%s\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t0\t0\t0                                                                            \n",
			names[r.NIC], le(dst.AsSlice()), gw, flags, le(mask.AsSlice()))
	}
	return b.String()
}
