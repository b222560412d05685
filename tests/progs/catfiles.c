// catfiles PATH...: prints each file's contents after "PATH: ", or the
// errno name of the failed open or read.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	int status = 0;
	for (int i = 1; i < argc; i++) {
		printf("%s: ", argv[i]);
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0) {
			printf("%s\n", strerrorname_np(errno));
			status = 1;
			continue;
		}
		char buf[4096];
		ssize_t n;
		while ((n = read(fd, buf, sizeof buf)) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
		if (n < 0) {
			printf("%s\n", strerrorname_np(errno));
			status = 1;
		}
		close(fd);
	}
	return status;
}
