package unix

import (
	"fmt"
	"slices"
	"strings"

	sys "golang.org/x/sys/unix"
)

// ProcNet is /proc/net/unix: a line per live socket of the namespace, as
// Linux writes it (RefCount 2, the listening flag __SO_ACCEPTCON, the
// type, SS_UNCONNECTED 1 or SS_CONNECTED 3, the inode, and the name: a
// path, or @ and an abstract name with its NULs as @).
func (ns *Namespace) ProcNet() string {
	ns.mu.Lock()
	socks := make([]*Socket, 0, len(ns.sockets))
	for s := range ns.sockets {
		socks = append(socks, s)
	}
	ns.mu.Unlock()
	slices.SortFunc(socks, func(a, b *Socket) int { return int(a.ino) - int(b.ino) })
	var b strings.Builder
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for _, s := range socks {
		s.mu.Lock()
		st := s.state
		s.mu.Unlock()
		if st == stateClosed {
			continue
		}
		flags, ss := 0, 1
		switch st {
		case stateListening:
			flags = 0x10000 // __SO_ACCEPTCON
		case stateConnected:
			ss = 3
		}
		typ := s.typ
		if typ == sys.SOCK_SEQPACKET {
			typ = 5
		}
		fmt.Fprintf(&b, "0000000000000000: 00000002 00000000 %08X %04X %02X %5d", flags, typ, ss, s.ino)
		if a := s.addr.Load(); a != nil {
			if a.abstract {
				// The name's leading NUL, and any other, shows as @.
				b.WriteString(" " + strings.ReplaceAll(a.name(), "\x00", "@"))
			} else {
				b.WriteString(" " + strings.TrimRight(a.path, "\x00"))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
