package fs

import "golang.org/x/sys/unix"

// Mounts made and removed while the sandbox runs (mount(2), umount2(2)):
// the sandbox has one mount namespace, so a mount is seen by all its
// processes.

// MountOn mounts fsys on d: on a directory, or, when fsys's root is not
// a directory, on a file. A mount already there is covered (the new one
// is stacked on the topmost). It returns the new mount.
func (v *VFS) MountOn(d *Dentry, fsys FS, readOnly bool) (*Mount, error) {
	rootType, err := fileType(fsys.Root())
	if err != nil {
		return nil, err
	}
	if (rootType == unix.S_IFDIR) != d.IsDir() {
		return nil, unix.ENOTDIR // either way round, as Linux's graft
	}
	m := &Mount{FS: fsys, ReadOnly: readOnly, point: d}
	m.root = &Dentry{name: d.name, node: fsys.Root(), mount: m}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mounted != nil {
		// Stack on the topmost mount.
		top := d.mounted.root.top()
		top.mu.Lock()
		top.mounted = m
		top.mu.Unlock()
		m.point = top
		return m, nil
	}
	d.mounted = m
	return m, nil
}

// LockReadOnly makes the mount read-only for good: a remount cannot
// make it writable, and a bind of it is read-only and locked too.
func (m *Mount) LockReadOnly() { m.ReadOnly, m.lockedRO = true, true }

// ReadOnlyLocked reports whether LockReadOnly was called.
func (m *Mount) ReadOnlyLocked() bool { return m.lockedRO }

// Mount flags: what a mount allows of the files in it, as Linux's
// MS_NOSUID, MS_NODEV and MS_NOEXEC.
const (
	// NoSuid: execve ignores set-user-ID and set-group-ID bits.
	NoSuid uint32 = 1 << iota
	// NoDev: device nodes cannot be opened (none can be made anywhere
	// in the sandbox: shown for what the configuration asked).
	NoDev
	// NoExec: files cannot be executed (execve EACCES) nor mapped
	// executable (mmap EPERM, mprotect EACCES).
	NoExec
	mountFlagsAll = NoSuid | NoDev | NoExec
)

// flagNames are the flags' names in /proc/mounts, in its order.
var flagNames = [...]struct {
	f    uint32
	name string
}{{NoSuid, "nosuid"}, {NoDev, "nodev"}, {NoExec, "noexec"}}

// FlagOptions is how /proc/mounts shows a mount's access: "ro" or "rw",
// then the flags' names ("rw,nosuid,nodev").
func FlagOptions(readOnly bool, f uint32) string {
	o := "rw"
	if readOnly {
		o = "ro"
	}
	for _, n := range flagNames {
		if f&n.f != 0 {
			o += "," + n.name
		}
	}
	return o
}

// ParseFlag returns the flag an option names ("noexec" is NoExec), or
// 0 if it names none.
func ParseFlag(opt string) uint32 {
	for _, n := range flagNames {
		if n.name == opt {
			return n.f
		}
	}
	return 0
}

// Flags returns the mount's NoSuid, NoDev and NoExec bits.
func (m *Mount) Flags() uint32 { return m.flags.Load() }

// Has reports whether the mount has flag f.
func (m *Mount) Has(f uint32) bool { return m.flags.Load()&f != 0 }

// SetFlags replaces the mount's flags, but those LockFlags locked stay
// (a remount from inside cannot lift what the sandbox's configuration
// set; it need not name them either, as mount -o remount,ro does not).
// It returns the flags the mount has now.
func (m *Mount) SetFlags(f uint32) uint32 {
	f = f&mountFlagsAll | m.lockedFlags.Load()
	m.flags.Store(f)
	return f
}

// LockFlags sets flags f for good: a remount cannot clear them, and a
// bind of the mount keeps them locked (CopyFlags).
func (m *Mount) LockFlags(f uint32) {
	f &= mountFlagsAll
	m.flags.Or(f)
	m.lockedFlags.Or(f)
}

// CopyFlags gives m the flags of src, locked where src's are, as a bind
// mount gets its source's.
func (m *Mount) CopyFlags(src *Mount) {
	m.flags.Store(src.flags.Load())
	m.lockedFlags.Store(src.lockedFlags.Load())
}

// RootDentry is the mount's root directory (or file).
func (m *Mount) RootDentry() *Dentry { return m.root }

// IsMountRoot reports whether d is the root of a mount other than the
// tree's own root: what umount2 and a remount act on.
func (v *VFS) IsMountRoot(d *Dentry) bool {
	return d != v.root && d.mount != nil && d == d.mount.root
}

// Unmount removes the mount whose root is d. EINVAL if d is not a
// mount's root or is one of the sandbox's configuration (locked); EBUSY
// while another mount is stacked on it or mounted inside it. Files open
// in it stay usable, as after a lazy unmount.
func (v *VFS) Unmount(d *Dentry) error {
	if !v.IsMountRoot(d) || d.mount.locked {
		return unix.EINVAL
	}
	if hasMounts(d) {
		return unix.EBUSY
	}
	m := d.mount
	p := m.point
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mounted != m {
		return unix.EINVAL // already gone
	}
	p.mounted = nil
	return nil
}

// hasMounts reports whether anything is mounted on d or below it (the
// dentries with mounts stay cached, so walking the cache finds them all).
func hasMounts(d *Dentry) bool { return findMount(d, func(*Mount) bool { return true }) }

// findMount reports whether a mount on d or below it (in d's own
// filesystem, and in the mounts on top of it) satisfies match.
func findMount(d *Dentry, match func(*Mount) bool) bool {
	d.mu.Lock()
	m := d.mounted
	kids := make([]*Dentry, 0, len(d.children))
	for _, c := range d.children {
		kids = append(kids, c)
	}
	d.mu.Unlock()
	if m != nil && (match(m) || findMount(m.root, match)) {
		return true
	}
	for _, c := range kids {
		if findMount(c, match) {
			return true
		}
	}
	return false
}

// Bind is a bind mount's filesystem: d's own, rooted at d (what is
// mounted below d is not carried over, as without MS_REC). EINVAL when a
// mount of the sandbox's configuration lies on d or below it: the bind
// would uncover what that mount hides (a --tmpfs over a host directory).
func Bind(d *Dentry) (FS, error) {
	if findMount(d, func(m *Mount) bool { return m.locked }) {
		return nil, unix.EINVAL
	}
	return bindFS{d.mount.FS, d.node}, nil
}

type bindFS struct {
	fs   FS
	root Node
}

func (b bindFS) Root() Node { return b.root }

// StatfsType is the bound filesystem's.
func (b bindFS) StatfsType() int64 {
	if t, ok := b.fs.(StatfsTyper); ok {
		return t.StatfsType()
	}
	return 0
}
