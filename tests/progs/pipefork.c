// pipefork: pipes and waits across processes and threads: 10 MB through a
// pipe from a child, a 1000-round ping-pong, poll, select and epoll_wait
// in one process woken by a write in another, end of file and POLLHUP when
// the writer exits, EPIPE when the reader exits, and threads blocked in
// read and epoll_wait woken by another thread.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[65536];

static void msleep(int ms) { usleep(ms * 1000); }

static int status_of(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid) return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void transfer(void) {
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (int i = 0; i < (int)sizeof buf; i++) buf[i] = (char)(i * 31);
		long left = 10 << 20;
		while (left > 0) {
			ssize_t n = write(p[1], buf, left < (long)sizeof buf ? left : (long)sizeof buf);
			if (n <= 0) _exit(1);
			left -= n;
		}
		_exit(0);
	}
	close(p[1]);
	long total = 0;
	uint32_t s1 = 1, s2 = 0;
	for (;;) {
		ssize_t n = read(p[0], buf, 7000);
		if (n <= 0) break;
		for (ssize_t i = 0; i < n; i++) {
			s1 = (s1 + (unsigned char)buf[i]) % 65521;
			s2 = (s2 + s1) % 65521;
		}
		total += n;
	}
	close(p[0]);
	printf("transfer: %ld bytes, adler32 %08x, child %d\n", total, s2 << 16 | s1, status_of(pid));
}

static void pingpong(void) {
	int a[2], b[2];
	pipe(a);
	pipe(b);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1) {
			c++;
			if (write(b[1], &c, 1) != 1) _exit(1);
		}
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	char c = 0;
	int rounds = 0;
	for (int i = 0; i < 1000; i++) {
		write(a[1], &c, 1);
		if (read(b[0], &c, 1) != 1) break;
		rounds++;
	}
	close(a[1]);
	printf("ping-pong: %d rounds, last byte %d, child %d\n", rounds, (unsigned char)c, status_of(pid));
	close(b[0]);
}

static void waits(void) {
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		msleep(30);
		write(p[1], "a", 1); // for poll
		msleep(30);
		write(p[1], "b", 1); // for select
		msleep(30);
		write(p[1], "c", 1); // for epoll_wait
		msleep(30);
		_exit(0); // the last writer goes: POLLHUP, end of file
	}
	close(p[1]);
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	int n = poll(&pf, 1, 10000);
	char c = 0;
	read(p[0], &c, 1);
	printf("poll woken by child: %d revents %#x read %c\n", n, pf.revents, c);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	n = select(p[0] + 1, &r, NULL, NULL, NULL);
	read(p[0], &c, 1);
	printf("select woken by child: %d set %d read %c\n", n, FD_ISSET(p[0], &r), c);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0xabcdef};
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	struct epoll_event out;
	n = epoll_wait(ep, &out, 1, 10000);
	read(p[0], &c, 1);
	printf("epoll_wait woken by child: %d data %#llx read %c\n", n, (unsigned long long)out.data.u64, c);
	n = epoll_wait(ep, &out, 1, 10000);
	printf("epoll_wait at child exit: %d events %s%s\n", n, out.events & EPOLLIN ? "IN" : "",
	       out.events & EPOLLHUP ? " HUP" : "");
	printf("read at end: %zd\n", read(p[0], &c, 1));
	printf("child %d\n", status_of(pid));
	close(ep);
	close(p[0]);

	// The reader exits: EPIPE for the writer (SIGPIPE ignored here).
	pipe(p);
	pid = fork();
	if (pid == 0) _exit(0);
	close(p[0]);
	status_of(pid);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	n = write(p[1], "x", 1);
	printf("write after the reader exited: %d %s\n", n, errno == EPIPE ? "EPIPE" : "?");
	close(p[1]);

	// A writer blocked on a full pipe, woken by the child's reads.
	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		msleep(30);
		long total = 0;
		ssize_t k;
		while ((k = read(p[0], buf, sizeof buf)) > 0) total += k;
		_exit(total == 300000 ? 0 : 1);
	}
	close(p[0]);
	static char big[300000];
	printf("blocking write of 300000: %zd\n", write(p[1], big, sizeof big));
	close(p[1]);
	printf("child read all: %d\n", status_of(pid) == 0);
}

static int tpipe[2], efd, tep;

static void *reader(void *arg) {
	char c = 0;
	ssize_t n = read(tpipe[0], &c, 1);
	printf("thread read: %zd %c\n", n, c);
	return NULL;
}

static void *epoller(void *arg) {
	struct epoll_event out;
	int n = epoll_wait(tep, &out, 1, 10000);
	printf("thread epoll_wait: %d data %llu\n", n, (unsigned long long)out.data.u64);
	return NULL;
}

static void threads(void) {
	pipe(tpipe);
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	msleep(30);
	write(tpipe[1], "t", 1);
	pthread_join(t, NULL);

	efd = eventfd(0, 0);
	tep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
	epoll_ctl(tep, EPOLL_CTL_ADD, efd, &ev);
	pthread_create(&t, NULL, epoller, NULL);
	msleep(30);
	uint64_t one = 1;
	write(efd, &one, 8);
	pthread_join(t, NULL);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	transfer();
	pingpong();
	waits();
	threads();
	return 0;
}
