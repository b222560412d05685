// ttyinfo: what a process sees of its terminal (for exec -t): whether
// stdin is one and its name, whether the process leads its session and
// its group is in the foreground; then it reads a line and echoes it.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
	char *name = ttyname(0);
	printf("tty %d %s\n", isatty(0), name && strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : "none");
	printf("session leader %d, foreground %d\n", getsid(0) == getpid(), tcgetpgrp(0) == getpgrp());
	printf("ready\n");
	fflush(stdout);
	char line[128];
	if (fgets(line, sizeof line, stdin))
		printf("got: %s", line);
	return 3;
}
