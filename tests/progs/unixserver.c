// unixserver: AF_UNIX names and processes: a server bound to a path in
// /tmp with fork()ed clients (SO_PEERCRED checked against the pid each
// client sends), nonblocking accept woken through epoll, the socket node
// (stat, open, unlink, EADDRINUSE, ECONNREFUSED), abstract names and
// autobind with a datagram server, descriptor passing (a pipe end from a
// child, MSG_CTRUNC), SCM_CREDENTIALS, a seqpacket server, and
// sendmmsg/recvmmsg. Output is the same natively and in the sandbox.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
	case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO";
	case EINVAL: return "EINVAL";
	case EISCONN: return "EISCONN";
	case EPROTOTYPE: return "EPROTOTYPE";
	case EPERM: return "EPERM";
	case ENOTCONN: return "ENOTCONN";
	}
	snprintf(b, 64, "errno %d", errno);
	return b;
}

static int status_of(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid) return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path + 1, name);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static void path_server(void) {
	char path[108];
	snprintf(path, sizeof path, "/tmp/unixserver-%d.sock", getpid());
	unlink(path);
	struct sockaddr_un a;
	socklen_t alen = path_addr(&a, path);
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bind %s: %s\n", "/tmp/unixserver-PID.sock", err(bind(srv, (struct sockaddr *)&a, alen)));
	struct stat st;
	long r = stat(path, &st);
	printf("stat: %s, socket %d, mode %o\n", err(r), S_ISSOCK(st.st_mode), st.st_mode & 0777);
	printf("open: %s\n", err(open(path, O_RDWR)));
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bind the same path: %s\n", err(bind(other, (struct sockaddr *)&a, alen)));
	printf("connect before listen: %s\n", err(connect(other, (struct sockaddr *)&a, alen)));
	int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("listen: %s\n", err(listen(srv, 8)));
	printf("connect a datagram socket: %s\n", err(connect(dg, (struct sockaddr *)&a, alen)));
	close(other);
	close(dg);
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	getsockname(srv, (struct sockaddr *)&got, &glen);
	printf("getsockname: len %d, same path %d\n", glen == alen, strcmp(got.sun_path, path) == 0);

	enum { N = 3 };
	pid_t kids[N];
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&a, alen) != 0) _exit(10);
			struct sockaddr_un p;
			socklen_t plen = sizeof p;
			getpeername(c, (struct sockaddr *)&p, &plen);
			if (strcmp(p.sun_path, path) != 0) _exit(11);
			struct ucred uc;
			socklen_t ul = sizeof uc;
			getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
			if (uc.pid != getppid() || uc.uid != getuid() || uc.gid != getgid()) _exit(12);
			char msg[64];
			int pid = getpid();
			memcpy(msg, &pid, sizeof pid);
			int n = snprintf(msg + 4, sizeof msg - 4, "hello from client %d", i);
			if (write(c, msg, 4 + n) != 4 + n) _exit(13);
			char reply[80];
			long r = read(c, reply, sizeof reply - 1);
			if (r <= 0) _exit(14);
			reply[r] = 0;
			char want[80];
			snprintf(want, sizeof want, "echo: %s", msg + 4);
			_exit(strcmp(reply, want) == 0 ? 0 : 15);
		}
	}
	char texts[N][64];
	int peer_ok = 0;
	for (int i = 0; i < N; i++) {
		struct sockaddr_un ca;
		socklen_t calen = sizeof ca;
		int c = accept(srv, (struct sockaddr *)&ca, &calen);
		if (i == 0) {
			socklen_t l = sizeof got;
			getsockname(c, (struct sockaddr *)&got, &l);
			printf("accepted: client addrlen %d, its sockname is the path %d\n", calen,
			       strcmp(got.sun_path, path) == 0);
		}
		struct ucred uc;
		socklen_t ul = sizeof uc;
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
		char msg[64];
		long r = read(c, msg, sizeof msg - 1);
		msg[r > 0 ? r : 0] = 0;
		int pid;
		memcpy(&pid, msg, 4);
		if (uc.pid == pid && uc.uid == getuid() && uc.gid == getgid()) peer_ok++;
		snprintf(texts[i], sizeof texts[i], "%s", msg + 4);
		char reply[80];
		int n = snprintf(reply, sizeof reply, "echo: %s", msg + 4);
		write(c, reply, n);
		close(c);
	}
	qsort(texts, N, sizeof texts[0], cmp);
	for (int i = 0; i < N; i++) printf("server got: %s\n", texts[i]);
	printf("SO_PEERCRED matches the client's pid, uid, gid: %d of %d\n", peer_ok, N);
	for (int i = 0; i < N; i++) printf("client %d exit %d\n", i, status_of(kids[i]));

	// Nonblocking accept, woken through epoll.
	fcntl(srv, F_SETFL, O_NONBLOCK);
	printf("nonblocking accept: %s\n", err(accept(srv, NULL, NULL)));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 42};
	epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev);
	pid_t late = fork();
	if (late == 0) {
		usleep(30000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, alen) != 0) _exit(1);
		write(c, "late", 4);
		char b[8];
		read(c, b, sizeof b); // until the server closes
		_exit(0);
	}
	struct epoll_event out;
	int n = epoll_wait(ep, &out, 1, 10000);
	printf("epoll_wait: %d, EPOLLIN %d, data %u\n", n, !!(out.events & EPOLLIN), out.data.u32);
	int c = accept4(srv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	printf("accept4: ok %d, O_NONBLOCK %d, FD_CLOEXEC %d\n", c >= 0, !!(fcntl(c, F_GETFL) & O_NONBLOCK),
	       fcntl(c, F_GETFD));
	struct pollfd pf = {c, POLLIN, 0};
	poll(&pf, 1, 10000);
	char b[8] = {0};
	printf("read: %s \"%s\"\n", err(read(c, b, 4)), b);
	close(c);
	printf("late client exit %d\n", status_of(late));
	close(ep);

	close(srv);
	other = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("connect after the server closed: %s\n", err(connect(other, (struct sockaddr *)&a, alen)));
	printf("unlink: %s\n", err(unlink(path)));
	printf("connect after unlink: %s\n", err(connect(other, (struct sockaddr *)&a, alen)));
	close(other);
}

static void abstract(void) {
	char name[64];
	snprintf(name, sizeof name, "unixserver-%d", getpid());
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, name);
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("bind abstract: %s\n", err(bind(srv, (struct sockaddr *)&a, alen)));
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	getsockname(srv, (struct sockaddr *)&got, &glen);
	printf("getsockname: same length %d, leading NUL %d\n", glen == alen, got.sun_path[0] == 0);
	int other = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("bind it again: %s\n", err(bind(other, (struct sockaddr *)&a, alen)));
	close(other);
	pid_t kid = fork();
	if (kid == 0) {
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un fam = {.sun_family = AF_UNIX};
		if (bind(s, (struct sockaddr *)&fam, sizeof(sa_family_t)) != 0) _exit(1);
		struct sockaddr_un me;
		socklen_t ml = sizeof me;
		getsockname(s, (struct sockaddr *)&me, &ml);
		if (ml != 8 || me.sun_path[0] != 0) _exit(2);
		// The payload is the autobound name, for the server to compare.
		if (sendto(s, me.sun_path, 6, 0, (struct sockaddr *)&a, alen) != 6) _exit(3);
		char b[16];
		long r = recv(s, b, sizeof b, 0);
		_exit(r == 5 && memcmp(b, "reply", 5) == 0 ? 0 : 4);
	}
	char b[16];
	struct sockaddr_un from;
	socklen_t fl = sizeof from;
	long r = recvfrom(srv, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
	printf("recvfrom: %ld bytes, sender addrlen %d, sender is the autobound name %d\n", r, fl,
	       r == 6 && memcmp(from.sun_path, b, 6) == 0);
	printf("reply: %s\n", err(sendto(srv, "reply", 5, 0, (struct sockaddr *)&from, fl)));
	printf("child exit %d\n", status_of(kid));
	close(srv);
	int again = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("bind after close: %s\n", err(bind(again, (struct sockaddr *)&a, alen)));
	close(again);
	struct sockaddr_un none;
	socklen_t nlen = abstract_addr(&none, "no-such-name-here");
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("sendto a missing name: %s\n", err(sendto(c, "x", 1, 0, (struct sockaddr *)&none, nlen)));
	close(c);

	// A seqpacket server on an abstract name.
	snprintf(name, sizeof name, "unixserver-seq-%d", getpid());
	alen = abstract_addr(&a, name);
	srv = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	bind(srv, (struct sockaddr *)&a, alen);
	listen(srv, 1);
	kid = fork();
	if (kid == 0) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (connect(s, (struct sockaddr *)&a, alen) != 0) _exit(1);
		send(s, "first record", 12, 0);
		send(s, "second", 6, 0);
		send(s, "", 0, 0);
		_exit(0);
	}
	c = accept(srv, NULL, NULL);
	for (int i = 0; i < 4; i++) {
		char rb[8];
		struct iovec io = {rb, sizeof rb};
		struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1};
		r = recvmsg(c, &m, 0);
		printf("seqpacket record: %ld \"%.*s\"%s\n", r, (int)(r > 8 ? 8 : r < 0 ? 0 : r), rb,
		       m.msg_flags & MSG_TRUNC ? " MSG_TRUNC" : "");
	}
	printf("child exit %d\n", status_of(kid));
	close(c);
	close(srv);
}

static int send_fds(int s, const int *fds, int n, const char *data) {
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec io = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
	                   .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0);
}

// recv_fds receives into fds (up to max) with a control buffer of ctl
// bytes and returns the count, or -1.
static int recv_fds(int s, int *fds, int max, size_t ctl, int *flags) {
	char cbuf[256];
	char data[64];
	struct iovec io = {data, sizeof data};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = ctl};
	if (recvmsg(s, &m, 0) < 0) return -1;
	*flags = m.msg_flags;
	int n = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
		int k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < k && n < max; i++) memcpy(&fds[n++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	return n;
}

static void passing(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t kid = fork();
	if (kid == 0) {
		close(sv[0]);
		int p[2];
		pipe(p);
		if (send_fds(sv[1], &p[0], 1, "a pipe") < 0) _exit(1);
		close(p[0]);
		usleep(10000);
		write(p[1], "through the pipe", 16);
		_exit(0);
	}
	close(sv[1]);
	int fd, flags;
	int n = recv_fds(sv[0], &fd, 1, 64, &flags);
	struct stat st;
	fstat(fd, &st);
	char b[32] = {0};
	long r = read(fd, b, sizeof b - 1);
	printf("received %d descriptor, a FIFO %d, read %ld \"%s\"\n", n, S_ISFIFO(st.st_mode), r, b);
	printf("child exit %d\n", status_of(kid));
	printf("end of file from the passed pipe: %ld\n", (long)read(fd, b, 1));
	close(fd);

	// Three descriptors, room for two: MSG_CTRUNC, the third is dropped.
	int p[2];
	pipe(p);
	int three[3] = {p[1], p[1], p[1]};
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	send_fds(sv[0], three, 3, "three");
	int got[3];
	n = recv_fds(sv[1], got, 3, CMSG_LEN(2 * sizeof(int)), &flags);
	printf("room for two of three: got %d, MSG_CTRUNC %d\n", n, !!(flags & MSG_CTRUNC));
	for (int i = 0; i < n; i++) close(got[i]);
	close(p[1]);
	printf("the pipe's write ends are all gone: read %ld\n", (long)read(p[0], b, 1));
	close(p[0]);

	// A socket passed over itself stays usable by the receiver.
	send_fds(sv[0], &sv[0], 1, "self");
	n = recv_fds(sv[1], got, 1, 64, &flags);
	printf("a socket passed: %d, usable %s\n", n, err(send(got[0], "x", 1, 0)));
	close(got[0]);
	close(sv[0]);
	close(sv[1]);
}

static void credentials(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	struct ucred uc;
	socklen_t ul = sizeof uc;
	getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &ul);
	printf("socketpair SO_PEERCRED: pid is mine %d, uid %d, gid %d\n", uc.pid == getpid(), uc.uid == getuid(),
	       uc.gid == getgid());
	int on = 1;
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	pid_t kid = fork();
	if (kid == 0) {
		send(sv[0], "creds", 5, 0);
		_exit(0);
	}
	char data[16], cbuf[64];
	struct iovec io = {data, sizeof data};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	recvmsg(sv[1], &m, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_CREDENTIALS) {
		memcpy(&uc, CMSG_DATA(cm), sizeof uc);
		printf("SCM_CREDENTIALS: pid is the child's %d, uid %d, gid %d\n", uc.pid == kid, uc.uid == getuid(),
		       uc.gid == getgid());
	} else {
		printf("SCM_CREDENTIALS: missing\n");
	}
	status_of(kid);
	// Explicit credentials: our own are fine.
	char cb2[CMSG_SPACE(sizeof(struct ucred))];
	struct ucred mine = {getpid(), getuid(), getgid()};
	io.iov_base = "mine";
	io.iov_len = 4;
	struct msghdr s = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cb2, .msg_controllen = sizeof cb2};
	cm = CMSG_FIRSTHDR(&s);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof mine);
	memcpy(CMSG_DATA(cm), &mine, sizeof mine);
	printf("send own SCM_CREDENTIALS: %s\n", err(sendmsg(sv[0], &s, 0)));
	io.iov_base = data;
	io.iov_len = sizeof data;
	m.msg_controllen = sizeof cbuf;
	recvmsg(sv[1], &m, 0);
	cm = CMSG_FIRSTHDR(&m);
	memcpy(&uc, CMSG_DATA(cm), sizeof uc);
	printf("received: pid is mine %d\n", uc.pid == getpid());
	m.msg_control = NULL;
	m.msg_controllen = 0;
	send(sv[0], "x", 1, 0);
	recvmsg(sv[1], &m, 0);
	printf("SO_PASSCRED without a control buffer: MSG_CTRUNC %d\n", !!(m.msg_flags & MSG_CTRUNC));
	close(sv[0]);
	close(sv[1]);
}

static void mmsg(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	struct mmsghdr msgs[4];
	struct iovec iov[4];
	const char *words[4] = {"one", "two", "three", "four"};
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < 4; i++) {
		iov[i].iov_base = (void *)words[i];
		iov[i].iov_len = strlen(words[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("sendmmsg: %d\n", sendmmsg(sv[0], msgs, 4, 0));
	char bufs[4][8];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < 4; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = 8;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	int n = recvmmsg(sv[1], msgs, 4, MSG_WAITFORONE, NULL);
	printf("recvmmsg: %d:", n);
	for (int i = 0; i < n; i++) printf(" %.*s", msgs[i].msg_len, bufs[i]);
	printf("\n");
	close(sv[0]);
	close(sv[1]);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	umask(022);
	path_server();
	abstract();
	passing();
	credentials();
	mmsg();
	return 0;
}
