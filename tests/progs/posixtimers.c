// posixtimers: timer_create and friends, and the CPU-time interval
// timers. SIGEV_SIGNAL to a handler (si_code SI_TIMER, si_value, the
// timer's ID), one-shot and periodic, overruns while the signal is
// blocked (si_overrun and timer_getoverrun), SIGEV_NONE, SIGEV_THREAD_ID
// to one thread, glibc's SIGEV_THREAD, CPU-time clocks of the process and
// the thread, ITIMER_PROF and ITIMER_VIRTUAL, timers not inherited by
// fork and deleted by exec, and bad input. Times are never printed: only
// counts, codes and yes/no against bounds.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	}
	return strerror(errno);
}

#define CHECK(what, call)                                                      \
	do {                                                                       \
		long r_ = (long)(call);                                                \
		if (r_ < 0)                                                            \
			printf("%s: -1 %s\n", what, err());                                \
		else                                                                   \
			printf("%s: %ld\n", what, r_);                                     \
	} while (0)

static const char *yesno(int c) { return c ? "yes" : "no"; }

static long ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

static double now(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
	struct timespec t = {ms / 1000, ms % 1000 * MS};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

// Raw syscalls: the kernel's timer IDs.
static int k_create(clockid_t c, struct sigevent *ev, int *id) { return syscall(SYS_timer_create, c, ev, id); }
static int k_settime(int id, int flags, long value, long interval) {
	struct itimerspec it = {{interval / 1000000000L, interval % 1000000000L}, {value / 1000000000L, value % 1000000000L}};
	return syscall(SYS_timer_settime, id, flags, &it, NULL);
}

static volatile int hits, bad_code, bad_value, bad_id, want_id;
static void on_timer(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)uc;
	hits++;
	if (si->si_code != SI_TIMER)
		bad_code++;
	if (si->si_value.sival_int != 42)
		bad_value++;
	if (si->si_timerid != want_id)
		bad_id++;
}

static void wait_hits(int n) {
	double deadline = now(CLOCK_MONOTONIC) + 10;
	while (hits < n && now(CLOCK_MONOTONIC) < deadline)
		sleep_ms(1);
}

static int target_tid;
static sem_t ready;
static void *waiter(void *arg) {
	(void)arg;
	target_tid = syscall(SYS_gettid);
	sem_post(&ready);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 1);
	struct timespec limit = {5, 0};
	siginfo_t si;
	int sig = sigtimedwait(&s, &si, &limit);
	printf("thread: sigtimedwait %s code SI_TIMER %s value %d\n", yesno(sig == SIGRTMIN + 1),
	       yesno(si.si_code == SI_TIMER), si.si_value.sival_int);
	return NULL;
}

static volatile int cb_value;
static sem_t cb_done;
static void callback(union sigval v) {
	cb_value = v.sival_int;
	sem_post(&cb_done);
}

static volatile int profs, vtalrms, cpuhits;
static void on_prof(int sig) {
	if (sig == SIGPROF)
		profs++;
	else if (sig == SIGVTALRM)
		vtalrms++;
	else
		cpuhits++;
}

// burn_until spins until *count reaches n or 20 s of wall time passed.
static void burn_until(volatile int *count, int n) {
	double deadline = now(CLOCK_MONOTONIC) + 20;
	volatile unsigned long x = 0;
	while (*count < n && now(CLOCK_MONOTONIC) < deadline)
		for (int i = 0; i < 10000; i++)
			x += i;
}

static void *cpu_thread(void *arg) {
	(void)arg;
	timer_t t;
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev._sigev_un._tid = syscall(SYS_gettid);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t) < 0) {
		printf("thread cpu timer: %s\n", err());
		return NULL;
	}
	struct itimerspec it = {.it_value = {0, 40 * MS}};
	timer_settime(t, 0, &it, NULL);
	double start = now(CLOCK_THREAD_CPUTIME_ID);
	burn_until(&cpuhits, 1);
	printf("thread CPU clock fired: %s, after about 40 ms of the thread's CPU: %s\n", yesno(cpuhits == 1),
	       yesno(now(CLOCK_THREAD_CPUTIME_ID) - start >= 0.032));
	timer_delete(t);
	return NULL;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "exec") == 0) {
		// After execve: the timer is gone, and its SIGALRM never comes.
		int id = atoi(argv[2]);
		struct itimerspec cur;
		CHECK("after exec: timer_gettime", syscall(SYS_timer_gettime, id, &cur));
		sleep_ms(100);
		printf("after exec: no SIGALRM\n");
		return 0;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	// SIGEV_SIGNAL, one-shot, through the raw syscalls (the kernel's ID).
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1, .sigev_value.sival_int = 42};
	int id;
	CHECK("timer_create", k_create(CLOCK_MONOTONIC, &ev, &id));
	want_id = id;
	CHECK("timer_settime one-shot", k_settime(id, 0, 20 * MS, 0));
	wait_hits(1);
	sleep_ms(30);
	printf("one-shot: %d signal(s), code SI_TIMER %s, value 42 %s, si_timerid %s\n", hits, yesno(!bad_code),
	       yesno(!bad_value), yesno(!bad_id));
	struct itimerspec cur;
	syscall(SYS_timer_gettime, id, &cur);
	printf("one-shot gettime after: %ld %ld\n", ns(cur.it_value), ns(cur.it_interval));

	// Periodic, then disarmed.
	hits = 0;
	k_settime(id, 0, 10 * MS, 10 * MS);
	syscall(SYS_timer_gettime, id, &cur);
	printf("periodic gettime: value in (0, 10 ms] %s, interval %ld\n",
	       yesno(ns(cur.it_value) > 0 && ns(cur.it_value) <= 10 * MS), ns(cur.it_interval));
	wait_hits(5);
	struct itimerspec zero = {{0, 0}, {0, 0}}, old;
	syscall(SYS_timer_settime, id, 0, &zero, &old);
	printf("periodic: 5 signals %s, old interval %ld\n", yesno(hits >= 5), ns(old.it_interval));
	sleep_ms(10);
	int at = hits;
	sleep_ms(40);
	printf("disarmed: no more signals %s, codes and values right %s\n", yesno(hits == at),
	       yesno(!bad_code && !bad_value && !bad_id));

	// Overruns: the signal blocked while the timer goes on.
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	k_settime(id, 0, 5 * MS, 5 * MS);
	/* 300 ms blocked, then at most 100 ms to the next signal: wide
	 * margins for a loaded machine (the x86 lane under load). */
	sleep_ms(300);
	siginfo_t si;
	struct timespec limit = {5, 0};
	int sig = sigtimedwait(&usr1, &si, &limit);
	int ov = syscall(SYS_timer_getoverrun, id);
	printf("blocked 300 ms: one signal %s, si_overrun >= 40 %s, timer_getoverrun the same %s\n", yesno(sig == SIGUSR1),
	       yesno(si.si_overrun >= 40), yesno(ov == si.si_overrun));
	sig = sigtimedwait(&usr1, &si, &limit);
	printf("next one: %s, si_overrun small %s\n", yesno(sig == SIGUSR1), yesno(si.si_overrun <= 20));
	CHECK("timer_delete", syscall(SYS_timer_delete, id));
	sigtimedwait(&usr1, &si, &(struct timespec){0, 20 * MS}); // one may have been pending
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	CHECK("timer_delete again", syscall(SYS_timer_delete, id));
	CHECK("timer_gettime deleted", syscall(SYS_timer_gettime, id, &cur));
	CHECK("timer_getoverrun deleted", syscall(SYS_timer_getoverrun, id));

	// SIGEV_NONE: nothing is sent, the time counts down.
	timer_t tn;
	struct sigevent none = {.sigev_notify = SIGEV_NONE};
	CHECK("SIGEV_NONE create", timer_create(CLOCK_BOOTTIME, &none, &tn));
	struct itimerspec it = {.it_value = {0, 30 * MS}};
	timer_settime(tn, 0, &it, NULL);
	timer_gettime(tn, &cur);
	long a = ns(cur.it_value);
	sleep_ms(10);
	timer_gettime(tn, &cur);
	printf("SIGEV_NONE: counts down %s\n", yesno(ns(cur.it_value) < a && ns(cur.it_value) > 0));
	sleep_ms(30);
	timer_gettime(tn, &cur);
	printf("SIGEV_NONE expired: %ld\n", ns(cur.it_value));
	timer_delete(tn);

	// Absolute time on CLOCK_REALTIME, with the default sigevent
	// (SIGALRM, the ID as the value).
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, NULL);
	CHECK("default sigevent", k_create(CLOCK_REALTIME, NULL, &id));
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	CHECK("absolute", k_settime(id, TIMER_ABSTIME, ns(rt) + 20 * MS, 0));
	sig = sigtimedwait(&alrm, &si, &limit);
	printf("default: SIGALRM %s value is the ID %s\n", yesno(sig == SIGALRM), yesno(si.si_value.sival_int == id));

	// Not inherited by fork; deleted by exec.
	k_settime(id, 0, 5000 * MS, 0);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK("child: timer_gettime", syscall(SYS_timer_gettime, id, &cur));
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	syscall(SYS_timer_gettime, id, &cur);
	printf("parent's still armed: %s\n", yesno(ns(cur.it_value) > 0));
	k_settime(id, 0, 30 * MS, 30 * MS);
	pid = fork();
	if (pid == 0) {
		k_settime(id, 0, 30 * MS, 30 * MS); // EINVAL: none in the child
		char arg[16];
		snprintf(arg, sizeof arg, "%d", id);
		// Unblock SIGALRM: a timer that survived would kill the program.
		sigprocmask(SIG_UNBLOCK, &alrm, NULL);
		execl("/proc/self/exe", argv[0], "exec", arg, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("exec'd child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	// Ours: exec in this process deletes it too, see the child above.
	syscall(SYS_timer_delete, id);
	sigtimedwait(&alrm, &si, &(struct timespec){0, 1});

	// SIGEV_THREAD_ID: to one thread.
	sigset_t rt1;
	sigemptyset(&rt1);
	sigaddset(&rt1, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &rt1, NULL);
	sem_init(&ready, 0, 0);
	pthread_t th;
	pthread_create(&th, NULL, waiter, NULL);
	sem_wait(&ready);
	struct sigevent tev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN + 1, .sigev_value.sival_int = 5};
	tev._sigev_un._tid = target_tid;
	CHECK("SIGEV_THREAD_ID create", k_create(CLOCK_MONOTONIC, &tev, &id));
	k_settime(id, 0, 20 * MS, 0);
	pthread_join(th, NULL);
	sigset_t pend;
	sigpending(&pend);
	printf("main: nothing pending %s\n", yesno(!sigismember(&pend, SIGRTMIN + 1)));
	syscall(SYS_timer_delete, id);

	// glibc's SIGEV_THREAD (a helper thread, SIGEV_THREAD_ID underneath).
	sem_init(&cb_done, 0, 0);
	struct sigevent cev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = callback,
	                       .sigev_value.sival_int = 7};
	timer_t tc;
	CHECK("SIGEV_THREAD create", timer_create(CLOCK_MONOTONIC, &cev, &tc));
	it = (struct itimerspec){.it_value = {0, 20 * MS}};
	timer_settime(tc, 0, &it, NULL);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	int done = sem_timedwait(&cb_done, &dl) == 0;
	printf("SIGEV_THREAD callback: %s value %d\n", yesno(done), cb_value);
	timer_delete(tc);

	// CPU-time clocks.
	struct sigaction ps;
	memset(&ps, 0, sizeof ps);
	ps.sa_handler = on_prof;
	sigaction(SIGPROF, &ps, NULL);
	sigaction(SIGVTALRM, &ps, NULL);
	sigaction(SIGUSR2, &ps, NULL);
	timer_t tp;
	struct sigevent pev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
	CHECK("CPU clock create", timer_create(CLOCK_PROCESS_CPUTIME_ID, &pev, &tp));
	it = (struct itimerspec){.it_value = {0, 50 * MS}};
	timer_settime(tp, 0, &it, NULL);
	double start = now(CLOCK_PROCESS_CPUTIME_ID);
	burn_until(&cpuhits, 1);
	printf("process CPU clock fired: %s, after about 50 ms of CPU: %s\n", yesno(cpuhits == 1),
	       yesno(now(CLOCK_PROCESS_CPUTIME_ID) - start >= 0.04));
	timer_delete(tp);
	cpuhits = 0;
	pthread_create(&th, NULL, cpu_thread, NULL);
	pthread_join(th, NULL);

	struct itimerval iv = {.it_value = {0, 30000}, .it_interval = {0, 30000}};
	CHECK("ITIMER_PROF", setitimer(ITIMER_PROF, &iv, NULL));
	struct itimerval got;
	getitimer(ITIMER_PROF, &got);
	// Linux rounds the value up to its tick.
	printf("ITIMER_PROF getitimer: value in (0, 50 ms] %s interval %ld us\n",
	       yesno(got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 50000),
	       (long)got.it_interval.tv_usec);
	start = now(CLOCK_PROCESS_CPUTIME_ID);
	burn_until(&profs, 3);
	iv = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_PROF, &iv, NULL);
	printf("ITIMER_PROF: 3 SIGPROFs %s after more than 30 ms of CPU %s\n", yesno(profs >= 3),
	       yesno(now(CLOCK_PROCESS_CPUTIME_ID) - start >= 0.03));
	iv = (struct itimerval){.it_value = {0, 20000}};
	CHECK("ITIMER_VIRTUAL", setitimer(ITIMER_VIRTUAL, &iv, NULL));
	burn_until(&vtalrms, 1);
	printf("ITIMER_VIRTUAL: SIGVTALRM %s\n", yesno(vtalrms == 1));
	getitimer(ITIMER_VIRTUAL, &got);
	printf("ITIMER_VIRTUAL after: %ld %ld\n", (long)got.it_value.tv_usec, (long)got.it_interval.tv_usec);

	// Bad input.
	CHECK("bad clock", k_create(99, &ev, &id));
	CHECK("MONOTONIC_RAW", k_create(CLOCK_MONOTONIC_RAW, &ev, &id));
	struct sigevent bad = {.sigev_notify = 3, .sigev_signo = SIGUSR1};
	CHECK("bad sigev_notify", k_create(CLOCK_MONOTONIC, &bad, &id));
	bad = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 0};
	CHECK("signal 0", k_create(CLOCK_MONOTONIC, &bad, &id));
	bad = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 65};
	CHECK("signal 65", k_create(CLOCK_MONOTONIC, &bad, &id));
	bad = (struct sigevent){.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1};
	bad._sigev_un._tid = 999999;
	CHECK("no such thread", k_create(CLOCK_MONOTONIC, &bad, &id));
	bad._sigev_un._tid = getppid();
	CHECK("another process's thread", k_create(CLOCK_MONOTONIC, &bad, &id));
	CHECK("bad sigevent pointer", k_create(CLOCK_MONOTONIC, (void *)8, &id));
	CHECK("bad ID pointer", k_create(CLOCK_MONOTONIC, &ev, (void *)8));
	CHECK("create", k_create(CLOCK_MONOTONIC, &ev, &id));
	CHECK("settime NULL", syscall(SYS_timer_settime, id, 0, NULL, NULL));
	CHECK("settime bad pointer", syscall(SYS_timer_settime, id, 0, (void *)8, NULL));
	struct itimerspec badts = {.it_value = {0, 1000000000L}};
	CHECK("settime bad nsec", syscall(SYS_timer_settime, id, 0, &badts, NULL));
	CHECK("settime no such timer", k_settime(id + 1000, 0, MS, 0));
	CHECK("settime negative ID", k_settime(-1, 0, MS, 0));
	CHECK("gettime bad pointer", syscall(SYS_timer_gettime, id, (void *)8));
	CHECK("delete", syscall(SYS_timer_delete, id));
	return 0;
}
