// rlimits: the memory and file-size limits a process sets on itself, as
// test harnesses and judges set them (Python's resource.setrlimit before
// running untrusted code): RLIMIT_AS and RLIMIT_DATA against mmap, brk,
// mremap and malloc; RLIMIT_STACK raised for deep recursion and lowered
// below it (SIGSEGV); RLIMIT_FSIZE against write, pwrite, writev,
// ftruncate and fallocate (EFBIG and SIGXFSZ); RLIMIT_NPROC against fork
// for an unprivileged user; RLIMIT_CPU's SIGXCPU and SIGKILL. Each case
// runs in a child;
// it prints results only, never addresses.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024L * 1024)

static const char *en(int e) {
	switch (e) {
	case 0: return "ok";
	case ENOMEM: return "ENOMEM";
	case EFBIG: return "EFBIG";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case E2BIG: return "E2BIG";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

static void setlim(int r, rlim_t v) {
	struct rlimit l = {v, v};
	if (getrlimit(r, &l) == 0) {
		l.rlim_cur = v;
		if (l.rlim_max != RLIM_INFINITY && l.rlim_max < v)
			l.rlim_cur = l.rlim_max;
	}
	if (setrlimit(r, &l) != 0) {
		perror("setrlimit");
		exit(1);
	}
}

static void report(const char *what, void *p) {
	printf("%-34s %s\n", what, p == MAP_FAILED || p == NULL ? en(errno) : "ok");
}

static void *map(size_t n, int prot, int flags) {
	errno = 0;
	return mmap(NULL, n, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static void as_case(void) {
	setlim(RLIMIT_AS, 512 * MiB);
	report("AS: mmap 1 GiB", map(1024 * MiB, PROT_NONE, MAP_PRIVATE));
	void *a = map(128 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	report("AS: mmap 128 MiB", a);
	void *b = map(128 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	report("AS: mmap 128 MiB more", b);
	void *c = map(300 * MiB, PROT_READ, MAP_SHARED);
	report("AS: shared 300 MiB over the limit", c);
	errno = 0;
	report("AS: malloc 400 MiB", malloc(400 * MiB));
	errno = 0;
	report("AS: mremap a to 400 MiB", mremap(a, 128 * MiB, 400 * MiB, MREMAP_MAYMOVE));
	munmap(b, 128 * MiB);
	errno = 0;
	a = mremap(a, 128 * MiB, 240 * MiB, MREMAP_MAYMOVE);
	report("AS: mremap a to 240 MiB", a);
	// Replacing what is mapped adds nothing.
	errno = 0;
	report("AS: MAP_FIXED over a", mmap(a, 200 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	errno = 0;
	void *brk0 = sbrk(0);
	report("AS: sbrk 400 MiB", sbrk(400 * MiB) == (void *)-1 ? NULL : brk0);
	errno = 0;
	report("AS: sbrk 1 MiB", sbrk(MiB) == (void *)-1 ? NULL : brk0);
	// Python's MemoryError comes from here.
	char *big = malloc(600 * MiB);
	printf("%-34s %s\n", "AS: malloc 600 MiB", big ? "ok" : "NULL");
}

static void data_case(void) {
	setlim(RLIMIT_DATA, 64 * MiB);
	report("DATA: private rw 128 MiB", map(128 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE));
	report("DATA: private ro 128 MiB", map(128 * MiB, PROT_READ, MAP_PRIVATE));
	report("DATA: shared rw 128 MiB", map(128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED));
	report("DATA: private rw 16 MiB", map(16 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE));
	// mprotect to writable makes private memory data too.
	void *ro = map(128 * MiB, PROT_READ, MAP_PRIVATE);
	errno = 0;
	printf("%-34s %s\n", "DATA: mprotect 128 MiB rw", en(mprotect(ro, 128 * MiB, PROT_READ | PROT_WRITE) ? errno : 0));
	errno = 0;
	printf("%-34s %s\n", "DATA: mprotect 1 MiB rw", en(mprotect(ro, MiB, PROT_READ | PROT_WRITE) ? errno : 0));
	errno = 0;
	void *brk0 = sbrk(0);
	report("DATA: sbrk 100 MiB", sbrk(100 * MiB) == (void *)-1 ? NULL : brk0);
	errno = 0;
	report("DATA: malloc 100 MiB", malloc(100 * MiB));
}

// depth recurses n times with a 1 KiB frame and returns a sum the
// compiler cannot fold away.
static int depth(int n) {
	volatile char frame[1024];
	frame[0] = (char)n;
	if (n == 0)
		return frame[0];
	return depth(n - 1) + frame[0] % 2;
}

static void stack_child(const char *self, rlim_t lim, int kib) {
	pid_t p = fork();
	if (p == 0) {
		setlim(RLIMIT_STACK, lim);
		char arg[32];
		snprintf(arg, sizeof arg, "%d", kib);
		// The stack's room is set at exec, as in Linux.
		execl(self, self, "deep", arg, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	char what[64];
	snprintf(what, sizeof what, "STACK %s, %d KiB deep", lim == RLIM_INFINITY ? "unlimited" : lim >= 256 * MiB ? "256 MiB" : "4 MiB", kib);
	if (WIFSIGNALED(st))
		printf("%-34s signal %s\n", what, WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "other");
	else
		printf("%-34s exit %d\n", what, WEXITSTATUS(st));
}

static volatile sig_atomic_t xfsz;
static void onxfsz(int s) { (void)s; xfsz++; }

static void fsize_case(void) {
	signal(SIGXFSZ, onxfsz);
	char path[] = "/tmp/rlimits-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	setlim(RLIMIT_FSIZE, 10000);
	char buf[8000];
	memset(buf, 'x', sizeof buf);
	long r;
#define SHOW(what, call) \
	do { \
		errno = 0; \
		r = (call); \
		printf("%-34s %ld %s sig %d\n", what, r, r < 0 ? en(errno) : "ok", (int)xfsz); \
	} while (0)
	SHOW("FSIZE: write 8000", write(fd, buf, 8000));
	SHOW("FSIZE: write 8000 more (partial)", write(fd, buf, 8000));
	SHOW("FSIZE: write at the limit", write(fd, buf, 10));
	SHOW("FSIZE: pwrite at 20000", pwrite(fd, buf, 10, 20000));
	SHOW("FSIZE: pwrite at 9995", pwrite(fd, buf, 10, 9995));
	struct iovec iov[2] = {{buf, 3000}, {buf, 3000}};
	lseek(fd, 5000, SEEK_SET);
	SHOW("FSIZE: writev 6000 at 5000", writev(fd, iov, 2));
	SHOW("FSIZE: ftruncate 20000", ftruncate(fd, 20000));
	SHOW("FSIZE: ftruncate 5000", ftruncate(fd, 5000));
	SHOW("FSIZE: fallocate 50000", fallocate(fd, 0, 0, 50000));
	SHOW("FSIZE: fallocate 5000", fallocate(fd, 0, 0, 5000));
	int pfd[2];
	if (pipe(pfd) != 0)
		return;
	SHOW("FSIZE: pipe write 8000 (no limit)", write(pfd[1], buf, 8000));
	signal(SIGXFSZ, SIG_DFL);
	lseek(fd, 0, SEEK_END);
	if (write(fd, buf, 8000) >= 0)
		r = write(fd, buf, 8000);
	printf("not reached: SIGXFSZ's default ends the process\n");
}

// nproc_case: as an unprivileged user of its own (a UID no other process
// has), with RLIMIT_NPROC 3, the process and two children fit; the third
// fork fails with EAGAIN.
static void nproc_case(void) {
	if (setgid(54321) != 0 || setuid(54321) != 0) {
		perror("setuid");
		return;
	}
	setlim(RLIMIT_NPROC, 3);
	pid_t kids[5];
	int n = 0, e = 0;
	for (int i = 0; i < 5; i++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			e = errno;
			break;
		}
		kids[n++] = p;
	}
	printf("%-34s %d, then %s\n", "NPROC 3: forked", n, e ? en(e) : "none failed");
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
}

// cpu cases: RLIMIT_CPU {1, 2}: SIGXCPU at one CPU second (handled),
// SIGKILL at two; {1, unlimited}: SIGXCPU's default action ends it.
static volatile sig_atomic_t xcpu;
static void onxcpu(int s) {
	(void)s;
	xcpu++;
	write(1, "SIGXCPU\n", 8);
}

static void spin(void) {
	for (volatile unsigned long i = 0;; i++)
		;
}

static void cpu_hard_case(void) {
	signal(SIGXCPU, onxcpu);
	struct rlimit l = {1, 2};
	setrlimit(RLIMIT_CPU, &l);
	spin();
}

static void cpu_soft_case(void) {
	struct rlimit l = {1, RLIM_INFINITY};
	setrlimit(RLIMIT_CPU, &l);
	spin();
}

// prlimit_case: another process's limits, read and set through prlimit
// into and from the caller's memory.
static void prlimit_case(void) {
	pid_t p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	struct rlimit l = {0, 0}, set = {12345, 23456};
	int r = prlimit(p, RLIMIT_FSIZE, &set, NULL);
	printf("%-34s %s\n", "prlimit: set the child's FSIZE", r ? en(errno) : "ok");
	r = prlimit(p, RLIMIT_FSIZE, NULL, &l);
	printf("%-34s %s %lu %lu\n", "prlimit: read it back", r ? en(errno) : "ok", (unsigned long)l.rlim_cur,
	       (unsigned long)l.rlim_max);
	struct rlimit mine;
	getrlimit(RLIMIT_FSIZE, &mine);
	printf("%-34s %s\n", "prlimit: mine unchanged", mine.rlim_cur == RLIM_INFINITY ? "yes" : "no");
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

// argmax: execve's arguments may take a quarter of RLIMIT_STACK, at
// least 128 KiB and at most 6 MiB (E2BIG past it); sysconf(_SC_ARG_MAX)
// says the quarter.
static const char *self;
static void argmax_with(rlim_t lim, const char *what, int fits, int too_big) {
	const int kibs[] = {fits, too_big};
	pid_t p = fork();
	if (p == 0) {
		setlim(RLIMIT_STACK, lim);
		printf("ARG_MAX with %-9s sysconf %ld\n", what, sysconf(_SC_ARG_MAX));
		static char big[100 * 1024];
		memset(big, 'a', sizeof big - 1);
		for (size_t k = 0; k < sizeof kibs / sizeof kibs[0]; k++) {
			int n = kibs[k] / 100;
			char **av = calloc(n + 3, sizeof *av);
			av[0] = (char *)self;
			av[1] = "argok";
			for (int i = 0; i < n; i++)
				av[2 + i] = big;
			fflush(stdout);
			pid_t c = fork();
			if (c == 0) {
				execv(self, av);
				printf("  %5d KiB of arguments: %s\n", kibs[k], en(errno));
				fflush(stdout);
				_exit(1);
			}
			int st;
			waitpid(c, &st, 0);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				printf("  %5d KiB of arguments: ran\n", kibs[k]);
			free(av);
		}
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, NULL, 0);
}

static void argmax_case(void) {
	// Each limit with a size just under it and one over it (the
	// quarter: 256 KiB, 2 MiB; unlimited: 6 MiB).
	argmax_with(1 * MiB, "1 MiB", 200, 300);
	argmax_with(8 * MiB, "8 MiB", 1900, 2200);
	argmax_with(RLIM_INFINITY, "unlimited", 3000, 6300);
}

static void run(const char *name, void (*f)(void)) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		f();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", name, strsignal(WTERMSIG(st)));
	else
		printf("%s: exit %d\n", name, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "deep") == 0) {
		int kib = atoi(argv[2]);
		printf("%-34s %d\n", "  recursed", depth(kib) >= 0 ? kib : -1);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "argok") == 0)
		return 0;
	self = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	run("as", as_case);
	run("data", data_case);
	fflush(stdout);
	stack_child(argv[0], 256 * MiB, 100 * 1024);
	stack_child(argv[0], RLIM_INFINITY, 100 * 1024);
	stack_child(argv[0], 4 * MiB, 100 * 1024);
	stack_child(argv[0], 4 * MiB, 1024);
	run("argmax", argmax_case);
	run("fsize", fsize_case);
	if (getuid() == 0)
		run("nproc", nproc_case);
	run("prlimit", prlimit_case);
	run("cpu 1:2", cpu_hard_case);
	run("cpu 1:unlimited", cpu_soft_case);
	return 0;
}
