// timers: alarm and setitimer(ITIMER_REAL) delivering SIGALRM to a
// handler, sigsuspend with a temporary mask, sigpending and sigtimedwait
// on a blocked signal, nanosleep cut short by a handler, and finally an
// alarm with the default action, which kills the program (142).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms;
static void on_alarm(int sig) { alarms++; }

int main(void) {
	printf("alarm(5) -> %u\n", alarm(5));
	printf("alarm(0) -> %u\n", alarm(0));

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	struct itimerval it = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	while (alarms < 3)
		pause();
	struct itimerval off = {0}, old;
	setitimer(ITIMER_REAL, &off, &old);
	printf("periodic: %d alarms, old interval %ld us\n", alarms, (long)old.it_interval.tv_usec);
	getitimer(ITIMER_REAL, &old);
	printf("after disarm: %ld %ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);

	// sigsuspend: SIGALRM blocked outside, let through while suspended.
	sigset_t block, empty, cur;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	alarms = 0;
	struct itimerval once = {.it_value = {0, 10000}};
	setitimer(ITIMER_REAL, &once, NULL);
	int r = sigsuspend(&empty);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("sigsuspend: %d %s, alarms %d, SIGALRM blocked again %d\n", r,
	       errno == EINTR ? "EINTR" : "?", alarms, sigismember(&cur, SIGALRM));
	sigprocmask(SIG_UNBLOCK, &block, NULL);

	// sigtimedwait on a blocked signal.
	sigset_t usr;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr, NULL);
	raise(SIGUSR1);
	sigset_t pend;
	sigpending(&pend);
	printf("pending SIGUSR1: %d\n", sigismember(&pend, SIGUSR1));
	siginfo_t si;
	struct timespec ts = {0, 10000000};
	r = sigtimedwait(&usr, &si, &ts);
	printf("sigtimedwait: %d code %d\n", r, si.si_code);
	r = sigtimedwait(&usr, &si, &ts);
	printf("sigtimedwait again: %d %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");

	// nanosleep cut short by a handler: EINTR with time left.
	setitimer(ITIMER_REAL, &once, NULL);
	struct timespec req = {2, 0}, rem = {0};
	r = nanosleep(&req, &rem);
	printf("nanosleep: %d %s, time left %d\n", r, errno == EINTR ? "EINTR" : "?",
	       rem.tv_sec == 1 || rem.tv_nsec > 0);

	// The default action of SIGALRM ends the program.
	fflush(stdout);
	signal(SIGALRM, SIG_DFL);
	alarm(1);
	for (;;)
		pause();
}
