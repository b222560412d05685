// busyhandler: a CPU-bound loop (no syscalls) interrupted from outside by
// SIGINT, whose handler (using SSE) ends the loop. The program was stopped
// in user mode, so the sandbox builds the frame for a vCPU kicked out of
// user code; every syscall after that must still go to the sandbox's
// kernel (the e2e test checks --strace sees them).
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int stop;
static void on_int(int sig) {
	double x = 0;
	for (int i = 1; i < 50; i++)
		x += 1.0 / i;
	stop = (int)x;
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	double acc = 0;
	long n = 0;
	while (!stop) {
		acc += 0.5;
		n++;
	}
	printf("stopped %d, sum kept %d\n", stop, acc == 0.5 * n);
	fflush(stdout);
	printf("after: %d\n", getppid() >= 0);
	return 0;
}
