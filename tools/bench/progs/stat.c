// stat: N stat calls on an existing file.
#include "bench.h"
#include <sys/stat.h>

int main(int argc, char **argv) {
	long n = ops_args(argc, argv, 1, "FILE");
	const char *path = argv[2];
	struct stat st;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			die_at("stat", path);
	report(now_ns() - t0, n);
	if (n > 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "stat %s: not a regular file\n", path);
		return 1;
	}
	return 0;
}
