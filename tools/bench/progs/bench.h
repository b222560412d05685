// bench.h: what the timed benchmark programs share. Each takes the number of
// operations as argv[1] (the file-system programs a path or two after it),
// times its loop with CLOCK_MONOTONIC (so process
// start-up is not counted) and prints one line "result NS_PER_OP" on stdout.
// With 0 operations it does nothing and prints "result 0": ringbox bench
// runs that to learn the VM exits of start-up alone.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static inline long long now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// ops_args reads the operation count of argv[1] of a program that takes
// extra arguments after it, which usage names in the usage message.
static inline long ops_args(int argc, char **argv, int extra, const char *usage) {
	if (argc != 2 + extra) {
		fprintf(stderr, "usage: %s OPERATIONS%s%s\n", argv[0], extra ? " " : "", usage);
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

static inline long ops_arg(int argc, char **argv) {
	return ops_args(argc, argv, 0, "");
}

static inline void report(long long elapsed_ns, long ops) {
	printf("result %.3f\n", ops > 0 ? (double)elapsed_ns / (double)ops : 0.0);
}

static inline void die(const char *what) {
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static inline void die_at(const char *what, const char *path) {
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

// The data files of the read and write rows are made of 4 KiB blocks, each
// beginning with its own file offset as a little-endian 64-bit number and
// filled up with 0xA5 bytes: real data, not a sparse file, and a check that
// every block was read from the right place. (The bench writes the read
// row's file the same way.) They are read and written in chunks of 1 MiB.
#define CHUNK (1 << 20)
#define BLOCK 4096

// stamp_chunk writes each block's offset at its start, for a chunk at file
// offset off.
static inline void stamp_chunk(unsigned char *buf, uint64_t off) {
	for (size_t b = 0; b < CHUNK; b += BLOCK)
		memcpy(buf + b, &(uint64_t){off + b}, sizeof(uint64_t));
}
