// mix: a syscall-heavy loop. Each iteration makes three raw system calls:
// clock_gettime (raw, so natively it is not answered by the vDSO), getpid,
// and a 64-byte write to stdout, which the bench drains from a pipe. Each
// 64-byte record is 63 dots and a newline; the result line comes last.
#include "bench.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	char rec[64];
	memset(rec, '.', sizeof rec - 1);
	rec[sizeof rec - 1] = '\n';
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		struct timespec ts;
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		syscall(SYS_getpid);
		if (write(1, rec, sizeof rec) != (ssize_t)sizeof rec)
			die("write");
	}
	report(now_ns() - t0, n);
	return 0;
}
