// Package cgroup puts a sandbox into a host control group and sets that
// group's limits: what an OCI config's linux.cgroupsPath and
// linux.resources ask of a runtime.
//
// A sandbox is one host process tree: the memory file that backs the
// guest's memory, the vCPU threads, the host I/O thread and the Go
// kernel's own heap. A group around it bounds and accounts all of that,
// the sandbox's overhead included, so `docker stats`, containerd's task
// metrics and the kubelet read a ringbox container's use as they read a
// runc one's, and a CPU quota throttles the vCPUs as it throttles any
// thread.
//
// Both cgroup v2 (one unified tree) and v1 (a tree per controller) are
// handled. Paths are the cgroupfs driver's ("/docker/ID", absolute from
// the tree's root, or relative to the caller's own group) or the systemd
// driver's ("SLICE:PREFIX:NAME"), which becomes the directory systemd
// would give the unit; the group is made there directly, with no D-Bus
// call to systemd.
//
// The pids controller is left alone: the sandbox's processes and threads
// are the guest kernel's tasks, not host ones, and the guest enforces the
// pids limit itself; the host threads of a sandbox are a handful that a
// container's pids limit must not starve.
package cgroup
