// Command bench measures what running a program under ringbox costs, in
// ring0 mode and in exit mode: each row is measured natively, under
// "ringbox run --platform=kvm" (ring0 mode, ringbox's default: the kernel
// runs inside the guest and a system call does not leave the VM) and under
// "ringbox run --platform=kvm-exit" (exit mode: every system call and page
// fault exits to the host) in the same run of the tool.
//
// Usage, from the module root:
//
//	go run ./tools/bench [-quick] [-ringbox PATH] [-platform NAME] [-json]
//
// It builds ./cmd/ringbox into a temporary directory (unless -ringbox names
// a binary), compiles the C programs of progs/ there with gcc -static -O2,
// and measures:
//
//   - null syscall (getppid): raw getppid calls in a loop, ns per call.
//   - first-touch fault, 64 MiB: one write to each 4 KiB page of a fresh
//     anonymous 64 MiB mapping, ns per page (ringbox maps several pages per
//     fault; the counters show how many faults a page cost).
//   - mmap 64 KiB, touch, munmap: ns per iteration of map, write each of
//     the 16 pages, unmap.
//   - start-up to first instruction: a -nostdlib program whose _start reads
//     CLOCK_REALTIME; minus the host time just before the process started.
//   - static hello, whole run: wall time of a static hello world, start to
//     exit.
//   - mix: raw clock_gettime, getpid and a 64-byte write to stdout (a pipe
//     the tool drains) per iteration, ns per iteration.
//
// For each row the table gives the native, ring0 and exit figures, the
// ratios ring0/native and exit/native, ring0's speed-up over exit mode
// (exit/ring0; below 1 when ring0 mode is slower) and the VM exits per unit
// of each mode. A second table lists all counters of "ringbox run --debug"
// per unit, and a footer line per row with a target says PASS or MISS:
//
//   - null syscall: ring0 under 1 µs per call and under 3x native;
//   - mmap 64 KiB, touch, munmap: ring0 under 80 µs per iteration;
//   - start-up to first instruction: ring0 under 10 ms.
//
// The verdicts come from this run's medians and are informational: a MISS
// does not make the tool fail.
//
// Loop programs take the operation count as argv[1] and time their loop
// with CLOCK_MONOTONIC, so process start-up is excluded. The count is
// calibrated separately for each side (native, ring0, exit) so that one run
// takes about a second (0.1 s with -quick); the first-touch row always
// touches 64 MiB. The sides take turns (native, ring0, exit, native, ...)
// and the figures are medians: of 5 runs (3 with -quick) for loop rows, of
// 20 (5 with -quick) for the start-up and hello rows, which also begin with
// an untimed warm-up round. Programs run with an empty environment on every
// side.
//
// The exits come from separate "ringbox run --debug" runs, whose stderr ends
// with a line of counters, "ringbox: exits: ...". In ring0 mode a run's VM
// exits are kvm_run - 1 (every KVM_RUN after the first follows an exit: a
// host system call the kernel makes from the guest, counted in exit.bounce,
// or the kernel leaving the guest, counted in leave); in exit mode they are
// the exit.* counters summed. For loop rows the figure is the difference
// between a run with the measured count and a run with 0 operations, divided
// by the count, so start-up exits cancel out; for the start-up and hello
// rows it is the whole run's.
//
// A full run takes about a minute, -quick about 10 seconds.
//
// Flags:
//
//	-quick          fewer and shorter runs, for a CI smoke test
//	-ringbox PATH   use this ringbox binary
//	-platform NAME  measure only ringbox --platform=NAME against native
//	                (default: both kvm and kvm-exit)
//	-json           print the results as JSON on stdout; the table goes to stderr
//
// The tool exits with status 1 and a one-line reason when /dev/kvm is
// unusable, when a program fails natively or under ringbox, when its output
// does not parse, or when ringbox --debug reports a platform other than the
// one asked for. It asserts nothing about the figures: the machine may be
// shared and medians vary from run to run.
package main
