// clock: clocks and sleeps. Prints only "NAME: ok" / "NAME: FAIL" lines (a
// failure line carries details on stderr). Optional argv[1]: the host's Unix
// time in seconds when the test started; REALTIME must be close to it.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok) {
	printf("%s: %s\n", name, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static int64_t now(clockid_t c) {
	struct timespec t;
	if (clock_gettime(c, &t) != 0)
		return -1;
	return ns(&t);
}

#define MS 1000000LL

static int sleep_ok(const char *what, int64_t elapsed) {
	int ok = elapsed >= 50 * MS && elapsed < 2000 * MS;
	if (!ok)
		fprintf(stderr, "%s: slept %lld ns\n", what, (long long)elapsed);
	return ok;
}

int main(int argc, char **argv) {
	// Monotonic clock never goes backwards (libc path, maybe vDSO).
	int ok = 1;
	int64_t prev = now(CLOCK_MONOTONIC);
	for (int i = 0; i < 1000; i++) {
		int64_t t = now(CLOCK_MONOTONIC);
		if (t < prev)
			ok = 0;
		prev = t;
	}
	check("CLOCK_MONOTONIC non-decreasing", ok && prev > 0);

	// Raw syscall path must agree with the libc path.
	struct timespec raw;
	int64_t before = now(CLOCK_MONOTONIC);
	long r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &raw);
	int64_t after = now(CLOCK_MONOTONIC);
	check("raw clock_gettime syscall consistent with libc",
	      r == 0 && ns(&raw) >= before && ns(&raw) <= after);

	ok = 1;
	clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
	                      CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
	                      CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++)
		if (now(clocks[i]) < 0) {
			fprintf(stderr, "clock %d failed\n", (int)clocks[i]);
			ok = 0;
		}
	check("all common clocks readable", ok);

	struct timespec res = {0, 0};
	check("clock_getres(CLOCK_MONOTONIC) in (0, 10ms]",
	      clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 &&
	          res.tv_nsec <= 10 * MS);

	// Sleeps of 50 ms.
	struct timespec req = {0, 50 * MS};
	int64_t t0 = now(CLOCK_MONOTONIC);
	r = nanosleep(&req, NULL);
	check("nanosleep 50ms", r == 0 && sleep_ok("nanosleep", now(CLOCK_MONOTONIC) - t0));

	t0 = now(CLOCK_MONOTONIC);
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
	check("clock_nanosleep relative 50ms",
	      r == 0 && sleep_ok("clock_nanosleep", now(CLOCK_MONOTONIC) - t0));

	t0 = now(CLOCK_MONOTONIC);
	struct timespec abs = {(t0 + 50 * MS) / 1000000000, (t0 + 50 * MS) % 1000000000};
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
	int64_t t1 = now(CLOCK_MONOTONIC);
	check("clock_nanosleep absolute deadline",
	      r == 0 && t1 >= ns(&abs) && sleep_ok("clock_nanosleep abs", t1 - t0));

	t0 = now(CLOCK_MONOTONIC);
	r = usleep(50000);
	check("usleep 50ms", r == 0 && sleep_ok("usleep", now(CLOCK_MONOTONIC) - t0));

	// REALTIME agrees with gettimeofday() and time().
	struct timeval tv;
	int64_t rt = now(CLOCK_REALTIME);
	int g = gettimeofday(&tv, NULL);
	int64_t gtod = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
	int64_t d = gtod - rt;
	check("gettimeofday within 2s of CLOCK_REALTIME", g == 0 && d > -2000 * MS && d < 2000 * MS);
	time_t tt = time(NULL);
	d = (int64_t)tt * 1000000000 - now(CLOCK_REALTIME);
	check("time() within 2s of CLOCK_REALTIME", d > -2000 * MS && d < 2000 * MS);
	// Sanity: after 2020-01-01.
	check("CLOCK_REALTIME after 2020", now(CLOCK_REALTIME) / 1000000000 > 1577836800);

	if (argc > 1) {
		long long host = atoll(argv[1]);
		long long diff = now(CLOCK_REALTIME) / 1000000000 - host;
		if (diff < -30 || diff > 30)
			fprintf(stderr, "REALTIME differs from host time by %lld s\n", diff);
		check("CLOCK_REALTIME within 30s of host time", diff > -30 && diff < 30);
	}

	// CPU time advances while spinning.
	int64_t c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
	volatile uint64_t x = 0;
	while (now(CLOCK_MONOTONIC) - w0 < 20 * MS)
		for (int i = 0; i < 10000; i++)
			x += (uint64_t)i;
	int64_t c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	check("CLOCK_PROCESS_CPUTIME_ID advances when busy", c1 > c0);
	return fails ? 1 : 0;
}
