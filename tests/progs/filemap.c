/* Private and shared mappings of a read-only host file (the page cache of
 * the sandbox's root): contents match read(), a write copies the page
 * (the file, other mappings and a forked child's view are unchanged),
 * MADV_DONTNEED brings the file's page back, a read-only shared mapping
 * cannot be made writable, and a page past the end of the file is SIGBUS. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s (%s)\n", what, strerror(errno));
		exit(1);
	}
}

static sigjmp_buf jb;
static void onbus(int sig) { siglongjmp(jb, sig); }

int main(int argc, char **argv) {
	const char *path = argc > 1 ? argv[1] : "/bin/ls";
	int fd = open(path, O_RDONLY);
	check(fd >= 0, "open");
	struct stat st;
	check(fstat(fd, &st) == 0, "fstat");
	size_t size = st.st_size;
	char *want = malloc(size);
	check(pread(fd, want, size, 0) == (ssize_t)size, "pread");

	char *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check(a != MAP_FAILED, "mmap private");
	char *b = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	check(b != MAP_FAILED, "mmap private 2");
	close(fd);
	printf("private mappings match read(): %s\n", memcmp(a, want, size) == 0 && memcmp(b, want, size) == 0 ? "yes" : "no");

	size_t mid = (size / 2) & ~4095UL;
	a[mid] ^= 0x5a;
	a[0] ^= 0x5a;
	printf("a write changes only that mapping: %s\n", a[mid] != want[mid] && b[mid] == want[mid] && a[0] != want[0] ? "yes" : "no");
	fd = open(path, O_RDONLY);
	char c;
	check(pread(fd, &c, 1, mid) == 1, "pread after write");
	printf("the file is unchanged: %s\n", c == want[mid] ? "yes" : "no");

	pid_t pid = fork();
	check(pid >= 0, "fork");
	if (pid == 0) {
		a[mid + 1] ^= 0x33;
		b = b; /* read-only: the child only reads it */
		_exit(a[mid] != want[mid] && b[mid] == want[mid] ? 0 : 1);
	}
	int ws;
	check(waitpid(pid, &ws, 0) == pid, "waitpid");
	printf("child saw the parent's copy and wrote its own: %s; parent unchanged: %s\n",
	       WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? "yes" : "no", a[mid + 1] == want[mid + 1] ? "yes" : "no");

	check(madvise(a + mid, 4096, MADV_DONTNEED) == 0, "madvise");
	printf("MADV_DONTNEED brings the file's page back: %s\n", a[mid] == want[mid] ? "yes" : "no");

	char *s = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	check(s != MAP_FAILED, "mmap shared");
	printf("shared read-only mapping matches: %s\n", memcmp(s, want, size) == 0 ? "yes" : "no");
	int r = mprotect(s, 4096, PROT_READ | PROT_WRITE);
	printf("mprotect(PROT_WRITE) of a shared mapping of an O_RDONLY file: %s\n", r == 0 ? "allowed" : strerror(errno));

	/* Two pages past the end of the file: the first touch is SIGBUS. */
	size_t pages = (size + 4095) / 4096;
	char *p = mmap(NULL, (pages + 2) * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	check(p != MAP_FAILED, "mmap past the end");
	printf("the last page's tail is zero: %s\n", size % 4096 == 0 || p[size] == 0 ? "yes" : "no");
	signal(SIGBUS, onbus);
	int sig = sigsetjmp(jb, 1);
	if (sig == 0) {
		volatile char x = p[pages * 4096];
		(void)x;
		printf("past the end: no signal\n");
	} else {
		printf("past the end: %s\n", sig == SIGBUS ? "SIGBUS" : "another signal");
	}
	return 0;
}
