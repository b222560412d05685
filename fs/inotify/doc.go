// Package inotify implements inotify(7) for the sandbox: the instances
// that inotify_init1 makes (a file that reads as a queue of events), the
// watches that inotify_add_watch puts on files and directories, and the
// Hub that carries events from the syscall layer to the watches.
//
// Watches are keyed by the file as the sandbox names it (st_dev, st_ino),
// so one watch sees a file whatever path or hard link reaches it, as on
// Linux. Events are the changes the sandbox's own programs make through
// the VFS: the syscall layer reports each one (open, read, write, close,
// attribute changes, creation, removal, rename) to the Hub after it
// succeeds. A host program that changes a read-write bind mount is not
// heard: the sandbox does not watch the host.
//
// Limits, per sandbox: MaxInstances instances (EMFILE past it),
// MaxWatches watches (ENOSPC), and MaxQueued events per instance, past
// which one IN_Q_OVERFLOW event stands for the events lost.
package inotify
