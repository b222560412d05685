package unix

import (
	"bytes"
	"encoding/binary"
	"testing"

	sys "golang.org/x/sys/unix"

	"ringbox/netstack"
)

// FuzzAddr feeds arbitrary sockaddr bytes to parseAddr, then to bind,
// connect and sendto of a socket of each type, and checks what
// parseAddr returns against Linux's rules for a struct sockaddr_un.
func FuzzAddr(f *testing.F) {
	f.Add(byte(0), sockaddr("/tmp/s"))
	f.Add(byte(1), sockaddr("rel"))
	f.Add(byte(2), abstractAddr("name"))
	f.Add(byte(0), abstractAddr(""))
	f.Add(byte(1), binary.LittleEndian.AppendUint16(nil, sys.AF_UNIX))
	f.Add(byte(2), []byte{0, 0})
	f.Add(byte(0), append(binary.LittleEndian.AppendUint16(nil, sys.AF_UNIX), bytes.Repeat([]byte{'a'}, 108)...))
	f.Add(byte(1), append(sockaddr("p"), "after\x00nul"...))
	f.Add(byte(2), []byte{1})
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		a, err := parseAddr(b)
		switch {
		case err != nil:
			if a != nil {
				t.Fatal("an address and an error")
			}
			if len(b) >= pathOffset && len(b) <= MaxAddrLen && binary.LittleEndian.Uint16(b) == sys.AF_UNIX {
				t.Fatalf("a valid-looking address refused: %v", err)
			}
		case a == nil:
			if len(b) != pathOffset {
				t.Fatalf("no address from %d bytes", len(b))
			}
		case a.abstract:
			if !bytes.Equal(a.raw, b) {
				t.Fatalf("abstract name %q from %q", a.raw, b)
			}
			_ = a.name()
		default:
			if a.path == "" || bytes.IndexByte([]byte(a.path), 0) >= 0 {
				t.Fatalf("path %q", a.path)
			}
			if len(a.raw) != pathOffset+len(a.path)+1 || a.raw[len(a.raw)-1] != 0 ||
				string(a.raw[pathOffset:len(a.raw)-1]) != a.path {
				t.Fatalf("raw %q of path %q", a.raw, a.path)
			}
		}
		if a != nil && (len(b) > MaxAddrLen || len(b) < pathOffset) {
			t.Fatalf("parsed %d bytes", len(b))
		}

		// The same bytes through the socket calls.
		ns, ctx := NewNamespace(), &fuzzCtx{fakeCtx: newCtx()}
		typ := []int{sys.SOCK_STREAM, sys.SOCK_DGRAM, sys.SOCK_SEQPACKET}[int(which)%3]
		srv := New(ns, typ, ctx.cred)
		defer srv.Release()
		if err := srv.Bind(ctx, b); err == nil {
			_ = srv.SockName()
			if typ != sys.SOCK_DGRAM {
				if err := srv.Listen(ctx, 1); err != nil {
					t.Fatalf("listen after bind: %v", err)
				}
			}
		}
		_ = srv.Bind(ctx, b) // a second bind
		c := New(ns, typ, ctx.cred)
		defer c.Release()
		if err := c.Connect(ctx, b); err == nil {
			if _, err := c.PeerName(); err != nil && typ != sys.SOCK_DGRAM {
				t.Fatalf("connected, no peer: %v", err)
			}
		}
		if typ == sys.SOCK_DGRAM {
			_, _ = c.SendMsg(ctx, []byte("x"), b, nil, 0)
		}
		if acc, _, err := srv.Accept(ctx); err == nil {
			_ = acc.(*Socket).SockName()
			acc.Release()
		}
	})
}

// fuzzCtx is fakeCtx as a netstack.Context.
type fuzzCtx struct{ *fakeCtx }

var _ netstack.Context = (*fuzzCtx)(nil)
