package syscalls

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
)

// TestMountLocks: what the sandbox's configuration made read-only stays
// so: a remount rw of it is EPERM, a bind of it is read-only and locked
// too; a mount the program made read-only may be made writable again;
// without CAP_SYS_ADMIN mount and umount2 are EPERM.
func TestMountLocks(t *testing.T) {
	mem, err := memfile.New(memfile.ChunkSize, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Span(), 0)
		unix.Close(mem.FD())
	})
	p := schedPlatform{futexPlatform{mem}}
	k := kernel.New(p, mem, nil)
	k.Log = slog.New(slog.DiscardHandler)
	m, err := mm.New(p, mem)
	require.NoError(t, err)
	t.Cleanup(m.Release)
	_, err = m.Mmap(mm.MmapOpts{Addr: futexMem, Len: 4096, Prot: mm.ProtRead | mm.ProtWrite, Fixed: true})
	require.NoError(t, err)
	root, err := k.NewProcess(m, fs.NewFDTable(16), kernel.Creds{Caps: kernel.RootCaps()})
	require.NoError(t, err)
	rootFS := tmpfs.New(1 << 20)
	for _, d := range []string{"ro", "a", "b", "nx", "c"} {
		require.NoError(t, rootFS.Root().(fs.Mutable).Mkdir(d, 0o755))
	}
	k.VFS = fs.NewVFS(rootFS, false)
	root.TG.SetCwd(k.VFS.Root())
	root.TG.SetFSRoot(k.VFS.Root())
	require.NoError(t, k.VFS.MountAt("/ro", tmpfs.New(1<<20), true), "a read-only mount of the configuration")
	require.NoError(t, k.VFS.MountWith("/nx", tmpfs.New(1<<20), false, fs.NoExec|fs.NoSuid), "a noexec mount of the configuration")

	str := func(off uintptr, s string) uintptr {
		_, err := root.MM.CopyOut(futexMem+off, append([]byte(s), 0))
		require.NoError(t, err)
		return futexMem + off
	}
	mount := func(tk *kernel.Task, src, dst, typ string, flags uintptr) error {
		var a Args
		if src != "" {
			a[0] = str(0, src)
		}
		a[1], a[3] = str(256, dst), flags
		if typ != "" {
			a[2] = str(512, typ)
		}
		_, err := sysMount(tk, a)
		return err
	}
	resolve := func(p string) *fs.Dentry {
		d, err := k.VFS.Resolve(k.VFS.Root(), k.VFS.Root(), p, true)
		require.NoError(t, err)
		return d
	}
	assert.Equal(t, unix.EPERM, mount(root, "", "/ro", "", unix.MS_REMOUNT|unix.MS_BIND), "the configuration's read-only mount")
	assert.True(t, resolve("/ro").Mount().ReadOnly)
	require.NoError(t, mount(root, "/ro", "/a", "", unix.MS_BIND))
	assert.True(t, resolve("/a").Mount().ReadOnly, "a bind of a read-only mount is read-only")
	assert.Equal(t, unix.EPERM, mount(root, "", "/a", "", unix.MS_REMOUNT|unix.MS_BIND), "and locked")

	require.NoError(t, mount(root, "none", "/b", "tmpfs", unix.MS_RDONLY))
	assert.True(t, resolve("/b").Mount().ReadOnly)
	assert.Equal(t, "ro,relatime", k.MountAt("/b").Options)
	require.NoError(t, mount(root, "", "/b", "", unix.MS_REMOUNT), "the program's own read-only mount")
	assert.False(t, resolve("/b").Mount().ReadOnly)
	assert.Equal(t, "rw,relatime", k.MountAt("/b").Options, "/proc/mounts shows the remount")
	assert.Equal(t, unix.ENODEV, mount(root, "/dev/sda", "/b", "ext4", 0))
	assert.Equal(t, unix.EINVAL, mount(root, "", "/", "", unix.MS_PRIVATE|unix.MS_SHARED))
	require.NoError(t, mount(root, "", "/", "", unix.MS_REC|unix.MS_PRIVATE))
	assert.Len(t, k.Mounts(), 2, "the table lists the two mounts made")

	user, err := k.NewProcess(m, fs.NewFDTable(16), kernel.Creds{UID: 1000, EUID: 1000})
	require.NoError(t, err)
	user.TG.SetCwd(k.VFS.Root())
	user.TG.SetFSRoot(k.VFS.Root())
	assert.Equal(t, unix.EPERM, mount(user, "none", "/b", "tmpfs", 0))
	_, err = sysUmount2(user, Args{str(256, "/b"), 0})
	assert.Equal(t, unix.EPERM, err)
	_, err = sysUmount2(root, Args{str(256, "/b"), 0})
	require.NoError(t, err)
	_, err = sysUmount2(root, Args{str(256, "/b"), 0})
	assert.Equal(t, unix.EINVAL, err, "not a mount any more")
	assert.Len(t, k.Mounts(), 1)

	// nosuid, nodev, noexec: set by mount(2), replaced by a remount,
	// copied by a bind; the configuration's cannot be lifted.
	require.NoError(t, mount(root, "none", "/b", "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID))
	assert.Equal(t, fs.NoExec|fs.NoSuid, resolve("/b").Mount().Flags())
	assert.Equal(t, "rw,nosuid,noexec,relatime", k.MountAt("/b").Options)
	require.NoError(t, mount(root, "", "/b", "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NODEV))
	assert.Equal(t, fs.NoDev, resolve("/b").Mount().Flags(), "a remount replaces the flags")
	assert.Equal(t, "ro,nodev,relatime", k.MountAt("/b").Options)
	require.NoError(t, mount(root, "", "/nx", "", unix.MS_REMOUNT|unix.MS_RDONLY))
	assert.Equal(t, fs.NoExec|fs.NoSuid, resolve("/nx").Mount().Flags(), "the configuration's flags stay")
	require.NoError(t, mount(root, "", "/nx", "", unix.MS_REMOUNT|unix.MS_NODEV), "adding one")
	assert.Equal(t, fs.NoExec|fs.NoSuid|fs.NoDev, resolve("/nx").Mount().Flags())
	require.NoError(t, mount(root, "/nx", "/c", "", unix.MS_BIND))
	assert.True(t, resolve("/c").Mount().Has(fs.NoExec), "a bind keeps its source's flags")
	require.NoError(t, mount(root, "", "/c", "", unix.MS_REMOUNT|unix.MS_BIND))
	assert.Equal(t, fs.NoExec|fs.NoSuid, resolve("/c").Mount().Flags(), "locked as its source's")
	for _, p := range []string{"/c", "/b"} {
		_, err = sysUmount2(root, Args{str(256, p), 0})
		require.NoError(t, err)
	}

	// The configuration's mounts are locked.
	_, err = sysUmount2(root, Args{str(256, "/ro"), 0})
	assert.Equal(t, unix.EINVAL, err, "a mount of the configuration")
	assert.Equal(t, unix.EINVAL, mount(root, "/", "/b", "", unix.MS_BIND), "a bind that would uncover /ro's directory")
	assert.Equal(t, unix.EINVAL, mount(root, "/", "/b", "", unix.MS_BIND|unix.MS_REC))
}
