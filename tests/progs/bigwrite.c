// bigwrite: writes exactly 10 MiB of deterministic pseudo-random bytes to
// stdout in chunks of varying size (1 byte .. 64 KiB), handling short writes.
// The e2e test pipes it and compares size and SHA-256 with a native run.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define TOTAL (10u << 20)
#define PERIOD 65536u

// Two periods so that any chunk of up to PERIOD bytes starting at
// (offset % PERIOD) is contiguous.
static unsigned char buf[2 * PERIOD];

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(void) {
	for (size_t i = 0; i < PERIOD; i++)
		buf[i] = buf[i + PERIOD] = (unsigned char)(next() >> 24);

	size_t off = 0, chunks = 0;
	while (off < TOTAL) {
		uint64_t r = next();
		size_t n = (r & 15) == 0 ? 1 + (r >> 8) % 100      // some tiny writes
		                         : 16384 + (r >> 8) % 49153; // 16..64 KiB
		if (n > TOTAL - off)
			n = TOTAL - off;
		const unsigned char *src = buf + off % PERIOD;
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(1, src + done, n - done);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				perror("write");
				return 1;
			}
			done += (size_t)w;
		}
		off += n;
		chunks++;
	}
	fprintf(stderr, "bigwrite: %zu bytes in %zu chunks\n", off, chunks);
	return 0;
}
