// clock: N reads of CLOCK_MONOTONIC through libc, which takes the vDSO
// where there is one (no system call where it runs the host's clock code).
#include "bench.h"

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	struct timespec t;
	long long sum = 0;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		sum += t.tv_nsec;
	}
	report(now_ns() - t0, n);
	return sum == 42; // keeps the loop
}
