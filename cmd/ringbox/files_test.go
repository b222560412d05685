package main

import (
	"testing"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
)

// TestMakeMountPointSymlinks: a mount destination that is a dangling
// symlink (an image's /etc/resolv.conf) gets what the link names made in
// the sandbox, relative or absolute, and a symlink loop is ELOOP.
func TestMakeMountPointSymlinks(t *testing.T) {
	t.Parallel()
	root := tmpfs.New(1 << 20)
	v := fs.NewVFS(root, false)
	mk := func(dir, name string) {
		t.Helper()
		d, err := v.Resolve(v.Root(), v.Root(), dir, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Node().(fs.Mutable).Mkdir(name, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(dir, name, target string) {
		t.Helper()
		d, err := v.Resolve(v.Root(), v.Root(), dir, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Node().(fs.Mutable).Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	mk("/", "etc")
	link("/etc", "resolv.conf", "../run/systemd/resolve/stub-resolv.conf")
	link("/etc", "hosts", "/var/lib/hosts")
	link("/", "data", "srv/data") // a directory mount through a link
	link("/", "loop1", "loop2")
	link("/", "loop2", "loop1")

	for _, c := range []struct {
		dst, made string
		dir       bool
	}{
		{"/etc/resolv.conf", "/run/systemd/resolve/stub-resolv.conf", false},
		{"/etc/hosts", "/var/lib/hosts", false},
		{"/data/x", "/srv/data/x", true},
	} {
		if err := makeMountPoint(v, c.dst, c.dir); err != nil {
			t.Fatalf("makeMountPoint(%s): %v", c.dst, err)
		}
		d, err := v.Resolve(v.Root(), v.Root(), c.made, true)
		if err != nil {
			t.Fatalf("%s: %s was not made: %v", c.dst, c.made, err)
		}
		if d.IsDir() != c.dir {
			t.Errorf("%s: %s is a directory: %v", c.dst, c.made, d.IsDir())
		}
		if _, err := v.Resolve(v.Root(), v.Root(), c.dst, true); err != nil {
			t.Errorf("%s does not resolve now: %v", c.dst, err)
		}
	}
	if err := makeMountPoint(v, "/loop1/x", true); err != unix.ELOOP {
		t.Errorf("a symlink loop: %v, want ELOOP", err)
	}
}
