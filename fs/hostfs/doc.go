// Package hostfs gives the sandbox a directory of the host as a
// filesystem (fs.FS), read-only or read-write.
//
// The host never resolves a path for the program. The tree's directory is
// held as an O_PATH descriptor, and every later host open names a single
// component relative to a descriptor of the tree, with openat2(2) and
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS plus
// O_NOFOLLOW: ".." and names with a '/' are refused before they reach the
// host, a symbolic link is never followed by the host (the VFS reads it
// and resolves its target inside the sandbox's own root), and nothing
// outside the directory can be named. Mutations use the *at system calls
// with the same single-component rule; mode and time changes act on the
// node's own descriptor (fchmodat2 and utimensat with AT_EMPTY_PATH; before
// Linux 6.6, fchmod on the file opened for reading, or, when ringbox may
// not read it, fchmodat on /proc/self/fd/N of its O_PATH descriptor, a
// magic link to this very file).
//
// Each node is its parent and its name. Its own O_PATH descriptor is
// opened on first use and kept in a per-filesystem LRU of at most
// DefaultMaxFDs descriptors; an evicted node is reopened from its parent
// (by name, so a node whose host entry was replaced meanwhile refers to
// the new, still in-tree, entry). Renames done through the package keep
// live nodes pointing at their new names.
//
// Extended attributes: a file's user.* namespace is the host file's own,
// read through and, in a read-write tree, written through; the host's
// other namespaces are not shown (xattr.go).
//
// Host details stay out of the sandbox: st_dev is replaced by a constant
// per mount and host device (st_ino, modes, sizes, times and owners are
// kept). Device nodes of the tree can be looked up and stat'ed but not
// opened (EACCES, as on a nodev mount); FIFOs and sockets cannot be opened
// (ENXIO). Files created or chmod'ed by the program never get the set-user-
// or set-group-ID bits (directories keep set-group-ID). Directories on
// kernel pseudo-filesystems of the host (procfs, sysfs, debugfs, cgroup,
// bpf ...) are shown as mount points but cannot be entered or opened
// (EACCES): with the host's / as the tree, they would hand out the host's
// processes and kernel.
package hostfs
