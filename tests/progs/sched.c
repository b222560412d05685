// sched: CPU affinity per thread (set from another thread, inherited by
// fork), scheduling policies and parameters, nice values per thread and
// per process group, I/O priorities, and membarrier (with a thread spinning in user code
// while another issues private expedited barriers), as an unprivileged
// user sees them. Run as root natively, it first becomes nobody.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e) {
	switch (e) {
	case 0: return "ok";
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

#define res(call) ((call) == -1 ? ename(errno) : "ok")

static long membarrier(int cmd, unsigned flags) { return syscall(SYS_membarrier, cmd, flags, 0); }

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

// A pid that no longer exists: a reaped child's.
static pid_t dead_pid(void) {
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static int count(pid_t tid) {
	cpu_set_t set;
	if (sched_getaffinity(tid, sizeof set, &set) == -1)
		return -1;
	return CPU_COUNT(&set);
}

static atomic_int thread_tid, go_on;
static int thread_count_seen, thread_cpu0_seen;

static void *affine_thread(void *arg) {
	(void)arg;
	thread_tid = gettid_();
	while (!go_on)
		sched_yield();
	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	thread_count_seen = CPU_COUNT(&set);
	thread_cpu0_seen = CPU_ISSET(0, &set);
	return NULL;
}

static void affinity_tests(int ncpu) {
	printf("== affinity\n");
	cpu_set_t set;
	CPU_ZERO(&set);
	printf("getaffinity: %s", res(sched_getaffinity(0, sizeof set, &set)));
	printf(", CPU 0 in it: %s\n", CPU_ISSET(0, &set) ? "yes" : "no");
	long r = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	printf("raw size is a whole number of longs: %s\n", r > 0 && r % 8 == 0 ? "yes" : "no");

	// Another thread's mask, set from here.
	pthread_t th;
	pthread_create(&th, NULL, affine_thread, NULL);
	while (!thread_tid)
		sched_yield();
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	printf("set the thread's mask to CPU 0: %s\n", res(sched_setaffinity(thread_tid, sizeof set, &set)));
	go_on = 1;
	pthread_join(th, NULL);
	printf("the thread sees 1 CPU: %s, CPU 0: %s\n", thread_count_seen == 1 ? "yes" : "no", thread_cpu0_seen ? "yes" : "no");
	printf("mine unchanged: %s\n", count(0) == ncpu ? "yes" : "no");

	// Mine, inherited by a child; a fresh full mask again.
	printf("set mine to CPU 0: %s", res(sched_setaffinity(0, sizeof set, &set)));
	printf(", now %d\n", count(0));
	pid_t pid = fork();
	if (pid == 0)
		_exit(count(0));
	int st;
	waitpid(pid, &st, 0);
	printf("the child's: %d\n", WEXITSTATUS(st));
	CPU_ZERO(&set);
	for (int i = 0; i < ncpu; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof set, &set);
	printf("back to all: %s\n", count(0) == ncpu ? "yes" : "no");

	// Bad input.
	CPU_ZERO(&set);
	printf("empty mask: %s\n", res(sched_setaffinity(0, sizeof set, &set)));
	printf("no such thread: %s\n", res(sched_setaffinity(dead_pid(), sizeof set, &set)));
	printf("getaffinity of no one: %s\n", res(sched_getaffinity(dead_pid(), sizeof set, &set)));
	printf("size not a multiple of 8: %s\n", res(syscall(SYS_sched_getaffinity, 0, 12, &set)));
	printf("size 0: %s\n", res(syscall(SYS_sched_getaffinity, 0, 0, &set)));
	printf("bad pointer: %s\n", res(syscall(SYS_sched_getaffinity, 0, sizeof set, (void *)8)));
}

static void policy_tests(void) {
	printf("== policies\n");
	struct sched_param sp = {0};
	printf("policy %d", sched_getscheduler(0));
	printf(", getparam %s", res(sched_getparam(0, &sp)));
	printf(", priority %d\n", sp.sched_priority);
	int pols[] = {SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE};
	for (int i = 0; i < 5; i++)
		printf("policy %d: priorities %d..%d\n", pols[i], sched_get_priority_min(pols[i]), sched_get_priority_max(pols[i]));
	printf("priority bounds of policy 42: %s\n", res(sched_get_priority_max(42)));

	sp.sched_priority = 10;
	printf("SCHED_FIFO 10: %s\n", res(sched_setscheduler(0, SCHED_FIFO, &sp)));
	printf("SCHED_RR 10: %s\n", res(sched_setscheduler(0, SCHED_RR, &sp)));
	printf("SCHED_OTHER 10: %s\n", res(sched_setscheduler(0, SCHED_OTHER, &sp)));
	sp.sched_priority = 0;
	printf("SCHED_FIFO 0: %s\n", res(sched_setscheduler(0, SCHED_FIFO, &sp)));
	printf("policy 42: %s\n", res(sched_setscheduler(0, 42, &sp)));
	printf("no param: %s\n", res(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL)));
	printf("bad param: %s\n", res(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8)));
	printf("no such thread: %s\n", res(sched_setscheduler(dead_pid(), SCHED_OTHER, &sp)));
	printf("getscheduler(-1): %s\n", res(sched_getscheduler(-1)));
	printf("getparam(NULL): %s\n", res(syscall(SYS_sched_getparam, 0, NULL)));

	printf("SCHED_BATCH: %s", res(sched_setscheduler(0, SCHED_BATCH, &sp)));
	printf(", policy %d", sched_getscheduler(0));
	printf(", setparam 0: %s", res(sched_setparam(0, &sp)));
	printf(", back to SCHED_OTHER: %s\n", res(sched_setscheduler(0, SCHED_OTHER, &sp)));
	sp.sched_priority = 1;
	printf("setparam 1: %s\n", res(sched_setparam(0, &sp)));
	sp.sched_priority = 0;

	struct timespec ts = {-1, -1};
	printf("rr interval: %s", res(sched_rr_get_interval(0, &ts)));
	printf(", under a second: %s\n", ts.tv_sec == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000 ? "yes" : "no");

	// SCHED_IDLE cannot be left, SCHED_RESET_ON_FORK not cleared, without
	// privilege; the flag is not inherited.
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: SCHED_IDLE: %s", res(sched_setscheduler(0, SCHED_IDLE, &sp)));
		printf(", policy %d", sched_getscheduler(0));
		printf(", back to SCHED_OTHER: %s\n", res(sched_setscheduler(0, SCHED_OTHER, &sp)));
		printf("child: SCHED_IDLE|SCHED_RESET_ON_FORK: %s", res(sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &sp)));
		printf(", policy %#x", sched_getscheduler(0));
		printf(", without the flag: %s\n", res(sched_setscheduler(0, SCHED_IDLE, &sp)));
		pid_t g = fork();
		if (g == 0) {
			printf("grandchild: policy %#x\n", sched_getscheduler(0));
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("mine still %d\n", sched_getscheduler(0));
}

// struct sched_attr, VER1 (56 bytes), and room for a newer caller's.
struct attr {
	unsigned size, policy;
	unsigned long long flags;
	int nice;
	unsigned prio;
	unsigned long long runtime, deadline, period;
	unsigned util_min, util_max;
	unsigned char newer[16];
};

static void show_attr(const char *what) {
	struct attr a;
	memset(&a, 0xff, sizeof a);
	int r = syscall(SYS_sched_getattr, 0, &a, 56, 0);
	printf("%s: getattr %s, size %u, policy %u, flags %#llx, nice %d, priority %u\n", what, res(r), a.size, a.policy,
	       a.flags, a.nice, a.prio);
}

static int setattr(unsigned policy, unsigned long long flags, int nice, unsigned prio) {
	struct attr a = {.size = 48, .policy = policy, .flags = flags, .nice = nice, .prio = prio};
	return syscall(SYS_sched_setattr, 0, &a, 0);
}

// attr_tests: sched_getattr and sched_setattr (chrt uses them), in a
// child: the nice value only goes up.
static void attr_tests(void) {
	printf("== sched_attr\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid != 0) {
		waitpid(pid, NULL, 0);
		return;
	}
	struct attr a;
	show_attr("start");
	printf("getattr size 40: %s\n", res(syscall(SYS_sched_getattr, 0, &a, 40, 0)));
	printf("getattr flags 1: %s\n", res(syscall(SYS_sched_getattr, 0, &a, 56, 1)));
	printf("getattr NULL: %s\n", res(syscall(SYS_sched_getattr, 0, NULL, 56, 0)));
	printf("getattr no such thread: %s\n", res(syscall(SYS_sched_getattr, dead_pid(), &a, 56, 0)));
	printf("BATCH nice 5: %s\n", res(setattr(SCHED_BATCH, 0, 5, 0)));
	show_attr("after");
	printf("OTHER nice 0 (lower): %s\n", res(setattr(SCHED_OTHER, 0, 0, 0)));
	printf("KEEP_POLICY nice 7: %s\n", res(setattr(SCHED_OTHER, 0x08, 7, 0)));
	show_attr("kept");
	printf("FIFO 10: %s\n", res(setattr(SCHED_FIFO, 0, 0, 10)));
	printf("OTHER priority 3: %s\n", res(setattr(SCHED_OTHER, 0, 7, 3)));
	printf("policy 42: %s\n", res(setattr(42, 0, 7, 0)));
	printf("unknown flag: %s\n", res(setattr(SCHED_OTHER, 0x1000, 7, 0)));
	struct attr dl = {.size = 56, .policy = 6, .runtime = 10000000, .deadline = 30000000, .period = 100000000};
	printf("DEADLINE: %s\n", res(syscall(SYS_sched_setattr, 0, &dl, 0)));
	dl.runtime = 0;
	printf("DEADLINE no runtime: %s\n", res(syscall(SYS_sched_setattr, 0, &dl, 0)));
	struct attr big = {.size = sizeof big, .policy = SCHED_OTHER, .nice = 7};
	big.newer[3] = 1;
	int r = syscall(SYS_sched_setattr, 0, &big, 0);
	printf("size %zu, a newer field set: %s, size told %u\n", sizeof big, res(r), big.size);
	big.newer[3] = 0;
	big.size = sizeof big;
	printf("size %zu, newer fields zero: %s\n", sizeof big, res(syscall(SYS_sched_setattr, 0, &big, 0)));
	struct attr small = {.size = 20};
	r = syscall(SYS_sched_setattr, 0, &small, 0);
	printf("size 20: %s, size told %u\n", res(r), small.size);
	printf("setattr flags 1: %s\n", res(syscall(SYS_sched_setattr, 0, &big, 1)));
	printf("RESET_ON_FORK: %s\n", res(setattr(SCHED_OTHER, 0x01, 7, 0)));
	show_attr("reset");
	printf("without it: %s\n", res(setattr(SCHED_OTHER, 0, 7, 0)));
	fflush(stdout);
	_exit(0);
}

static atomic_int nice_tid, nice_done;

static void *nice_thread(void *arg) {
	(void)arg;
	setpriority(PRIO_PROCESS, gettid_(), 7);
	nice_tid = gettid_();
	while (!nice_done)
		sched_yield();
	return NULL;
}

static void nice_tests(void) {
	printf("== nice\n");
	errno = 0;
	printf("nice %d\n", getpriority(PRIO_PROCESS, 0));
	pthread_t th;
	pthread_create(&th, NULL, nice_thread, NULL);
	while (!nice_tid)
		sched_yield();
	printf("a thread's own nice: %d", getpriority(PRIO_PROCESS, nice_tid));
	printf(", mine: %d\n", getpriority(PRIO_PROCESS, 0));
	printf("lower the thread's: %s\n", res(setpriority(PRIO_PROCESS, nice_tid, 6)));
	nice_done = 1;
	pthread_join(th, NULL);

	printf("raise mine to 3: %s", res(setpriority(PRIO_PROCESS, 0, 3)));
	printf(", now %d\n", getpriority(PRIO_PROCESS, 0));
	printf("lower to 2: %s\n", res(setpriority(PRIO_PROCESS, 0, 2)));
	printf("same value: %s\n", res(setpriority(PRIO_PROCESS, 0, 3)));
	printf("nice(2): %d\n", nice(2));

	// A child inherits it; its process group.
	int pfd[2], back[2];
	pipe(pfd);
	pipe(back);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		printf("child inherits: %d\n", getpriority(PRIO_PROCESS, 0));
		printf("child's group to 12: %s", res(setpriority(PRIO_PGRP, 0, 12)));
		printf(", group now %d\n", getpriority(PRIO_PGRP, 0));
		write(back[1], "x", 1);
		char c;
		read(pfd[0], &c, 1);
		_exit(0);
	}
	char c;
	read(back[0], &c, 1);
	printf("the child's group seen from here: %d", getpriority(PRIO_PGRP, pid));
	printf(", lowering it: %s\n", res(setpriority(PRIO_PGRP, pid, 11)));
	write(pfd[1], "x", 1);
	waitpid(pid, NULL, 0);

	errno = 0;
	int r = getpriority(PRIO_PROCESS, dead_pid());
	printf("no such process: %d %s\n", r, ename(errno));
	errno = 0;
	r = getpriority(3, 0);
	printf("which 3: %d %s\n", r, ename(errno));
	printf("set no such group: %s\n", res(setpriority(PRIO_PGRP, dead_pid(), 19)));
	printf("raise to 100: %s", res(setpriority(PRIO_PROCESS, 0, 100)));
	printf(", now %d\n", getpriority(PRIO_PROCESS, 0));
}

static atomic_int spin_stop;
static atomic_long spins;

static void *spinner(void *arg) {
	(void)arg;
	while (!spin_stop)
		spins++;
	return NULL;
}

static void membarrier_tests(void) {
	printf("== membarrier\n");
	long mask = membarrier(MEMBARRIER_CMD_QUERY, 0);
	long want = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED |
		    MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED |
		    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
	printf("query has the global, private and sync-core commands: %s\n", mask > 0 && (mask & want) == want ? "yes" : "no");
	printf("query with flags: %s\n", res(membarrier(MEMBARRIER_CMD_QUERY, 1)));
	printf("private expedited unregistered: %s\n", res(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0)));
	printf("register: %s\n", res(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0)));
	pthread_t th;
	pthread_create(&th, NULL, spinner, NULL);
	while (spins == 0)
		sched_yield();
	int ok = 1;
	for (int i = 0; i < 200; i++)
		ok &= membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0;
	spin_stop = 1;
	pthread_join(th, NULL);
	printf("200 private expedited barriers with a thread spinning: %s\n", ok ? "ok" : ename(errno));
	printf("sync core unregistered: %s", res(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0)));
	printf(", registered: %s", res(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0)));
	printf(", then: %s\n", res(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0)));
	printf("global: %s\n", res(membarrier(MEMBARRIER_CMD_GLOBAL, 0)));
	printf("global expedited: %s", res(membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0)));
	printf(", register: %s", res(membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0)));
	printf(", then: %s\n", res(membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0)));
	pid_t pid = fork();
	if (pid == 0)
		_exit(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0 ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	printf("a forked child is registered too: %s\n", WEXITSTATUS(st) == 0 ? "yes" : "no");
	printf("unknown command: %s\n", res(membarrier(1 << 12, 0)));
}

// ioprio_tests: I/O priorities as an unprivileged user sets and reads
// them (the default differs between Linux versions: not printed).
static void ioprio_tests(void) {
	enum { WHO_PROCESS = 1, WHO_PGRP = 2, CLASS_RT = 1, CLASS_BE = 2, CLASS_IDLE = 3 };
#define PRIO(c, l) ((c) << 13 | (l))
	long r = syscall(SYS_ioprio_set, WHO_PROCESS, 0, PRIO(CLASS_BE, 5));
	printf("ioprio best-effort 5: %s", res(r));
	r = syscall(SYS_ioprio_get, WHO_PROCESS, 0);
	printf(", read back class %ld level %ld\n", r >> 13, r & 7);
	printf("ioprio idle: %s", res(syscall(SYS_ioprio_set, WHO_PROCESS, gettid_(), PRIO(CLASS_IDLE, 0))));
	printf(", class %ld\n", syscall(SYS_ioprio_get, WHO_PROCESS, 0) >> 13);
	printf("ioprio real-time: %s\n", res(syscall(SYS_ioprio_set, WHO_PROCESS, 0, PRIO(CLASS_RT, 0))));
	printf("ioprio none with a level: %s\n", res(syscall(SYS_ioprio_set, WHO_PROCESS, 0, PRIO(0, 3))));
	printf("ioprio class 5: %s\n", res(syscall(SYS_ioprio_set, WHO_PROCESS, 0, PRIO(5, 0))));
	printf("ioprio which 7: %s\n", res(syscall(SYS_ioprio_get, 7, 0)));
	printf("ioprio of a dead pid: %s\n", res(syscall(SYS_ioprio_get, WHO_PROCESS, dead_pid())));
	// In a process group of its own (the caller's may hold other
	// users' processes: EPERM).
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (syscall(SYS_ioprio_set, WHO_PGRP, 0, PRIO(CLASS_BE, 2)) != 0)
			_exit(2);
		if (syscall(SYS_ioprio_get, WHO_PGRP, 0) != PRIO(CLASS_BE, 2))
			_exit(3);
		pid_t gc = fork();
		if (gc == 0)
			_exit(syscall(SYS_ioprio_get, WHO_PROCESS, 0) == PRIO(CLASS_BE, 2) ? 0 : 1);
		int st;
		waitpid(gc, &st, 0);
		_exit(WEXITSTATUS(st));
	}
	int st;
	waitpid(pid, &st, 0);
	printf("ioprio of a process group, inherited by fork: %s\n", WEXITSTATUS(st) == 0 ? "yes" : "no");
#undef PRIO
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() == 0) {
		// Natively as root: be an unprivileged user (the sandbox has no
		// setuid; it has no privileges either).
		if (setgroups(0, NULL) == 0 && setgid(65534) == 0)
			setuid(65534);
	}
	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	int ncpu = CPU_COUNT(&set);
	affinity_tests(ncpu);
	policy_tests();
	attr_tests();
	membarrier_tests();
	nice_tests();
	ioprio_tests();
	return 0;
}
