/* A system call fuzzer for the Go kernel (issue 12): children make random
 * system calls with random arguments (small numbers, -1, huge values, NULL,
 * wild and kernel-half pointers, pointers into a buffer of random bytes,
 * every flag bit) and are killed when they hang. What must hold is checked
 * from outside: ringbox neither panics nor stops answering, and nothing on
 * the host changes. Calls that would end the run or fork without bound
 * are left out (exit_group may end a child, which is fine).
 *
 * usage: sysfuzz SEED CHILDREN CALLS_PER_CHILD */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng;
static uint64_t next(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned char buf[1 << 16];

static long arg(void) {
	switch (next() % 12) {
	case 0: return 0;
	case 1: return -1;
	case 2: return (long)(next() % 16);
	case 3: return (long)(next() % 4096);
	case 4: return (long)next();
	case 5: return (long)(buf + next() % sizeof buf);
	case 6: return (long)buf;
	case 7: return (long)0xffff800000000000ULL + (long)(next() % 4096);
	case 8: return 1L << (next() % 64);
	case 9: return (long)(next() & 0xffffffff);
	case 10: return 0x7fffffffffffL;
	default: return (long)(next() % 3); /* stdio */
	}
}

/* Calls that usually kill the caller (its own memory or stack unmapped,
 * its FS base moved): made rarely, so that children live long enough. */
static int deadly(long nr) {
	switch (nr) {
	case SYS_munmap: case SYS_mprotect: case SYS_mremap: case SYS_madvise:
	case SYS_brk: case SYS_rt_sigreturn: case SYS_arch_prctl: case SYS_shmdt:
	case SYS_mmap: case SYS_set_robust_list: case SYS_rseq:
		return 1;
	}
	return 0;
}

static int excluded(long nr) {
	switch (nr) {
	case SYS_kill: case SYS_tkill: case SYS_tgkill: case SYS_rt_sigqueueinfo:
	case SYS_rt_tgsigqueueinfo: case SYS_pidfd_send_signal:
	case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3:
	case SYS_exit: case SYS_exit_group: case SYS_execve: case SYS_execveat:
	case SYS_reboot: case SYS_pause: case SYS_rt_sigsuspend:
		return 1;
	}
	return 0;
}

static volatile uint64_t *made; /* calls made, over all children */

static void child(unsigned calls) {
	signal(SIGALRM, SIG_DFL);
	int null = open("/dev/null", O_RDWR);
	dup2(null, 1);
	dup2(null, 2);
	alarm(2);
	for (unsigned i = 0; i < calls; i++) {
		long nr = next() % 16 == 0 ? (long)(next() % 100000) : (long)(next() % 460);
		if (excluded(nr) || (deadly(nr) && next() % 50 != 0))
			continue;
		if (next() % 64 == 0)
			for (size_t j = 0; j < 256; j++)
				buf[next() % sizeof buf] = (unsigned char)next();
		long a[6];
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		/* A child that traced the fuzzer or asked it to trace it would
		 * stop processes the fuzzer waits for. */
		if (nr == SYS_ptrace && (a[0] == PTRACE_TRACEME || a[0] == PTRACE_ATTACH || a[0] == PTRACE_SEIZE))
			continue;
		__atomic_add_fetch(made, 1, __ATOMIC_RELAXED);
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	_exit(0);
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: sysfuzz SEED CHILDREN CALLS\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], 0, 0);
	int children = atoi(argv[2]);
	unsigned calls = (unsigned)atoi(argv[3]);
	int exited = 0, signaled = 0, killed = 0;
	made = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (made == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* A child may arrange signals for its process group (F_SETOWN and
	 * O_ASYNC): the parent ignores what it can. */
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGCHLD && sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_IGN);
	for (int c = 0; c < children; c++) {
		rng = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)c + 1;
		for (size_t j = 0; j < sizeof buf; j++)
			buf[j] = (unsigned char)next();
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			child(calls);
		/* Wait up to 5 s, then SIGKILL (a child may block SIGALRM). */
		int st = 0;
		for (int t = 0; t < 500; t++) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				goto done;
			struct timespec ts = {0, 10000000};
			nanosleep(&ts, NULL);
		}
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		killed++;
	done:
		if (WIFEXITED(st))
			exited++;
		else
			signaled++;
	}
	printf("children %d: %d exited, %d died of a signal (%d killed after 5 s); %llu calls made\n",
	       children, exited, signaled, killed, (unsigned long long)*made);
	return 0;
}
