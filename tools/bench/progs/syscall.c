// syscall: the null system call round trip, N raw getppid calls.
#include "bench.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	report(now_ns() - t0, n);
	return 0;
}
