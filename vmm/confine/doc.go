// Package confine shuts the ringbox process itself in, so that a bug in
// the Go kernel still leaves the host out of reach: namespaces, an empty
// root, no capabilities, rlimits, and a seccomp filter that allows only
// the host syscalls in table.go (the ring0 origin check is the layer
// beside these, in ring0).
//
// ringbox run starts as a thin parent that re-executes itself (Run) in new
// mount, PID, IPC and UTS namespaces, a new network namespace unless the
// sandbox needs the host's network, and a user namespace when it is not
// root. The parent forwards signals and passes the child's exit status
// on; only the descriptors 0, 1 and 2 cross over. The child opens what it
// needs from the host (the KVM device, the root directory descriptor of
// each mount, the host facts /proc would show), then calls Enter: it
// pivots into an empty read-only tmpfs (host files are reached only
// through the descriptors opened before), drops every capability from
// every thread, sets no_new_privs and bounds its own rlimits (NOFILE,
// NPROC, CORE 0; not AS, which the memory file's reservations would
// break).
//
// Where the host refuses namespaces (no privilege, user namespaces
// disabled), Run says why and ringbox runs unconfined by them; the filter
// and the origin check hold either way.
package confine
