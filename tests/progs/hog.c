// hog: uses up what it is told to, for the tests of a container's host
// control group. "hog cpu SECONDS" spins in user code for SECONDS of wall
// time and prints "spun"; "hog mem MB" touches MB megabytes, one page at a
// time, and prints "touched MB" (an out-of-memory kill stops it first).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: hog cpu SECONDS | hog mem MB\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (strcmp(argv[1], "cpu") == 0) {
		volatile unsigned long x = 0;
		double end = now() + n;
		while (now() < end)
			for (int i = 0; i < 100000; i++)
				x++;
		printf("spun\n");
		return 0;
	}
	if (strcmp(argv[1], "mem") == 0) {
		for (long mb = 0; mb < n; mb++) {
			char *p = malloc(1 << 20);
			if (p == NULL) {
				printf("malloc failed at %ld MB\n", mb);
				return 1;
			}
			for (int i = 0; i < (1 << 20); i += 4096)
				p[i] = 1;
		}
		printf("touched %ld\n", n);
		return 0;
	}
	return 2;
}
