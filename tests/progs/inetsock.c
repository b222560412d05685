// inetsock: AF_INET and AF_INET6 sockets on loopback. A TCP echo server
// in a child process and a client over 127.0.0.1 and ::1 (a 256 KiB
// round trip, MSG_PEEK, MSG_WAITALL, shutdown and EOF, names), UDP round
// trips with MSG_TRUNC, a nonblocking connect woken through epoll
// (EINPROGRESS, then SO_ERROR 0), a refused connect (ECONNREFUSED, also
// nonblocking through SO_ERROR), EADDRINUSE and SO_REUSEADDR/SO_REUSEPORT,
// SO_RCVTIMEO, a blocking accept interrupted by a signal (EINTR), the
// socket options programs set, FIONREAD and SIOCOUTQ. No port numbers are
// printed (they differ), so the output is the same natively and in the
// sandbox.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <ifaddrs.h>
#include <unistd.h>

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
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EINPROGRESS: return "EINPROGRESS";
	case EINVAL: return "EINVAL";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case EINTR: return "EINTR";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPIPE: return "EPIPE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	}
	snprintf(b, 64, "errno %d", errno);
	return b;
}

typedef union {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
} addr_t;

static socklen_t loopback(int fam, addr_t *a, int port) {
	memset(a, 0, sizeof *a);
	if (fam == AF_INET) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons(port);
		a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof a->in;
	}
	a->in6.sin6_family = AF_INET6;
	a->in6.sin6_port = htons(port);
	a->in6.sin6_addr = in6addr_loopback;
	return sizeof a->in6;
}

static int port_of(addr_t *a) {
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port : a->in6.sin6_port);
}

// name prints an address without its port.
static const char *name(addr_t *a) {
	static char b[2][80];
	static int n;
	char *s = b[n++ % 2];
	if (a->sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &a->in.sin_addr, s, 80);
	else if (a->sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &a->in6.sin6_addr, s, 80);
	else
		snprintf(s, 80, "family %d", a->sa.sa_family);
	return s;
}

static int intopt(int fd, int level, int opt) {
	int v = -1;
	socklen_t l = sizeof v;
	if (getsockopt(fd, level, opt, &v, &l) < 0) return -errno;
	return v;
}

// listener binds a listening socket on loopback port 0 and returns its
// port in *port.
static int listener(int fam, int type, int *port) {
	addr_t a;
	socklen_t l = loopback(fam, &a, 0);
	int fd = socket(fam, type, 0);
	int one = 1, zero = 0;
	// Dual-stack, whatever the host's net.ipv6.bindv6only says.
	if (fam == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(fd, &a.sa, l) < 0) {
		printf("listener: %s\n", err(-1));
		exit(1);
	}
	if (type == SOCK_STREAM && listen(fd, 8) < 0) {
		printf("listen: %s\n", err(-1));
		exit(1);
	}
	l = sizeof a;
	getsockname(fd, &a.sa, &l);
	*port = port_of(&a);
	return fd;
}

static int writeall(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		p += k;
		n -= k;
	}
	return 0;
}

// echo_server serves one connection per accept until a client sends
// "quit": every byte read is written back; EOF ends the connection.
static void echo_server(int lfd) {
	for (;;) {
		addr_t peer;
		socklen_t pl = sizeof peer;
		int c = accept4(lfd, &peer.sa, &pl, SOCK_CLOEXEC);
		if (c < 0) {
			printf("server accept: %s\n", err(-1));
			_exit(1);
		}
		char buf[8192];
		ssize_t n;
		int quit = 0;
		while ((n = read(c, buf, sizeof buf)) > 0) {
			if (n == 4 && memcmp(buf, "quit", 4) == 0) {
				quit = 1;
				break;
			}
			if (writeall(c, buf, n) < 0) break;
		}
		close(c);
		if (quit) _exit(0);
	}
}

static void tcp_echo(int fam) {
	const char *fn = fam == AF_INET ? "tcp4" : "tcp6";
	int port;
	int lfd = listener(fam, SOCK_STREAM, &port);
	printf("%s: SO_ACCEPTCONN %d, SO_TYPE %d\n", fn, intopt(lfd, SOL_SOCKET, SO_ACCEPTCONN),
	       intopt(lfd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
	pid_t pid = fork();
	if (pid == 0) echo_server(lfd);
	close(lfd);

	addr_t a, got;
	socklen_t l = loopback(fam, &a, port);
	int fd = socket(fam, SOCK_STREAM, 0);
	printf("%s: connect %s\n", fn, err(connect(fd, &a.sa, l)));
	printf("%s: connect again %s\n", fn, err(connect(fd, &a.sa, l)));
	socklen_t gl = sizeof got;
	getpeername(fd, &got.sa, &gl);
	printf("%s: peer %s, port matches %d\n", fn, name(&got), port_of(&got) == port);
	gl = sizeof got;
	getsockname(fd, &got.sa, &gl);
	printf("%s: local %s, ephemeral %d\n", fn, name(&got), port_of(&got) >= 1024);

	int one = 1;
	const char *r1 = err(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	printf("%s: TCP_NODELAY set %s get %d\n", fn, r1, intopt(fd, IPPROTO_TCP, TCP_NODELAY));
	r1 = err(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
	printf("%s: SO_KEEPALIVE set %s get %d\n", fn, r1, intopt(fd, SOL_SOCKET, SO_KEEPALIVE));
	int idle = 30, cnt = 4;
	r1 = err(setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
	const char *r2 = err(setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt));
	printf("%s: TCP_KEEPIDLE %s %d, TCP_KEEPCNT %s %d\n", fn, r1, intopt(fd, IPPROTO_TCP, TCP_KEEPIDLE), r2,
	       intopt(fd, IPPROTO_TCP, TCP_KEEPCNT));
	struct linger lg = {1, 5}, lg2;
	socklen_t ll = sizeof lg2;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg2, &ll);
	printf("%s: SO_LINGER %d %d\n", fn, lg2.l_onoff, lg2.l_linger);
	lg.l_onoff = 0;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	memset(&ti, 0, sizeof ti);
	r1 = err(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl));
	printf("%s: TCP_INFO %s state %d\n", fn, r1, ti.tcpi_state);
	printf("%s: SO_ERROR %d\n", fn, intopt(fd, SOL_SOCKET, SO_ERROR));
	int sz = 65536;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	printf("%s: SO_RCVBUF grew %d\n", fn, intopt(fd, SOL_SOCKET, SO_RCVBUF) >= sz);

	// A small message, peeked first, then a big one through poll.
	write(fd, "hello", 5);
	char buf[16];
	struct pollfd p = {fd, POLLIN, 0};
	poll(&p, 1, 5000);
	int avail = 0;
	for (int i = 0; i < 100 && avail < 5; i++) {
		ioctl(fd, FIONREAD, &avail);
		if (avail < 5) usleep(10000);
	}
	printf("%s: FIONREAD %d\n", fn, avail);
	ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK);
	printf("%s: peek %zd %.*s\n", fn, n, (int)(n > 0 ? n : 0), buf);
	n = recv(fd, buf, 5, MSG_WAITALL);
	printf("%s: recv %zd %.*s\n", fn, n, (int)(n > 0 ? n : 0), buf);

	size_t big = 256 << 10;
	char *out = malloc(big), *in = malloc(big);
	for (size_t i = 0; i < big; i++) out[i] = (char)(i * 7 + i / 251);
	size_t sent = 0, got_n = 0;
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (got_n < big) {
		struct pollfd q = {fd, POLLIN | (sent < big ? POLLOUT : 0), 0};
		if (poll(&q, 1, 10000) <= 0) {
			printf("%s: poll timed out\n", fn);
			break;
		}
		if ((q.revents & POLLOUT) && sent < big) {
			ssize_t k = send(fd, out + sent, big - sent, 0);
			if (k > 0) sent += k;
		}
		if (q.revents & POLLIN) {
			ssize_t k = recv(fd, in + got_n, big - got_n, 0);
			if (k > 0) got_n += k;
			if (k == 0) break;
		}
	}
	fcntl(fd, F_SETFL, fl);
	printf("%s: echoed %zu of %zu, same %d\n", fn, got_n, big, got_n == big && memcmp(in, out, big) == 0);
	int outq = -1;
	printf("%s: SIOCOUTQ %s\n", fn, err(ioctl(fd, SIOCOUTQ, &outq)));

	// Half close: the server sees EOF, closes, and we see EOF.
	printf("%s: shutdown %s\n", fn, err(shutdown(fd, SHUT_WR)));
	n = read(fd, buf, sizeof buf);
	printf("%s: read after shutdown %s\n", fn, err(n));
	close(fd);

	// Quit the server.
	fd = socket(fam, SOCK_STREAM, 0);
	connect(fd, &a.sa, l);
	write(fd, "quit", 4);
	int st;
	waitpid(pid, &st, 0);
	printf("%s: server exit %d\n", fn, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	// The server closed: reads see EOF, writes EPIPE (SIGPIPE ignored).
	usleep(100000);
	n = read(fd, buf, sizeof buf);
	printf("%s: read from closed peer %s\n", fn, err(n));
	close(fd);
	free(out);
	free(in);
}

static void udp(int fam) {
	const char *fn = fam == AF_INET ? "udp4" : "udp6";
	int port;
	int s = listener(fam, SOCK_DGRAM, &port);
	int c = socket(fam, SOCK_DGRAM, 0);
	addr_t a, from;
	socklen_t l = loopback(fam, &a, port);
	printf("%s: sendto %s\n", fn, err(sendto(c, "datagram one", 12, 0, &a.sa, l)));
	char buf[64];
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(s, buf, 4, MSG_TRUNC, &from.sa, &fl);
	printf("%s: recvfrom truncated %s from %s\n", fn, err(n), name(&from));
	// Reply to the sender's address; the client reads with recvmsg.
	printf("%s: reply %s\n", fn, err(sendto(s, "reply", 5, 0, &from.sa, fl)));
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
	n = recvmsg(c, &m, 0);
	printf("%s: recvmsg %s %.*s flags %d from port matches %d\n", fn, err(n), (int)(n > 0 ? n : 0), buf,
	       m.msg_flags, port_of(&from) == port);
	// A connected UDP socket: send and recv, and the server's empty
	// datagram.
	printf("%s: connect %s\n", fn, err(connect(c, &a.sa, l)));
	printf("%s: send %s\n", fn, err(send(c, "two", 3, 0)));
	fl = sizeof from;
	n = recvfrom(s, buf, sizeof buf, 0, &from.sa, &fl);
	printf("%s: got %s %.*s\n", fn, err(n), (int)(n > 0 ? n : 0), buf);
	printf("%s: empty %s\n", fn, err(sendto(s, "", 0, 0, &from.sa, fl)));
	n = recv(c, buf, sizeof buf, 0);
	printf("%s: recv empty %s\n", fn, err(n));
	n = recv(c, buf, sizeof buf, MSG_DONTWAIT);
	printf("%s: recv nothing %s\n", fn, err(n));
	printf("%s: listen %s\n", fn, err(listen(c, 1)));
	close(c);
	close(s);
}

static void nonblocking_connect(int fam) {
	const char *fn = fam == AF_INET ? "nb4" : "nb6";
	int port;
	int lfd = listener(fam, SOCK_STREAM, &port);
	addr_t a;
	socklen_t l = loopback(fam, &a, port);
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(fd, &a.sa, l);
	printf("%s: connect %s\n", fn, r == 0 ? "EINPROGRESS" : err(r)); // loopback may finish at once
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	int k = epoll_wait(ep, &out, 1, 5000);
	printf("%s: epoll %d out %d, SO_ERROR %d\n", fn, k, !!(out.events & EPOLLOUT), intopt(fd, SOL_SOCKET, SO_ERROR));
	printf("%s: connect again %s\n", fn, err(connect(fd, &a.sa, l)));
	// The listener is readable through epoll; accept4 nonblocking. (The
	// connected socket leaves the set first: it is writable, and a wait
	// for one event could return it before the listener has the
	// connection queued.)
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	k = epoll_wait(ep, &out, 1, 5000);
	printf("%s: listener epoll %d in %d\n", fn, k, k == 1 && out.data.fd == lfd && (out.events & EPOLLIN));
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	printf("%s: accept %d\n", fn, c >= 0);
	printf("%s: accept nothing %s\n", fn, err(accept4(lfd, NULL, NULL, SOCK_NONBLOCK)));
	char buf[8];
	printf("%s: read nothing %s\n", fn, err(read(c, buf, sizeof buf)));
	// Data wakes an edge-triggered epoll.
	int ep2 = epoll_create1(0);
	struct epoll_event cev = {.events = EPOLLIN | EPOLLET, .data.fd = c};
	epoll_ctl(ep2, EPOLL_CTL_ADD, c, &cev);
	write(fd, "x", 1);
	k = epoll_wait(ep2, &out, 1, 5000);
	printf("%s: data epoll %d, ", fn, k);
	printf("read %s\n", err(read(c, buf, sizeof buf)));
	// The peer closes: EPOLLIN|EPOLLRDHUP, and read sees EOF.
	struct epoll_event hev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
	epoll_ctl(ep2, EPOLL_CTL_MOD, c, &hev);
	close(fd);
	k = epoll_wait(ep2, &out, 1, 5000);
	printf("%s: hangup epoll %d rdhup %d, ", fn, k, !!(out.events & EPOLLRDHUP));
	printf("read %s\n", err(read(c, buf, sizeof buf)));
	close(c);
	close(ep2);
	close(ep);
	close(lfd);
}

static void refused(int fam) {
	const char *fn = fam == AF_INET ? "refused4" : "refused6";
	// A port that was bound and closed: nothing listens there.
	int port;
	int t = listener(fam, SOCK_STREAM, &port);
	close(t);
	addr_t a;
	socklen_t l = loopback(fam, &a, port);
	int fd = socket(fam, SOCK_STREAM, 0);
	printf("%s: connect %s\n", fn, err(connect(fd, &a.sa, l)));
	close(fd);
	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(fd, &a.sa, l);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = {fd, POLLOUT, 0};
		poll(&p, 1, 5000);
		printf("%s: nonblocking SO_ERROR %s\n", fn, (errno = intopt(fd, SOL_SOCKET, SO_ERROR), err(-1)));
	} else {
		printf("%s: nonblocking SO_ERROR %s\n", fn, err(r));
	}
	close(fd);
}

static void inuse(void) {
	const char *r1;
	int port;
	int a = listener(AF_INET, SOCK_STREAM, &port);
	addr_t ad;
	socklen_t l = loopback(AF_INET, &ad, port);
	int b = socket(AF_INET, SOCK_STREAM, 0);
	printf("inuse: bind %s\n", err(bind(b, &ad.sa, l)));
	int one = 1;
	setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	printf("inuse: bind with SO_REUSEADDR to a listener %s\n", err(bind(b, &ad.sa, l)));
	close(b);
	close(a);
	// SO_REUSEPORT on both: two listeners on one port.
	int c = socket(AF_INET, SOCK_STREAM, 0), d = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(c, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	setsockopt(d, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	l = loopback(AF_INET, &ad, 0);
	bind(c, &ad.sa, l);
	listen(c, 1);
	socklen_t gl = sizeof ad;
	getsockname(c, &ad.sa, &gl);
	r1 = err(bind(d, &ad.sa, l));
	printf("inuse: SO_REUSEPORT bind %s, listen %s\n", r1, err(listen(d, 1)));
	close(c);
	close(d);
	// Binding twice, and to an address that is not ours.
	int e = socket(AF_INET, SOCK_STREAM, 0);
	l = loopback(AF_INET, &ad, 0);
	bind(e, &ad.sa, l);
	printf("inuse: bind again %s\n", err(bind(e, &ad.sa, l)));
	close(e);
	e = socket(AF_INET, SOCK_DGRAM, 0);
	ad.in.sin_addr.s_addr = inet_addr("192.0.2.1");
	printf("inuse: bind foreign %s\n", err(bind(e, &ad.sa, l)));
	printf("inuse: bind short %s\n", err(bind(e, &ad.sa, 8)));
	ad.in6.sin6_family = AF_INET6;
	printf("inuse: bind wrong family %s\n", err(bind(e, &ad.sa, sizeof ad.in6)));
	close(e);
}

static void on_alarm(int sig) { (void)sig; }

static void waits(void) {
	int port;
	int lfd = listener(AF_INET6, SOCK_STREAM, &port);
	struct timeval tv = {0, 200000}, tv2;
	socklen_t tl = sizeof tv2;
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	getsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tl);
	printf("waits: SO_RCVTIMEO %ld.%06ld\n", (long)tv2.tv_sec, (long)tv2.tv_usec);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("waits: accept with timeout %s\n", err(accept(lfd, NULL, NULL)));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("waits: waited at least the timeout %d\n", dt >= 0.19);
	tv.tv_usec = 0;
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	printf("waits: accept interrupted %s\n", err(accept(lfd, NULL, NULL)));
	// A connected socket's recv with a timeout.
	addr_t a;
	socklen_t l = loopback(AF_INET6, &a, port);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	connect(fd, &a.sa, l);
	tv.tv_usec = 100000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char b;
	printf("waits: recv with timeout %s\n", err(recv(fd, &b, 1, 0)));
	// v6 options, and a v4 client reaching a dual-stack listener.
	printf("waits: IPV6_V6ONLY %d\n", intopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY));
	int tos = 0x10;
	int t4 = socket(AF_INET, SOCK_STREAM, 0);
	const char *r1 = err(setsockopt(t4, IPPROTO_IP, IP_TOS, &tos, sizeof tos));
	printf("waits: IP_TOS %s %d\n", r1, intopt(t4, IPPROTO_IP, IP_TOS));
	close(t4);
	int bogus = 1;
	printf("waits: unknown option %s\n", err(setsockopt(fd, SOL_SOCKET, 12345, &bogus, sizeof bogus)));
	close(fd);
	int v4 = socket(AF_INET, SOCK_STREAM, 0);
	l = loopback(AF_INET, &a, port);
	printf("waits: v4 to a listener on ::1 %s\n", err(connect(v4, &a.sa, l)));
	close(v4);
	// A listener on :: with IPV6_V6ONLY off takes v4 connections too.
	int any = socket(AF_INET6, SOCK_STREAM, 0), zero = 0;
	setsockopt(any, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	addr_t ad6;
	memset(&ad6, 0, sizeof ad6);
	ad6.in6.sin6_family = AF_INET6;
	bind(any, &ad6.sa, sizeof ad6.in6);
	listen(any, 4);
	socklen_t al = sizeof ad6;
	getsockname(any, &ad6.sa, &al);
	printf("waits: listener on %s, IPV6_V6ONLY %d\n", name(&ad6), intopt(any, IPPROTO_IPV6, IPV6_V6ONLY));
	v4 = socket(AF_INET, SOCK_STREAM, 0);
	l = loopback(AF_INET, &a, port_of(&ad6));
	printf("waits: v4 to dual-stack listener %s\n", err(connect(v4, &a.sa, l)));
	int c = accept(any, &ad6.sa, &al);
	printf("waits: accepted %d from %s\n", c >= 0, name(&ad6));
	close(c);
	close(any);
	for (int i = 0; i < 1; i++) {
		addr_t peer;
		socklen_t pl = sizeof peer;
		int c = accept(lfd, &peer.sa, &pl);
		printf("waits: accepted %d from %s\n", c >= 0, name(&peer));
		close(c);
	}
	close(v4);
	close(lfd);
}

// ifioctls asks about lo (the host has more interfaces; only lo is
// printed).
static void ifioctls(void) {
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r;
	memset(&r, 0, sizeof r);
	strcpy(r.ifr_name, "lo");
	const char *e = err(ioctl(fd, SIOCGIFINDEX, &r));
	printf("if: SIOCGIFINDEX lo %s %d\n", e, r.ifr_ifindex);
	e = err(ioctl(fd, SIOCGIFFLAGS, &r));
	printf("if: SIOCGIFFLAGS lo %s up %d loopback %d\n", e, !!(r.ifr_flags & IFF_UP), !!(r.ifr_flags & IFF_LOOPBACK));
	e = err(ioctl(fd, SIOCGIFADDR, &r));
	printf("if: SIOCGIFADDR lo %s %s\n", e, inet_ntoa(((struct sockaddr_in *)&r.ifr_addr)->sin_addr));
	e = err(ioctl(fd, SIOCGIFTXQLEN, &r));
	printf("if: SIOCGIFTXQLEN lo %s %d\n", e, r.ifr_qlen);
	r.ifr_ifindex = 1;
	e = err(ioctl(fd, SIOCGIFNAME, &r));
	printf("if: SIOCGIFNAME 1 %s %s\n", e, r.ifr_name);
	strcpy(r.ifr_name, "nosuch0");
	printf("if: SIOCGIFINDEX nosuch0 %s\n", err(ioctl(fd, SIOCGIFINDEX, &r)));
	struct ifreq list[32];
	struct ifconf c = {.ifc_len = sizeof list, .ifc_req = list};
	e = err(ioctl(fd, SIOCGIFCONF, &c));
	for (int i = 0; i < c.ifc_len / (int)sizeof list[0]; i++)
		if (strcmp(list[i].ifr_name, "lo") == 0)
			printf("if: SIOCGIFCONF %s lo %s\n", e, inet_ntoa(((struct sockaddr_in *)&list[i].ifr_addr)->sin_addr));
	printf("if: if_nametoindex lo %u\n", if_nametoindex("lo"));
	close(fd);
	// getifaddrs and if_nameindex ask NETLINK_ROUTE.
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) < 0) {
		printf("if: getifaddrs %s\n", err(-1));
	} else {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (strcmp(i->ifa_name, "lo") != 0 || !i->ifa_addr) continue;
			char a[64] = "", m[64] = "";
			int f = i->ifa_addr->sa_family;
			if (f == AF_INET) {
				inet_ntop(f, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
				inet_ntop(f, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, m, sizeof m);
			} else if (f == AF_INET6) {
				inet_ntop(f, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a, sizeof a);
				inet_ntop(f, &((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, m, sizeof m);
			} else {
				snprintf(a, sizeof a, "family %d", f);
			}
			printf("if: getifaddrs lo %s %s up %d loopback %d\n", a, m, !!(i->ifa_flags & IFF_UP),
			       !!(i->ifa_flags & IFF_LOOPBACK));
		}
		freeifaddrs(ifa);
	}
	struct if_nameindex *ni = if_nameindex();
	for (struct if_nameindex *p = ni; p && p->if_index; p++)
		if (strcmp(p->if_name, "lo") == 0) printf("if: if_nameindex lo %u\n", p->if_index);
	if (ni) if_freenameindex(ni);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "quick") == 0) {
		tcp_echo(AF_INET);
		return 0;
	}
	tcp_echo(AF_INET);
	tcp_echo(AF_INET6);
	udp(AF_INET);
	udp(AF_INET6);
	nonblocking_connect(AF_INET);
	nonblocking_connect(AF_INET6);
	refused(AF_INET);
	refused(AF_INET6);
	inuse();
	waits();
	ifioctls();
	return 0;
}
