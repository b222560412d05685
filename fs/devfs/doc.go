// Package devfs is the sandbox's /dev (fs.FS): a fixed, read-only tree
// of the devices a program expects, none of them the host's.
//
//	null     crw-rw-rw- 1,3  reads end of file, writes are discarded
//	zero     crw-rw-rw- 1,5  reads zeros, writes are discarded
//	full     crw-rw-rw- 1,7  reads zeros, writes fail with ENOSPC
//	random   crw-rw-rw- 1,8  reads crypto/rand bytes (never blocks),
//	urandom  crw-rw-rw- 1,9  writes are accepted and discarded
//	tty      crw-rw-rw- 5,0  ENXIO on open (no controlling terminal)
//	fd       -> /proc/self/fd
//	stdin    -> /proc/self/fd/0
//	stdout   -> /proc/self/fd/1
//	stderr   -> /proc/self/fd/2
//	pts/     empty (no pseudo-terminals yet; nor is there a ptmx)
//	shm/     empty, drwxrwxrwt: the caller mounts a tmpfs there
//
// The tree cannot change: its nodes do not implement fs.Mutable (nor
// fs.Creator), so the syscall layer refuses creating, removing, renaming,
// chmod and utimes in it. Mount it read-write all the same (readOnly
// false in fs.VFS.MountAt): the devices are opened for writing.
//
// Devices stat as character devices with Linux's major and minor numbers,
// owned by 0:0, with st_dev a constant per filesystem and the times of
// New. Their open files are always ready for poll, are never terminals,
// accept pread and pwrite as read and write (a negative offset is
// EINVAL), and seek to 0 whatever is asked (as Linux's null and zero); an
// access mode that does not allow the call is EBADF. O_TRUNC is ignored on
// devices, as on Linux.
package devfs
