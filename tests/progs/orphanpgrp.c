// orphanpgrp: a process group with a stopped member that becomes
// orphaned gets SIGHUP then SIGCONT (POSIX; Linux's kill_orphaned_pgrp).
// main is a subreaper, so the orphan comes back to it natively and in the
// sandbox alike. P starts a session; C, its child, makes its own group in
// that session and stops; when P exits, C's group has no parent in
// another group of the session: orphaned, with a stopped member.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int out;

static void on_signal(int sig) {
	const char *m = sig == SIGHUP ? "C: SIGHUP\n" : "C: SIGCONT\n";
	write(out, m, strlen(m));
}

int main(void) {
	int fds[2];
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 || pipe(fds) != 0) {
		perror("setup");
		return 1;
	}
	out = fds[1];
	pid_t p = fork();
	if (p == 0) {
		close(fds[0]);
		setsid();
		pid_t c = fork();
		if (c == 0) {
			struct sigaction sa = {.sa_handler = on_signal};
			sigaction(SIGHUP, &sa, NULL);
			sigaction(SIGCONT, &sa, NULL);
			setpgid(0, 0);
			raise(SIGSTOP);
			// Continued by the orphaning: say so and leave.
			write(out, "C: running again\n", 17);
			_exit(0);
		}
		int st;
		if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st)) {
			write(out, "P: no stop\n", 11);
			_exit(1);
		}
		write(out, "P: C stopped, exiting\n", 22);
		_exit(0);
	}
	close(fds[1]);
	char buf[256];
	ssize_t n;
	// Everything C and P write, until both have closed the pipe.
	while ((n = read(fds[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, n, stdout);
	int st, reaped = 0;
	pid_t w;
	while ((w = wait(&st)) > 0) {
		reaped++;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			printf("a child ended with status %#x\n", st);
	}
	printf("reaped %d\n", reaped);
	return 0;
}
