// cat: copies stdin to stdout in 64 KiB reads, then reports the byte count on
// stderr. Exercises stdin passthrough and EOF.
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static char buf[65536];

int main(void) {
	long long total = 0;
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("read");
			return 1;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				perror("write");
				return 1;
			}
			off += w;
		}
		total += n;
	}
	fprintf(stderr, "cat: %lld bytes\n", total);
	return 0;
}
