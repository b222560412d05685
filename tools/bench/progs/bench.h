// bench.h: what the timed benchmark programs share. Each takes the number of
// operations as argv[1], times its loop with CLOCK_MONOTONIC (so process
// start-up is not counted) and prints one line "result NS_PER_OP" on stdout.
// With 0 operations it does nothing and prints "result 0": ringbox bench
// runs that to learn the VM exits of start-up alone.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline long long now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline long ops_arg(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s OPERATIONS\n", argv[0]);
		exit(2);
	}
	char *end;
	errno = 0;
	long n = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[1] || n < 0) {
		fprintf(stderr, "%s: bad operation count %s\n", argv[0], argv[1]);
		exit(2);
	}
	return n;
}

static inline void report(long long elapsed_ns, long ops) {
	printf("result %.3f\n", ops > 0 ? (double)elapsed_ns / (double)ops : 0.0);
}

static inline void die(const char *what) {
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}
