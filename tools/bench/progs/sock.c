// sock: socket throughput and latency. sock N MODE [HOST PORT]:
//   tcp    N MiB from a child to its parent over TCP on 127.0.0.1; ns per MiB
//   unix   N MiB from a child to its parent over an AF_UNIX stream pair
//   rr     N request/response round trips of 1 byte over TCP (TCP_NODELAY)
//   to     N MiB to HOST:PORT (a host server that reads all, then closes)
// The child is forked (and reaped) with 0 operations too, so that the
// bench's 0-operation run has the same set-up.
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static char buf[CHUNK];

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0)
			die("write");
		p += w;
		n -= w;
	}
}

static long long drain(int fd) {
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0)
			die("read");
		if (r == 0)
			return total;
		total += r;
	}
}

static void reap(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sock: child ended with status %#x\n", st);
		exit(1);
	}
}

// tcp_pair gives a connected TCP pair over 127.0.0.1 (after fork: the
// child connects, the parent accepts).
static int listener(int *port) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0)
		die("listen");
	*port = ntohs(a.sin_port);
	return l;
}

static int dial(const char *host, int port) {
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		die("connect");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: sock OPERATIONS tcp|unix|rr|to [HOST PORT]\n");
		return 2;
	}
	const char *mode = argv[2];
	char *n_argv[] = {argv[0], argv[1]};
	long n = ops_args(2, n_argv, 0, "");
	memset(buf, 0xa5, sizeof buf);
	long long t0, t;
	if (strcmp(mode, "to") == 0) {
		if (argc != 5) {
			fprintf(stderr, "usage: sock OPERATIONS to HOST PORT\n");
			return 2;
		}
		if (n == 0) {
			report(0, 0);
			return 0;
		}
		t0 = now_ns();
		int fd = dial(argv[3], atoi(argv[4]));
		for (long i = 0; i < n; i++)
			write_all(fd, buf, CHUNK);
		shutdown(fd, SHUT_WR);
		drain(fd); // the server closes once it has it all
		t = now_ns() - t0;
		close(fd);
		report(t, n);
		return 0;
	}
	int parent_fd, port = 0, l = -1, sv[2];
	int is_unix = strcmp(mode, "unix") == 0, is_rr = strcmp(mode, "rr") == 0;
	if (!is_unix && !is_rr && strcmp(mode, "tcp") != 0) {
		fprintf(stderr, "sock: unknown mode %s\n", mode);
		return 2;
	}
	if (is_unix) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
			die("socketpair");
	} else {
		l = listener(&port);
	}
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd;
		if (is_unix) {
			close(sv[0]);
			fd = sv[1];
		} else {
			close(l);
			fd = dial("127.0.0.1", port);
		}
		if (is_rr) {
			char c;
			ssize_t r;
			while ((r = read(fd, &c, 1)) == 1)
				write_all(fd, &c, 1);
			_exit(r == 0 ? 0 : 1);
		}
		for (long i = 0; i < n; i++)
			write_all(fd, buf, CHUNK);
		_exit(0);
	}
	if (is_unix) {
		close(sv[1]);
		parent_fd = sv[0];
	} else {
		parent_fd = accept(l, NULL, NULL);
		if (parent_fd < 0)
			die("accept");
		int one = 1;
		setsockopt(parent_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	t0 = now_ns();
	if (is_rr) {
		for (long i = 0; i < n; i++) {
			char c = (char)i, back;
			write_all(parent_fd, &c, 1);
			if (read(parent_fd, &back, 1) != 1 || back != c) {
				fprintf(stderr, "sock: round trip %ld failed\n", i);
				return 1;
			}
		}
		t = now_ns() - t0;
		close(parent_fd);
	} else {
		long long got = drain(parent_fd);
		t = now_ns() - t0;
		if (got != (long long)n * CHUNK) {
			fprintf(stderr, "sock: got %lld bytes, want %lld\n", got, (long long)n * CHUNK);
			return 1;
		}
	}
	reap(pid);
	report(t, n);
	return 0;
}
