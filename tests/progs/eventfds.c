// eventfds: eventfd and eventfd2 in one process: the counter, semaphore
// mode, EFD_NONBLOCK and EFD_CLOEXEC, bad sizes and values (EINVAL),
// overflow (EAGAIN), poll events, and a blocking read cut short by a
// signal (EINTR) or restarted after a handler that adds to the counter.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ESPIPE: return "ESPIPE";
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

static void rd(const char *what, int fd) {
	uint64_t v = 0;
	ssize_t n = read(fd, &v, sizeof v);
	if (n < 0)
		printf("%s: -1 %s\n", what, err());
	else
		printf("%s: %zd value %llu\n", what, n, (unsigned long long)v);
}

static void wr(const char *what, int fd, uint64_t v) { CHECK(what, write(fd, &v, sizeof v)); }

static void pr_poll(const char *what, int fd) {
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	int n = poll(&p, 1, 0);
	printf("%s: %d revents%s%s%s\n", what, n, p.revents & POLLIN ? " IN" : "",
	       p.revents & POLLOUT ? " OUT" : "", p.revents & POLLERR ? " ERR" : "");
}

static volatile int alarms, handler_fd = -1;
static void on_alarm(int sig) {
	alarms++;
	if (handler_fd >= 0) {
		uint64_t v = 42;
		write(handler_fd, &v, sizeof v);
	}
}

static void arm(int restart, int fd) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	handler_fd = fd;
	struct itimerval it = {.it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(void) {
	int fd = eventfd(3, 0);
	printf("eventfd: %d flags %#x cloexec %d\n", fd >= 0, fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
	struct stat st;
	fstat(fd, &st);
	printf("fstat: mode %o\n", st.st_mode);
	pr_poll("poll 3", fd);
	rd("read", fd);
	pr_poll("poll 0", fd);
	wr("write 5", fd, 5);
	wr("write 2", fd, 2);
	rd("read", fd);
	char small[4];
	CHECK("read 4 bytes", read(fd, small, sizeof small));
	CHECK("write 4 bytes", write(fd, small, sizeof small));
	wr("write 2^64-1", fd, UINT64_MAX);
	CHECK("lseek", lseek(fd, 0, SEEK_SET));
	wr("write 1", fd, 1);
	void *volatile badp = (void *)8;
	CHECK("read bad pointer", read(fd, badp, 8));
	close(fd); // what is left of the counter after EFAULT differs
	fd = eventfd(0, 0);

	arm(0, -1);
	rd("blocking read, signal", fd);
	printf("alarms %d\n", alarms);
	arm(1, fd);
	rd("blocking read, SA_RESTART handler writes", fd);
	printf("alarms %d\n", alarms);
	close(fd);

	fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	printf("eventfd2: flags %#x cloexec %d\n", fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
	rd("semaphore read", fd);
	rd("semaphore read", fd);
	rd("semaphore read", fd);
	wr("write max", fd, UINT64_MAX - 1);
	pr_poll("poll full", fd);
	wr("write 1 when full", fd, 1);
	wr("write 0 when full", fd, 0);
	close(fd);

	CHECK("eventfd2 bad flags", syscall(SYS_eventfd2, 0, 0x1234));
	CHECK("eventfd2 O_RDWR", syscall(SYS_eventfd2, 0, O_RDWR));
	fd = syscall(SYS_eventfd, 7);
	rd("old eventfd read", fd);
	close(fd);
	return 0;
}
