package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/devfs"
	"ringbox/fs/hostfs"
	"ringbox/fs/overlay"
	"ringbox/fs/procfs"
	"ringbox/fs/tmpfs"
	"ringbox/guestkernel/loader"
)

// mountSpec is one --mount SRC:DST[:OPTS], or an OCI config's bind.
type mountSpec struct {
	src, dst string
	mountAccess
}

type mountList []mountSpec

func (m *mountList) String() string { return fmt.Sprint(*m) }

// Set reads SRC:DST[:OPTS], OPTS a comma-separated list of ro, rw,
// noexec and exec. A bind of host files is always nosuid and nodev: a
// set-user-ID file of the host's is not the sandbox's to honour.
func (m *mountList) Set(v string) error {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("want SRC:DST[:OPTS], got %q", v)
	}
	spec := mountSpec{src: parts[0], dst: parts[1], mountAccess: mountAccess{flags: fs.NoSuid | fs.NoDev}}
	if !path.IsAbs(spec.dst) {
		return fmt.Errorf("mount destination %q is not an absolute path", spec.dst)
	}
	if len(parts) == 3 {
		for _, opt := range strings.Split(parts[2], ",") {
			if opt == "suid" || opt == "dev" || !spec.set(opt) {
				return fmt.Errorf("mount option %q: want ro, rw, noexec or exec", opt)
			}
		}
	}
	*m = append(*m, spec)
	return nil
}

// buildVFS makes the program's file tree: the root (the host's / or
// --rootfs) read-only with an in-memory writable layer on top (none with
// --read-only), /dev, /dev/shm, /sys, --tmpfs and --mount binds.
func buildVFS(o *runOpts) (*fs.VFS, []procfs.MountInfo, []func(fs.PageSource), *devfs.FS, error) {
	rootDir := o.rootfs
	if rootDir == "" {
		rootDir = "/"
	}
	root, err := hostfs.New(rootDir, !o.rootRW)
	if err != nil {
		return nil, nil, nil, nil, fail(exitSandbox, "--rootfs %s: %v", rootDir, err)
	}
	// Read-only host trees are taken not to change during the run: their
	// attributes, symlinks and missing names are cached, and so are the
	// pages of the files programs map (at most an eighth of the memory
	// limit or 256 MiB each).
	root.Cache()
	var v *fs.VFS
	// mems attach the in-memory filesystems and the page caches to the
	// memory file once it exists (mapping their pages needs that).
	var mems []func(fs.PageSource)
	cacheBudget := int64(min(o.memory/8, 256<<20))
	hostPages := func(h *hostfs.FS) {
		mems = append(mems, func(src fs.PageSource) { h.SetPageSource(src, cacheBudget) })
	}
	hostPages(root)
	defaultSize := int64(o.disk)
	if defaultSize == 0 {
		defaultSize = int64(o.memory / 2)
	}
	newTmpfs := func() *tmpfs.FS {
		t := tmpfs.New(defaultSize)
		mems = append(mems, t.SetPageSource)
		return t
	}
	// table is what /proc/mounts shows.
	var table []procfs.MountInfo
	// The root of the command line is nosuid: the host's set-user-ID
	// programs are not the sandbox's to honour (nor those of --rootfs,
	// which is taken as the host's). An OCI container's is as runc
	// mounts it.
	rootAccess := mountAccess{readOnly: o.readOnly, flags: fs.NoSuid | fs.NoDev}
	if o.ociDevices {
		rootAccess.flags = 0
	}
	switch {
	case o.rootRW:
		// An OCI container's own rootfs: written in place, as runc
		// does (the snapshot keeps the changes).
		v = fs.NewVFS(root, false)
		table = append(table, procfs.MountInfo{Source: "rootfs", Target: "/", FSType: "ringbox-host", Options: rootAccess.options()})
	case o.readOnly:
		v = fs.NewVFS(root, true)
		table = append(table, procfs.MountInfo{Source: "none", Target: "/", FSType: "ringbox-host", Options: rootAccess.options()})
	default:
		// Writes go to memory; the host tree is never changed.
		v = fs.NewVFS(overlay.New(root, newTmpfs()), false)
		table = append(table, procfs.MountInfo{Source: "overlay", Target: "/", FSType: "overlay", Options: rootAccess.options()})
	}
	v.Root().Mount().LockFlags(rootAccess.flags)
	add := func(src, dst, typ string, a mountAccess, extra string) {
		opts := a.options()
		if extra != "" {
			opts += "," + extra
		}
		// An OCI config names the sandbox's own filesystems its way
		// (/dev as tmpfs, /dev/shm's source shm ...).
		if as, ok := o.mountAs[dst]; ok {
			typ, src = cmp.Or(as[0], typ), cmp.Or(as[1], src)
		}
		table = append(table, procfs.MountInfo{Source: src, Target: dst, FSType: typ, Options: opts})
	}
	// mountTmpfs mounts a tmpfs of the configuration.
	mountTmpfs := func(spec tmpfsSpec) error {
		a, opts, show, _, err := spec.parse(int64(o.memory))
		if err != nil {
			return err
		}
		t := tmpfs.NewWith(opts, defaultSize)
		if err := v.MountWith(spec.dst, t, a.readOnly, a.flags); err != nil {
			return err
		}
		mems = append(mems, t.SetPageSource)
		add("tmpfs", spec.dst, "tmpfs", a, show)
		return nil
	}
	// The sandbox's own /dev with a writable /dev/shm (not with
	// --read-only), and --tmpfs mounts. A root without /dev goes without.
	// An OCI container's /dev/ptmx is a symlink to pts/ptmx, as runc
	// makes it.
	dev := devfs.NewWith(devfs.Options{PtmxLink: o.ociDevices})
	if err := v.MountWith("/dev", dev, false, fs.NoSuid); err != nil {
		dev = nil
	} else {
		add("devfs", "/dev", "devtmpfs", mountAccess{flags: fs.NoSuid}, "")
		add("devpts", "/dev/pts", "devpts", mountAccess{flags: fs.NoSuid | fs.NoExec}, "")
		// Not with --read-only, unless an OCI config asks for it (with
		// its options: Docker's --shm-size).
		shm := tmpfsSpec{dst: "/dev/shm", opts: "nosuid,nodev", oci: true}
		if o.shm != nil {
			shm = *o.shm
		}
		if !o.readOnly || o.shm != nil {
			if err := mountTmpfs(shm); err != nil && o.shm != nil {
				fmt.Fprintf(os.Stderr, "ringbox: config.json: ignored: mounts[/dev/shm]: %v\n", err)
			}
		}
		// The message queues' filesystem is mounted once the kernel
		// exists (runCmd); its line belongs here, before /sys.
		add("mqueue", "/dev/mqueue", "mqueue", mountAccess{flags: fs.NoSuid | fs.NoDev | fs.NoExec}, "")
	}
	if sys, err := minimalSysfs(); err == nil && v.MountWith("/sys", sys, true, fs.NoSuid|fs.NoDev|fs.NoExec) == nil {
		add("sysfs", "/sys", "sysfs", mountAccess{readOnly: true, flags: fs.NoSuid | fs.NoDev | fs.NoExec}, "")
	}
	// skip reports whether a mount whose point cannot be made is left out
	// (an OCI config's, with a note, as such mounts were before ringbox
	// made points: /dev/termination-log under the sandbox's own /dev) or
	// fails the run (the command line's).
	skip := func(dst string, err error) bool {
		if o.optionalMounts {
			fmt.Fprintf(os.Stderr, "ringbox: config.json: ignored: mounts[%s]: no mount point can be made there: %v\n", dst, err)
		}
		return o.optionalMounts
	}
	for _, spec := range o.tmpfs {
		if err := makeMountPoint(v, spec.dst, true); err != nil {
			if skip(spec.dst, err) {
				continue
			}
			return nil, nil, nil, nil, fail(exitSandbox, "--tmpfs %s: no directory there in the sandbox and none can be made: %v", spec.dst, err)
		}
		if err := mountTmpfs(spec); err != nil {
			return nil, nil, nil, nil, fail(exitSandbox, "--tmpfs %s: %v", spec.dst, err)
		}
	}
	for _, m := range o.mounts {
		// A directory, or a single file (a file bind mount).
		var mfs *hostfs.FS
		st, err := os.Stat(m.src)
		isDir := err != nil || st.IsDir()
		if isDir {
			mfs, err = hostfs.New(m.src, m.readOnly)
		} else {
			mfs, err = hostfs.NewFile(m.src, m.readOnly)
		}
		if err != nil {
			return nil, nil, nil, nil, fail(exitSandbox, "--mount %s:%s: %v", m.src, m.dst, err)
		}
		kind := map[bool]string{true: "directory", false: "file"}[isDir]
		if err := makeMountPoint(v, m.dst, isDir); err != nil {
			mfs.Close()
			if skip(m.dst, err) {
				continue
			}
			return nil, nil, nil, nil, fail(exitSandbox, "--mount %s:%s: no %s there in the sandbox and none can be made: %v", m.src, m.dst, kind, err)
		}
		mfs.Cache()
		hostPages(mfs)
		add(m.src, m.dst, "ringbox-host", m.mountAccess, "")
		if err := v.MountWith(m.dst, mfs, m.readOnly, m.flags); err != nil {
			return nil, nil, nil, nil, fail(exitSandbox, "--mount %s:%s: the destination must be a %s in the sandbox: %v", m.src, m.dst, kind, err)
		}
	}
	// The hostname resolves, as in a container (an OCI config's
	// runtime gives its own /etc/hosts).
	if !o.ociDevices {
		shown, err := showHosts(v, o.hostname)
		if err != nil {
			return nil, nil, nil, nil, fail(exitSandbox, "/etc/hosts: %v", err)
		}
		if shown {
			add("hosts", "/etc/hosts", "tmpfs", mountAccess{flags: fs.NoSuid | fs.NoDev}, "")
		}
	}
	return v, table, mems, dev, nil
}

// makeMountPoint makes what is missing of dst in the sandbox's tree before
// a mount there, as runc and Docker do: directories, and for a file mount
// an empty file. They are made in the tree dst is in, which must be
// writable: the root's memory layer by default (the host is untouched), an
// OCI container's own rootfs (as runc writes into it), or an earlier
// tmpfs mount. A read-only root is EROFS; what exists is left as it is.
// A dangling symlink on the way is followed inside the sandbox, and what
// it names is made, as runc does (an image's /etc/resolv.conf linking to
// /run/systemd/resolve/stub-resolv.conf gets Docker's file there).
func makeMountPoint(v *fs.VFS, dst string, dir bool) error {
	return makeMountPointVia(v, dst, dir, 0)
}

func makeMountPointVia(v *fs.VFS, dst string, dir bool, links int) error {
	if links > fs.MaxSymlinks {
		return unix.ELOOP
	}
	if _, err := v.Resolve(v.Root(), v.Root(), dst, true); err == nil {
		return nil
	}
	d := v.Root()
	parts := strings.Split(strings.Trim(path.Clean("/"+dst), "/"), "/")
	for i, name := range parts {
		next, err := v.Resolve(d, v.Root(), name, true)
		if err == nil {
			d = next
			continue
		}
		if err != unix.ENOENT {
			return err
		}
		if l, lerr := v.Resolve(d, v.Root(), name, false); lerr == nil {
			// name is there: a symlink to what is missing.
			target, err := l.Node().Readlink()
			if err != nil {
				return err
			}
			if !strings.HasPrefix(target, "/") {
				target = path.Join(d.Path(v.Root()), target)
			}
			return makeMountPointVia(v, path.Join(append([]string{target}, parts[i+1:]...)...), dir, links+1)
		}
		m, ok := d.Node().(fs.Mutable)
		if d.Mount().ReadOnly || !ok {
			return unix.EROFS
		}
		if i == len(parts)-1 && !dir {
			_, impl, err := m.Create(name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			impl.Release()
		} else if err := m.Mkdir(name, 0o755); err != nil {
			return err
		}
		d.Invalidate(name)
		if d, err = v.Resolve(d, v.Root(), name, true); err != nil {
			return err
		}
	}
	return nil
}

// workDir picks the program's working directory: --workdir, else the
// host's current directory when the sandbox sees the host's root and has
// it, else /.
func workDir(v *fs.VFS, o *runOpts) (*fs.Dentry, error) {
	if o.workdir != "" {
		d, err := v.Resolve(v.Root(), v.Root(), o.workdir, true)
		if err != nil || !d.IsDir() {
			return nil, fail(exitSandbox, "--workdir %s: not a directory in the sandbox", o.workdir)
		}
		return d, nil
	}
	if o.rootfs == "" {
		if wd, err := os.Getwd(); err == nil {
			if d, err := v.Resolve(v.Root(), v.Root(), wd, true); err == nil && d.IsDir() {
				return d, nil
			}
		}
	}
	return v.Root(), nil
}

// executable is a program file opened in the sandbox's tree.
type executable struct {
	impl fs.Impl
	size int64
	path string // absolute, in the sandbox
}

func (e executable) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.impl.Pread(p, off)
	if n < len(p) && err == nil {
		err = io.EOF
	}
	return n, err
}

func (e executable) Size() int64 { return e.size }

// openInTree opens the program file at p (relative to cwd) as execve
// would: 127 if missing, 126 if not an executable regular file.
func openInTree(v *fs.VFS, cwd *fs.Dentry, p string) (executable, error) {
	d, err := v.Resolve(cwd, v.Root(), p, true)
	if err != nil {
		if err == unix.ENOENT || err == unix.ENOTDIR {
			return executable{}, fail(exitNotFound, "%s: no such file or directory", p)
		}
		return executable{}, fail(exitCannotExec, "%s: %v", p, err)
	}
	st, err := d.Node().Stat()
	if err != nil {
		return executable{}, fail(exitCannotExec, "%s: %v", p, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return executable{}, fail(exitCannotExec, "%s: is a directory", p)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return executable{}, fail(exitCannotExec, "%s: permission denied", p)
	}
	impl, err := d.Node().Open(unix.O_RDONLY)
	if err != nil {
		return executable{}, fail(exitCannotExec, "%s: %v", p, err)
	}
	return executable{impl: impl, size: st.Size, path: d.Path(v.Root())}, nil
}

// lookPathInTree finds prog as a shell would, in the sandbox's tree: a
// name with a slash is used as it is, any other is searched in PATH.
func lookPathInTree(v *fs.VFS, cwd *fs.Dentry, prog, pathEnv string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	var denied error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, prog)
		d, err := v.Resolve(cwd, v.Root(), p, true)
		if err != nil {
			continue
		}
		st, err := d.Node().Stat()
		if err != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR {
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
			denied = fail(exitCannotExec, "%s: permission denied", p)
			continue
		}
		return p, nil
	}
	if denied != nil {
		return "", denied
	}
	return "", fail(exitNotFound, "%s: executable file not found in $PATH", prog) // runc's words, which Docker reads as 127
}

// openProgram opens the program to run, following "#!" lines as execve
// does (at most 4): it returns the file to load and the final argv.
func openProgram(v *fs.VFS, cwd *fs.Dentry, prog string, argv []string) (executable, string, []string, error) {
	for hop := 0; ; hop++ {
		exe, err := openInTree(v, cwd, prog)
		if err != nil {
			return executable{}, "", nil, err
		}
		var head [loader.ShebangMax]byte
		n, _ := exe.ReadAt(head[:], 0)
		interp, arg, ok := loader.Shebang(head[:n])
		if !ok {
			return exe, prog, argv, nil
		}
		exe.impl.Release()
		if hop == 4 {
			return executable{}, "", nil, fail(exitCannotExec, "%s: too many levels of #! interpreters", prog)
		}
		next := []string{interp}
		if arg != "" {
			next = append(next, arg)
		}
		argv = append(append(next, prog), argv[1:]...)
		prog = interp
	}
}

// programIDs are the user and group IDs the program sees: ringbox's own,
// or --user UID[:GID], where GID defaults to UID's group in the sandbox's
// /etc/passwd, else to UID.
func programIDs(v *fs.VFS, u userSpec) (uid, gid uint32) {
	if !u.set {
		return uint32(os.Getuid()), uint32(os.Getgid())
	}
	if u.hasGID {
		return u.uid, u.gid
	}
	if data, err := readInTree(v, "/etc/passwd", 4<<20); err == nil {
		if g, ok := passwdGroup(data, u.uid); ok {
			return u.uid, g
		}
	}
	return u.uid, u.uid
}

// passwdGroup is the group ID of uid's first line in an /etc/passwd.
func passwdGroup(passwd []byte, uid uint32) (uint32, bool) {
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 {
			continue
		}
		if u, err := parseID(f[2]); err != nil || u != uid {
			continue
		}
		g, err := parseID(f[3])
		return g, err == nil
	}
	return 0, false
}

// readInTree reads the regular file p of the sandbox's tree, up to max
// bytes.
func readInTree(v *fs.VFS, p string, max int64) ([]byte, error) {
	d, err := v.Resolve(v.Root(), v.Root(), p, true)
	if err != nil {
		return nil, err
	}
	st, err := d.Node().Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > max {
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", p, max)
	}
	impl, err := d.Node().Open(unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer impl.Release()
	buf := make([]byte, st.Size)
	n, err := impl.Pread(buf, 0)
	if err != nil && n == 0 && st.Size > 0 {
		return nil, err
	}
	return buf[:n], nil
}
