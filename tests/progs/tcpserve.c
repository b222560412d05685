// tcpserve PORT [ADDR [udp]]: listens on ADDR:PORT (default 0.0.0.0),
// prints "listening", answers one connection's first line with "served: "
// and the line, and exits. With udp: binds a UDP socket there and answers
// the first datagram so.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int serve_udp(struct sockaddr_in *a) {
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(fd, (struct sockaddr *)a, sizeof *a) != 0) {
		printf("bind: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	char buf[256];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		printf("recvfrom: %s\n", strerrorname_np(errno));
		return 1;
	}
	buf[n] = 0;
	char out[300];
	int len = snprintf(out, sizeof out, "served: %s", buf);
	sendto(fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	if (argc > 3 && strcmp(argv[3], "udp") == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		return serve_udp(&a);
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
	inet_pton(AF_INET, argc > 2 ? argv[2] : "0.0.0.0", &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 5) != 0) {
		printf("listen: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	int c = accept(fd, NULL, NULL);
	if (c < 0) {
		printf("accept: %s\n", strerrorname_np(errno));
		return 1;
	}
	char buf[256];
	ssize_t n = read(c, buf, sizeof buf - 1);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	char out[300];
	int len = snprintf(out, sizeof out, "served: %s", buf);
	write(c, out, (size_t)len);
	close(c);
	printf("done\n");
	return 0;
}
