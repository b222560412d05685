// Command bench measures what running a program under ringbox costs, in
// ring0 mode and in exit mode: each row is measured natively, under
// "ringbox run --platform=kvm" (ring0 mode, ringbox's default: the kernel
// runs inside the guest and a system call does not leave the VM) and under
// "ringbox run --platform=kvm-exit" (exit mode: every system call and page
// fault exits to the host) in the same run of the tool.
//
// Usage, from the module root:
//
//	go run ./tools/bench [-quick] [-ringbox PATH] [-platform NAME] [-hostio MODE] [-json]
//
// -hostio passes --hostio=MODE to every ringbox run: compare -hostio=thread
// with -hostio=exit to see what the host I/O thread saves on the file rows
// (the counters table then has hostcall.worker and hostcall.direct).
//
// It builds ./cmd/ringbox into a temporary directory (unless -ringbox names
// a binary), compiles the C programs of progs/ there with gcc -static -O2,
// makes the file-system rows' files there (see below), and measures:
//
//   - null syscall (getppid): raw getppid calls in a loop, ns per call.
//   - clock_gettime through libc (vDSO): CLOCK_MONOTONIC reads in a loop,
//     ns per call; on the x86 backend the sandbox's vDSO runs the host's
//     clock code (no system call), elsewhere its stubs make the call.
//   - first-touch fault, 64 MiB: one write to each 4 KiB page of a fresh
//     anonymous 64 MiB mapping, ns per page (ringbox maps several pages per
//     fault; the counters show how many faults a page cost).
//   - mmap 64 KiB, touch, munmap: ns per iteration of map, write each of
//     the 16 pages, unmap.
//   - start-up to first instruction: a -nostdlib program whose _start reads
//     CLOCK_REALTIME; minus the host time just before the process started.
//   - static hello, whole run: wall time of a static hello world, start to
//     exit.
//   - dynamic hello, whole run: the same program linked to the host's libc
//     (ld.so, libc.so.6 through the sandbox's file system); issue 11's
//     goal: under native + 5 ms.
//   - mix: raw clock_gettime, getpid and a 64-byte write to stdout (a pipe
//     the tool drains) per iteration, ns per iteration.
//   - open+close existing file: open(O_RDONLY) and close of a 4 KiB file,
//     ns per pair.
//   - stat existing file: stat of the same file, ns per call.
//   - getdents: opendir, readdir to the end and closedir of a directory of
//     10,000 empty files, time per full listing (each listing must find
//     all 10,000).
//   - read 1 GiB file, 1 MiB reads: sequential read(2)s of 1 MiB over a
//     1 GiB file of real data (no holes), MB/s. The tool writes and fsyncs
//     the file once, so every side reads it from the host's page cache.
//     Every 4 KiB block of it starts with its own offset, which the
//     program checks.
//   - write 1 GiB+fsync, --tmpfs: create a file, write 1 GiB of the same
//     kind of data with 1 MiB writes, fsync, MB/s (the fsync timed, the
//     create and the final close and unlink not). In the sandbox the file
//     is in an in-memory file system, "--tmpfs D --workdir D"; natively
//     in the host's tmpfs, /dev/shm.
//   - write 1 GiB+fsync, rw --mount: the same into a host directory bound
//     with "--mount D:D:rw --workdir D"; natively into D.
//   - ls -la /usr/bin, whole run: wall time of the host's /bin/ls (a
//     dynamic program; the sandbox sees the host's /) listing /usr/bin,
//     stdout on /dev/null, start to exit.
//     One run per side with stdout on a pipe first checks that all sides
//     print as many lines; it is also the warm-up round, and its ringbox
//     runs (with --debug) give the row's exits.
//   - python3 -c pass; python3 -c 'import json, email, http.client,
//     sqlite3'; stat /etc/passwd; cat /etc/passwd, whole runs: wall time
//     of the host's programs, stdout on /dev/null, after a warm-up round;
//     one --debug run per mode gives the exits (issue 11 watches these
//     counts: kvm_run and bounces per run).
//   - PSS of a sandbox running sleep 5: the proportional set size of the
//     process tree (ringbox's processes; natively the sleep) 3 seconds in,
//     from /proc/PID/smaps_rollup; medians of 3 runs per side (1 with
//     -quick), shown in MB, with no exits. Issue 11's goal: under 12 MB.
//     Three seconds in, both ringbox processes have trimmed their mappings
//     of the ringbox binary (after 1 s, vmm/trim.go): the row
//     measures a settled sandbox, not one starting up. The host's
//     transparent huge page setting matters (under THP=always the parent's
//     first 2 MiB of Go heap stays resident whole): say which it was.
//   - fork + wait: fork, _exit(0) in the child, waitpid in the parent, ns
//     per fork (a static program: a small address space).
//   - posix_spawn + exec + wait of /bin/true: posix_spawn of the host's
//     /bin/true (dynamic) with an empty environment, and waitpid, per spawn.
//   - pthread create + join: a thread that returns at once, per thread.
//   - pipe ping-pong, 2 processes, 1 byte: the parent writes a byte into a
//     pipe, a forked child reads it and writes it back into another, per
//     round trip.
//   - futex ping-pong, 2 threads: two threads hand a turn back and forth
//     with FUTEX_WAIT and FUTEX_WAKE on one word, per switch (one hand-off
//     from one thread to the other; a round trip is two).
//     The ping-pong programs start their partner, and reap it after the
//     loop, with 0 operations too, so its exits cancel out like start-up's.
//   - sh -c 'for i in $(seq 200); do /bin/true; done': wall time of the
//     whole run of the host's /bin/sh (a fork and an exec per loop). The
//     command ends with "; echo $i" and every run must print 200.
//   - gcc -O2 hello.c, whole run: the host's gcc compiles and links
//     progs/hello.c in a directory of its own; every run must make an a.out
//     that prints "hello, world" (run natively). Skipped if gcc is missing.
//   - make -j2, 4 .c files, whole run: "make -B -j2" of a project the tool
//     writes into a directory of its own: three modules and a main.c, a
//     header, a Makefile that compiles each with gcc -O2 and links them;
//     every run must build a program that prints what the project computes.
//     Skipped if make or gcc is missing.
//     In the sandbox the gcc and make rows' directory is bound read-write
//     at its own path and is the working directory ("--mount D:D:rw
//     --workdir D"); gcc's temporary files go to /tmp, the host's natively,
//     the sandbox's in-memory layer under ringbox. The sh, gcc and make
//     rows run with PATH=/usr/local/bin:/usr/bin:/bin on every side.
//
// With -quick the read and write rows move 64 MiB instead of 1 GiB, the
// first-touch row touches 16 MiB instead of 64 MiB, the sh row runs seq 20
// instead of 200, the sh, gcc and make rows time one run per side (not 5),
// the gcc and make rows run natively and on the first platform only (ring0
// mode by default), and the ls row times 3 runs per side (not 10): in the
// x86 lane, where a run of gcc takes seconds and make tens of seconds,
// -quick must stay short. The table says so and names the rows by the size
// and count used. Rows in MB/s (10^6 bytes a second) are measured, like the
// others, as time per unit, here per MiB: their ratios are ratios of times
// (above 1: slower than native) and their exits and counters are per MiB.
//
// The file-system rows' files lie in a directory "data" in the tool's
// temporary directory (under $TMPDIR, else /tmp; the table names its file
// system), which the sandbox gets with "--mount D:D" (read-write, ringbox's
// default) at its own path; the rw --mount write row's directory lies next
// to it. The sandbox's root is the host's /, read-only, where /bench does
// not exist and --tmpfs needs an existing directory, so the --tmpfs mount
// point is an empty directory in the temporary directory too. The native
// side of the --tmpfs write row needs /dev/shm to be a tmpfs with room for
// the file and 64 MiB more; the tool fails otherwise. The tool removes all
// of it when it ends, also on an error or SIGINT, SIGTERM or SIGHUP.
//
// For each row the table gives the native, ring0 and exit figures, the
// ratios ring0/native and exit/native, ring0's speed-up over exit mode
// (exit/ring0; below 1 when ring0 mode is slower), the VM exits per unit
// of each mode and the exits per second while the row ran (its exits per
// unit over its time per unit). A second table lists all counters of "ringbox run --debug"
// per unit, and a footer line per row with a target says PASS or MISS:
//
//   - null syscall: ring0 under 1 µs per call and under 3x native;
//   - mmap 64 KiB, touch, munmap: ring0 under 80 µs per iteration;
//   - start-up to first instruction: ring0 under 10 ms;
//   - the process rows (issue 9): ring0 under 2x native for fork, spawn,
//     pthread create and the sh loop, 1.3x for the pipe ping-pong, 1.5x for
//     the futex ping-pong, gcc and make.
//
// The verdicts come from this run's medians and are informational: a MISS
// does not make the tool fail.
//
// Loop programs take the operation count as argv[1] and time their loop with
// CLOCK_MONOTONIC, so process start-up is excluded. The count is calibrated
// separately for each side (native, ring0, exit) so that one run takes about
// a second (0.1 s with -quick), but at least 100 operations (1 listing for
// the getdents row; for the process rows, whose operations take up to a
// second each in the x86 lane, 1 for fork, spawn and pthread create, 10 for
// the ping-pongs); the first pilot run has 1000 operations (100 with -quick:
// in the x86 lane 1000 take seconds under ringbox) or the process rows' own
// smaller counts; the first-touch row always touches its whole region, the
// read and write rows always move the whole file. The sides take turns
// (native, ring0, exit, native, ...) and the figures are medians: of 5 runs
// (3 with -quick) for loop rows but the read and write rows (always 3), of
// 20 (5 with -quick) for the start-up and hello rows and of 10 (3 with
// -quick) for the ls row, of 5 (1 with -quick) for the sh, gcc and make
// rows; these begin with an untimed warm-up round (for the sh, gcc and make
// rows one native run, which warms the host's page cache for every side).
// Programs run with an empty environment on every side but where said.
//
// The exits come from "ringbox run --debug" runs (separate ones, but for the
// ls, sh, gcc and make rows; see below), whose stderr ends with a line of
// counters, "ringbox: exits: ...". In ring0 mode a run's VM exits are
// kvm_run - 1 (every KVM_RUN after the first follows an exit: a host system
// call the kernel makes from the guest, counted in exit.bounce, or the
// kernel leaving the guest, counted in leave); in exit mode they are the
// exit.* counters summed. For loop rows the figure is the difference between
// a run with the measured count (at least 10 forks or threads, 5 spawns) and
// a run with 0 operations, divided by the count, so start-up exits cancel
// out; for the start-up, hello and ls rows it is the whole run's (ls: of its
// checking round). The sh, gcc and make rows run ringbox with --debug in
// their timed runs (it adds only a few log lines and the counters line) and
// give the medians of those runs' exits and counters. In ring0 mode a task's
// vCPU leaves the guest when the task exits (one exit) and its first KVM_RUN
// follows no exit, so kvm_run - 1 still counts the exits of a run with many
// processes and threads: every KVM_RUN of every vCPU ends in one, and only
// the last, the first task's leave, is not counted.
//
// Before the process rows a full run took about three minutes on a 2-CPU
// machine and -quick about 30 seconds. In the x86 lane (software emulation)
// -quick takes 4.5 to 6.5 minutes with the process rows, by the machine's
// load (with make failing at once; a build of the make row's project takes
// another 30 s or so there).
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
// unusable or when it cannot build ringbox, compile its programs or make its
// files. A row fails when a program fails natively or under ringbox (a
// file-system program also fails on wrong data, a short file or a listing
// with the wrong number of entries; a process row's program on a child or
// thread that ends wrongly or a byte that comes back wrong), when its output
// does not parse or is wrong (ls prints a different number of lines under
// ringbox, sh does not print the count, gcc or make builds no working
// program), or when ringbox --debug reports a platform other than the one
// asked for. A failed row shows FAILED in the table with its reason below
// it, the other rows still run, and the tool exits with status 1 after the
// table, naming the failed rows. When ringbox itself crashes, the reason
// begins with the first lines of the crash report. The tool asserts nothing about the figures: the
// machine may be shared and medians vary from run to run.
package main
