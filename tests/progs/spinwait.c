// spinwait: threads that spin in user code, never entering the kernel,
// until other threads (which sleep and make system calls first) set their
// flags. Natively every thread gets a CPU in turn; in a sandbox with fewer
// vCPUs than threads (--vcpus 1), a spinning thread must be made to yield
// its vCPU, or the program never ends.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define PAIRS 3

static volatile int flag[PAIRS];

static void *setter(void *arg) {
	long i = (long)arg;
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
	getpid();
	flag[i] = 1;
	return NULL;
}

static void *spinner(void *arg) {
	long i = (long)arg;
	while (!flag[i])
		; // no system call: only a preemption gives the CPU away
	return (void *)(i + 100);
}

int main(void) {
	pthread_t s[PAIRS], w[PAIRS];
	for (long i = 0; i < PAIRS; i++) {
		pthread_create(&w[i], NULL, spinner, (void *)i);
		pthread_create(&s[i], NULL, setter, (void *)i);
	}
	for (long i = 0; i < PAIRS; i++) {
		void *r;
		pthread_join(s[i], NULL);
		pthread_join(w[i], &r);
		printf("pair %ld: spinner saw its flag (%ld)\n", i, (long)r);
	}
	// The main thread spins too, against a thread it starts.
	flag[0] = 0;
	pthread_create(&s[0], NULL, setter, (void *)0);
	while (!flag[0])
		;
	pthread_join(s[0], NULL);
	printf("main: done\n");
	return 0;
}
