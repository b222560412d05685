// cputime: CPU-time accounting. Burns CPU in the process, a thread and a
// child, then checks getrusage, times, clock_gettime's CPU clocks and
// wait4's rusage against lower bounds (the output is yes/no only).
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BURN_MS 150

static double now(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

// burn spins until this thread has used ms of CPU time (or 20 s passed).
static void burn(int ms) {
	double start = now(CLOCK_THREAD_CPUTIME_ID), deadline = now(CLOCK_MONOTONIC) + 20;
	volatile unsigned long x = 0;
	while (now(CLOCK_THREAD_CPUTIME_ID) - start < ms / 1000.0 && now(CLOCK_MONOTONIC) < deadline)
		for (int i = 0; i < 100000; i++)
			x += i;
}

static void *thread(void *arg) {
	(void)arg;
	burn(BURN_MS);
	return NULL;
}

static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }
static const char *yesno(int c) { return c ? "yes" : "no"; }

int main(void) {
	double min = BURN_MS / 1000.0 * 0.9;
	burn(BURN_MS);
	printf("CLOCK_THREAD_CPUTIME_ID counts this thread: %s\n", yesno(now(CLOCK_THREAD_CPUTIME_ID) >= min));
	pthread_t th;
	pthread_create(&th, NULL, thread, NULL);
	pthread_join(th, NULL);
	printf("CLOCK_PROCESS_CPUTIME_ID counts both threads: %s\n", yesno(now(CLOCK_PROCESS_CPUTIME_ID) >= 2 * min));
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("RUSAGE_SELF counts both threads: %s\n", yesno(tv(ru.ru_utime) + tv(ru.ru_stime) >= 2 * min));
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("RUSAGE_CHILDREN before a child: %s\n", yesno(tv(ru.ru_utime) + tv(ru.ru_stime) < min));

	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		burn(BURN_MS);
		_exit(0);
	}
	int st;
	wait4(p, &st, 0, &ru);
	printf("wait4 rusage counts the child: %s\n", yesno(tv(ru.ru_utime) + tv(ru.ru_stime) >= min));
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("RUSAGE_CHILDREN counts the reaped child: %s\n", yesno(tv(ru.ru_utime) + tv(ru.ru_stime) >= min));
	struct tms t;
	clock_t up = times(&t);
	long hz = sysconf(_SC_CLK_TCK);
	printf("times: hz %ld, self %s, children %s, uptime %s\n", hz, yesno(t.tms_utime + t.tms_stime >= 2 * min * hz),
	       yesno(t.tms_cutime + t.tms_cstime >= min * hz), yesno(up > 0));
	return 0;
}
