// pipepong: N round trips of one byte between two processes over two pipes:
// the parent writes a byte into one, the child reads it and writes it back
// into the other, the parent reads it; ns per round trip. The child is
// forked, and reaped after the loop, with 0 operations too, so that the
// bench's 0-operation run has the same set-up and its VM exits cancel out.
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = ops_arg(argc, argv);
	int ping[2], pong[2];
	if (pipe(ping) != 0 || pipe(pong) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ping[1]);
		close(pong[0]);
		char c;
		ssize_t r;
		while ((r = read(ping[0], &c, 1)) == 1) {
			c++;
			if (write(pong[1], &c, 1) != 1)
				die("child write");
		}
		if (r < 0)
			die("child read");
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		char c = (char)i, back;
		if (write(ping[1], &c, 1) != 1)
			die("write");
		if (read(pong[0], &back, 1) != 1)
			die("read");
		if (back != (char)(c + 1)) {
			fprintf(stderr, "pipepong: sent %d, got back %d\n", c, back);
			return 1;
		}
	}
	long long t = now_ns() - t0;
	close(ping[1]);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pipepong: child ended with status %#x\n", st);
		return 1;
	}
	report(t, n);
	return 0;
}
