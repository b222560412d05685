// seccomp: seccomp(2) and prctl's PR_SET_SECCOMP. Strict mode (read,
// write, exit and sigreturn only; anything else is SIGKILL), and filters:
// RET_ERRNO (clamped to 4095, the call not run), RET_TRAP (the SIGSYS
// siginfo and ucontext, the handler's REG_RAX as the result), RET_KILL_*
// (a whole process, or one thread of two), RET_TRACE (ENOSYS without a
// tracer; PTRACE_EVENT_SECCOMP, its message, a skipped or changed call
// with one), RET_LOG; checks on arguments' low and high words and on the
// instruction pointer; stacked filters (the strictest action wins, the
// newest filter's data on a tie); inheritance across fork and execve;
// TSYNC; the filter checker's EINVALs; the 32768-instruction budget;
// SECCOMP_GET_ACTION_AVAIL; and /proc/PID/status's Seccomp lines.
// Chrome's and Firefox's sandboxes, systemd, Docker and OpenSSH rely on
// these.
//
// Each case runs in its own child (with NO_NEW_PRIVS, so that it runs the
// same as root or not), which reports through a pipe; the parent prints
// the report and how the child ended. Filters name only calls glibc never
// routes through the vDSO (the sandbox has none): getppid, getpgid,
// getpid, getuid, mkdir, rmdir and write.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef PTRACE_EVENT_SECCOMP
#define PTRACE_EVENT_SECCOMP 7
#endif

static const char *ename(int e) {
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EBADF: return "EBADF";
	case E2BIG: return "E2BIG";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EFBIG: return "EFBIG";
	case EDOM: return "EDOM";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	static char b[4][32];
	static int i;
	char *s = b[i++ % 4];
	snprintf(s, 32, "errno %d", e);
	return s;
}

// res describes a call's result: "ok" (the value is not shown: it may be
// a pid) or "-1 ENAME". Use it right after the call.
static const char *res(long r) {
	if (r >= 0)
		return "ok";
	static char b[4][48];
	static int i;
	char *s = b[i++ % 4];
	snprintf(s, 48, "-1 %s", ename(errno));
	return s;
}

static const char *sname(int sig) {
	switch (sig) {
	case SIGKILL: return "SIGKILL";
	case SIGSYS: return "SIGSYS";
	case SIGSEGV: return "SIGSEGV";
	case SIGABRT: return "SIGABRT";
	case SIGTRAP: return "SIGTRAP";
	case SIGSTOP: return "SIGSTOP";
	}
	static char b[32];
	snprintf(b, sizeof b, "signal %d", sig);
	return b;
}

// status describes a wait status (never the core-dump flag).
static const char *status(int st) {
	static char b[64];
	if (WIFEXITED(st))
		snprintf(b, sizeof b, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, sizeof b, "killed by %s", sname(WTERMSIG(st)));
	else if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_SECCOMP && WSTOPSIG(st) == SIGTRAP)
		snprintf(b, sizeof b, "PTRACE_EVENT_SECCOMP stop");
	else if (WIFSTOPPED(st))
		snprintf(b, sizeof b, "stopped by %s, event %d", sname(WSTOPSIG(st)), st >> 16);
	else
		snprintf(b, sizeof b, "status %#x", st);
	return b;
}

// The report pipe of the case being run (the child's end).
static int rep = -1;

// say adds to the case's report. It makes only write calls, so that it
// works in strict mode.
static void say(const char *fmt, ...) {
	char b[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof b - 1)
		n = sizeof b - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(rep, b + off, n - off);
		if (w <= 0)
			break;
		off += w;
	}
}

// run runs f in a child with NO_NEW_PRIVS and prints "title: " with the
// child's report, and how it ended unless it exited with 0.
static void run(const char *title, void (*f)(void)) {
	fflush(stdout);
	int p[2];
	if (pipe(p) < 0) {
		printf("%s: pipe: %s\n", title, ename(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		rep = p[1];
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			say("PR_SET_NO_NEW_PRIVS: %s", ename(errno));
			_exit(1);
		}
		f();
		_exit(0);
	}
	close(p[1]);
	static char out[8192];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p[0], out + n, sizeof out - 1 - n);
		if (r > 0) {
			n += r;
			if (n == sizeof out - 1)
				break;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	close(p[0]);
	out[n] = 0;
	int st = 0;
	if (waitpid(pid, &st, 0) != pid) {
		printf("%s: %swaitpid: %s\n", title, out, ename(errno));
		return;
	}
	printf("%s: %s%s\n", title, out, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : status(st));
}

// Filters.

#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define NR offsetof(struct seccomp_data, nr)
#define ARCH offsetof(struct seccomp_data, arch)
#define IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define IP_HI (IP_LO + 4)
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define ALLOW SECCOMP_RET_ALLOW
#define ERRNO(e) (SECCOMP_RET_ERRNO | (e))
#define TRAP(d) (SECCOMP_RET_TRAP | (d))
#define TRACE(d) (SECCOMP_RET_TRACE | (d))

static long sc(unsigned op, unsigned long flags, void *args) { return syscall(SYS_seccomp, op, flags, args); }

static long load(unsigned long flags, struct sock_filter *f, unsigned short n) {
	struct sock_fprog p = {n, f};
	return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

// one installs a filter (with flags) that returns action for syscall nr
// and allows everything else; a foreign architecture is killed.
static long one(unsigned long flags, int nr, unsigned action) {
	struct sock_filter f[] = {
		LD(ARCH), JEQ(AUDIT_ARCH_X86_64, 1, 0), RET(SECCOMP_RET_KILL_PROCESS),
		LD(NR),   JEQ(nr, 0, 1),                RET(action),
		RET(ALLOW),
	};
	return load(flags, f, sizeof f / sizeof f[0]);
}

// must reports a failed install and ends the case.
static void must(long r, const char *what) {
	if (r != 0) {
		say("installing %s: %s (%ld) ", what, res(r), r);
		_exit(1);
	}
}

static long allowAll(void) {
	struct sock_filter f[] = {RET(ALLOW)};
	return load(0, f, 1);
}

// fileField reads a field of a /proc/PID/status file ("?" if missing).
static const char *fileField(const char *path, const char *key) {
	static char b[4][32];
	static int i;
	char *out = b[i++ % 4];
	strcpy(out, "?");
	char buf[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return out;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0 && l[kl] == ':') {
			char *v = l + kl + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t m = strcspn(v, "\n");
			if (m > 31)
				m = 31;
			memcpy(out, v, m);
			out[m] = 0;
			break;
		}
	}
	return out;
}

static const char *statusField(const char *key) { return fileField("/proc/self/status", key); }

// sc_at makes syscall nr (no arguments) from a known place: sc_after is
// the address just after its syscall instruction. It returns the raw
// result (-errno on failure).
__asm__(".text\n"
	".globl sc_at\n"
	".type sc_at, @function\n"
	"sc_at:\n"
	"	mov %rdi, %rax\n"
	"	syscall\n"
	".globl sc_after\n"
	"sc_after:\n"
	"	ret\n"
	".size sc_at, .-sc_at\n");
extern long sc_at(long nr);
extern char sc_after[];

// 1. PR_GET_SECCOMP.

static void getSeccomp(void) {
	say("%d before", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	must(allowAll(), "a filter");
	say(", %d after a filter", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	struct sock_filter f[] = {RET(ALLOW)};
	struct sock_fprog p = {1, f};
	say(", another through PR_SET_SECCOMP: %s", res(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0)));
	say(", then %d", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
}

// 2. Strict mode.

static void strictPrctl(void) {
	long r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
	say("PR_SET_SECCOMP %s, write ok, getpid: ", res(r));
	syscall(SYS_getpid);
	say("returned");
	syscall(SYS_exit, 0);
}

static void strictSeccomp(void) {
	long r = sc(SECCOMP_SET_MODE_STRICT, 0, NULL);
	say("seccomp(SET_MODE_STRICT) %s, write ok, getpid: ", res(r));
	syscall(SYS_getpid);
	say("returned");
	syscall(SYS_exit, 0);
}

static void strictReadExit(void) {
	int p[2];
	if (pipe(p) < 0 || write(p[1], "xy", 2) != 2)
		return;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0) {
		say("strict: %s", res(-1));
		return;
	}
	char c[2];
	say("read %s", read(p[0], c, 2) == 2 && c[1] == 'y' ? "ok" : "failed");
	say(", exit(5): ");
	syscall(SYS_exit, 5);
}

// strictStatus reads the status file of a process in strict mode (its
// own cannot be opened, and Linux makes the text when it is first read,
// the sandbox at open: so from another process).
static void strictStatus(void) {
	int ready[2], go[2];
	if (pipe(ready) < 0 || pipe(go) < 0)
		return;
	pid_t g = fork();
	if (g == 0) {
		char c;
		prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		syscall(SYS_exit, 0);
	}
	char c, path[64];
	read(ready[0], &c, 1);
	snprintf(path, sizeof path, "/proc/%d/status", (int)g);
	say("Seccomp %s, Seccomp_filters %s", fileField(path, "Seccomp"), fileField(path, "Seccomp_filters"));
	write(go[1], "g", 1);
	int st;
	waitpid(g, &st, 0);
	say(", then it %s", status(st));
}

static void strictExitGroup(void) {
	prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
	say("exit_group(0): ");
	syscall(SYS_exit_group, 0);
	syscall(SYS_exit, 0);
}

static void strictErrors(void) {
	say("flags 1: %s", res(sc(SECCOMP_SET_MODE_STRICT, 1, NULL)));
	int x = 0;
	say(", args not NULL: %s", res(sc(SECCOMP_SET_MODE_STRICT, 0, &x)));
	say(", PR_SET_SECCOMP mode 9: %s", res(prctl(PR_SET_SECCOMP, 9, 0, 0, 0)));
	must(allowAll(), "a filter");
	say(", strict after a filter: %s", res(sc(SECCOMP_SET_MODE_STRICT, 0, NULL)));
	say(", still %d", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
}

// 3. RET_ERRNO.

static void errnoCase(void) {
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/seccomp-mkdir-%d", (int)getpid());
	rmdir(dir);
	struct sock_filter f[] = {
		LD(NR),
		JEQ(SYS_getppid, 0, 1), RET(ERRNO(EPERM)),
		JEQ(SYS_getpgid, 0, 1), RET(ERRNO(5000)),
		JEQ(SYS_mkdir, 0, 1),   RET(ERRNO(EACCES)),
		JEQ(SYS_rmdir, 0, 1),   RET(ERRNO(0)),
		RET(ALLOW),
	};
	must(load(0, f, sizeof f / sizeof f[0]), "the filter");
	errno = 0;
	long r = syscall(SYS_getppid);
	say("getppid %ld %s", r, ename(errno));
	errno = 0;
	r = syscall(SYS_getpgid, 0);
	say(", data 5000: %ld errno %d", r, errno);
	say(", mkdir %s", res(syscall(SYS_mkdir, dir, 0755)));
	struct stat s;
	int made = stat(dir, &s) == 0;
	say(", run: %s", made ? "yes" : "no");
	if (made)
		unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
	// ERRNO(0): the call "succeeds" with 0 and is not run.
	mkdirat(AT_FDCWD, dir, 0755);
	errno = 0;
	r = syscall(SYS_rmdir, dir);
	say(", ERRNO(0): rmdir returns %ld, removed: %s", r, stat(dir, &s) == 0 ? "no" : "yes");
	unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
}

// 4. RET_TRAP.

static volatile int trapped;
static volatile int tSigno, tCode, tErrno, tSyscall;
static volatile unsigned tArch;
static volatile uintptr_t tAddr, tRip, tRax, tRdi;
static volatile long trapResult = 777;

static void onSys(int sig, siginfo_t *si, void *uc0) {
	ucontext_t *uc = uc0;
	trapped++;
	tSigno = si->si_signo;
	tCode = si->si_code;
	tErrno = si->si_errno;
	tSyscall = si->si_syscall;
	tArch = si->si_arch;
	tAddr = (uintptr_t)si->si_call_addr;
	tRip = uc->uc_mcontext.gregs[REG_RIP];
	tRax = uc->uc_mcontext.gregs[REG_RAX];
	tRdi = uc->uc_mcontext.gregs[REG_RDI];
	uc->uc_mcontext.gregs[REG_RAX] = trapResult;
}

static void onSysHandler(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = onSys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
}

static void trapCase(void) {
	onSysHandler();
	must(one(0, SYS_getppid, TRAP(0x42)), "the filter");
	long r = sc_at(SYS_getppid);
	say("handler runs: %d, si_signo %s, si_code %d%s, si_syscall getppid: %s, si_arch AUDIT_ARCH_X86_64: %s, "
	    "si_errno %#x",
	    trapped, sname(tSigno), tCode, tCode == 1 ? " (SYS_SECCOMP)" : "", tSyscall == SYS_getppid ? "yes" : "no",
	    tArch == AUDIT_ARCH_X86_64 ? "yes" : "no", tErrno);
	say(", si_call_addr is the ucontext's RIP: %s, just after the syscall: %s, REG_RAX was the syscall number: %s",
	    tAddr == tRip ? "yes" : "no", tAddr == (uintptr_t)sc_after ? "yes" : "no", tRax == SYS_getppid ? "yes" : "no");
	say(", returned %ld (the handler's REG_RAX)", r);
	// Through glibc's syscall() with an argument, and a negative result.
	trapResult = -EDOM;
	errno = 0;
	r = syscall(SYS_getppid, 0x1234);
	say(", again: %s, REG_RDI the argument: %s, handler ran %d times", res(r), tRdi == 0x1234 ? "yes" : "no", trapped);
}

static void trapNoHandler(void) {
	must(one(0, SYS_getppid, TRAP(1)), "the filter");
	say("getppid: ");
	syscall(SYS_getppid);
	say("returned ");
}

static void trapBlocked(void) {
	onSysHandler();
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGSYS);
	sigprocmask(SIG_BLOCK, &m, NULL);
	must(one(0, SYS_getppid, TRAP(1)), "the filter");
	say("getppid: ");
	syscall(SYS_getppid);
	say("returned, handler ran %d times ", trapped);
}

static void trapIgnored(void) {
	signal(SIGSYS, SIG_IGN);
	must(one(0, SYS_getppid, TRAP(1)), "the filter");
	say("getppid: ");
	syscall(SYS_getppid);
	say("returned ");
}

// 5. RET_KILL_*.

static void killProcess(void) {
	onSysHandler();
	must(one(0, SYS_getppid, SECCOMP_RET_KILL_PROCESS), "the filter");
	say("getppid: ");
	syscall(SYS_getppid);
	say("returned, handler ran %d times ", trapped);
}

static void killThread(void) {
	must(one(0, SYS_getppid, SECCOMP_RET_KILL_THREAD), "the filter");
	say("getppid: ");
	syscall(SYS_getppid);
	say("returned ");
}

static void unknownAction(void) {
	must(one(0, SYS_getppid, 0x12340000), "the filter");
	say("getppid: ");
	syscall(SYS_getppid);
	say("returned ");
}

static volatile int threadReturned;
static unsigned threadAction;

static void *killer(void *a) {
	(void)a;
	if (one(0, SYS_getppid, threadAction) != 0) {
		say("thread: installing: %s ", res(-1));
		return NULL;
	}
	syscall(SYS_getppid);
	threadReturned = 1;
	return NULL;
}

static void killSecondThread(void) {
	pthread_t th;
	pthread_create(&th, NULL, killer, NULL);
	int j = pthread_join(th, NULL);
	say("pthread_join %d, the thread returned from getppid: %s; the main thread's getppid %s, PR_GET_SECCOMP %d", j,
	    threadReturned ? "yes" : "no", res(syscall(SYS_getppid)), prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
}

static void killThreadInThread(void) {
	threadAction = SECCOMP_RET_KILL_THREAD;
	killSecondThread();
}

static void killProcessInThread(void) {
	threadAction = SECCOMP_RET_KILL_PROCESS;
	say("the main thread waits in pthread_join: ");
	killSecondThread();
}

static void unknownActionInThread(void) {
	threadAction = 0x12340000;
	say("the main thread waits in pthread_join: ");
	killSecondThread();
}

// 6. Arguments and the instruction pointer.

static void argLow(void) {
	struct sock_filter f[] = {
		LD(NR),
		JEQ(SYS_write, 0, 3),
		LD(ARG_LO(0)),
		JEQ(99, 0, 1),
		RET(ERRNO(E2BIG)),
		RET(ALLOW),
	};
	must(load(0, f, sizeof f / sizeof f[0]), "the filter");
	int p[2];
	pipe(p);
	say("write(99) %s", res(write(99, "x", 1)));
	say(", write(98) %s", res(write(98, "x", 1)));
	say(", write(0x100000063) %s", res(syscall(SYS_write, 0x100000063L, "x", 1)));
	say(", write to a pipe %s", res(write(p[1], "x", 1)));
}

static void argHigh(void) {
	// Deny write with a count above 4 GiB: its high word is not 0.
	struct sock_filter f[] = {
		LD(NR),
		JEQ(SYS_write, 0, 3),
		LD(ARG_HI(2)),
		JEQ(0, 1, 0),
		RET(ERRNO(EFBIG)),
		RET(ALLOW),
	};
	must(load(0, f, sizeof f / sizeof f[0]), "the filter");
	int p[2];
	pipe(p);
	char b[2] = "x";
	say("write count 0x100000001: %s", res(syscall(SYS_write, p[1], b, 0x100000001L)));
	say(", count 1: %s", res(syscall(SYS_write, p[1], b, 1L)));
}

static void ipLoad(void) {
	struct sock_filter f[] = {LD(IP_LO), LD(IP_HI), RET(ALLOW)};
	say("a filter loading it: %s", res(load(0, f, 3)));
	say(", getppid %s", res(syscall(SYS_getppid)));
	uintptr_t a = (uintptr_t)sc_after;
	struct sock_filter g[] = {
		LD(NR),
		JEQ(SYS_getppid, 0, 5),
		LD(IP_LO),
		JEQ((uint32_t)a, 0, 3),
		LD(IP_HI),
		JEQ((uint32_t)(a >> 32), 0, 1),
		RET(ERRNO(EDOM)),
		RET(ALLOW),
	};
	must(load(0, g, sizeof g / sizeof g[0]), "the second filter");
	long r = sc_at(SYS_getppid);
	say("; one denying getppid from one place: from there %s", r < 0 ? ename(-r) : "ok");
	say(", from glibc's syscall() %s", res(syscall(SYS_getppid)));
}

static void bpfExtras(void) {
	// errno = nr + sizeof(seccomp_data) via TAX, LD LEN, ADD X and
	// scratch memory; JSET and JGT too.
	struct sock_filter f[] = {
		LD(NR),
		JEQ(SYS_getppid, 0, 12),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LD | BPF_IMM, 0),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 1, 6, 0),
		BPF_STMT(BPF_LD | BPF_MEM, 3),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 1000, 4, 0),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
		RET(ALLOW),
	};
	must(load(0, f, sizeof f / sizeof f[0]), "the filter");
	errno = 0;
	long r = syscall(SYS_getppid);
	say("getppid %ld errno %d (getppid's number + sizeof(seccomp_data): %s)", r, errno,
	    errno == SYS_getppid + 64 ? "yes" : "no");
}

// 7. Stacking.

static void stack2(unsigned first, unsigned second) {
	onSysHandler();
	must(one(0, SYS_getppid, first), "the first filter");
	must(one(0, SYS_getppid, second), "the second filter");
	errno = 0;
	long r = syscall(SYS_getppid);
	if (trapped)
		say("trapped (si_errno %d), returned %ld", tErrno, r);
	else
		say("%s", res(r));
}

static void errnoThenTrap(void) { stack2(ERRNO(EPERM), TRAP(0)); }
static void trapThenErrno(void) { stack2(TRAP(0), ERRNO(EPERM)); }
static void errnoThenAllow(void) {
	onSysHandler();
	must(one(0, SYS_getppid, ERRNO(EPERM)), "the first filter");
	must(allowAll(), "the second filter");
	say("%s", res(syscall(SYS_getppid)));
}
static void allowThenErrno(void) {
	must(allowAll(), "the first filter");
	must(one(0, SYS_getppid, ERRNO(EPERM)), "the second filter");
	say("%s", res(syscall(SYS_getppid)));
}
static void traceThenErrno(void) { stack2(TRACE(0), ERRNO(EPERM)); }
static void logThenTrace(void) { stack2(SECCOMP_RET_LOG, TRACE(0)); }
static void killThenTrap(void) {
	say("getppid: ");
	stack2(SECCOMP_RET_KILL_PROCESS, TRAP(0));
}
static void trapThenKillThread(void) {
	say("getppid: ");
	stack2(TRAP(0), SECCOMP_RET_KILL_THREAD);
}
static void errnoTie(void) { stack2(ERRNO(EPERM), ERRNO(ENOENT)); }
static void trapTie(void) { stack2(TRAP(1), TRAP(2)); }

// 8. Inheritance.

static void forkCase(void) {
	must(one(0, SYS_getppid, ERRNO(EPERM)), "the filter");
	pid_t g = fork();
	if (g == 0) {
		say("the grandchild: getppid %s", res(syscall(SYS_getppid)));
		say(", PR_GET_SECCOMP %d, Seccomp_filters %s", prctl(PR_GET_SECCOMP, 0, 0, 0, 0), statusField("Seccomp_filters"));
		must(allowAll(), "a filter in the grandchild");
		say(", %s after one more", statusField("Seccomp_filters"));
		_exit(0);
	}
	int st;
	waitpid(g, &st, 0);
	say("; the child: Seccomp_filters %s, the grandchild %s", statusField("Seccomp_filters"), status(st));
}

static void execCase(void) {
	must(one(0, SYS_getppid, ERRNO(EPERM)), "the filter");
	must(allowAll(), "a second filter");
	char fd[16];
	snprintf(fd, sizeof fd, "%d", rep);
	execl("/proc/self/exe", "seccomp", "exec-check", fd, (char *)NULL);
	say("execl: %s", res(-1));
}

static int execCheck(const char *fd) {
	rep = atoi(fd);
	say("after execve, getppid %s", res(syscall(SYS_getppid)));
	say(", PR_GET_SECCOMP %d, NoNewPrivs %s, Seccomp %s, Seccomp_filters %s", prctl(PR_GET_SECCOMP, 0, 0, 0, 0),
	    statusField("NoNewPrivs"), statusField("Seccomp"), statusField("Seccomp_filters"));
	return 0;
}

// 9. TSYNC.

static int tsIn[2], tsOut[2];
static volatile long tsRes;
static volatile int tsErr, tsTid, tsOwn;

static void *tsThread(void *a) {
	(void)a;
	char c;
	tsTid = gettid();
	if (tsOwn) {
		one(0, SYS_getpgid, ERRNO(EPERM));
		write(tsOut[1], "r", 1);
	}
	read(tsIn[0], &c, 1);
	errno = 0;
	tsRes = syscall(SYS_getppid);
	tsErr = errno;
	return NULL;
}

static void tsync(unsigned long flags) {
	pipe(tsIn);
	pipe(tsOut);
	pthread_t th;
	pthread_create(&th, NULL, tsThread, NULL);
	say("install %s", res(one(flags, SYS_getppid, ERRNO(EPERM))));
	say(", the main thread's getppid %s", res(syscall(SYS_getppid)));
	write(tsIn[1], "x", 1);
	pthread_join(th, NULL);
	errno = tsErr;
	say(", the older thread's %s", res(tsRes));
	pthread_create(&th, NULL, tsThread, NULL);
	write(tsIn[1], "x", 1);
	pthread_join(th, NULL);
	errno = tsErr;
	say(", a newer thread's %s", res(tsRes));
}

static void withTsync(void) { tsync(SECCOMP_FILTER_FLAG_TSYNC); }
static void withoutTsync(void) { tsync(0); }

static void tsyncConflict(void) {
	pipe(tsIn);
	pipe(tsOut);
	tsOwn = 1;
	pthread_t th;
	pthread_create(&th, NULL, tsThread, NULL);
	char c;
	read(tsOut[0], &c, 1);
	long r = one(SECCOMP_FILTER_FLAG_TSYNC, SYS_getppid, ERRNO(EPERM));
	say("TSYNC returns the thread's tid: %s", r == tsTid ? "yes" : r < 0 ? res(r) : "no");
	r = one(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, SYS_getppid, ERRNO(EPERM));
	say(", with TSYNC_ESRCH: %s", res(r));
	say(", nothing installed: PR_GET_SECCOMP %d, getppid %s", prctl(PR_GET_SECCOMP, 0, 0, 0, 0),
	    res(syscall(SYS_getppid)));
	write(tsIn[1], "x", 1);
	pthread_join(th, NULL);
	errno = tsErr;
	say(", the thread's getppid %s", res(tsRes));
}

// 10. Invalid filters.

static struct sock_filter big[4097];

static const char *bad(struct sock_filter *f, unsigned short n) { return res(load(0, f, n)); }

static void invalid(void) {
	for (int i = 0; i < 4097; i++)
		big[i] = (struct sock_filter)RET(ALLOW);
	struct sock_filter jumpPast[] = {JEQ(0, 5, 0), RET(ALLOW)};
	struct sock_filter jaPast[] = {BPF_STMT(BPF_JMP | BPF_JA, 1), RET(ALLOW)};
	struct sock_filter noRet[] = {RET(ALLOW), LD(NR)};
	struct sock_filter ld64[] = {LD(64), RET(ALLOW)};
	struct sock_filter ld2[] = {LD(2), RET(ALLOW)};
	struct sock_filter ldb[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), RET(ALLOW)};
	struct sock_filter ldind[] = {BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), RET(ALLOW)};
	struct sock_filter mem[] = {BPF_STMT(BPF_LD | BPF_MEM, 0), RET(ALLOW)};
	struct sock_filter mem16[] = {BPF_STMT(BPF_ST, 16), RET(ALLOW)};
	struct sock_filter op[] = {{0xffff, 0, 0, 0}, RET(ALLOW)};
	struct sock_filter div0[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(ALLOW)};
	struct sock_filter mod0[] = {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 0), RET(ALLOW)};
	struct sock_filter retX[] = {{BPF_RET | BPF_X, 0, 0, 0}};
	say("length 0 %s", bad(big, 0));
	say(", 4097 %s", bad(big, 4097));
	say(", a jump past the end %s", bad(jumpPast, 2));
	say(", JA past the end %s", bad(jaPast, 2));
	say(", no RET at the end %s", bad(noRet, 2));
	say(", LD ABS 64 %s", bad(ld64, 2));
	say(", LD ABS 2 %s", bad(ld2, 2));
	say(", LD B ABS %s", bad(ldb, 2));
	say(", LD IND %s", bad(ldind, 2));
	say(", LD MEM never stored %s", bad(mem, 2));
	say(", ST M[16] %s", bad(mem16, 2));
	say(", opcode 0xffff %s", bad(op, 2));
	say(", DIV 0 %s", bad(div0, 2));
	say(", MOD 0 %s", bad(mod0, 2));
	say(", RET X %s", bad(retX, 1));
	say(", flags 0x100 %s", res(sc(SECCOMP_SET_MODE_FILTER, 0x100, &(struct sock_fprog){1, big})));
	say(", flags 1<<31 %s", res(sc(SECCOMP_SET_MODE_FILTER, 1UL << 31, &(struct sock_fprog){1, big})));
	say(", operation 99 %s", res(sc(99, 0, &(struct sock_fprog){1, big})));
	say(", a bad sock_fprog pointer %s", res(sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8)));
	say(", a bad filter pointer %s", res(sc(SECCOMP_SET_MODE_FILTER, 0, &(struct sock_fprog){1, (void *)8})));
	say(", NULL %s", res(sc(SECCOMP_SET_MODE_FILTER, 0, NULL)));
	say("; PR_GET_SECCOMP still %d", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	say(", 4096 RETs %s", bad(big, 4096));
}

// 11. The instruction budget: 32768 over the stack, each filter
// counting 4 more than its length.

static void limit(void) {
	// A JA over the filler keeps each filter quick to run.
	for (int i = 0; i < 4096; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, i);
	big[0] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 4094);
	big[4095] = (struct sock_filter)RET(ALLOW);
	int n = 0;
	long r;
	while ((r = load(0, big, 4096)) == 0 && n < 20)
		n++;
	say("%d filters of 4096 instructions, then one more %s", n, res(r));
	// (Linux counts the filters' lengths once translated to eBPF, a
	// few instructions more than ours: where exactly a shorter filter
	// stops fitting is its business.)
	say(", then a 1-instruction filter %s", res(allowAll()));
	say(", Seccomp_filters %s", statusField("Seccomp_filters"));
	say(", getppid %s", res(syscall(SYS_getppid)));
}

// 12. SECCOMP_GET_ACTION_AVAIL.

static const char *avail(uint32_t a) { return res(sc(SECCOMP_GET_ACTION_AVAIL, 0, &a)); }

static void actionAvail(void) {
	say("KILL_PROCESS %s", avail(SECCOMP_RET_KILL_PROCESS));
	say(", KILL_THREAD %s", avail(SECCOMP_RET_KILL_THREAD));
	say(", TRAP %s", avail(SECCOMP_RET_TRAP));
	say(", ERRNO %s", avail(SECCOMP_RET_ERRNO));
	say(", TRACE %s", avail(SECCOMP_RET_TRACE));
	say(", LOG %s", avail(SECCOMP_RET_LOG));
	say(", ALLOW %s", avail(SECCOMP_RET_ALLOW));
	say(", 0x12340000 %s", avail(0x12340000));
	say(", ERRNO|5 %s", avail(SECCOMP_RET_ERRNO | 5));
	uint32_t a = SECCOMP_RET_ALLOW;
	say(", flags 1 %s", res(sc(SECCOMP_GET_ACTION_AVAIL, 1, &a)));
	say(", a bad pointer %s", res(sc(SECCOMP_GET_ACTION_AVAIL, 0, (void *)8)));
}

// 13. /proc/self/status.

static void statusCase(void) {
	say("Seccomp %s Seccomp_filters %s", statusField("Seccomp"), statusField("Seccomp_filters"));
	must(allowAll(), "a filter");
	say("; after 1 filter: %s %s", statusField("Seccomp"), statusField("Seccomp_filters"));
	must(allowAll(), "a filter");
	struct sock_filter f[] = {LD(64), RET(ALLOW)};
	load(0, f, 2); // fails
	must(one(0, SYS_getppid, ERRNO(EPERM)), "a filter");
	say("; after 3 (and one refused): %s %s", statusField("Seccomp"), statusField("Seccomp_filters"));
	say("; NoNewPrivs %s", statusField("NoNewPrivs"));
}

// 14. RET_TRACE.

static void traceNoTracer(void) {
	must(one(0, SYS_getppid, TRACE(5)), "the filter");
	say("getppid %s", res(syscall(SYS_getppid)));
}

// traced forks a tracee that stops, installs a filter (getppid: TRACE
// 0x77, getuid: ERRNO(EACCES)) and calls getppid; mode says what the
// tracer does: 0 no PTRACE_O_TRACESECCOMP, 1 nothing at the stop, 2 skip
// the call with 4242, 3 turn it into getuid, 4 turn it into getpid.
static void traced(int mode) {
	pid_t tracer = getpid();
	pid_t t = fork();
	if (t == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		struct sock_filter f[] = {
			LD(NR),
			JEQ(SYS_getppid, 0, 1), RET(TRACE(0x77)),
			JEQ(SYS_getuid, 0, 1),  RET(ERRNO(EACCES)),
			RET(ALLOW),
		};
		must(load(0, f, sizeof f / sizeof f[0]), "the filter");
		errno = 0;
		long r = syscall(SYS_getppid);
		if (r < 0)
			say("the tracee's getppid %s", res(r));
		else if (r == tracer)
			say("the tracee's getppid ran (the tracer's pid)");
		else if (r == getpid())
			say("the tracee's getppid returned its own pid");
		else
			say("the tracee's getppid returned %ld", r);
		_exit(0);
	}
	int st = 0;
	waitpid(t, &st, 0);
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) {
		say("the tracee: %s", status(st));
		return;
	}
	if (mode > 0)
		ptrace(PTRACE_SETOPTIONS, t, 0, PTRACE_O_TRACESECCOMP);
	ptrace(PTRACE_CONT, t, 0, 0);
	waitpid(t, &st, 0);
	if (mode > 0) {
		say("%s", status(st));
		if (!WIFSTOPPED(st))
			return;
		unsigned long msg = 0;
		ptrace(PTRACE_GETEVENTMSG, t, 0, &msg);
		struct user_regs_struct regs;
		ptrace(PTRACE_GETREGS, t, 0, &regs);
		long insn = ptrace(PTRACE_PEEKTEXT, t, (void *)(regs.rip - 2), 0);
		say(", GETEVENTMSG %#lx, orig_rax getppid: %s, rax -ENOSYS: %s, rip just after a syscall instruction: %s; ",
		    msg, regs.orig_rax == SYS_getppid ? "yes" : "no", (long)regs.rax == -ENOSYS ? "yes" : "no",
		    (insn & 0xffff) == 0x050f ? "yes" : "no");
		if (mode == 1) {
			// PTRACE_SECCOMP_GET_FILTER (CAP_SYS_ADMIN): the tracee's
			// newest filter, the one above.
			if (geteuid() == 0) {
				struct sock_filter want[] = {
					LD(NR),
					JEQ(SYS_getppid, 0, 1), RET(TRACE(0x77)),
					JEQ(SYS_getuid, 0, 1),  RET(ERRNO(EACCES)),
					RET(ALLOW),
				};
				struct sock_filter got[16];
				long n = ptrace(0x420c /* PTRACE_SECCOMP_GET_FILTER */, t, 0, NULL);
				long m = ptrace(0x420c, t, 0, got);
				errno = 0;
				long past = ptrace(0x420c, t, (void *)1, NULL);
				say("GET_FILTER: %ld instructions, read %ld, the same: %s, index 1: %s; ", n, m,
				    m == 6 && memcmp(got, want, sizeof want) == 0 ? "yes" : "no", res(past));
			} else {
				say("GET_FILTER: not root; ");
			}
		}
		if (mode == 2) {
			regs.orig_rax = -1;
			regs.rax = 4242;
		} else if (mode == 3) {
			regs.orig_rax = SYS_getuid;
		} else if (mode == 4) {
			regs.orig_rax = SYS_getpid;
		}
		if (mode >= 2)
			ptrace(PTRACE_SETREGS, t, 0, &regs);
		ptrace(PTRACE_CONT, t, 0, 0);
		waitpid(t, &st, 0);
	}
	say("; %s", status(st));
}

static void traceNoOption(void) { traced(0); }
static void traceNothing(void) { traced(1); }
static void traceSkip(void) { traced(2); }
static void traceToGetuid(void) { traced(3); }
static void traceToGetpid(void) { traced(4); }

// 15. RET_LOG.

static void logCase(void) {
	long before = syscall(SYS_getppid);
	must(one(0, SYS_getppid, SECCOMP_RET_LOG), "the filter");
	long r = syscall(SYS_getppid);
	say("getppid %s, the parent's pid: %s", res(r), r == before ? "yes" : "no");
}

// 16. Flags.

static void flags(void) {
	say("LOG %s", res(one(SECCOMP_FILTER_FLAG_LOG, SYS_getpgid, ERRNO(EPERM))));
	say(", SPEC_ALLOW %s", res(one(SECCOMP_FILTER_FLAG_SPEC_ALLOW, SYS_getpgid, ERRNO(EPERM))));
	say(", TSYNC|LOG|SPEC_ALLOW %s",
	    res(one(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW, SYS_getppid,
		    ERRNO(ENOENT))));
	say(", Seccomp_filters %s", statusField("Seccomp_filters"));
	say(", getpgid %s", res(syscall(SYS_getpgid, 0)));
	say(", getppid %s", res(syscall(SYS_getppid)));
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "exec-check") == 0)
		return execCheck(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore); // the SIGSYS deaths leave no core

	printf("== mode\n");
	run("PR_GET_SECCOMP", getSeccomp);
	run("strict via prctl", strictPrctl);
	run("strict via seccomp", strictSeccomp);
	run("strict", strictReadExit);
	run("strict", strictExitGroup);
	run("strict, /proc/PID/status", strictStatus);
	run("strict errors", strictErrors);

	printf("== actions\n");
	run("ERRNO", errnoCase);
	run("TRAP", trapCase);
	run("TRAP without a handler", trapNoHandler);
	run("TRAP with SIGSYS blocked", trapBlocked);
	run("TRAP with SIGSYS ignored", trapIgnored);
	run("KILL_PROCESS (a SIGSYS handler set)", killProcess);
	run("KILL_THREAD, one thread", killThread);
	run("unknown action 0x12340000, one thread", unknownAction);
	run("KILL_THREAD in a second thread", killThreadInThread);
	run("KILL_PROCESS in a second thread", killProcessInThread);
	run("unknown action in a second thread", unknownActionInThread);
	run("TRACE without a tracer", traceNoTracer);
	run("TRACE, traced without TRACESECCOMP", traceNoOption);
	run("TRACE, the tracer does nothing", traceNothing);
	run("TRACE, the tracer skips the call", traceSkip);
	run("TRACE, the tracer makes it getuid (denied)", traceToGetuid);
	run("TRACE, the tracer makes it getpid", traceToGetpid);
	run("LOG", logCase);

	printf("== what filters see\n");
	run("arg0's low word", argLow);
	run("arg2's high word", argHigh);
	run("instruction_pointer", ipLoad);
	run("BPF", bpfExtras);

	printf("== stacking\n");
	run("ERRNO, then TRAP", errnoThenTrap);
	run("TRAP, then ERRNO", trapThenErrno);
	run("ERRNO, then ALLOW", errnoThenAllow);
	run("ALLOW, then ERRNO", allowThenErrno);
	run("TRACE, then ERRNO", traceThenErrno);
	run("LOG, then TRACE", logThenTrace);
	run("KILL_PROCESS, then TRAP", killThenTrap);
	run("TRAP, then KILL_THREAD", trapThenKillThread);
	run("ERRNO(EPERM), then ERRNO(ENOENT)", errnoTie);
	run("TRAP(1), then TRAP(2)", trapTie);

	printf("== inheritance\n");
	run("fork", forkCase);
	run("execve", execCase);
	run("TSYNC, a thread started before", withTsync);
	run("no TSYNC, a thread started before", withoutTsync);
	run("TSYNC, a thread with its own filter", tsyncConflict);

	printf("== checks and limits\n");
	run("invalid", invalid);
	run("budget", limit);
	run("GET_ACTION_AVAIL", actionAvail);
	run("/proc/self/status", statusCase);
	run("flags", flags);
	return 0;
}
