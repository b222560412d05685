// spawn: N iterations of posix_spawn of PROGRAM (with no arguments and an
// empty environment) and waitpid, ns per iteration. The program must exit
// with status 0.
#include "bench.h"
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_args(argc, argv, 1, "PROGRAM");
	char *prog = argv[2];
	char *args[] = {prog, NULL};
	char *env[] = {NULL};
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid;
		int err = posix_spawn(&pid, prog, NULL, NULL, args, env);
		if (err != 0) {
			errno = err;
			die_at("posix_spawn", prog);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "spawn: %s ended with status %#x\n", prog, st);
			return 1;
		}
	}
	report(now_ns() - t0, n);
	return 0;
}
