// epolls: epoll in one process: creation flags, epoll_ctl errors (EEXIST,
// ENOENT, EPERM for a regular file, EBADF, EINVAL, ELOOP), level- and
// edge-triggered events on pipes and eventfds, EPOLLONESHOT re-armed by
// EPOLL_CTL_MOD, EPOLLEXCLUSIVE, the data word returned verbatim,
// EPOLLHUP/EPOLLERR, an item leaving with its file's last descriptor,
// nested epoll sets, poll on an epoll fd, timeouts, epoll_pwait's signal
// mask and epoll_pwait2.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	case ELOOP: return "ELOOP";
	case EFAULT: return "EFAULT";
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

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, op, fd, &ev);
}

static void names(uint32_t e) {
	if (e & EPOLLIN) printf(" IN");
	if (e & EPOLLOUT) printf(" OUT");
	if (e & EPOLLERR) printf(" ERR");
	if (e & EPOLLHUP) printf(" HUP");
	if (e & EPOLLRDNORM) printf(" RDNORM");
	if (e & EPOLLWRNORM) printf(" WRNORM");
}

// wait prints what epoll_wait returns within timeout ms.
static void wait(const char *what, int ep, int max, int timeout) {
	struct epoll_event evs[16];
	int n = epoll_wait(ep, evs, max, timeout);
	if (n < 0) {
		printf("%s: -1 %s\n", what, err());
		return;
	}
	printf("%s: %d", what, n);
	for (int i = 0; i < n; i++) {
		printf(" [%#llx", (unsigned long long)evs[i].data.u64);
		names(evs[i].events);
		printf("]");
	}
	printf("\n");
}

static void drain(int fd) {
	char buf[4096];
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof buf) > 0) {
	}
	fcntl(fd, F_SETFL, fl);
}

static volatile int alarms;
static void on_alarm(int sig) { alarms++; }

int main(void) {
	CHECK("epoll_create 0", epoll_create(0));
	CHECK("epoll_create1 bad flags", epoll_create1(1));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	printf("epoll_create1: cloexec %d flags %#x\n", fcntl(ep, F_GETFD), fcntl(ep, F_GETFL));
	int old = epoll_create(10);
	printf("epoll_create: cloexec %d\n", fcntl(old, F_GETFD));

	int p[2];
	pipe(p);
	// Errors.
	int mf = memfd_create("regular", 0);
	CHECK("ADD regular file", ctl(ep, EPOLL_CTL_ADD, mf, EPOLLIN, 0));
	CHECK("DEL regular file", ctl(ep, EPOLL_CTL_DEL, mf, 0, 0));
	CHECK("ADD bad fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
	CHECK("ADD to bad epfd", ctl(999, EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
	CHECK("ADD to non-epoll", ctl(p[1], EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
	CHECK("ADD itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
	CHECK("bad op", ctl(ep, 99, p[0], EPOLLIN, 0));
	CHECK("MOD missing", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0));
	CHECK("DEL missing", ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0));
	struct epoll_event *volatile badev = (struct epoll_event *)8;
	CHECK("ADD bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], badev));
	CHECK("DEL NULL event", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	struct epoll_event one_ev;
	CHECK("wait maxevents 0", epoll_wait(ep, &one_ev, 0, 0));
	CHECK("wait on non-epoll", epoll_wait(p[0], &one_ev, 1, 0));

	// Level-triggered on a pipe; the data word comes back verbatim.
	CHECK("ADD read end LT", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1122334455667788ULL));
	CHECK("ADD again", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
	wait("LT empty", ep, 8, 0);
	write(p[1], "x", 1);
	wait("LT after write", ep, 8, 0);
	wait("LT again", ep, 8, 0);
	drain(p[0]);
	wait("LT drained", ep, 8, 0);

	// Edge-triggered.
	CHECK("MOD to ET", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 0xe7));
	write(p[1], "a", 1);
	wait("ET after write", ep, 8, 0);
	wait("ET again", ep, 8, 0);
	write(p[1], "b", 1);
	wait("ET second write", ep, 8, 0);
	drain(p[0]);

	// One-shot.
	CHECK("MOD to ONESHOT", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 0x05));
	write(p[1], "c", 1);
	wait("ONESHOT", ep, 8, 0);
	write(p[1], "d", 1);
	wait("ONESHOT disabled", ep, 8, 0);
	CHECK("MOD re-arm", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 0x06));
	wait("ONESHOT re-armed", ep, 8, 0);
	drain(p[0]);
	CHECK("DEL", ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0));

	// The write end: OUT level and edge, ERR when the reader goes.
	CHECK("ADD write end ET", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLET, 0x77));
	wait("write end", ep, 8, 0);
	wait("write end again", ep, 8, 0);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	char page[4096] = {0};
	while (write(p[1], page, sizeof page) > 0) {
	}
	wait("write end full", ep, 8, 0);
	read(p[0], page, sizeof page);
	wait("write end room", ep, 8, 0);
	CHECK("EPOLLEXCLUSIVE ADD", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0x88));
	CHECK("EPOLLEXCLUSIVE MOD", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0x88));
	CHECK("EPOLLEXCLUSIVE with ONESHOT", ctl(ep, EPOLL_CTL_MOD, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 0));
	wait("both ends", ep, 8, 0);
	close(p[0]);
	wait("reader closed", ep, 8, 0);
	close(p[1]);
	wait("all closed", ep, 8, 0);

	// Hang-up, and an item leaving with its file.
	pipe(p);
	CHECK("ADD read end, no events", ctl(ep, EPOLL_CTL_ADD, p[0], 0, 0x99));
	close(p[1]);
	wait("writer closed", ep, 8, 0);
	int d = dup(p[0]);
	close(p[0]);
	wait("fd closed, dup open", ep, 8, 0);
	CHECK("DEL closed fd", ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0));
	close(d);
	wait("last descriptor closed", ep, 8, 0);
	pipe(p);
	CHECK("MOD new file at the old number", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0));
	close(p[0]);
	close(p[1]);

	// eventfd.
	int efd = eventfd(0, EFD_NONBLOCK);
	CHECK("ADD eventfd ET", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLOUT | EPOLLET, 0xef));
	wait("eventfd", ep, 8, 0);
	uint64_t one = 1;
	write(efd, &one, 8);
	wait("eventfd written", ep, 8, 0);
	wait("eventfd again", ep, 8, 0);
	CHECK("MOD eventfd LT IN", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 0xef1));
	wait("eventfd LT", ep, 8, 0);
	wait("eventfd LT again", ep, 8, 0);
	read(efd, &one, 8);
	wait("eventfd read", ep, 8, 0);

	// maxevents and order.
	int a[2], b[2], c[2];
	pipe(a);
	pipe(b);
	pipe(c);
	ctl(ep, EPOLL_CTL_ADD, a[0], EPOLLIN, 0xa);
	ctl(ep, EPOLL_CTL_ADD, b[0], EPOLLIN, 0xb);
	ctl(ep, EPOLL_CTL_ADD, c[0], EPOLLIN, 0xc);
	write(c[1], "c", 1);
	write(a[1], "a", 1);
	write(b[1], "b", 1);
	write(efd, &one, 8);
	wait("four ready, max 2", ep, 2, 0);
	wait("next 2", ep, 2, 0);
	wait("all", ep, 8, 0);
	ctl(ep, EPOLL_CTL_DEL, efd, 0, 0);

	// Nested sets, and poll on an epoll fd.
	int inner = epoll_create1(0);
	int outer = epoll_create1(0);
	drain(a[0]);
	drain(b[0]);
	drain(c[0]);
	CHECK("inner ADD pipe", ctl(inner, EPOLL_CTL_ADD, a[0], EPOLLIN, 0x1));
	CHECK("outer ADD inner", ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 0x2));
	CHECK("inner ADD outer (loop)", ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 0));
	CHECK("EPOLLEXCLUSIVE on epoll", ctl(ep, EPOLL_CTL_ADD, outer, EPOLLIN | EPOLLEXCLUSIVE, 0));
	wait("outer empty", outer, 8, 0);
	struct pollfd pf = {.fd = outer, .events = POLLIN};
	int n = poll(&pf, 1, 0);
	printf("poll outer: %d %#x\n", n, pf.revents);
	write(a[1], "x", 1);
	n = poll(&pf, 1, 0);
	printf("poll outer: %d %#x\n", n, pf.revents);
	wait("outer", outer, 8, 0);
	wait("inner", inner, 8, 0);
	// Depth: outer > inner > e3 > e4 > e5 is fine, a sixth level is not.
	int e3 = epoll_create1(0), e4 = epoll_create1(0), e5 = epoll_create1(0), e6 = epoll_create1(0);
	CHECK("inner ADD e3", ctl(inner, EPOLL_CTL_ADD, e3, EPOLLIN, 0));
	CHECK("e3 ADD e4", ctl(e3, EPOLL_CTL_ADD, e4, EPOLLIN, 0));
	CHECK("e4 ADD e5", ctl(e4, EPOLL_CTL_ADD, e5, EPOLLIN, 0));
	CHECK("e5 ADD e6 (too deep)", ctl(e5, EPOLL_CTL_ADD, e6, EPOLLIN, 0));
	CHECK("e6 ADD outer (too deep)", ctl(e6, EPOLL_CTL_ADD, outer, EPOLLIN, 0));
	close(inner);
	wait("inner closed", outer, 8, 0);

	// Timeouts and signals.
	drain(a[0]);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wait("timeout 50ms", ep, 8, 50);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("waited at least 50ms: %d\n", ms >= 49);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART; // epoll_wait is never restarted
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	wait("wait, signal", ep, 8, 5000);
	printf("alarms %d\n", alarms);
	sigset_t block, empty, cur;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	struct epoll_event evs[4];
	CHECK("epoll_pwait, signal", epoll_pwait(ep, evs, 4, 5000, &empty));
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("alarms %d blocked again %d\n", alarms, sigismember(&cur, SIGALRM));
	struct timespec ts = {0, 10000000};
	CHECK("epoll_pwait2 10ms", syscall(SYS_epoll_pwait2, ep, evs, 4, &ts, NULL, 8));
	write(b[1], "b", 1);
	CHECK("epoll_pwait2 ready", syscall(SYS_epoll_pwait2, ep, evs, 4, NULL, NULL, 8));
	printf("data %#llx\n", (unsigned long long)evs[0].data.u64);
	ts.tv_nsec = 2000000000;
	CHECK("epoll_pwait2 bad timespec", syscall(SYS_epoll_pwait2, ep, evs, 4, &ts, NULL, 8));
	CHECK("epoll_pwait bad sigsetsize", syscall(SYS_epoll_pwait, ep, evs, 4, 0, &empty, 4));
	struct epoll_event *volatile badevs = (struct epoll_event *)8;
	CHECK("wait bad events pointer", epoll_wait(ep, badevs, 4, 0));
	return 0;
}
