// archgs: the GS base a program sets with arch_prctl(ARCH_SET_GS) is the
// one its %gs-relative loads use, and it survives syscalls, a blocking
// sleep, signal delivery and other threads that set their own.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t mine[2] = {0x1111222233334444ull, 0x5555666677778888ull};
static uint64_t theirs[2] = {0xaaaabbbbccccddddull, 0xeeeeffff00001111ull};
static int fails;

static uint64_t gs_word(long off) {
	uint64_t v;
	__asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(off));
	return v;
}

static void check(const char *what, int ok) {
	printf("%s: %s\n", what, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
	(void)sig;
	handled = gs_word(0) == mine[0];
}

static void *other(void *arg) {
	(void)arg;
	syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)theirs);
	for (int i = 0; i < 100; i++) {
		if (gs_word(8) != theirs[1])
			return (void *)1;
		syscall(SYS_getpid);
	}
	return NULL;
}

int main(void) {
	unsigned long got = 0;
	check("set", syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)mine) == 0);
	check("get", syscall(SYS_arch_prctl, ARCH_GET_GS, &got) == 0 && got == (unsigned long)mine);
	check("load", gs_word(0) == mine[0] && gs_word(8) == mine[1]);
	for (int i = 0; i < 50; i++)
		syscall(SYS_getppid);
	check("after syscalls", gs_word(8) == mine[1]);
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	check("after a sleep", gs_word(0) == mine[0]);
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	check("in a signal handler", handled);
	check("after the handler", gs_word(8) == mine[1]);
	pthread_t th;
	void *res;
	pthread_create(&th, NULL, other, NULL);
	pthread_join(th, &res);
	check("another thread's own", res == NULL);
	check("ours after the thread", gs_word(0) == mine[0]);
	return fails != 0;
}
