package syscalls

import (
	"fmt"
	"math/bits"
	"strconv"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/procfs"
	"ringbox/fs/tmpfs"
	"ringbox/guestkernel/kernel"
)

// mount(2) and umount2(2), for CAP_SYS_ADMIN. The sandbox has one mount
// namespace: a mount is seen by all of its processes (unshare and clone
// of CLONE_NEWNS are EPERM), and nothing propagates anywhere, so the
// propagation flags (mount --make-rprivate /) are accepted and do
// nothing. Offered: a new tmpfs (size=, mode=, uid=, gid=, nr_inodes=;
// ramfs is one too) or proc, a bind mount of a directory or a file (what
// is mounted below its source is not carried over, even with MS_REC), a
// remount that makes a mount read-only or writable again (not one the
// sandbox's configuration made read-only, nor a bind of one: EPERM; a
// bind of a read-only mount is read-only, as Linux's), and unmounting
// one that has no other mount on it or inside it. The mounts of the
// sandbox's configuration are locked, as Linux locks those a more
// privileged namespace made: they cannot be unmounted (EINVAL), nor can
// a tree they cover part of be bound elsewhere (EINVAL), which would
// uncover what they hide. Other filesystem types
// are ENODEV and MS_MOVE EINVAL, logged once under --debug. The host's
// file systems are never mounted: a source is a path in the sandbox.

func init() {
	register(unix.SYS_MOUNT, sysMount)
	register(unix.SYS_UMOUNT2, sysUmount2)
}

// msPropagation are the propagation types (one at a time).
const msPropagation = unix.MS_SHARED | unix.MS_PRIVATE | unix.MS_SLAVE | unix.MS_UNBINDABLE

// refuseMount logs a mount the sandbox does not offer once.
func refuseMount(t *kernel.Task, err unix.Errno, what string) (uintptr, error) {
	if t.K.FirstMessage("mount " + what) {
		t.K.Log.Debug("mount: not offered inside the sandbox", "what", what, "errno", unix.ErrnoName(err))
	}
	return 0, err
}

func sysMount(t *kernel.Task, a Args) (uintptr, error) {
	v := t.K.VFS
	if v == nil {
		return 0, noFS
	}
	flags := a[3]
	if flags&unix.MS_MGC_MSK == unix.MS_MGC_VAL {
		flags &^= unix.MS_MGC_MSK // the magic of old callers
	}
	target, err := copyPath(t, a[1])
	if err != nil {
		return 0, err
	}
	if c := t.TG.Creds(); !c.HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EPERM
	}
	d, err := v.For(searcher(t)).Resolve(t.TG.Cwd(), t.TG.FSRoot(), target, true)
	if err != nil {
		return 0, err
	}
	at := d.Path(v.Root())
	switch {
	case flags&unix.MS_REMOUNT != 0:
		if !v.IsMountRoot(d) {
			return 0, unix.EINVAL
		}
		ro := flags&unix.MS_RDONLY != 0
		if !ro && d.Mount().ReadOnlyLocked() {
			// Read-only by the sandbox's configuration (or a bind of
			// such a mount): never writable from inside.
			return 0, unix.EPERM
		}
		// The flags given replace the mount's, as Linux's remount; those
		// the configuration set stay.
		f := d.Mount().SetFlags(mountFlags(flags))
		d.Mount().ReadOnly = ro
		t.K.SetMountAccess(at, fs.FlagOptions(ro, f))
		return 0, nil
	case flags&msPropagation != 0:
		if bits.OnesCount64(uint64(flags&msPropagation)) != 1 {
			return 0, unix.EINVAL
		}
		return 0, nil // one namespace: nothing to propagate to
	case flags&unix.MS_MOVE != 0:
		return refuseMount(t, unix.EINVAL, "MS_MOVE")
	case flags&unix.MS_BIND != 0:
		source, err := copyPath(t, a[0])
		if err != nil {
			return 0, err
		}
		sd, err := v.For(searcher(t)).Resolve(t.TG.Cwd(), t.TG.FSRoot(), source, true)
		if err != nil {
			return 0, err
		}
		// A bind is read-only when its source mount is, as Linux's
		// copies the source's flags; locked when the source is.
		src := sd.Mount()
		if src.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		bfs, err := fs.Bind(sd)
		if err != nil {
			return refuseMount(t, unix.EINVAL, "a bind of a tree with the sandbox's own mounts in it (it would uncover what they hide)")
		}
		m, err := v.MountOn(d, bfs, flags&unix.MS_RDONLY != 0)
		if err != nil {
			return 0, err
		}
		if src.ReadOnlyLocked() {
			m.LockReadOnly()
		}
		// nosuid, nodev and noexec are the source's (locked where its
		// are), as Linux's bind copies them; the call's are ignored.
		m.CopyFlags(src)
		from := t.K.MountAt(src.RootDentry().Path(v.Root()))
		t.K.AddMount(procfs.MountInfo{Source: from.Source, Target: at, FSType: from.FSType, Dev: from.Dev,
			Root: sd.Path(src.RootDentry()), Options: fs.FlagOptions(m.ReadOnly, m.Flags()) + ",relatime"})
		return 0, nil
	}
	fstype, err := t.MM.CopyInString(a[2], 255)
	if err != nil {
		return 0, err
	}
	var data string
	if a[4] != 0 {
		if data, err = t.MM.CopyInString(a[4], unix.Getpagesize()-1); err != nil {
			return 0, err
		}
	}
	source := ""
	if a[0] != 0 {
		if source, err = t.MM.CopyInString(a[0], fs.PathMax-1); err != nil {
			return 0, err
		}
	}
	var fsys fs.FS
	switch fstype {
	case "tmpfs", "ramfs":
		tf, err := newMountTmpfs(t, data)
		if err != nil {
			return 0, err
		}
		fsys = tf
	case "proc":
		fsys = procfs.New(kernel.NewProcSource(t.K, Release, Version)).ForCaller()
		data = ""
	default:
		return refuseMount(t, unix.ENODEV, "filesystem type "+strconv.Quote(fstype))
	}
	m, err := v.MountOn(d, fsys, flags&unix.MS_RDONLY != 0)
	if err != nil {
		return 0, err
	}
	m.SetFlags(mountFlags(flags))
	st, _ := fsys.Root().Stat()
	opts := fs.FlagOptions(m.ReadOnly, m.Flags()) + ",relatime"
	if data != "" {
		opts += "," + data
	}
	t.K.AddMount(procfs.MountInfo{Source: orNone(source), Target: at, FSType: fstype, Dev: st.Dev, Options: opts})
	return 0, nil
}

// newMountTmpfs makes a tmpfs from mount(2)'s options
// (tmpfs.ParseOptions): half the sandbox's memory by default, as Linux's
// half of RAM. The generic options (rw, nosuid ...) arrive as flags but
// are accepted here too, as Linux's tmpfs does.
func newMountTmpfs(t *kernel.Task, data string) (*tmpfs.FS, error) {
	total := int64(t.K.Mem.Limit())
	o, err := tmpfs.ParseOptions(data, total, func(opt string) error {
		switch opt {
		case "rw", "ro", "nosuid", "nodev", "noexec", "relatime", "strictatime":
			return nil
		}
		return unix.EINVAL
	})
	if err != nil {
		return nil, err
	}
	f := tmpfs.NewWith(o, total/2)
	f.SetPageSource(t.K.Mem)
	return f, nil
}

// mountFlags are a mount's fs flags for mount(2)'s MS_ flags.
func mountFlags(flags uintptr) uint32 {
	var f uint32
	if flags&unix.MS_NOSUID != 0 {
		f |= fs.NoSuid
	}
	if flags&unix.MS_NODEV != 0 {
		f |= fs.NoDev
	}
	if flags&unix.MS_NOEXEC != 0 {
		f |= fs.NoExec
	}
	return f
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func sysUmount2(t *kernel.Task, a Args) (uintptr, error) {
	v := t.K.VFS
	if v == nil {
		return 0, noFS
	}
	flags := int(a[1])
	known := unix.MNT_FORCE | unix.MNT_DETACH | unix.MNT_EXPIRE | unix.UMOUNT_NOFOLLOW
	if flags&^known != 0 || flags&unix.MNT_EXPIRE != 0 && flags&(unix.MNT_FORCE|unix.MNT_DETACH) != 0 {
		return 0, unix.EINVAL
	}
	target, err := copyPath(t, a[0])
	if err != nil {
		return 0, err
	}
	if c := t.TG.Creds(); !c.HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EPERM
	}
	d, err := v.For(searcher(t)).Resolve(t.TG.Cwd(), t.TG.FSRoot(), target, flags&unix.UMOUNT_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	at := d.Path(v.Root())
	if err := v.Unmount(d); err != nil {
		if err == unix.EBUSY && t.K.FirstMessage("umount busy") {
			t.K.Log.Debug("umount2: mounts inside it or on it are unmounted first", "target", at, "flags", fmt.Sprintf("%#x", flags))
		}
		return 0, err
	}
	t.K.RemoveMount(at)
	return 0, nil
}
