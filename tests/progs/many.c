// many: 1000 live threads at once, then 200 live processes at once.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 1000
#define NPROCS 200

static pthread_barrier_t barrier;
static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }
static int started;

static void *thread(void *arg) {
	(void)arg;
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&barrier); // all alive at once
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	static pthread_t th[NTHREADS];
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	pthread_barrier_init(&barrier, NULL, NTHREADS + 1);
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], &a, thread, NULL) != 0) {
			printf("pthread_create %d failed\n", i);
			return 1;
		}
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("%d threads were alive at once\n", started);

	volatile int *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t kids[NPROCS];
	// The children sleep in sigsuspend until SIGUSR1.
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < NPROCS; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			printf("fork %d failed\n", i);
			return 1;
		}
		if (kids[i] == 0) {
			__atomic_add_fetch(&sh[0], 1, __ATOMIC_SEQ_CST);
			while (!got_usr1)
				sigsuspend(&none);
			_exit(i % 100);
		}
	}
	while (__atomic_load_n(&sh[0], __ATOMIC_SEQ_CST) < NPROCS)
		usleep(1000);
	printf("%d processes were alive at once\n", sh[0]);
	for (int i = 0; i < NPROCS; i++)
		kill(kids[i], SIGUSR1);
	long sum = 0;
	for (int i = 0; i < NPROCS; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		sum += WEXITSTATUS(st);
	}
	printf("exit statuses sum %ld (want %d)\n", sum, 2 * (99 * 100 / 2));
	return 0;
}
