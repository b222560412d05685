// timerfds: timerfd_create/settime/gettime. One-shot and periodic timers
// read, polled and watched by epoll, relative and absolute times on the
// three clocks, expirations counted while nobody reads, disarming,
// TFD_NONBLOCK (EAGAIN) and TFD_CLOEXEC, a blocking read cut short by a
// signal, a child reading an inherited timerfd, and bad input. Times are
// never printed: only counts, flags and yes/no against bounds.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
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

// rd reads the expiration count: -1 on error (printed by the caller).
static long long rd(int fd) {
	uint64_t v = 0;
	if (read(fd, &v, sizeof v) != sizeof v)
		return -1;
	return (long long)v;
}

static void set(int fd, int flags, long value_ns, long interval_ns) {
	struct itimerspec it = {
		.it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
		.it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
	};
	if (timerfd_settime(fd, flags, &it, NULL) < 0)
		printf("settime: -1 %s\n", err());
}

static long ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

static void sleep_ms(long ms) {
	struct timespec t = {ms / 1000, ms % 1000 * MS};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	CHECK("create bad clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	CHECK("create bad clock 99", timerfd_create(99, 0));
	CHECK("create bad flags", timerfd_create(CLOCK_MONOTONIC, 0x1));

	// One-shot, non-blocking, close-on-exec.
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	printf("create: %s nonblock %s cloexec %s\n", yesno(fd >= 0), yesno(fcntl(fd, F_GETFL) & O_NONBLOCK),
	       yesno(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	struct stat st;
	fstat(fd, &st);
	printf("fstat: mode %o\n", st.st_mode);
	char link[64] = "", path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	readlink(path, link, sizeof link - 1);
	printf("link: %s\n", link);
	struct itimerspec cur;
	timerfd_gettime(fd, &cur);
	printf("disarmed gettime: %ld %ld\n", ns(cur.it_value), ns(cur.it_interval));
	if (rd(fd) < 0)
		printf("read before arming: %s\n", err());
	/* A second: a loaded machine (the x86 lane under load) took more than
	 * 30 ms between these calls. */
	set(fd, 0, 1000 * MS, 0);
	timerfd_gettime(fd, &cur);
	printf("armed gettime: in (0, 1 s] %s, interval %ld\n",
	       yesno(ns(cur.it_value) > 0 && ns(cur.it_value) <= 1000 * MS), ns(cur.it_interval));
	if (rd(fd) < 0)
		printf("read before expiry: %s\n", err());
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	printf("poll now: %d\n", poll(&p, 1, 0));
	int n = poll(&p, 1, 5000);
	printf("poll: %d revents IN %s OUT %s\n", n, yesno(p.revents & POLLIN), yesno(p.revents & POLLOUT));
	printf("read: %lld\n", rd(fd));
	if (rd(fd) < 0)
		printf("read again: %s\n", err());
	timerfd_gettime(fd, &cur);
	printf("expired gettime: %ld %ld\n", ns(cur.it_value), ns(cur.it_interval));
	uint64_t v = 0;
	CHECK("read 4 bytes", read(fd, &v, 4));
	CHECK("write", write(fd, &v, 8));
	CHECK("lseek", lseek(fd, 0, SEEK_SET));

	// Periodic, with epoll.
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234};
	CHECK("epoll_ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	set(fd, 0, 10 * MS, 10 * MS);
	timerfd_gettime(fd, &cur);
	printf("periodic gettime: interval %ld\n", ns(cur.it_interval));
	long long total = 0;
	int wakes = 0;
	while (total < 5 && wakes < 100) {
		struct epoll_event out;
		int k = epoll_wait(ep, &out, 1, 5000);
		if (k != 1 || out.data.u64 != 0x1234 || !(out.events & EPOLLIN)) {
			printf("epoll_wait: %d\n", k);
			break;
		}
		wakes++;
		long long c = rd(fd);
		if (c > 0)
			total += c;
	}
	printf("epoll: 5 expirations read: %s\n", yesno(total >= 5));
	// Nobody reads for 60 ms: every period is counted.
	rd(fd);
	sleep_ms(65);
	long long c = rd(fd);
	printf("60 ms unread: at least 5 counted: %s\n", yesno(c >= 5));

	// Disarming returns the old setting and drops the count.
	sleep_ms(15);
	struct itimerspec zero = {{0, 0}, {0, 0}}, old;
	timerfd_settime(fd, 0, &zero, &old);
	printf("disarm: old interval %ld, old value in (0, 10 ms] %s\n", ns(old.it_interval),
	       yesno(ns(old.it_value) > 0 && ns(old.it_value) <= 10 * MS));
	if (rd(fd) < 0)
		printf("read after disarm: %s\n", err());
	sleep_ms(30);
	if (rd(fd) < 0)
		printf("read 30 ms later: %s\n", err());
	struct epoll_event out;
	printf("epoll_wait disarmed: %d\n", epoll_wait(ep, &out, 1, 30));
	close(ep);
	close(fd);

	// Absolute times, blocking reads, the other clocks.
	clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
	const char *names[] = {"REALTIME", "MONOTONIC", "BOOTTIME"};
	for (int i = 0; i < 3; i++) {
		fd = timerfd_create(clocks[i], 0);
		struct timespec now;
		clock_gettime(clocks[i], &now);
		long abs = ns(now) + 20 * MS;
		struct itimerspec it = {.it_value = {abs / 1000000000L, abs % 1000000000L}};
		int flags = TFD_TIMER_ABSTIME | (clocks[i] == CLOCK_REALTIME ? TFD_TIMER_CANCEL_ON_SET : 0);
		CHECK(names[i], timerfd_settime(fd, flags, &it, NULL));
		printf("%s absolute blocking read: %lld\n", names[i], rd(fd));
		// In the past, periodic: expires at once with the periods since.
		clock_gettime(clocks[i], &now);
		abs = ns(now) - 35 * MS;
		it.it_value = (struct timespec){abs / 1000000000L, abs % 1000000000L};
		it.it_interval = (struct timespec){0, 10 * MS};
		timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL);
		c = rd(fd);
		printf("%s absolute in the past: at least 4 counted: %s\n", names[i], yesno(c >= 4));
		close(fd);
	}

	// A blocking read cut short by a signal.
	fd = timerfd_create(CLOCK_MONOTONIC, 0);
	set(fd, 0, 10000 * MS, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval itv = {.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &itv, NULL);
	if (rd(fd) < 0)
		printf("blocking read, signal: %s, alarms %d\n", err(), alarms);

	// A child reads the timerfd it inherited.
	set(fd, 0, 20 * MS, 0);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child read: %lld\n", rd(fd));
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child exited %d\n", WEXITSTATUS(status));
	timerfd_gettime(fd, &cur);
	printf("after the child: %ld\n", ns(cur.it_value));

	// Bad input.
	int pfd[2];
	pipe(pfd);
	struct itimerspec good = {.it_value = {1, 0}};
	CHECK("settime bad flags", timerfd_settime(fd, 0x4, &good, NULL));
	CHECK("settime on a pipe", timerfd_settime(pfd[0], 0, &good, NULL));
	CHECK("gettime on a pipe", timerfd_gettime(pfd[0], &cur));
	CHECK("settime bad fd", timerfd_settime(99, 0, &good, NULL));
	CHECK("gettime bad fd", timerfd_gettime(99, &cur));
	struct itimerspec bad = {.it_value = {0, 1000000000L}};
	CHECK("settime bad nsec", timerfd_settime(fd, 0, &bad, NULL));
	bad = (struct itimerspec){.it_value = {-1, 0}};
	CHECK("settime negative", timerfd_settime(fd, 0, &bad, NULL));
	CHECK("settime bad pointer", syscall(SYS_timerfd_settime, fd, 0, (void *)8, NULL));
	CHECK("gettime bad pointer", syscall(SYS_timerfd_gettime, fd, (void *)8));
	CHECK("settime bad old pointer", syscall(SYS_timerfd_settime, fd, 0, &good, (void *)8));
	timerfd_gettime(fd, &cur);
	printf("armed all the same: %s\n", yesno(ns(cur.it_value) > 0));
	return 0;
}
