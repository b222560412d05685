// escape: tries to reach files outside the sandbox's root. Each argument is
// a path; for each it prints what open+read, stat and readlink return, and
// the first line of the file when it could be read. The e2e test gives it
// paths that must not reach the host file "secret" outside the root.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *err(int e) { return e ? strerror(e) : "ok"; }

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		const char *p = argv[i];
		char buf[256] = {0};
		int fd = open(p, O_RDONLY);
		int oe = fd < 0 ? errno : 0;
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof buf - 1);
			if (n > 0) {
				buf[n] = 0;
				char *nl = strchr(buf, '\n');
				if (nl)
					*nl = 0;
			}
			close(fd);
		}
		struct stat st;
		int se = stat(p, &st) < 0 ? errno : 0;
		printf("%s: open=%s stat=%s data=%s\n", p, err(oe), err(se), buf);
	}
	// openat relative to a directory fd, climbing out.
	int dfd = open("/", O_RDONLY | O_DIRECTORY);
	int fd = openat(dfd, "../../../../secret", O_RDONLY);
	printf("openat(/, ../../../../secret): %s\n", fd < 0 ? strerror(errno) : "opened");
	return 0;
}
