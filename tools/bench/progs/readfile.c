// readfile: reads the first N MiB of FILE with 1 MiB reads, checking every
// 4 KiB block's offset stamp (bench.h); prints ns per MiB. Opening the file
// is not timed.
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_args(argc, argv, 1, "FILE");
	const char *path = argv[2];
	if (n == 0) {
		report(0, 0);
		return 0;
	}
	unsigned char *buf = malloc(CHUNK);
	if (buf == NULL)
		die("malloc");
	memset(buf, 0, CHUNK); // fault the buffer in before the clock starts
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die_at("open", path);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		uint64_t off = (uint64_t)i * CHUNK;
		for (size_t got = 0; got < CHUNK;) {
			ssize_t r = read(fd, buf + got, CHUNK - got);
			if (r < 0)
				die_at("read", path);
			if (r == 0) {
				fprintf(stderr, "read %s: end of file at %llu bytes, want %ld MiB\n", path,
				        (unsigned long long)(off + got), n);
				return 1;
			}
			got += r;
		}
		for (size_t b = 0; b < CHUNK; b += BLOCK) {
			uint64_t v;
			memcpy(&v, buf + b, sizeof v);
			if (v != off + b || buf[b + BLOCK - 1] != 0xA5) {
				fprintf(stderr, "read %s: wrong data in the block at offset %llu\n", path,
				        (unsigned long long)(off + b));
				return 1;
			}
		}
	}
	report(now_ns() - t0, n);
	close(fd);
	return 0;
}
