// fault: first-touch page faults. Maps N anonymous 4 KiB pages in one region
// and writes one byte to each; prints ns per page. (The mapping itself is not
// timed, only the touching.)
#include "bench.h"
#include <sys/mman.h>

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	if (n == 0) {
		report(0, 0);
		return 0;
	}
	size_t len = (size_t)n * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	long long t0 = now_ns();
	for (size_t off = 0; off < len; off += 4096)
		((volatile char *)p)[off] = 1;
	report(now_ns() - t0, n);
	return 0;
}
