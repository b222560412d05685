package hostfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"
)

// Owners of host files as the sandbox sees them. ringbox holds no
// capability on the host (vmm/confine), so it cannot chown a host file:
// what the sandbox makes in a read-write mount belongs to ringbox's own
// host IDs. So that a sandbox user owns what it makes (reads back its
// 0600 files, changes their mode) and chown(2) works, a tree keeps the
// owners the sandbox gave its files, by host device and inode, for the
// run, and shows them in place of the host's. The host files keep the
// host's owners; nothing is written there. An entry goes with the last
// name the sandbox removes (a host process that removes a file behind
// the sandbox's back may leave one, which a new file with the same inode
// number would show); at most maxOwners are kept (ENOSPC past it). The
// same entries keep the mode of a socket or FIFO node the host cannot
// chmod without following a link (before Linux 6.6's fchmodat2): the
// node names a sandbox socket or pipe, so the sandbox's view is what
// counts.

// maxOwners bounds the owners a tree keeps.
const maxOwners = 1 << 20

type fileKey struct{ dev, ino uint64 }

// owner is what the sandbox gave a file: its owner, and perm (with
// hasPerm) its permission bits.
type owner struct {
	uid, gid uint32
	perm     uint32
	hasPerm  bool
}

type owners struct {
	n  atomic.Int64 // len(m), read without mu: no lookups while it is 0
	mu sync.Mutex
	m  map[fileKey]owner
}

// hostUID and hostGID are ringbox's own effective IDs on the host: what
// owns the files it makes.
var hostUID, hostGID = uint32(unix.Geteuid()), uint32(unix.Getegid())

// CreatesAs implements fs.OwnerOfNew: the host makes files owned by
// ringbox's own IDs (the directory's group in a set-group-ID one, as the
// sandbox's rule has it too).
func (n *node) CreatesAs(uid, gid uint32) bool { return uid == hostUID && gid == hostGID }

// Chown implements fs.Chowner: the file shows the new owner from now on
// (-1 keeps that ID); one equal to the host's is no entry.
func (n *node) Chown(uid, gid uint32) error {
	if n.fs.readOnly {
		return unix.EROFS
	}
	if n.isSpecial() {
		return unix.EACCES
	}
	return n.withStat(func(_ int, st *unix.Stat_t) error {
		return n.fs.own.change(st, func(o *owner) {
			if uid != ^uint32(0) {
				o.uid = uid
			}
			if gid != ^uint32(0) {
				o.gid = gid
			}
		})
	})
}

// change applies fn to the entry of the host file st (a new one starts
// as the host has it); one that changes nothing of the host's is none.
func (w *owners) change(st *unix.Stat_t, fn func(*owner)) error {
	k := fileKey{st.Dev, st.Ino}
	w.mu.Lock()
	defer w.mu.Unlock()
	cur, ok := w.m[k]
	if !ok {
		cur = owner{uid: st.Uid, gid: st.Gid}
	}
	fn(&cur)
	switch {
	case cur == owner{uid: st.Uid, gid: st.Gid}:
		delete(w.m, k)
	case !ok && len(w.m) >= maxOwners:
		return unix.ENOSPC
	default:
		if w.m == nil {
			w.m = map[fileKey]owner{}
		}
		w.m[k] = cur
	}
	w.n.Store(int64(len(w.m)))
	return nil
}

// setPerm keeps perm as the permission bits of the host socket or FIFO
// st.
func (f *FS) setPerm(st *unix.Stat_t, perm uint32) error {
	return f.own.change(st, func(o *owner) { o.perm, o.hasPerm = perm, true })
}

// showOwner puts the owner the sandbox gave a host file in st (host
// device and inode numbers still).
func (f *FS) showOwner(st *unix.Stat_t) {
	if f.own.n.Load() == 0 {
		return
	}
	f.own.mu.Lock()
	o, ok := f.own.m[fileKey{st.Dev, st.Ino}]
	f.own.mu.Unlock()
	if ok {
		st.Uid, st.Gid = o.uid, o.gid
		if o.hasPerm {
			st.Mode = st.Mode&unix.S_IFMT | o.perm
		}
	}
}

// ownedEntry returns the key of name in directory dfd when it is a file
// with an owner kept and its last link (what removing it ends), else
// nothing: one host call, only while the tree keeps owners.
func (f *FS) ownedEntry(dfd int, name string) *fileKey {
	if f.own.n.Load() == 0 {
		return nil
	}
	var st unix.Stat_t
	if hostcall.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
		return nil
	}
	return &fileKey{st.Dev, st.Ino}
}

// forgetOwner drops k's owner (a file removed or replaced).
func (f *FS) forgetOwner(k *fileKey) {
	if k == nil {
		return
	}
	f.own.mu.Lock()
	delete(f.own.m, *k)
	f.own.n.Store(int64(len(f.own.m)))
	f.own.mu.Unlock()
}
