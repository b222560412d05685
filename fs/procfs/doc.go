// Package procfs is the sandbox's /proc: a read-only fs.FS that shows the
// kernel's processes and a few system files in Linux's formats, closely
// enough for ps, top, free, psutil, glibc and the Go and Python runtimes.
//
// # Where the data comes from
//
// procfs does not import the kernel (the kernel imports fs). Everything
// it shows comes from a Source, which the kernel implements: the process
// list, each Process (a ProcInfo snapshot of its scalars, threads, memory
// map, descriptors, limits, argument and environment areas, auxv, links),
// and the system-wide figures (uptime, memory, load, CPUs, names, the
// mount table, the cpuinfo text). The Source is asked at lookup, stat and
// open time; nothing is cached in procfs.
//
// # Self
//
// A node has no notion of who is looking it up, yet /proc/self and
// /proc/thread-self name the caller. procfs therefore hands out views:
// New(src) makes the filesystem, and
//
//	f.ForPID(pid)       // self -> "<pid>", thread-self -> "<pid>/task/<pid>"
//	f.ForTask(pid, tid) // self -> "<pid>", thread-self -> "<pid>/task/<tid>"
//
// return an fs.FS whose root is bound to that task; everything else is the
// same in every view (same contents, same inode numbers). The kernel mounts
// a process's view at /proc in that process's tree (a per-process fs.VFS
// over the shared root and mounts, or a VFS that resolves /proc through the
// caller's view). The FS itself (f.Root()) is the view of no process:
// self and thread-self are absent (ENOENT), as for a caller outside the PID
// namespace, and /proc/mounts (a link to self/mounts) dangles.
//
// # Layout
//
//	/proc/{cpuinfo, filesystems, loadavg, meminfo, stat, uptime, version}
//	/proc/mounts -> self/mounts
//	/proc/self, /proc/thread-self (in a process's view)
//	/proc/sys/fs/{file-max, nr_open}
//	/proc/sys/kernel/{cap_last_cap, hostname, ngroups_max, osrelease, ostype,
//	                  overflowgid, overflowuid, pid_max, version,
//	                  random/{boot_id, entropy_avail, poolsize, uuid}}
//	/proc/sys/vm/{max_map_count, overcommit_memory}
//	/proc/<pid>/{task/, fd/, fdinfo/, environ, auxv, status, limits, comm,
//	             cmdline, stat, statm, maps, cwd, root, exe, mounts, mountinfo}
//	/proc/<pid>/task/<tid>/ the same files but task/
//
// /proc lists the thread-group IDs; the ID of a thread that is not a
// leader can be looked up too (if the Source answers for it), unlisted,
// as on Linux. The files of task/<tid> show the thread's own name, state
// and CPU times; those of /proc/<pid> the group's.
//
// # Files
//
// A regular file's content is generated when it is opened, into a buffer:
// reads, preads and seeks (SEEK_SET and SEEK_CUR, as Linux's seq_file)
// see that snapshot. Everything is read-only: opening for writing or with
// O_TRUNC is EACCES (EISDIR for a directory), Write is EINVAL. Directories
// implement fs.DirReader; their listing is taken when read from offset 0.
// Symlinks (self, thread-self, exe, cwd, root, fd/<n>, mounts) implement
// Readlink and are followed by the VFS as paths in the caller's tree, and
// a process in another root has its paths resolved in the caller's. fd/<n>
// of a pipe, a socket, an anonymous or a deleted file is a magic link
// (fs.MagicLink): open, stat and the other calls that follow it get that
// open file itself (open: the same open file description, if its access
// mode allows the one asked for).
//
// Attributes: directories dr-xr-xr-x (fd/ dr-x------), files -r--r--r--
// (environ and auxv -r--------), links lrwxrwxrwx (fd/<n> l-wx------,
// lr-x------ or lrwx------ by access mode). A process's files belong to its
// effective uid and gid and date from its start; the system files belong to
// root and date from boot. st_dev is Dev for every file, st_ino a hash of
// the path (1 for the root), the same in every view, st_size 0 as on Linux.
// Once a process (or thread, or descriptor) is gone its nodes, which the
// VFS's dentry cache may still hold, fail with ENOENT; a file already open
// still reads its snapshot.
//
// # Formats
//
// stat has the 52 fields of do_task_stat, the name between the first "("
// and the last ")"; status has Linux's keys, order and spacing (Name
// escaped, "%8d kB" sizes, 16-digit signal masks, the capability sets,
// NoNewPrivs, Seccomp and Seccomp_filters of the process); maps puts the path at column 74; limits and
// meminfo use Linux's column widths; mounts and mountinfo escape space, tab,
// newline and backslash as octal and number the mounts when the Source does
// not. Tests hold maps, limits, status and meminfo against the host's /proc
// where there is one. What the sandbox does not track (page faults, context
// switches, swap, per-CPU time) is shown as zero; /proc/stat's CPU lines are
// made from the uptime and the idle time.
package procfs
