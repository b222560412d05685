package hostfs

import (
	"golang.org/x/sys/unix"
)

// Caches of a read-only filesystem whose host tree is taken not to change
// during a run (Cache; ringbox sets it for the default root's host layer and
// read-only bind mounts: the policy gVisor calls "immutable", see
// docs/how-it-works.md). A node keeps the attributes and the symlink
// target it was first seen with, and a directory remembers the names it
// does not have. Every one of these saves a host syscall, which in ring0
// mode is a VM exit (30-60 us on PVM). A writable tree caches nothing: its
// files may change under the sandbox.

// Cache turns the caches on for a read-only filesystem (it reports false,
// and does nothing, for a writable one). Call it before the filesystem is
// used.
func (f *FS) Cache() bool {
	if !f.readOnly {
		return false
	}
	f.cache = true
	return true
}

// maxNegative bounds the names a directory remembers as missing.
const maxNegative = 4096

// cachedStat returns the node's cached attributes, if it has them.
func (n *node) cachedStat() (unix.Stat_t, bool) {
	f := n.fs
	if !f.cache {
		return unix.Stat_t{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.st == nil {
		return unix.Stat_t{}, false
	}
	return *n.st, true
}

// cacheStat records the node's attributes (already fixed up by fixStat).
func (n *node) cacheStat(st unix.Stat_t) {
	f := n.fs
	if !f.cache {
		return
	}
	f.mu.Lock()
	n.st = &st
	f.mu.Unlock()
}

// missingLocked reports whether name is known not to exist in n. Called
// with fs.mu held.
func (n *node) missingLocked(name string) bool {
	_, ok := n.negative[name]
	return ok
}

// rememberMissing records that name does not exist in n.
func (n *node) rememberMissing(name string) {
	f := n.fs
	if !f.cache {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.negative == nil {
		n.negative = map[string]struct{}{}
	}
	if len(n.negative) >= maxNegative {
		for k := range n.negative {
			delete(n.negative, k)
			break
		}
	}
	n.negative[name] = struct{}{}
}

// lookupCached looks name up with one host fstatat and no open: the node
// is made with its attributes cached and its O_PATH fd opened only when a
// call needs it. It reports ok false when a full lookup is needed (a mount
// point on the host, whose filesystem must be checked on an fd).
func (n *node) lookupCached(name string) (c *node, ok bool, err error) {
	f := n.fs
	f.mu.Lock()
	if n.missingLocked(name) {
		f.mu.Unlock()
		return nil, true, unix.ENOENT
	}
	if c := n.childLocked(name); c != nil && c.st != nil {
		f.mu.Unlock()
		return c, true, nil
	}
	parentDev := n.hostDev
	f.mu.Unlock()
	dfd, err := n.dirFD()
	if err != nil {
		return nil, true, err
	}
	var st unix.Stat_t
	// One component below a directory fd, not following a symlink: the
	// host resolves nothing (checkName refused "/", "." and "..").
	err = unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	for err == unix.EINTR {
		err = unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	n.release()
	if err == unix.ENOENT {
		n.rememberMissing(name)
		return nil, true, unix.ENOENT
	}
	if err != nil {
		return nil, true, errno(err)
	}
	if st.Dev != parentDev {
		return nil, false, nil
	}
	fixed := st
	f.fixStat(&fixed)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, true, unix.EIO
	}
	if c := n.childLocked(name); c != nil && c.hostDev == st.Dev && c.ino == st.Ino {
		if c.st == nil {
			c.st = &fixed
		}
		return c, true, nil
	}
	c = n.newChildLocked(name, -1, &st, false)
	c.st = &fixed
	return c, true, nil
}

// cachedLink returns the node's cached symlink target, if it has one.
func (n *node) cachedLink() (string, bool) {
	f := n.fs
	if !f.cache {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return n.link, n.hasLink
}

// cacheLink records the node's symlink target.
func (n *node) cacheLink(target string) {
	f := n.fs
	if !f.cache {
		return
	}
	f.mu.Lock()
	n.link, n.hasLink = target, true
	f.mu.Unlock()
}
