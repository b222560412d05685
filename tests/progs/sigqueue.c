// sigqueue: queued real-time signals (every instance delivered with its
// value, lowest signal first, in order), an ignored but blocked signal
// stays pending, and a nanosleep that a stop and a SIGCONT interrupt goes
// on sleeping (restart_syscall) instead of failing with EINTR.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int order[16], n;
static void on_rt(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	if (n < 16)
		order[n++] = (sig - SIGRTMIN) * 100 + si->si_value.sival_int;
}

static double mono(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (int i = 1; i <= 3; i++)
		sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i});
	sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 9});
	sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 8});
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("real-time signals delivered:");
	for (int i = 0; i < n; i++)
		printf(" %d", order[i]);
	printf("\n");

	// An ignored signal that is blocked stays pending.
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR2);
	sigset_t pend;
	sigpending(&pend);
	printf("ignored and blocked SIGUSR2 pending: %s\n", sigismember(&pend, SIGUSR2) ? "yes" : "no");
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	// A stop and a continue in the middle of nanosleep.
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		struct timespec ts = {0, 600 * 1000000L};
		double start = mono();
		int r = nanosleep(&ts, NULL);
		double took = mono() - start;
		_exit(r == 0 && took >= 0.55 ? 0 : r == -1 && errno == EINTR ? 2 : 3);
	}
	struct timespec d = {0, 100 * 1000000L};
	nanosleep(&d, NULL);
	kill(p, SIGSTOP);
	nanosleep(&d, NULL);
	kill(p, SIGCONT);
	int st;
	waitpid(p, &st, 0);
	printf("nanosleep through a stop and SIGCONT: %s\n",
	       WEXITSTATUS(st) == 0 ? "slept the full time" : WEXITSTATUS(st) == 2 ? "EINTR" : "too short");
	return 0;
}
