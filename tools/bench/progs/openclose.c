// openclose: N times, open an existing file read-only and close it.
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_args(argc, argv, 1, "FILE");
	const char *path = argv[2];
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			die_at("open", path);
		if (close(fd) != 0)
			die_at("close", path);
	}
	report(now_ns() - t0, n);
	return 0;
}
