// Package fs owns files as the program sees them: open file descriptions,
// per-process file descriptor tables (close-on-exec, dup semantics,
// RLIMIT_NOFILE), and the file implementations. Today it holds the host
// stdio passthrough; the VFS (mounts, dentries, host/tmpfs/overlay/devfs/
// procfs) grows here.
package fs
