// nsinit: a container's first process as its PID namespace's init. It
// handles SIGUSR1 (prints "usr1"), has no handler for the rest, and asks
// a child to send it SIGTERM and SIGKILL, which Linux drops for a
// namespace's init. Then it says "alive" and waits for signals for good.
// Only meant to run as PID 1: elsewhere the child sends nothing.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void onusr1(int sig) {
	(void)sig;
	const char *m = "usr1\n";
	write(1, m, strlen(m));
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onusr1;
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("pid %d\n", (int)getpid());
	pid_t c = fork();
	if (c == 0) {
		if (getppid() == 1) {
			kill(1, SIGTERM);
			kill(1, SIGKILL);
			kill(1, SIGSTOP);
		}
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("alive\n");
	for (;;)
		pause();
}
