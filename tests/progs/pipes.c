// pipes: pipe and pipe2 in one process: write then read, fstat (S_IFIFO),
// O_NONBLOCK/O_CLOEXEC/O_DIRECT, EAGAIN, capacity by page-sized and
// small writes, F_GETPIPE_SZ/F_SETPIPE_SZ, PIPE_BUF atomicity and partial
// writes, FIONREAD and FIONBIO, readv, poll and select events (POLLIN,
// POLLOUT, POLLHUP, POLLERR), reads and writes cut short by a signal
// (EINTR, partial count, SA_RESTART), EPIPE with a SIGPIPE handler and
// ignored, splice, tee and vmsplice. With the argument "sigpipe" it ends
// by writing to a pipe without reader with SIGPIPE's default action.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

static char big[1 << 20];

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EINTR: return "EINTR";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ESPIPE: return "ESPIPE";
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

static void pr_poll(const char *what, int fd, short events) {
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, 0);
	printf("%s: %d revents", what, n);
	if (p.revents & POLLIN) printf(" IN");
	if (p.revents & POLLOUT) printf(" OUT");
	if (p.revents & POLLHUP) printf(" HUP");
	if (p.revents & POLLERR) printf(" ERR");
	if (p.revents & POLLNVAL) printf(" NVAL");
	printf("\n");
}

// fill writes chunk-sized writes to a non-blocking pipe until EAGAIN.
static long fill(int fd, int chunk) {
	long total = 0;
	for (;;) {
		ssize_t n = write(fd, big, chunk);
		if (n < 0) {
			if (errno != EAGAIN) printf("fill: %s\n", err());
			return total;
		}
		total += n;
	}
}

static void drain(int fd) {
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, big, sizeof big) > 0) {
	}
	fcntl(fd, F_SETFL, fl);
}

static volatile int alarms, pipes_seen, handler_fd = -1;
static void on_alarm(int sig) {
	alarms++;
	if (handler_fd >= 0) write(handler_fd, "!", 1);
}
static void on_pipe(int sig) { pipes_seen++; }

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

int main(int argc, char **argv) {
	int p[2], q[2];
	char buf[256];
	struct stat st;

	// Basic write then read, and what the ends look like.
	CHECK("pipe", pipe(p));
	CHECK("write hello", write(p[1], "hello, pipe", 11));
	memset(buf, 0, sizeof buf);
	CHECK("read", read(p[0], buf, sizeof buf));
	printf("got %s\n", buf);
	fstat(p[0], &st);
	printf("fstat: fifo %d mode %o size %ld nlink %ld\n", S_ISFIFO(st.st_mode), st.st_mode & 0777,
	       (long)st.st_size, (long)st.st_nlink);
	struct stat st1;
	fstat(p[1], &st1);
	printf("same inode: %d\n", st.st_ino == st1.st_ino);
	printf("flags: r %#x w %#x fd %d\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL), fcntl(p[0], F_GETFD));
	CHECK("lseek", lseek(p[0], 0, SEEK_SET));
	CHECK("pread", pread(p[0], buf, 1, 0));
	CHECK("write to read end", write(p[0], "x", 1));
	CHECK("read from write end", read(p[1], buf, 1));

	// readv spreads one read over several buffers.
	write(p[1], "abcdefgh", 8);
	char a3[3], b5[6] = {0};
	struct iovec iov[2] = {{a3, 3}, {b5, 5}};
	CHECK("readv", readv(p[0], iov, 2));
	printf("readv: %.3s %s\n", a3, b5);
	close(p[0]);
	close(p[1]);

	// pipe2 flags.
	CHECK("pipe2 bad flags", pipe2(p, O_APPEND));
	int *volatile badp = (int *)8;
	CHECK("pipe2 bad pointer", pipe2(badp, 0));
	CHECK("pipe2", pipe2(p, O_NONBLOCK | O_CLOEXEC));
	printf("flags: r %#x w %#x cloexec %d %d\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL),
	       fcntl(p[0], F_GETFD), fcntl(p[1], F_GETFD));
	CHECK("read empty nonblocking", read(p[0], buf, 1));
	pr_poll("poll empty read end", p[0], POLLIN);
	pr_poll("poll empty write end", p[1], POLLOUT);

	// Capacity.
	CHECK("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
	printf("capacity by 4096: %ld\n", fill(p[1], 4096));
	int avail = -1;
	ioctl(p[0], FIONREAD, &avail);
	printf("FIONREAD: %d\n", avail);
	pr_poll("poll full read end", p[0], POLLIN | POLLOUT);
	pr_poll("poll full write end", p[1], POLLIN | POLLOUT);
	CHECK("write to full pipe", write(p[1], "x", 1));
	drain(p[0]);
	printf("capacity by 1000: %ld\n", fill(p[1], 1000));
	CHECK("one more byte merges", write(p[1], "x", 1));
	drain(p[0]);
	printf("capacity by 96: %ld\n", fill(p[1], 96));
	drain(p[0]);

	// Partial writes above PIPE_BUF, none below.
	fill(p[1], 4096);
	CHECK("read two pages", read(p[0], big, 8192));
	CHECK("write 3 pages nonblocking", write(p[1], big, 3 * 4096));
	drain(p[0]);
	CHECK("F_SETPIPE_SZ 4096", fcntl(p[1], F_SETPIPE_SZ, 4096));
	CHECK("write 100", write(p[1], big, 100));
	CHECK("write PIPE_BUF into 3996 free", write(p[1], big, PIPE_BUF));
	CHECK("write 3996", write(p[1], big, 3996));
	CHECK("write 1 more", write(p[1], big, 1));
	drain(p[0]);

	// F_SETPIPE_SZ rounding and limits.
	CHECK("F_SETPIPE_SZ 0", fcntl(p[0], F_SETPIPE_SZ, 0));
	CHECK("F_SETPIPE_SZ 5000", fcntl(p[0], F_SETPIPE_SZ, 5000));
	CHECK("F_SETPIPE_SZ 1M", fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
	CHECK("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ));
	printf("capacity now: %ld\n", fill(p[1], 4096));
	drain(p[0]);
	fcntl(p[0], F_SETPIPE_SZ, 65536);
	write(p[1], big, 3 * 4096);
	CHECK("F_SETPIPE_SZ below content", fcntl(p[0], F_SETPIPE_SZ, 8192));
	CHECK("F_SETPIPE_SZ at content", fcntl(p[0], F_SETPIPE_SZ, 3 * 4096));
	drain(p[0]);
	int fd = open("/dev/null", O_RDONLY);
	CHECK("F_GETPIPE_SZ of /dev/null", fcntl(fd, F_GETPIPE_SZ));
	close(fd);

	// Hang-up and error events.
	write(p[1], "bye", 3);
	close(p[1]);
	pr_poll("poll read end, writer gone", p[0], POLLIN);
	CHECK("read rest", read(p[0], buf, sizeof buf));
	pr_poll("poll read end, drained", p[0], POLLIN);
	CHECK("read at end", read(p[0], buf, sizeof buf));
	close(p[0]);

	// O_DIRECT: packets.
	CHECK("pipe2 O_DIRECT", pipe2(p, O_DIRECT | O_NONBLOCK));
	printf("flags: r %#x w %#x\n", fcntl(p[0], F_GETFL) & O_DIRECT, fcntl(p[1], F_GETFL) & O_DIRECT);
	write(p[1], "one", 3);
	write(p[1], "two", 3);
	write(p[1], "three", 5);
	memset(buf, 0, sizeof buf);
	CHECK("packet read", read(p[0], buf, sizeof buf));
	printf("packet: %s\n", buf);
	CHECK("short packet read", read(p[0], buf, 1));
	CHECK("next packet", read(p[0], buf, sizeof buf));
	close(p[0]);
	close(p[1]);

	// FIONBIO, blocking reads and writes cut short by a signal.
	pipe(p);
	int on = 1;
	CHECK("FIONBIO", ioctl(p[0], FIONBIO, &on));
	CHECK("read after FIONBIO", read(p[0], buf, 1));
	on = 0;
	ioctl(p[0], FIONBIO, &on);
	arm(0, -1);
	CHECK("blocking read, signal", read(p[0], buf, 1));
	printf("alarms %d\n", alarms);
	arm(1, p[1]);
	CHECK("blocking read, SA_RESTART handler writes", read(p[0], buf, 1));
	printf("alarms %d got %c\n", alarms, buf[0]);
	arm(0, -1);
	CHECK("blocking write of 100000, signal after 65536", write(p[1], big, 100000));
	arm(0, -1);
	CHECK("blocking write to full pipe, signal", write(p[1], big, 1));
	printf("alarms %d\n", alarms);
	drain(p[0]);

	// poll and select, blocking, woken by data a handler writes.
	arm(0, p[1]);
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	CHECK("poll blocking, signal", poll(&pf, 1, 5000));
	pr_poll("poll after handler wrote", p[0], POLLIN);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {1, 0};
	int n = select(p[1] + 1, &r, &w, NULL, &tv);
	printf("select: %d r %d w %d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
	drain(p[0]);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 20000};
	n = select(p[0] + 1, &r, NULL, NULL, &tv);
	printf("select empty: %d r %d\n", n, FD_ISSET(p[0], &r));
	struct pollfd two[2] = {{.fd = p[0], .events = POLLIN}, {.fd = p[1], .events = POLLOUT}};
	n = poll(two, 2, 1000);
	printf("poll two: %d %#x %#x\n", n, two[0].revents, two[1].revents);

	// EPIPE and SIGPIPE.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_pipe;
	sigaction(SIGPIPE, &sa, NULL);
	close(p[0]);
	pr_poll("poll write end, reader gone", p[1], POLLOUT);
	CHECK("write, no reader, handler", write(p[1], "x", 1));
	printf("SIGPIPE handled %d\n", pipes_seen);
	signal(SIGPIPE, SIG_IGN);
	CHECK("write, no reader, ignored", write(p[1], "x", 1));
	printf("SIGPIPE handled %d\n", pipes_seen);
	close(p[1]);

	// splice, tee, vmsplice.
	pipe(p);
	pipe(q);
	int mf = memfd_create("splice", 0);
	write(mf, "0123456789abcdef", 16);
	loff_t off = 4;
	CHECK("splice file->pipe at offset", splice(mf, &off, p[1], NULL, 6, 0));
	printf("offset now %ld\n", (long)off);
	lseek(mf, 10, SEEK_SET);
	CHECK("splice file->pipe at position", splice(mf, NULL, p[1], NULL, 100, 0));
	CHECK("tee", tee(p[0], q[1], 4, 0));
	memset(buf, 0, sizeof buf);
	CHECK("read tee copy", read(q[0], buf, sizeof buf));
	printf("tee copy: %s\n", buf);
	CHECK("splice pipe->pipe", splice(p[0], NULL, q[1], NULL, 3, 0));
	off = 100;
	CHECK("splice pipe->file", splice(p[0], NULL, mf, &off, 100, 0));
	printf("offset now %ld\n", (long)off);
	memset(buf, 0, sizeof buf);
	pread(mf, buf, 20, 100);
	printf("file got: %s\n", buf);
	memset(buf, 0, sizeof buf);
	read(q[0], buf, sizeof buf);
	printf("pipe got: %s\n", buf);
	CHECK("splice empty nonblocking", splice(p[0], NULL, q[1], NULL, 3, SPLICE_F_NONBLOCK));
	CHECK("splice offset on pipe", splice(p[0], &off, mf, NULL, 3, 0));
	CHECK("splice no pipe", splice(mf, NULL, mf, NULL, 3, 0));
	CHECK("splice bad flags", splice(p[0], NULL, q[1], NULL, 3, 0x100));
	CHECK("splice zero", splice(p[0], NULL, q[1], NULL, 0, 0));
	CHECK("tee same pipe", tee(p[0], p[1], 1, 0));
	CHECK("tee not pipes", tee(mf, q[1], 1, 0));
	struct iovec v[2] = {{"vm", 2}, {"splice", 6}};
	CHECK("vmsplice to pipe", vmsplice(p[1], v, 2, 0));
	char x1[4] = {0}, x2[5] = {0};
	struct iovec rv[2] = {{x1, 3}, {x2, 4}};
	CHECK("vmsplice from pipe", vmsplice(p[0], rv, 2, 0));
	printf("vmsplice got: %s %s\n", x1, x2);
	CHECK("vmsplice not a pipe", vmsplice(mf, v, 1, 0));
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK("vmsplice no reader", vmsplice(p[1], v, 1, 0));
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(mf);

	if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) {
		pipe(p);
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		printf("writing with SIGPIPE's default action\n");
		fflush(stdout);
		write(p[1], "x", 1);
		printf("still alive\n");
		return 1;
	}
	return 0;
}
