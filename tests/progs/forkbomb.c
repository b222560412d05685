// forkbomb: forks children that wait until fork fails, then reports the
// errno and kills them all. Run under ringbox --pids N: fork must fail with
// EAGAIN, and neither ringbox nor the host must suffer.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int n = 0;
	for (;;) {
		pid_t p = fork();
		if (p < 0) {
			printf("fork failed: %s\n", errno == EAGAIN ? "EAGAIN" : strerror(errno));
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (++n > 100000)
			break;
	}
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	int st, reaped = 0;
	while (wait(&st) > 0)
		reaped++;
	printf("reaped all children: %s\n", reaped == n ? "yes" : "no");
	return 0;
}
