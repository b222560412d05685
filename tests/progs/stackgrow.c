// stackgrow: the main thread's stack grows on demand. Recurses ~3 MiB deep
// (well below the usual 8 MiB RLIMIT_STACK) with a 4 KiB frame per level, and
// then uses a 1 MiB variable-length array, verifying the data on the way back.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEPTH 768

static uint64_t recurse(int depth) {
	volatile unsigned char frame[4096];
	memset((unsigned char *)frame, depth & 0xff, sizeof frame);
	uint64_t below = depth < DEPTH ? recurse(depth + 1) : 0;
	uint64_t sum = 0;
	for (size_t i = 0; i < sizeof frame; i += 512)
		sum += frame[i];
	if (sum != (uint64_t)(depth & 0xff) * (sizeof frame / 512))
		return UINT64_MAX / 2;
	return below + sum;
}

static int big_vla(size_t n) {
	volatile unsigned char a[n];
	for (size_t i = n; i-- > 0;)
		a[i] = (unsigned char)(i * 7);
	for (size_t i = 0; i < n; i++)
		if (a[i] != (unsigned char)(i * 7))
			return 0;
	return 1;
}

int main(void) {
	uint64_t want = 0;
	for (int d = 1; d <= DEPTH; d++)
		want += (uint64_t)(d & 0xff) * 8;
	uint64_t got = recurse(1);
	printf("recursion depth %d: %s\n", DEPTH, got == want ? "ok" : "FAIL");
	int vla = big_vla(1 << 20);
	printf("1 MiB stack array: %s\n", vla ? "ok" : "FAIL");
	return got == want && vla ? 0 : 1;
}
