// writeto PATH TEXT: create PATH with TEXT and a newline; prints the errno
// name and exits 1 when it cannot.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: writeto PATH TEXT\n");
		return 2;
	}
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open: %s\n", strerrorname_np(errno));
		return 1;
	}
	dprintf(fd, "%s\n", argv[2]);
	if (close(fd) != 0) {
		printf("close: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("wrote %s\n", argv[1]);
	return 0;
}
