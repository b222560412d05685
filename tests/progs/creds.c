// creds: the set*id family and supplementary groups, in children (run as
// root natively and in the sandbox, or as the same unprivileged user).
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *res(int r) { return r == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno); }

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	uid_t r, e, s;
	int root = geteuid() == 0;
	printf("running as root: %s\n", root ? "yes" : "no");
	printf("setresuid(-1, euid, -1): %s\n", res(setresuid(-1, geteuid(), -1)));
	getresuid(&r, &e, &s);
	printf("getresuid consistent: %s\n", r == getuid() && e == geteuid() ? "yes" : "no");
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		if (root) {
			gid_t g[2] = {1234, 5678};
			const char *sg = res(setgroups(2, g));
			printf("setgroups: %s, getgroups: %d\n", sg, getgroups(0, NULL));
			printf("setresgid(1234, 1234, 1234): %s\n", res(setresgid(1234, 1234, 1234)));
			printf("setreuid(1234, 1234): %s\n", res(setreuid(1234, 1234)));
			getresuid(&r, &e, &s);
			printf("uids now %u %u %u\n", r, e, s);
		}
		printf("setuid(0) as a user: %s\n", root ? res(setuid(0)) : res(setuid(0)));
		printf("setresuid to a foreign id: %s\n", res(setresuid(-1, 4321, -1)));
		printf("setgroups as a user: %s\n", res(setgroups(0, NULL)));
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	printf("child status %d\n", WEXITSTATUS(st));
	return 0;
}
