// threads: pthreads contending on mutexes, condition variables and a
// barrier, thread-local storage, pthread_join (CLONE_CHILD_CLEARTID), a PI
// mutex, a robust mutex whose owner dies, a process-shared mutex in a
// MAP_SHARED region between processes, tgkill to one thread, and execve
// from a multi-threaded process. Output is deterministic.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 64
#define ROUNDS 200

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static long counter;
static int turn;
static __thread long mine;

static void *worker(void *arg) {
	long id = (long)arg;
	mine = id;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
		mine += 1000;
	}
	pthread_barrier_wait(&barrier);
	// Take turns in id order through the condition variable.
	pthread_mutex_lock(&mu);
	while (turn != id)
		pthread_cond_wait(&cv, &mu);
	turn++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return (void *)(mine - id);
}

static pthread_mutex_t pi;
static long pi_count;
static void *pi_worker(void *arg) {
	(void)arg;
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&pi);
		pi_count++;
		pthread_mutex_unlock(&pi);
	}
	return NULL;
}

static pthread_mutex_t robust;
static void *robust_owner(void *arg) {
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL; // dies holding it
}

static volatile sig_atomic_t got_usr1_tid;
static void on_usr1(int sig) {
	(void)sig;
	got_usr1_tid = (sig_atomic_t)syscall(SYS_gettid);
}
static volatile int sleeper_tid;
static void *sleeper(void *arg) {
	(void)arg;
	sleeper_tid = (int)syscall(SYS_gettid);
	while (got_usr1_tid == 0)
		usleep(1000);
	return NULL;
}

static void *spinner(void *arg) {
	(void)arg;
	for (;;)
		usleep(1000);
	return NULL;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		printf("the exec'd image runs\n");
		return 0;
	}

	pthread_t th[NTHREADS];
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
			printf("pthread_create failed\n");
			return 1;
		}
	long sum = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		sum += (long)r;
	}
	printf("counter %ld (want %d), turns %d, TLS sum %ld (want %ld)\n", counter, NTHREADS * ROUNDS, turn, sum,
	       (long)NTHREADS * ROUNDS * 1000);

	// A priority-inheritance mutex (FUTEX_LOCK_PI / UNLOCK_PI).
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&pi, &a);
	pthread_t p[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&p[i], NULL, pi_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(p[i], NULL);
	printf("PI mutex count %ld (want 2000)\n", pi_count);

	// A robust mutex whose owner thread exits holding it.
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	pthread_t r;
	pthread_create(&r, NULL, robust_owner, NULL);
	pthread_join(r, NULL);
	int e = pthread_mutex_lock(&robust);
	printf("robust mutex after its owner died: %s\n", e == EOWNERDEAD ? "EOWNERDEAD" : strerror(e));
	pthread_mutex_consistent(&robust);
	pthread_mutex_unlock(&robust);

	// A signal to one thread (tgkill).
	signal(SIGUSR1, on_usr1);
	pthread_t s;
	pthread_create(&s, NULL, sleeper, NULL);
	while (sleeper_tid == 0)
		usleep(1000);
	syscall(SYS_tgkill, getpid(), sleeper_tid, SIGUSR1);
	pthread_join(s, NULL);
	printf("SIGUSR1 handled by the thread it was sent to: %s\n", got_usr1_tid == sleeper_tid ? "yes" : "no");

	// A process-shared mutex and condition in a MAP_SHARED region.
	struct shared {
		pthread_mutex_t m;
		pthread_cond_t c;
		int stage;
	} *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->m, &a);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&sh->c, &ca);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		pthread_mutex_lock(&sh->m);
		while (sh->stage != 1)
			pthread_cond_wait(&sh->c, &sh->m);
		sh->stage = 2;
		pthread_cond_signal(&sh->c);
		pthread_mutex_unlock(&sh->m);
		_exit(0);
	}
	pthread_mutex_lock(&sh->m);
	sh->stage = 1;
	pthread_cond_signal(&sh->c);
	while (sh->stage != 2)
		pthread_cond_wait(&sh->c, &sh->m);
	pthread_mutex_unlock(&sh->m);
	int st;
	waitpid(child, &st, 0);
	printf("process-shared condition variable: stage %d, child status %d\n", sh->stage, WEXITSTATUS(st));

	// execve from a process with other threads running: they are ended.
	for (int i = 0; i < 3; i++)
		pthread_create(&s, NULL, spinner, NULL);
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "exec", (char *)0);
	printf("execl failed: %s\n", strerror(errno));
	return 1;
}
