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
// Limits, per sandbox: MaxInstances instances (EMFILE past it) and
// MaxWatches watches (ENOSPC). Per instance, the queue holds at most
// MaxQueued events (Linux's max_queued_events) and MaxQueuedBytes bytes
// of events as read returns them (1 MiB, headers and padded names; a
// bound on memory that Linux does not have, reached before the count only
// when the events average more than 64 bytes: names of 48 characters or
// more). While the queue is full, new events are dropped and one
// IN_Q_OVERFLOW event, queued after the last event kept, stands for them;
// as on Linux, once a read has made room, events are queued again after
// that marker, and no second marker is queued until the first is read.
//
// Readers are woken for every event queued (not for one merged into the
// last event queued, nor for one dropped), as on Linux, so that an
// edge-triggered epoll reader hears each.
package inotify
