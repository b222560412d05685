// malloc: malloc/free churn of several hundred MB with sizes from a few bytes
// up to 32 MB (large blocks come from mmap, small ones from brk), touching
// every page and verifying contents before freeing. Also checks realloc growth
// (mremap path), calloc zeroing of recycled memory, and malloc_trim. Prints
// only deterministic totals and a checksum.
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096
#define SLOTS 24
#define ITERS 160

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t pick_size(void) {
	uint64_t r = next() % 100;
	if (r < 35)
		return 1 + next() % 4096; // small: brk heap
	if (r < 60)
		return 4096 + next() % (124 * 1024); // medium: heap
	if (r < 92)
		return 256 * 1024 + next() % (4u << 20); // large: mmap
	return (8u << 20) + next() % (24u << 20); // huge: mmap
}

struct slot {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static int fails;
static uint64_t checksum = 1469598103934665603ull;

static void mix(uint64_t v) {
	checksum ^= v;
	checksum *= 1099511628211ull;
}

static void fill(struct slot *s) {
	memset(s->p, s->tag, s->n);
	// Stamp one word per page (where it fits) so misplaced pages are caught.
	for (size_t off = 0; off + 8 <= s->n; off += PAGE) {
		uint64_t w = (uint64_t)off * 2654435761u ^ s->tag;
		memcpy(s->p + off, &w, 8);
	}
}

static void verify(const struct slot *s) {
	for (size_t off = 0; off < s->n; off += PAGE) {
		size_t end = off + PAGE < s->n ? off + PAGE : s->n;
		size_t start = off;
		if (off + 8 <= s->n) {
			uint64_t w, want = (uint64_t)off * 2654435761u ^ s->tag;
			memcpy(&w, s->p + off, 8);
			if (w != want) {
				fails++;
				return;
			}
			mix(w);
			start = off + 8;
		}
		for (size_t i = start; i < end; i++)
			if (s->p[i] != s->tag) {
				fails++;
				return;
			}
	}
	mix(s->n);
}

static int all_zero(const unsigned char *p, size_t n) {
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void) {
	// Pin the mmap threshold (this also stops glibc from raising it
	// dynamically), so blocks >= 128 KiB always come from mmap/munmap.
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	struct slot slots[SLOTS];
	memset(slots, 0, sizeof slots);
	unsigned long long total = 0, count = 0;

	for (int it = 0; it < ITERS; it++) {
		struct slot *s = &slots[next() % SLOTS];
		if (s->p) {
			verify(s);
			free(s->p);
			s->p = NULL;
		}
		s->n = pick_size();
		s->tag = (unsigned char)(next() | 1);
		s->p = malloc(s->n);
		if (!s->p) {
			printf("malloc(%zu) failed\n", s->n);
			return 1;
		}
		fill(s);
		total += s->n;
		count++;
	}
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].p) {
			verify(&slots[i]);
			free(slots[i].p);
		}
	printf("allocations=%llu total_mb=%llu\n", count, total >> 20);
	printf("churn: %s\n", fails ? "FAIL" : "ok");

	// realloc growth from 1 KiB to 64 MiB; the prefix must survive every move.
	int rok = 1;
	size_t n = 1024;
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + 7);
	while (n < (64u << 20)) {
		size_t nn = n * 4;
		unsigned char *q = realloc(p, nn);
		if (!q) {
			rok = 0;
			break;
		}
		p = q;
		for (size_t i = 0; i < n; i += 509)
			if (p[i] != (unsigned char)(i * 31 + 7))
				rok = 0;
		for (size_t i = n; i < nn; i++)
			p[i] = (unsigned char)(i * 31 + 7);
		n = nn;
	}
	for (size_t i = 0; i < n; i += 4093)
		mix(p[i]);
	free(p);
	printf("realloc: %s\n", rok ? "ok" : "FAIL");

	// calloc must return zeroed memory, also when recycling dirty blocks.
	int cok = 1;
	for (int round = 0; round < 4; round++) {
		size_t sizes[] = {100, 60000, 1u << 20, 24u << 20};
		for (int k = 0; k < 4; k++) {
			unsigned char *d = malloc(sizes[k]);
			memset(d, 0xA5, sizes[k]);
			free(d);
			unsigned char *z = calloc(1, sizes[k]);
			if (!z || !all_zero(z, sizes[k]))
				cok = 0;
			free(z);
		}
	}
	printf("calloc: %s\n", cok ? "ok" : "FAIL");

	malloc_trim(0);
	printf("checksum=%016llx\n", (unsigned long long)checksum);
	return (fails || !rok || !cok) ? 1 : 0;
}
