package main

import (
	"fmt"
	"path"
	"strings"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
)

// mountAccess is what a mount of the configuration allows of its files:
// writes, and the fs flags (NoSuid, NoDev, NoExec).
type mountAccess struct {
	readOnly bool
	flags    uint32
}

// set applies one access option (ro, rw, noexec, exec, nosuid, suid,
// nodev, dev, and the atime and propagation ones, which change nothing
// here); false if opt is none of them.
func (a *mountAccess) set(opt string) bool {
	switch opt {
	case "ro":
		a.readOnly = true
	case "rw":
		a.readOnly = false
	case "exec":
		a.flags &^= fs.NoExec
	case "suid":
		a.flags &^= fs.NoSuid
	case "dev":
		a.flags &^= fs.NoDev
	case "relatime", "norelatime", "strictatime", "nostrictatime", "noatime", "atime", "nodiratime", "diratime", "lazytime", "nolazytime",
		// Propagation: the sandbox has one mount namespace.
		"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
	default:
		f := fs.ParseFlag(opt)
		a.flags |= f
		return f != 0
	}
	return true
}

// options is the mount's access as /proc/mounts shows it.
func (a mountAccess) options() string { return fs.FlagOptions(a.readOnly, a.flags) + ",relatime" }

// tmpfsSpec is a tmpfs mount of the configuration: --tmpfs DST[:OPTS],
// an OCI config's tmpfs, or its /dev/shm.
type tmpfsSpec struct {
	dst  string
	opts string // comma-separated, as given
	// oci: an OCI config's (access from the options alone, unknown
	// options ignored with a note, as runc's kernel would see them);
	// otherwise the command line's (nosuid and nodev unless suid or dev,
	// unknown options an error).
	oci bool
}

// parseTmpfsSpec reads --tmpfs's DST[:OPTS].
func parseTmpfsSpec(v string) (tmpfsSpec, error) {
	dst, opts, _ := strings.Cut(v, ":")
	if !path.IsAbs(dst) {
		return tmpfsSpec{}, fmt.Errorf("%q is not an absolute path", dst)
	}
	s := tmpfsSpec{dst: path.Clean(dst), opts: opts}
	// Checked now, with a whole for size=N% (the memory limit may come
	// later on the command line); applied by buildVFS.
	if _, _, _, _, err := s.parse(1 << 30); err != nil {
		return tmpfsSpec{}, err
	}
	return s, nil
}

// parse reads the spec's options: the access, tmpfs's own options (size=
// a percentage of whole), those own options as given (for /proc/mounts,
// after the access ones), and the options it does not know. An unknown
// option is an error on the command line; an OCI config's are returned
// (tmpcopyup ...) to be noted. A bad value is an error either way.
func (s tmpfsSpec) parse(whole int64) (mountAccess, tmpfs.Options, string, []string, error) {
	a := mountAccess{}
	if !s.oci {
		a.flags = fs.NoSuid | fs.NoDev
	}
	var bad []string
	notOwn := map[string]bool{}
	o, err := tmpfs.ParseOptions(s.opts, whole, func(opt string) error {
		notOwn[opt] = true
		if !a.set(opt) {
			bad = append(bad, opt)
		}
		return nil
	})
	if err != nil {
		return a, o, "", nil, fmt.Errorf("tmpfs %s: bad option in %q: want size=N[k|m|g|%%], nr_inodes=N, mode=OCTAL, uid=N, gid=N", s.dst, s.opts)
	}
	if len(bad) > 0 && !s.oci {
		return a, o, "", nil, fmt.Errorf("tmpfs %s: unknown option %q: want ro, rw, exec, noexec, suid, nosuid, dev, nodev, or tmpfs's size=, nr_inodes=, mode=, uid=, gid=", s.dst, bad[0])
	}
	var own []string
	for _, opt := range strings.Split(s.opts, ",") {
		if opt != "" && !notOwn[opt] {
			own = append(own, opt)
		}
	}
	return a, o, strings.Join(own, ","), bad, nil
}

// ociBindAccess is an OCI bind mount's access from its options (ro,
// nosuid, nodev, noexec ...; the rest, rbind and propagation, are no
// access options).
func ociBindAccess(opts []string) mountAccess {
	var a mountAccess
	for _, opt := range opts {
		a.set(opt)
	}
	return a
}
