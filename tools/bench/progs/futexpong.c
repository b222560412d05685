// futexpong: N hand-offs between two threads over one futex word, a count
// of the hand-offs made: each thread waits (FUTEX_WAIT) until the count is
// of its parity (thread 0 even, thread 1 odd), adds one and wakes the other
// (FUTEX_WAKE). One hand-off is one switch from one thread to the other;
// ns per switch. The second thread is created, and joined after the loop,
// with 0 operations too, so that the bench's 0-operation run has the same
// set-up and its VM exits cancel out.
#include "bench.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned int count; // hand-offs made; the futex word
static long total;

static long futex(unsigned int *uaddr, int op, unsigned int val) {
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

// play makes the hand-offs of one thread, me (0 or 1).
static void *play(void *arg) {
	unsigned int me = (unsigned int)(long)arg;
	for (;;) {
		unsigned int c = __atomic_load_n(&count, __ATOMIC_ACQUIRE);
		if (c >= (unsigned long)total)
			return NULL;
		if (c % 2 != me) {
			if (futex(&count, FUTEX_WAIT_PRIVATE, c) != 0 && errno != EAGAIN && errno != EINTR)
				die("futex wait");
			continue;
		}
		__atomic_store_n(&count, c + 1, __ATOMIC_RELEASE);
		if (futex(&count, FUTEX_WAKE_PRIVATE, 1) < 0)
			die("futex wake");
	}
}

int main(int argc, char **argv) {
	total = ops_arg(argc, argv);
	if (total > 2000000000L) {
		fprintf(stderr, "futexpong: at most 2000000000 hand-offs\n");
		return 2;
	}
	pthread_t t;
	int err = pthread_create(&t, NULL, play, (void *)1L);
	if (err != 0) {
		errno = err;
		die("pthread_create");
	}
	long long t0 = now_ns();
	play((void *)0L);
	long long el = now_ns() - t0;
	if ((err = pthread_join(t, NULL)) != 0) {
		errno = err;
		die("pthread_join");
	}
	if (count != (unsigned long)total) {
		fprintf(stderr, "futexpong: %u hand-offs, want %ld\n", count, total);
		return 1;
	}
	report(el, total);
	return 0;
}
