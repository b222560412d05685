// mqueue: POSIX message queues (mq_overview(7)): create and open rules,
// attributes, priority order, size limits, full and empty queues with
// and without O_NONBLOCK and with timeouts, a receiver blocked in another
// process, notification by signal, poll, and unlink.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *e(int r) { return r < 0 ? strerrorname_np(errno) : "0"; }

static volatile sig_atomic_t got_code, got_value, got_signo;

static void on_usr1(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	got_signo = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
}

int main(void) {
	char name[64];
	snprintf(name, sizeof name, "/ringbox-mq-%d", getpid());
	struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
	mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	printf("create: %s\n", q == (mqd_t)-1 ? strerrorname_np(errno) : "0");
	printf("create again, O_EXCL: %s\n", e(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr)));
	printf("bad name: %s\n", e(mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL)));
	struct mq_attr zero = {.mq_maxmsg = 0, .mq_msgsize = 64};
	printf("maxmsg 0: %s\n", e(mq_open("/ringbox-mq-zero", O_CREAT | O_RDWR, 0600, &zero)));
	printf("cloexec: %d\n", fcntl(q, F_GETFD) & FD_CLOEXEC);
	struct mq_attr a;
	mq_getattr(q, &a);
	printf("attr: flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", a.mq_flags, a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);

	mq_send(q, "one", 3, 1);
	mq_send(q, "five", 4, 5);
	mq_send(q, "uno", 3, 1);
	char buf[128];
	unsigned prio;
	for (int i = 0; i < 3; i++) {
		ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
		printf("receive: %.*s prio %u\n", (int)n, buf, prio);
	}
	printf("receive, small buffer: %s\n", e(mq_receive(q, buf, 32, &prio)));
	char big[65] = {0};
	printf("send 65 bytes: %s\n", e(mq_send(q, big, sizeof big, 0)));
	printf("send prio 32768: %s\n", e(mq_send(q, "x", 1, 32768)));

	struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT};
	poll(&p, 1, 0);
	printf("poll empty: in %d out %d\n", !!(p.revents & POLLIN), !!(p.revents & POLLOUT));
	struct mq_attr nb = {.mq_flags = O_NONBLOCK};
	mq_setattr(q, &nb, NULL);
	printf("receive empty, nonblocking: %s\n", e(mq_receive(q, buf, sizeof buf, NULL)));
	for (int i = 0; i < 4; i++)
		mq_send(q, "f", 1, 0);
	printf("send to full, nonblocking: %s\n", e(mq_send(q, "f", 1, 0)));
	poll(&p, 1, 0);
	printf("poll full: in %d out %d\n", !!(p.revents & POLLIN), !!(p.revents & POLLOUT));
	nb.mq_flags = 0;
	mq_setattr(q, &nb, NULL);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	printf("timedsend to full: %s\n", e(mq_timedsend(q, "f", 1, 0, &ts)));
	mq_getattr(q, &a);
	printf("curmsgs: %ld\n", a.mq_curmsgs);
	while (a.mq_curmsgs-- > 0)
		mq_receive(q, buf, sizeof buf, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("timedreceive, past deadline: %s\n", e(mq_timedreceive(q, buf, sizeof buf, NULL, &ts)));
	fflush(stdout);

	// A receiver blocked in another process.
	pid_t c = fork();
	if (c == 0) {
		ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
		printf("child received: %.*s prio %u\n", (int)n, buf, prio);
		fflush(stdout);
		_exit(0);
	}
	usleep(200000);
	mq_send(q, "wake", 4, 7);
	waitpid(c, NULL, 0);

	// Notification by signal on the first message into an empty queue.
	struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR1, &sa, NULL);
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1, .sigev_value.sival_int = 42};
	printf("notify: %s\n", e(mq_notify(q, &sev)));
	fflush(stdout);
	c = fork();
	if (c == 0) {
		printf("notify from another process: %s\n", e(mq_notify(q, &sev)));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	mq_send(q, "n", 1, 0);
	for (int i = 0; i < 100 && !got_signo; i++)
		usleep(10000);
	printf("signal %d code SI_MESGQ %d value %d\n", got_signo, got_code == SI_MESGQ, got_value);
	printf("notify again after firing: %s\n", e(mq_notify(q, &sev)));
	printf("unregister: %s\n", e(mq_notify(q, NULL)));
	mq_receive(q, buf, sizeof buf, NULL);

	printf("unlink: %s\n", e(mq_unlink(name)));
	printf("open after unlink: %s\n", e(mq_open(name, O_RDWR)));
	printf("still usable: send %s", e(mq_send(q, "z", 1, 0)));
	printf(", receive %zd\n", mq_receive(q, buf, sizeof buf, NULL));
	printf("unlink again: %s\n", e(mq_unlink(name)));
	printf("receive on a non-queue fd: %s\n", e(mq_receive(1, buf, sizeof buf, NULL)));
	mq_close(q);
	return 0;
}
