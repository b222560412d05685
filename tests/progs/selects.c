// selects: select, pselect and ppoll on files and /dev/null, with
// timeouts (select writes back the time left), a bad descriptor (EBADF),
// and a signal mask installed only for the wait (ppoll and pselect cut
// short by SIGALRM run its handler, then the old mask is back).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <unistd.h>

static volatile int alarms;
static void on_alarm(int sig) { alarms++; }

int main(void) {
	int f = open("/dev/null", O_RDWR);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(f, &r);
	FD_SET(f, &w);
	struct timeval tv = {1, 0};
	int n = select(f + 1, &r, &w, NULL, &tv);
	printf("select /dev/null: %d r %d w %d\n", n, FD_ISSET(f, &r), FD_ISSET(f, &w));

	tv = (struct timeval){0, 30000};
	n = select(0, NULL, NULL, NULL, &tv);
	printf("select timeout: %d left %ld.%06ld\n", n, (long)tv.tv_sec, (long)tv.tv_usec);

	int bad = open("/dev/null", O_RDONLY); // a descriptor surely closed
	close(bad);
	FD_ZERO(&r);
	FD_SET(bad, &r);
	tv = (struct timeval){0, 0};
	n = select(bad + 1, &r, NULL, NULL, &tv);
	printf("select bad fd: %d %s\n", n, errno == EBADF ? "EBADF" : "?");

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sigset_t block, empty, cur;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);

	struct itimerval once = {.it_value = {0, 10000}};
	setitimer(ITIMER_REAL, &once, NULL);
	struct timespec ts = {2, 0};
	n = ppoll(NULL, 0, &ts, &empty);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("ppoll: %d %s alarms %d blocked again %d\n", n, errno == EINTR ? "EINTR" : "?",
	       alarms, sigismember(&cur, SIGALRM));

	setitimer(ITIMER_REAL, &once, NULL);
	n = pselect(0, NULL, NULL, NULL, &ts, &empty);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("pselect: %d %s alarms %d blocked again %d\n", n, errno == EINTR ? "EINTR" : "?",
	       alarms, sigismember(&cur, SIGALRM));

	struct pollfd p = {.fd = f, .events = POLLIN};
	ts = (struct timespec){0, 0};
	n = ppoll(&p, 1, &ts, &empty);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("ppoll ready: %d revents %#x blocked %d\n", n, p.revents, sigismember(&cur, SIGALRM));
	return 0;
}
