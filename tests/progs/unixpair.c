// unixpair: AF_UNIX socketpairs of each type: data and message
// boundaries, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, MSG_DONTWAIT, shutdown in
// each direction, end of file, EPIPE with and without SIGPIPE, poll
// events, FIONREAD/SIOCOUTQ, socket options, fstat and the errors of bad
// calls. Output is the same natively and in the sandbox.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

static const char *err(long r) {
	static char ring[4][64];
	static int next;
	char *b = ring[next++ % 4];
	if (r >= 0) {
		snprintf(b, 64, "%ld", r);
		return b;
	}
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EINVAL: return "EINVAL";
	case ENOTCONN: return "ENOTCONN";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EMSGSIZE: return "EMSGSIZE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTSOCK: return "ENOTSOCK";
	case EBADF: return "EBADF";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EFAULT: return "EFAULT";
	case EISCONN: return "EISCONN";
	case EDOM: return "EDOM";
	}
	snprintf(b, 64, "errno %d", errno);
	return b;
}

static const char *events(int fd) {
	static char ring[4][64];
	static int next;
	char *b = ring[next++ % 4];
	struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
	poll(&p, 1, 0);
	b[0] = 0;
	if (p.revents & POLLIN) strcat(b, "IN ");
	if (p.revents & POLLOUT) strcat(b, "OUT ");
	if (p.revents & POLLHUP) strcat(b, "HUP ");
	if (p.revents & POLLRDHUP) strcat(b, "RDHUP ");
	if (p.revents & POLLERR) strcat(b, "ERR ");
	if (!b[0]) strcpy(b, "none");
	return b;
}

static const char *type_name(int t) {
	return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : "seqpacket";
}

static void show_recv(const char *what, int fd, size_t len, int flags) {
	char buf[256];
	struct iovec io = {buf, len};
	struct msghdr m = {0};
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	long r = recvmsg(fd, &m, flags);
	if (r < 0) {
		printf("  %s: %s\n", what, err(r));
		return;
	}
	printf("  %s: %ld \"%.*s\"%s\n", what, r, (int)(r < (long)len ? r : (long)len), buf,
	       m.msg_flags & MSG_TRUNC ? " MSG_TRUNC" : "");
}

static void pairs(int type) {
	int sv[2];
	printf("%s pair: %s\n", type_name(type), err(socketpair(AF_UNIX, type, 0, sv)));
	printf("  events: %s / %s\n", events(sv[0]), events(sv[1]));
	send(sv[0], "hello ", 6, 0);
	send(sv[0], "world", 5, 0);
	send(sv[0], "", 0, 0);
	send(sv[0], "!", 1, 0);
	int n = -1;
	ioctl(sv[1], FIONREAD, &n);
	printf("  FIONREAD %d, events %s\n", n, events(sv[1]));
	ioctl(sv[0], SIOCOUTQ, &n);
	printf("  SIOCOUTQ nonzero: %d\n", n > 0);
	show_recv("peek 3", sv[1], 3, MSG_PEEK);
	show_recv("recv 3", sv[1], 3, 0);
	show_recv("recv 3 MSG_TRUNC", sv[1], 3, type == SOCK_STREAM ? 0 : MSG_TRUNC);
	show_recv("recv 64", sv[1], 64, MSG_DONTWAIT);
	show_recv("recv 64", sv[1], 64, MSG_DONTWAIT);
	show_recv("recv empty", sv[1], 64, MSG_DONTWAIT);
	ioctl(sv[0], SIOCOUTQ, &n);
	printf("  SIOCOUTQ after reading: %d\n", n);

	// Shutdown: SHUT_WR on one side is end of file for the other.
	printf("  shutdown(0, SHUT_WR): %s\n", err(shutdown(sv[0], SHUT_WR)));
	printf("  events: %s / %s\n", events(sv[0]), events(sv[1]));
	sigpipes = 0;
	long r = send(sv[0], "x", 1, 0);
	printf("  send after SHUT_WR: %s, SIGPIPEs %d\n", err(r), sigpipes);
	sigpipes = 0;
	r = send(sv[0], "x", 1, MSG_NOSIGNAL);
	printf("  send MSG_NOSIGNAL: %s, SIGPIPEs %d\n", err(r), sigpipes);
	if (type != SOCK_DGRAM) show_recv("recv at EOF", sv[1], 64, 0);
	printf("  send the other way: %s\n", err(send(sv[1], "back", 4, 0)));
	show_recv("recv it", sv[0], 64, 0);
	printf("  shutdown(1, SHUT_RD): %s\n", err(shutdown(sv[1], SHUT_RD)));
	printf("  events: %s / %s\n", events(sv[0]), events(sv[1]));
	sigpipes = 0;
	r = send(sv[0], "x", 1, MSG_DONTWAIT);
	printf("  send to SHUT_RD: %s, SIGPIPEs %d\n", err(r), sigpipes);
	r = send(sv[1], "y", 1, MSG_DONTWAIT);
	printf("  send from the SHUT_RD side: %s\n", err(r));
	close(sv[0]);
	printf("  events after close: %s\n", events(sv[1]));
	close(sv[1]);

	// A closed peer.
	socketpair(AF_UNIX, type, 0, sv);
	close(sv[1]);
	sigpipes = 0;
	r = write(sv[0], "x", 1);
	printf("  write to closed peer: %s, SIGPIPEs %d\n", err(r), sigpipes);
	printf("  again: %s\n", err(send(sv[0], "x", 1, MSG_DONTWAIT)));
	if (type != SOCK_DGRAM) printf("  read: %s\n", err(read(sv[0], &n, 1)));
	printf("  events: %s\n", events(sv[0]));
	close(sv[0]);

	// Unread data at close resets a stream peer.
	socketpair(AF_UNIX, type, 0, sv);
	send(sv[0], "unread", 6, 0);
	close(sv[1]);
	if (type != SOCK_DGRAM) {
		printf("  events after reset: %s\n", events(sv[0]));
		printf("  read after reset: %s\n", err(read(sv[0], &n, 1)));
		printf("  read again: %s\n", err(read(sv[0], &n, 1)));
	}
	close(sv[0]);
}

struct writer {
	int fd;
	int n;
};

static void *slow_writer(void *p) {
	struct writer *w = p;
	for (int i = 0; i < w->n; i++) {
		usleep(2000);
		write(w->fd, "0123456789", 10);
	}
	return NULL;
}

static void waitall(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct writer w = {sv[0], 5};
	pthread_t th;
	pthread_create(&th, NULL, slow_writer, &w);
	char buf[64];
	long r = recv(sv[1], buf, 50, MSG_WAITALL);
	pthread_join(th, NULL);
	printf("MSG_WAITALL: %ld bytes, \"%.10s...\"\n", r, buf);
	send(sv[0], "short", 5, 0);
	close(sv[0]);
	printf("MSG_WAITALL until EOF: %s\n", err(recv(sv[1], buf, 50, MSG_WAITALL)));
	close(sv[1]);

	// A blocked reader woken by a writer in another process.
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(20000);
		send(sv[1], "from the child", 14, 0);
		_exit(0);
	}
	long n = recv(sv[0], buf, sizeof buf, 0);
	printf("blocking recv: %ld \"%.*s\"\n", n, (int)n, buf);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(sv[1]);
}

static void big_stream(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int sz = 8192;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	socklen_t l = sizeof sz;
	getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, &l);
	printf("SO_SNDBUF 8192 -> %d\n", sz);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	static char chunk[100000];
	long total = 0;
	for (;;) {
		long r = write(sv[0], chunk, sizeof chunk);
		if (r < 0) {
			printf("full: %s, not writable: %s\n", err(r), events(sv[0]));
			break;
		}
		total += r;
	}
	printf("bounded by the buffer: %d\n", total > 8192 && total < 100000);
	// A child drains it; 4 MB go through.
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		static char buf[65536];
		long got = 0;
		unsigned sum = 0;
		for (;;) {
			long r = read(sv[1], buf, sizeof buf);
			if (r <= 0) break;
			for (long i = 0; i < r; i++) sum = sum * 31 + (unsigned char)buf[i];
			got += r;
		}
		printf("child read %ld bytes, sum %08x\n", got - total, sum);
		_exit(0);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, 0);
	for (int i = 0; i < (int)sizeof chunk; i++) chunk[i] = (char)(i * 7);
	for (int i = 0; i < 40; i++) {
		if (write(sv[0], chunk, sizeof chunk) != sizeof chunk) printf("short write\n");
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
}

static void dgram_limits(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int sz;
	socklen_t l = sizeof sz;
	getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, &l);
	static char big[1 << 20];
	printf("dgram of SO_SNDBUF-32+1: %s\n", err(send(sv[0], big, sz - 31, 0)));
	sz = 16384;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	printf("dgram of 32000 in 32768: %s\n", err(send(sv[0], big, 32000, 0)));
	show_recv("recv it into 64 with MSG_TRUNC", sv[1], 64, MSG_TRUNC);
	int count = 0;
	while (send(sv[0], "x", 1, MSG_DONTWAIT) == 1 && count < 100000) count++;
	printf("small dgrams until full: some (%d), then %s, events %s\n", count > 0, err(-1), events(sv[0]));
	close(sv[0]);
	close(sv[1]);
}

static void options(void) {
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int v;
	socklen_t l = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
	printf("SO_TYPE %d", v);
	getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l);
	printf(" SO_DOMAIN %d", v);
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l);
	printf(" SO_PROTOCOL %d", v);
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
	printf(" SO_ACCEPTCONN %d", v);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l);
	printf(" SO_ERROR %d\n", v);
	printf("O_NONBLOCK %d FD_CLOEXEC %d\n", !!(fcntl(s, F_GETFL) & O_NONBLOCK), fcntl(s, F_GETFD));
	v = 1000;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l);
	printf("SO_RCVBUF 1000 -> %d\n", v);
	v = 1000;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l);
	printf("SO_SNDBUF 1000 -> %d\n", v);
	v = 1;
	printf("SO_REUSEADDR: %s", err(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v)));
	v = 7;
	getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l);
	printf(" -> %d\n", v);
	printf("SO_KEEPALIVE: %s\n", err(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v)));
	struct linger lg = {1, 5};
	printf("SO_LINGER: %s", err(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)));
	l = sizeof lg;
	memset(&lg, 0, sizeof lg);
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l);
	printf(" -> %d %d\n", lg.l_onoff, lg.l_linger);
	struct timeval tv = {1, 500000};
	printf("SO_RCVTIMEO: %s", err(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)));
	l = sizeof tv;
	memset(&tv, 0, sizeof tv);
	getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
	printf(" -> %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
	tv.tv_usec = 1000000;
	printf("SO_SNDTIMEO usec 1000000: %s\n", err(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv)));
	printf("short optlen: %s\n", err(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, 2)));
	l = 2;
	v = 0;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
	printf("getsockopt into 2 bytes: len %d value %d\n", l, v);
	struct ucred uc;
	l = sizeof uc;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l);
	printf("SO_PEERCRED unconnected: pid %d uid %d gid %d\n", uc.pid, (int)uc.uid, (int)uc.gid);
	l = sizeof v;
	printf("unknown option: %s\n", err(getsockopt(s, SOL_SOCKET, 12345, &v, &l)));
	printf("SOL_IP option: %s\n", err(getsockopt(s, 0, 1, &v, &l)));
	struct stat st;
	fstat(s, &st);
	printf("fstat: socket %d mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
	char link[64], path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", s);
	long n = readlink(path, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	printf("fd link: %.8s...]: %d\n", link, n > 0 && link[n - 1] == ']');
	close(s);
}

static void errors(void) {
	int sv[2];
	printf("socket(AF_INET6 ...): ok or EAFNOSUPPORT: %d\n", 1);
	printf("socket(200): %s\n", err(socket(200, SOCK_STREAM, 0)));
	printf("socket type 99: %s\n", err(socket(AF_UNIX, 99, 0)));
	printf("socket SOCK_RDM: %s\n", err(socket(AF_UNIX, SOCK_RDM, 0)));
	printf("socket protocol 5: %s\n", err(socket(AF_UNIX, SOCK_STREAM, 5)));
	printf("socket bad flag: %s\n", err(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0)));
	int raw = socket(AF_UNIX, SOCK_RAW, 0);
	int v;
	socklen_t l = sizeof v;
	getsockopt(raw, SOL_SOCKET, SO_TYPE, &v, &l);
	printf("SOCK_RAW is a datagram socket: %d\n", v == SOCK_DGRAM);
	close(raw);
	int *volatile bad = (int *)8;
	printf("socketpair bad address: %s\n", err(socketpair(AF_UNIX, SOCK_STREAM, 0, bad)));
	int p[2];
	pipe(p);
	printf("bind on a pipe: %s\n", err(bind(p[0], NULL, 0)));
	printf("listen on fd 999: %s\n", err(listen(999, 1)));
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("recv unconnected stream: %s\n", err(recv(s, &v, 1, 0)));
	printf("send unconnected stream: %s\n", err(send(s, &v, 1, 0)));
	printf("accept unbound: %s\n", err(accept(s, NULL, NULL)));
	printf("listen unbound: %s\n", err(listen(s, 1)));
	printf("getpeername: %s\n", err(getpeername(s, NULL, NULL) == 0 ? 0 : -1));
	struct sockaddr_un a;
	l = sizeof a;
	memset(&a, 0x55, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &l);
	printf("getsockname unbound: len %d family %d\n", l, a.sun_family);
	printf("shutdown 7: %s\n", err(shutdown(s, 7)));
	printf("shutdown unconnected: %s\n", err(shutdown(s, SHUT_RDWR)));
	printf("bind len 200: %s\n", err(bind(s, (struct sockaddr *)&a, 200)));
	printf("recv into a bad buffer: ");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	send(sv[0], "x", 1, 0);
	printf("%s\n", err(recv(sv[1], bad, 1, 0)));
	printf("send from a bad buffer: %s\n", err(send(sv[0], bad, 1, 0)));
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("listen dgram: %s\n", err(listen(d, 1)));
	printf("accept dgram: %s\n", err(accept(d, NULL, NULL)));
	printf("send unconnected dgram: %s\n", err(send(d, "x", 1, 0)));
	printf("recv unconnected dgram: %s\n", err(recv(d, &v, 1, MSG_DONTWAIT)));
	int q = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	printf("recv unconnected seqpacket: %s\n", err(recv(q, &v, 1, MSG_DONTWAIT)));
	printf("events fresh stream %s, seqpacket %s, dgram %s\n", events(s), events(q), events(d));
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, on_sigpipe);
	pairs(SOCK_STREAM);
	pairs(SOCK_DGRAM);
	pairs(SOCK_SEQPACKET);
	waitall();
	big_stream();
	dgram_limits();
	options();
	errors();
	return 0;
}
