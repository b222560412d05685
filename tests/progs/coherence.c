/* Cache coherence of a read-write bind mount, run in a directory of it:
 * a write through one descriptor is seen through another and by a child
 * process, the child's write by the parent; then, after "ready", the test
 * changes the file on the host and sends a line: the change is seen (the
 * stated policy: read-write mounts cache nothing), as are a file the host
 * created and one it removed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, int fd) {
	char buf[64] = {0};
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	printf("%s: %zd \"%s\"\n", what, n, n > 0 ? buf : "");
}

int main(void) {
	int w = open("shared.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	int r = open("shared.txt", O_RDONLY);
	write(w, "one", 3);
	show("second descriptor", r);
	pid_t pid = fork();
	if (pid == 0) {
		int c = open("shared.txt", O_RDWR);
		show("child", c);
		pwrite(c, "two", 3, 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	show("after the child wrote", r);
	struct stat st;
	printf("size %lld\n", stat("shared.txt", &st) == 0 ? (long long)st.st_size : -1LL);
	printf("ready\n");
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	show("after the host wrote, same descriptor", r);
	int again = open("shared.txt", O_RDONLY);
	show("after the host wrote, new descriptor", again);
	printf("size %lld\n", stat("shared.txt", &st) == 0 ? (long long)st.st_size : -1LL);
	printf("host-made file: %s\n", access("from-host.txt", F_OK) == 0 ? "seen" : "missing");
	printf("host-removed file: %s\n", access("removed.txt", F_OK) == 0 ? "still there" : "gone");
	return 0;
}
