// Package lock implements the sandbox's advisory file locks, shared by
// every process in it: POSIX record locks (fcntl F_SETLK, F_SETLKW,
// F_GETLK), open file description locks (F_OFD_SETLK and friends) and
// flock(2). The processes of a sandbox are threads of one host process,
// where the host's own locks would never conflict, so the locks live here,
// keyed by the file as the sandbox names it (st_dev, st_ino); host
// programs outside the sandbox do not see them.
//
// Owners are what Linux makes them: a POSIX lock belongs to the
// descriptor table that took it (threads, and processes made with
// CLONE_FILES, share it) and goes when that table closes any descriptor of
// the file; an OFD or flock lock belongs to the open file description and
// goes with its last descriptor. Record locks of both kinds conflict with
// each other, flock locks only with flock locks.
package lock
