// Command bench measures what running a program under ringbox costs: each
// row is measured natively and under "ringbox run" in the same run of the
// tool, and the table gives the ratio ringbox/native.
//
// Usage, from the module root:
//
//	go run ./tools/bench [-quick] [-ringbox PATH] [-platform NAME] [-json]
//
// It builds ./cmd/ringbox into a temporary directory (unless -ringbox names
// a binary), compiles the C programs of progs/ there with gcc -static -O2,
// and prints:
//
//   - null syscall (getppid): raw getppid calls in a loop, ns per call.
//   - first-touch fault, 64 MiB: one write to each 4 KiB page of a fresh
//     anonymous 64 MiB mapping, ns per page (ringbox maps several pages per
//     fault; the exits column shows how many faults a page cost).
//   - mmap 64 KiB, touch, munmap: ns per iteration of map, write each of
//     the 16 pages, unmap.
//   - start-up to first instruction: a -nostdlib program whose _start reads
//     CLOCK_REALTIME; minus the host time just before the process started.
//   - static hello, whole run: wall time of a static hello world, start to
//     exit.
//   - mix: raw clock_gettime, getpid and a 64-byte write to stdout (a pipe
//     the tool drains) per iteration, ns per iteration.
//
// Loop programs take the operation count as argv[1] and time their loop
// with CLOCK_MONOTONIC, so process start-up is excluded. The count is
// calibrated separately for each side so that one run takes about a second
// (0.1 s with -quick); the first-touch row always touches 64 MiB. Native and
// ringbox runs alternate and the figures are medians: of 3 runs for loop
// rows, of 20 (5 with -quick) for the start-up and hello rows. Programs run
// with an empty environment on both sides.
//
// The last column comes from separate "ringbox run --debug" runs: the VM
// exit counters of the "ringbox: exits:" line, per unit of the row. For loop
// rows it is the difference between a run with the measured count and a run
// with 0 operations, divided by the count, so start-up exits cancel out; for
// the start-up and hello rows it is the whole run's counters.
//
// Flags:
//
//	-quick          fewer and shorter runs, for a CI smoke test
//	-ringbox PATH   use this ringbox binary
//	-platform NAME  pass --platform=NAME to ringbox (default: not passed)
//	-json           print the results as JSON on stdout; the table goes to stderr
//
// The tool exits non-zero with a message when /dev/kvm is unusable, when a
// program fails natively or under ringbox, or when its output does not
// parse. It asserts nothing about the figures: the machine may be shared and
// medians vary from run to run.
package main
