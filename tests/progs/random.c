// random: getrandom(2) returns fresh, non-trivial bytes.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok) {
	printf("%s: %s\n", name, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

static int all_zero(const unsigned char *p, size_t n) {
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void) {
	unsigned char a[64], b[64], c[64];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	memset(c, 0, sizeof c);
	check("getrandom 64 bytes", getrandom(a, sizeof a, 0) == (ssize_t)sizeof a);
	check("getrandom 64 bytes again", getrandom(b, sizeof b, 0) == (ssize_t)sizeof b);
	check("results not all zero", !all_zero(a, sizeof a) && !all_zero(b, sizeof b));
	check("results differ", memcmp(a, b, sizeof a) != 0);
	check("getrandom GRND_NONBLOCK", getrandom(c, sizeof c, GRND_NONBLOCK) == (ssize_t)sizeof c &&
	                                     !all_zero(c, sizeof c) && memcmp(a, c, sizeof a) != 0);

	// 4 KiB: every byte value should be roughly equally likely; with 4096
	// samples, fewer than 200 distinct values is (practically) impossible.
	static unsigned char big[4096];
	size_t got = 0;
	while (got < sizeof big) {
		ssize_t n = getrandom(big + got, sizeof big - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int seen[256] = {0}, distinct = 0;
	for (size_t i = 0; i < got; i++)
		if (!seen[big[i]]++)
			distinct++;
	check("getrandom 4096 bytes well distributed", got == sizeof big && distinct >= 200);

	unsigned char e[32] = {0};
	check("getentropy 32 bytes", getentropy(e, sizeof e) == 0 && !all_zero(e, sizeof e));
	errno = 0;
	check("getrandom bad flags -> EINVAL", getrandom(a, 8, 0x1000) == -1 && errno == EINVAL);
	return fails ? 1 : 0;
}
