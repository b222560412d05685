package syscalls

import (
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
	"ringbox/netstack"
	unixsock "ringbox/netstack/unix"
)

func init() {
	registerFamily(unix.AF_UNIX, socketFamily{create: newUnixSocket, pair: newUnixPair})
}

// unixNamespaces holds each kernel's AF_UNIX names (one sandbox, one
// namespace).
var unixNamespaces sync.Map // *kernel.Kernel -> *unixsock.Namespace

func unixNamespace(k *kernel.Kernel) *unixsock.Namespace {
	if ns, ok := unixNamespaces.Load(k); ok {
		return ns.(*unixsock.Namespace)
	}
	ns, _ := unixNamespaces.LoadOrStore(k, unixsock.NewNamespace())
	return ns.(*unixsock.Namespace)
}

// unixArgs checks the type and protocol of an AF_UNIX socket.
func unixArgs(typ, protocol int) (int, error) {
	typ, err := unixsock.ValidType(typ)
	if err != nil {
		return 0, err
	}
	if protocol != 0 && protocol != unix.AF_UNIX {
		return 0, unix.EPROTONOSUPPORT
	}
	return typ, nil
}

func newUnixSocket(t *kernel.Task, typ, protocol int) (netstack.Socket, error) {
	typ, err := unixArgs(typ, protocol)
	if err != nil {
		return nil, err
	}
	return unixsock.New(unixNamespace(t.K), typ, sockCtx{t}.Cred()), nil
}

func newUnixPair(t *kernel.Task, typ, protocol int) (netstack.Socket, netstack.Socket, error) {
	typ, err := unixArgs(typ, protocol)
	if err != nil {
		return nil, nil, err
	}
	a, b := unixsock.Pair(unixNamespace(t.K), typ, sockCtx{t}.Cred())
	return a, b, nil
}

// nodeKey is the identity of a socket node.
func nodeKey(n fs.Node) (netstack.NodeKey, unix.Stat_t, error) {
	st, err := n.Stat()
	if err != nil {
		return netstack.NodeKey{}, st, err
	}
	return netstack.NodeKey{Dev: st.Dev, Ino: st.Ino}, st, nil
}

// BindPath implements netstack.Context: the socket node is made as
// mknod(2) would make it, with the mode 0777 less the umask. A name that
// exists (even a dangling symlink) is EADDRINUSE; a filesystem that
// cannot hold socket nodes (a host directory) is EPERM, as Linux's mknod
// there.
func (c sockCtx) BindPath(path string) (netstack.NodeKey, func(), error) {
	t := c.t
	if t.K.VFS == nil {
		return netstack.NodeKey{}, nil, noFS
	}
	root := t.TG.FSRoot()
	view := t.K.VFS.For(searcher(t))
	dir, name, err := view.ResolveParent(t.TG.Cwd(), root, path)
	if err != nil {
		return netstack.NodeKey{}, nil, err
	}
	if name == "." || name == ".." {
		return netstack.NodeKey{}, nil, unix.EADDRINUSE
	}
	if _, err := view.Resolve(dir, root, name, false); err == nil {
		return netstack.NodeKey{}, nil, unix.EADDRINUSE
	}
	m, err := mutableDir(t, dir)
	if err != nil {
		return netstack.NodeKey{}, nil, err
	}
	sm, ok := dir.Node().(fs.NodeMaker)
	if !ok {
		return netstack.NodeKey{}, nil, unix.EPERM
	}
	if err := sm.MakeNode(name, unix.S_IFSOCK|umasked(t, 0o777)); err != nil {
		if err == unix.EEXIST {
			err = unix.EADDRINUSE
		}
		return netstack.NodeKey{}, nil, err
	}
	dir.Invalidate(name)
	ownCreated(t, dir, name)
	undo := func() {
		_ = m.Unlink(name)
		dir.Invalidate(name)
	}
	d, err := view.Resolve(dir, root, name, false)
	if err != nil {
		undo()
		return netstack.NodeKey{}, nil, err
	}
	key, _, err := nodeKey(d.Node())
	if err != nil {
		undo()
		return netstack.NodeKey{}, nil, err
	}
	notifyCreated(t, dir, name, false)
	return key, undo, nil
}

// LookupPath implements netstack.Context: connect needs write permission
// on the node, and a node that is not a socket is ECONNREFUSED.
func (c sockCtx) LookupPath(path string) (netstack.NodeKey, error) {
	t := c.t
	if t.K.VFS == nil {
		return netstack.NodeKey{}, noFS
	}
	d, err := t.K.VFS.For(searcher(t)).Resolve(t.TG.Cwd(), t.TG.FSRoot(), path, true)
	if err != nil {
		return netstack.NodeKey{}, err
	}
	key, st, err := nodeKey(d.Node())
	if err != nil {
		return netstack.NodeKey{}, err
	}
	if err := permitted(t, &st, 2); err != nil {
		return netstack.NodeKey{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return netstack.NodeKey{}, unix.ECONNREFUSED
	}
	return key, nil
}
