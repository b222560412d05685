package unix

import (
	"sync"
	"sync/atomic"

	sys "golang.org/x/sys/unix"

	"ringbox/netstack"
)

// Limits, as Linux's defaults.
const (
	// Somaxconn bounds a listener's backlog (net.core.somaxconn).
	Somaxconn = 4096
	// MaxDgramQlen is net.unix.max_dgram_qlen: a datagram socket holds
	// more than this many messages only from its own peer.
	MaxDgramQlen = 10
	// ScmMaxFD is SCM_MAX_FD: descriptors in one message.
	ScmMaxFD = netstack.ScmMaxFD
	// autobindNames is how many names autobind can give (5 hex digits).
	autobindNames = 1 << 20
)

// Namespace is the AF_UNIX names of one sandbox and the accounting of its
// files in flight.
type Namespace struct {
	// mu guards the names and serializes connection changes.
	mu       sync.Mutex
	abstract map[string]*Socket
	paths    map[netstack.NodeKey]*Socket
	nextAuto uint32
	// sockets are the live sockets (for /proc/net/unix).
	sockets map[*Socket]struct{}

	// inflight counts the files in messages not yet received.
	inflight atomic.Int64
}

// NewNamespace makes an empty namespace.
func NewNamespace() *Namespace {
	return &Namespace{abstract: map[string]*Socket{}, paths: map[netstack.NodeKey]*Socket{},
		sockets: map[*Socket]struct{}{}}
}

// InFlight returns the number of files in messages not yet received.
func (ns *Namespace) InFlight() int64 { return ns.inflight.Load() }

// find resolves a to a socket: ECONNREFUSED when nobody has the name. A
// path goes through the file tree (ENOENT, EACCES ... from there) without
// the namespace lock.
func (ns *Namespace) find(ctx netstack.Context, a *address) (*Socket, error) {
	var key netstack.NodeKey
	if !a.abstract {
		var err error
		if key, err = ctx.LookupPath(a.path); err != nil {
			return nil, err
		}
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var s *Socket
	if a.abstract {
		s = ns.abstract[a.name()]
	} else {
		s = ns.paths[key]
	}
	if s == nil {
		return nil, sys.ECONNREFUSED
	}
	return s, nil
}

// autobindLocked gives s a free abstract name.
func (ns *Namespace) autobindLocked(s *Socket) error {
	for range autobindNames {
		a := autobindName(ns.nextAuto)
		ns.nextAuto = (ns.nextAuto + 1) % autobindNames
		if _, taken := ns.abstract[a.name()]; !taken {
			ns.abstract[a.name()] = s
			s.addr.Store(a)
			return nil
		}
	}
	return sys.ENOSPC
}

// unbindLocked forgets s's name.
func (ns *Namespace) unbindLocked(s *Socket) {
	a := s.addr.Load()
	if a == nil {
		return
	}
	if a.abstract {
		if ns.abstract[a.name()] == s {
			delete(ns.abstract, a.name())
		}
		return
	}
	if ns.paths[s.pathKey] == s {
		delete(ns.paths, s.pathKey)
	}
}
