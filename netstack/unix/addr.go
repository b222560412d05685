package unix

import (
	"bytes"
	"encoding/binary"
	"fmt"

	sys "golang.org/x/sys/unix"
)

const (
	// pathOffset is offsetof(struct sockaddr_un, sun_path).
	pathOffset = 2
	// MaxAddrLen is sizeof(struct sockaddr_un).
	MaxAddrLen = 110
)

// address is a socket's name: a path or an abstract name.
type address struct {
	// raw is the struct sockaddr_un that getsockname reports: the family
	// and the path with its NUL, or the family and the abstract name
	// (starting with NUL) exactly as long as given.
	raw []byte
	// abstract is set for an abstract name; path is the path otherwise.
	abstract bool
	path     string
}

// name returns the abstract name's key (raw without the family).
func (a *address) name() string { return string(a.raw[pathOffset:]) }

// familyOnly is the sockaddr of an unnamed socket.
func familyOnly() []byte {
	b := make([]byte, pathOffset)
	binary.LittleEndian.PutUint16(b, sys.AF_UNIX)
	return b
}

// parseAddr reads a sockaddr_un of bind or connect. A bare family (bind's
// autobind request) returns nil and no error. Anything not AF_UNIX, too
// short or too long is EINVAL; an empty path is ENOENT.
func parseAddr(b []byte) (*address, error) {
	if len(b) < pathOffset || len(b) > MaxAddrLen {
		return nil, sys.EINVAL
	}
	if binary.LittleEndian.Uint16(b) != sys.AF_UNIX {
		return nil, sys.EINVAL
	}
	if len(b) == pathOffset {
		return nil, nil
	}
	if b[pathOffset] == 0 {
		return &address{raw: bytes.Clone(b), abstract: true}, nil
	}
	p := b[pathOffset:]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	raw := make([]byte, pathOffset+len(p)+1)
	copy(raw, b[:pathOffset])
	copy(raw[pathOffset:], p)
	return &address{raw: raw, path: string(p)}, nil
}

// autobindName is the abstract name autobind gives for n: NUL and five
// hex digits, as Linux.
func autobindName(n uint32) *address {
	raw := make([]byte, pathOffset, pathOffset+6)
	binary.LittleEndian.PutUint16(raw, sys.AF_UNIX)
	raw = append(raw, 0)
	raw = fmt.Appendf(raw, "%05x", n&0xfffff)
	return &address{raw: raw, abstract: true}
}
