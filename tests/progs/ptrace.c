// ptrace: a tracer and its tracees. PTRACE_TRACEME and the stop it
// leaves, reading and writing the tracee's memory and registers,
// PTRACE_SYSCALL's entry and exit stops (orig_rax, a skipped call with
// the tracer's result), signal-delivery-stops (suppressed and delivered),
// PTRACE_O_TRACEFORK (the new child traced and stopped), exec's SIGTRAP,
// PTRACE_O_TRACEEXIT, PTRACE_ATTACH and PTRACE_DETACH, PTRACE_SEIZE with
// PTRACE_INTERRUPT, single steps, and the errors. Debuggers, strace and
// LeakSanitizer (which attaches to its own threads) rely on these.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(long r) {
	if (r >= 0)
		return "ok";
	switch (errno) {
	case ESRCH: return "ESRCH";
	case EPERM: return "EPERM";
	case EIO: return "EIO";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", errno);
	return b;
}

// status describes a wait status.
static const char *status(int st) {
	static char b[96];
	if (WIFEXITED(st))
		snprintf(b, sizeof b, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, sizeof b, "killed by %s", strsignal(WTERMSIG(st)));
	else if (WIFSTOPPED(st)) {
		int ev = st >> 16;
		int sig = WSTOPSIG(st);
		if (ev)
			snprintf(b, sizeof b, "stopped, event %d", ev);
		else if (sig == (SIGTRAP | 0x80))
			snprintf(b, sizeof b, "stopped at a syscall");
		else
			snprintf(b, sizeof b, "stopped by %s", strsignal(sig));
	} else
		snprintf(b, sizeof b, "status %#x", st);
	return b;
}

static volatile long secret = 0x1234;
static volatile int handled;

static void onUsr(int sig) { handled = sig; }

// waitFor waits for pid and prints what it reports.
static int waitFor(const char *what, pid_t pid) {
	int st = 0;
	pid_t r = waitpid(pid, &st, __WALL);
	printf("%s: %s\n", what, r == pid ? status(st) : ename(-1));
	return st;
}

static void memoryAndRegisters(void) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		printf("child: secret is %#lx\n", secret);
		fflush(stdout);
		_exit(3);
	}
	waitFor("TRACEME then SIGSTOP", pid);
	errno = 0;
	long v = ptrace(PTRACE_PEEKDATA, pid, (void *)&secret, 0);
	printf("PEEKDATA: %#lx (%s)\n", v, ename(errno ? -1 : 0));
	printf("POKEDATA: %s\n", ename(ptrace(PTRACE_POKEDATA, pid, (void *)&secret, (void *)0x5678)));
	char memPath[64];
	snprintf(memPath, sizeof memPath, "/proc/%d/mem", pid);
	int mfd = open(memPath, O_RDWR);
	long viaMem = 0;
	printf("/proc/PID/mem: pread %s", ename(pread(mfd, &viaMem, sizeof viaMem, (off_t)&secret)));
	printf(", reads the poked value: %s", viaMem == 0x5678 ? "yes" : "no");
	long nv = 0x9abc;
	printf(", pwrite %s", ename(pwrite(mfd, &nv, sizeof nv, (off_t)&secret)));
	printf(", pread at 8: %s\n", ename(pread(mfd, &viaMem, sizeof viaMem, 8)));
	close(mfd);
	long got[2] = {0, 0}, put = 0x5678;
	struct iovec lv[2] = {{&got[0], 4}, {(char *)&got[0] + 4, 12}}, rv = {(void *)&secret, 8};
	ssize_t nr = process_vm_readv(pid, lv, 2, &rv, 1, 0);
	printf("process_vm_readv: %zd, reads pwrite's value: %s", nr, got[0] == 0x9abc ? "yes" : "no");
	struct iovec pv = {&put, 8};
	printf(", process_vm_writev: %zd", process_vm_writev(pid, &pv, 1, &rv, 1, 0));
	struct iovec bad = {(void *)8, 8};
	printf(", from a bad address: %s, flags: %s\n", ename(process_vm_readv(pid, &pv, 1, &bad, 1, 0)),
	       ename(process_vm_readv(pid, &pv, 1, &rv, 1, 1)));
	errno = 0;
	ptrace(PTRACE_PEEKDATA, pid, (void *)8, 0);
	printf("PEEKDATA of a bad address: %s\n", ename(errno ? -1 : 0));
	// A breakpoint-like write into the (read-only) code, then put back.
	long code = ptrace(PTRACE_PEEKTEXT, pid, (void *)memoryAndRegisters, 0);
	printf("POKETEXT into code: %s", ename(ptrace(PTRACE_POKETEXT, pid, (void *)memoryAndRegisters, (void *)(code ^ 0xff))));
	printf(", read back changed: %s",
	       ptrace(PTRACE_PEEKTEXT, pid, (void *)memoryAndRegisters, 0) == (code ^ 0xff) ? "yes" : "no");
	ptrace(PTRACE_POKETEXT, pid, (void *)memoryAndRegisters, (void *)code);
	printf(", ours unchanged: %s\n", *(volatile long *)memoryAndRegisters == code ? "yes" : "no");
	struct user_regs_struct regs;
	printf("GETREGS: %s", ename(ptrace(PTRACE_GETREGS, pid, 0, &regs)));
	printf(", cs %#llx ss %#llx, rsp in the stack: %s, fs_base set: %s\n", regs.cs, regs.ss,
	       regs.rsp > 0x7f0000000000ULL ? "yes" : "no", regs.fs_base ? "yes" : "no");
	long off = offsetof(struct user_regs_struct, rip);
	errno = 0;
	long rip = ptrace(PTRACE_PEEKUSER, pid, (void *)off, 0);
	printf("PEEKUSER rip matches GETREGS: %s\n", rip == (long)regs.rip ? "yes" : "no");
	errno = 0;
	ptrace(PTRACE_PEEKUSER, pid, (void *)3, 0);
	printf("PEEKUSER at an odd offset: %s\n", ename(errno ? -1 : 0));
	struct user_fpregs_struct fp;
	printf("GETFPREGS: %s\n", ename(ptrace(PTRACE_GETFPREGS, pid, 0, &fp)));
	regs.cs = 0x10;
	printf("SETREGS with a kernel cs: %s\n", ename(ptrace(PTRACE_SETREGS, pid, 0, &regs)));
	long cont = ptrace(PTRACE_CONT, pid, 0, 0);
	int st = 0;
	waitpid(pid, &st, 0); // the child prints first
	printf("CONT: %s, then: %s\n", ename(cont), status(st));
}

// struct ptrace_syscall_info (linux/ptrace.h), spelled out.
struct sysinfo_ {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t ip, sp;
	union {
		struct {
			uint64_t nr, args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
		struct {
			uint64_t nr, args[6];
			uint32_t ret_data;
		} seccomp;
	} u;
};

static void syscalls(void) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		long pp = syscall(SYS_getppid);
		long r = syscall(SYS_getpid); // the tracer skips it: 42
		printf("child: getppid is the tracer: %s, getpid returned %ld\n", pp == getppid() ? "yes" : "no", r);
		fflush(stdout);
		_exit(0);
	}
	waitFor("stopped", pid);
	struct sysinfo_ info0;
	long n0 = ptrace(0x420e /* PTRACE_GET_SYSCALL_INFO */, pid, sizeof info0, &info0);
	long n1 = ptrace(0x420e, pid, 0, NULL);
	printf("GET_SYSCALL_INFO at a signal stop: size %ld op %d; with no room: %ld\n", n0, info0.op, n1);
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD);
	int seenGetppid = 0, skipped = 0, inside = 0;
	for (;;) {
		ptrace(PTRACE_SYSCALL, pid, 0, 0);
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
			printf("syscall loop ended: %s\n", status(st));
			break;
		}
		if (WSTOPSIG(st) != (SIGTRAP | 0x80))
			continue;
		struct user_regs_struct regs;
		ptrace(PTRACE_GETREGS, pid, 0, &regs);
		if (regs.orig_rax == SYS_getppid) {
			struct sysinfo_ info;
			memset(&info, 0xff, sizeof info);
			long n = ptrace(0x420e /* PTRACE_GET_SYSCALL_INFO */, pid, sizeof info, &info);
			unsigned long msg = 0;
			ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
			int common = info.arch == 0xc000003e && info.ip == regs.rip && info.sp == regs.rsp;
			if (!inside) {
				printf("getppid entry: rax is -ENOSYS: %s\n", (long)regs.rax == -ENOSYS ? "yes" : "no");
				printf("  GET_SYSCALL_INFO: size %ld op %d, arch/ip/sp right: %s, nr getppid: %s, "
				       "arg0 is rdi: %s; GETEVENTMSG %lu\n",
				       n, info.op, common ? "yes" : "no", info.u.entry.nr == SYS_getppid ? "yes" : "no",
				       info.u.entry.args[0] == regs.rdi ? "yes" : "no", msg);
			} else {
				printf("getppid exit: rax is our pid: %s\n", (long)regs.rax == getpid() ? "yes" : "no");
				printf("  GET_SYSCALL_INFO: size %ld op %d, arch/ip/sp right: %s, rval our pid: %s, "
				       "is_error %d; GETEVENTMSG %lu\n",
				       n, info.op, common ? "yes" : "no", info.u.exit.rval == getpid() ? "yes" : "no",
				       info.u.exit.is_error, msg);
			}
			inside = !inside;
			seenGetppid++;
		}
		if (regs.orig_rax == SYS_getpid && !skipped) {
			regs.orig_rax = -1;
			regs.rax = 42;
			ptrace(PTRACE_SETREGS, pid, 0, &regs);
			skipped = 1;
		}
	}
	printf("getppid stops: %d\n", seenGetppid);
}

static void signalStops(void) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGUSR1, onUsr);
		signal(SIGUSR2, onUsr);
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGUSR1);
		printf("child: after SIGUSR1, handled %d\n", handled);
		raise(SIGUSR2);
		printf("child: after SIGUSR2, handled is SIGUSR2: %s\n", handled == SIGUSR2 ? "yes" : "no");
		fflush(stdout);
		_exit(0);
	}
	waitFor("raise(SIGUSR1)", pid);
	siginfo_t si;
	ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
	printf("GETSIGINFO: signo is SIGUSR1: %s, code SI_TKILL: %s, pid is the child: %s\n", si.si_signo == SIGUSR1 ? "yes" : "no",
	       si.si_code == SI_TKILL ? "yes" : "no", si.si_pid == pid ? "yes" : "no");
	ptrace(PTRACE_CONT, pid, 0, 0); // suppressed
	waitFor("raise(SIGUSR2)", pid);
	ptrace(PTRACE_CONT, pid, 0, SIGUSR2); // delivered
	waitFor("then", pid);
}

static void forkExecExit(void) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		pid_t g = fork();
		if (g == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(g, &st, 0);
		_exit(WEXITSTATUS(st) + 5);
	}
	waitFor("stopped", pid);
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEFORK | PTRACE_O_TRACEEXIT);
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitFor("fork", pid);
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
	pid_t g = (pid_t)msg;
	printf("GETEVENTMSG is a new pid: %s\n", g > pid ? "yes" : "no");
	waitFor("the new child, traced", g);
	ptrace(PTRACE_CONT, g, 0, 0);
	waitFor("the new child's exec", g); // SIGTRAP: traced without TRACEEXEC
	ptrace(PTRACE_CONT, g, 0, 0);
	waitFor("the new child's exit event", g);
	ptrace(PTRACE_GETEVENTMSG, g, 0, &msg);
	printf("exit event message: %s\n", status((int)msg));
	ptrace(PTRACE_CONT, g, 0, 0);
	waitFor("the new child's end, for its tracer", g);
	// The child hears of its child (SIGCHLD, which it ignores: a
	// tracee stops for it all the same), then exits.
	for (int i = 0; i < 4; i++) {
		ptrace(PTRACE_CONT, pid, 0, 0);
		int st = waitFor("the child", pid);
		if (!WIFSTOPPED(st))
			break;
	}
}

static void attachSeize(void) {
	fflush(stdout);
	int ready[2];
	if (pipe(ready) != 0) {
		perror("pipe");
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		// Spin in user mode once running, so that the attach stops it
		// there and a single step always moves it (stopped in a sleep,
		// the step would restart the syscall and end where it was, or
		// not, as the timing goes).
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(10);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(8);
		volatile unsigned long n = 0;
		for (;;)
			n++;
	}
	close(ready[1]);
	char b;
	if (read(ready[0], &b, 1) != 1) {
		perror("read");
		exit(1);
	}
	close(ready[0]);
	printf("ATTACH: %s\n", ename(ptrace(PTRACE_ATTACH, pid, 0, 0)));
	printf("ATTACH again: %s\n", ename(ptrace(PTRACE_ATTACH, pid, 0, 0)));
	waitFor("attached", pid);
	struct user_regs_struct regs;
	ptrace(PTRACE_GETREGS, pid, 0, &regs);
	unsigned long long rip = regs.rip;
	unsigned long fsbase = 0;
	printf("ARCH_PRCTL ARCH_GET_FS: %s", ename(ptrace(PTRACE_ARCH_PRCTL, pid, &fsbase, ARCH_GET_FS)));
	printf(", the FS base of GETREGS: %s\n", fsbase == regs.fs_base && fsbase != 0 ? "yes" : "no");
	printf("ARCH_PRCTL unknown code: %s\n", ename(ptrace(PTRACE_ARCH_PRCTL, pid, &fsbase, 0x9999)));
	printf("SINGLESTEP: %s\n", ename(ptrace(PTRACE_SINGLESTEP, pid, 0, 0)));
	waitFor("stepped", pid);
	ptrace(PTRACE_GETREGS, pid, 0, &regs);
	printf("rip moved: %s\n", regs.rip != rip ? "yes" : "no");
	printf("DETACH: %s\n", ename(ptrace(PTRACE_DETACH, pid, 0, 0)));
	printf("CONT after DETACH: %s\n", ename(ptrace(PTRACE_CONT, pid, 0, 0)));
	printf("SEIZE: %s\n", ename(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD)));
	printf("CONT of a running tracee: %s\n", ename(ptrace(PTRACE_CONT, pid, 0, 0)));
	printf("INTERRUPT: %s\n", ename(ptrace(PTRACE_INTERRUPT, pid, 0, 0)));
	waitFor("interrupted", pid);
	printf("KILL: %s\n", ename(ptrace(PTRACE_KILL, pid, 0, 0)));
	waitFor("then", pid);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	memoryAndRegisters();
	syscalls();
	signalStops();
	forkExecExit();
	attachSeize();
	printf("ATTACH to ourselves: %s\n", ename(ptrace(PTRACE_ATTACH, getpid(), 0, 0)));
	printf("CONT of a process we do not trace: %s\n", ename(ptrace(PTRACE_CONT, getppid(), 0, 0)));
	printf("ATTACH to no process: %s\n", ename(ptrace(PTRACE_ATTACH, 999999, 0, 0)));
	return 0;
}
