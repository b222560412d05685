// mmap: N times, map 64 KiB of anonymous memory, write one byte to each of
// its 16 pages and unmap it; prints ns per iteration.
#include "bench.h"
#include <sys/mman.h>

#define LEN (64 * 1024)

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		for (size_t off = 0; off < LEN; off += 4096)
			((volatile char *)p)[off] = 1;
		if (munmap(p, LEN) != 0)
			die("munmap");
	}
	report(now_ns() - t0, n);
	return 0;
}
