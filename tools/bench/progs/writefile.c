// writefile: creates FILE (truncating it), writes N MiB of data stamped
// like the read row's file (bench.h) with 1 MiB writes, fsyncs it, then
// closes and removes it; prints ns per MiB, the fsync included. Creating
// and removing the file are not timed.
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
	memset(buf, 0xA5, CHUNK);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die_at("create", path);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		stamp_chunk(buf, (uint64_t)i * CHUNK);
		for (size_t put = 0; put < CHUNK;) {
			ssize_t w = write(fd, buf + put, CHUNK - put);
			if (w <= 0)
				die_at("write", path);
			put += w;
		}
	}
	if (fsync(fd) != 0)
		die_at("fsync", path);
	long long t1 = now_ns();
	if (close(fd) != 0)
		die_at("close", path);
	if (unlink(path) != 0)
		die_at("unlink", path);
	report(t1 - t0, n);
	return 0;
}
