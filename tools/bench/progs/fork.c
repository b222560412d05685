// fork: N iterations of fork, _exit(0) in the child and waitpid in the
// parent, ns per iteration.
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		int st;
		if (waitpid(pid, &st, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "fork: child ended with status %#x\n", st);
			return 1;
		}
	}
	report(now_ns() - t0, n);
	return 0;
}
