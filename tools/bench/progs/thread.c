// thread: N iterations of pthread_create of a thread that returns at once
// and pthread_join, ns per iteration.
#include "bench.h"
#include <pthread.h>

static void *run(void *arg) {
	return arg;
}

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;
		int err = pthread_create(&t, NULL, run, (void *)i);
		if (err != 0) {
			errno = err;
			die("pthread_create");
		}
		if ((err = pthread_join(t, &ret)) != 0) {
			errno = err;
			die("pthread_join");
		}
		if (ret != (void *)i) {
			fprintf(stderr, "thread: thread %ld returned %p\n", i, ret);
			return 1;
		}
	}
	report(now_ns() - t0, n);
	return 0;
}
