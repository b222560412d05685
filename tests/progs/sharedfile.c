// sharedfile: MAP_SHARED mappings of a file in the working directory (a
// read-write bind mount in the sandbox), as SQLite's WAL index and LMDB
// use them: writes through the mapping are seen by read and pread through
// other descriptors and by another process's mapping, writes through
// descriptors are seen by the mapping, msync puts the data in the file
// (the test reads it from the host at "ready"), a page past the end is
// SIGBUS, and what a process leaves in a mapping when it exits reaches the
// file (the test checks the file after the run).
#define _GNU_SOURCE
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

#define PG 4096

static void die(const char *what) {
	perror(what);
	exit(1);
}

static sigjmp_buf jb;
static void onbus(int sig) { siglongjmp(jb, sig); }

// touch reads *p and reports the signal it raised, or "ok".
static const char *touch(volatile char *p) {
	struct sigaction sa = {.sa_handler = onbus};
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	int sig = sigsetjmp(jb, 1);
	if (sig == 0) {
		(void)*p;
		return "ok";
	}
	return sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
}

static char at(int fd, off_t off) {
	char c = 0;
	if (pread(fd, &c, 1, off) != 1)
		return '?';
	return c;
}

int main(void) {
	// A file of three pages and 100 bytes.
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	char buf[3 * PG + 100];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = 'a' + i % 26;
	if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
		die("write");
	char *m = mmap(NULL, 5 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	printf("mapping matches the file: %s\n", memcmp(m, buf, sizeof buf) == 0 ? "yes" : "no");
	printf("past the end in the last page: %s, zero: %s\n", touch(m + 3 * PG + 200), m[3 * PG + 200] == 0 ? "yes" : "no");
	printf("a page past the end: %s\n", touch(m + 4 * PG));

	// The mapping writes; other descriptors read.
	m[10] = 'X';
	m[2 * PG + 4000] = 'Y';
	int fd2 = open("f", O_RDONLY);
	if (fd2 < 0)
		die("open 2");
	printf("pread sees the mapping's writes: %c %c\n", at(fd2, 10), at(fd2, 2 * PG + 4000));
	char rb[16];
	lseek(fd2, 2 * PG + 3998, SEEK_SET);
	ssize_t n = read(fd2, rb, 4);
	printf("read sees them: %zd %.4s\n", n, rb);

	// A descriptor writes; the mapping reads.
	if (pwrite(fd, "hello", 5, PG + 7) != 5)
		die("pwrite");
	printf("the mapping sees pwrite: %.5s\n", m + PG + 7);
	int fda = open("f", O_WRONLY | O_APPEND);
	if (fda < 0)
		die("open append");
	if (write(fda, "TAIL", 4) != 4)
		die("append");
	printf("the mapping sees an append: %.4s\n", m + 3 * PG + 100);
	lseek(fd, 20, SEEK_SET);
	if (write(fd, "wr", 2) != 2)
		die("write at 20");
	printf("the mapping sees write: %.2s\n", m + 20);

	// Another process: a mapping inherited by fork, and one of its own.
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		m[30] = 'C';
		int cfd = open("f", O_RDWR);
		char *cm = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, PG);
		if (cm == MAP_FAILED)
			_exit(2);
		cm[1] = 'D';
		printf("child sees the parent's writes: %c %.5s\n", m[10], cm + 7);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child: %d; the parent sees its writes: %c %c\n", WEXITSTATUS(st), m[30], m[PG + 1]);

	// msync: the host sees the file as the sandbox does.
	if (msync(m, 4 * PG, MS_SYNC) != 0)
		die("msync");
	printf("ready\n");
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		die("stdin");
	printf("host: %s", line);

	// Grown by ftruncate, the mapping reaches the new page; shrunk, the
	// file ends where it says.
	if (ftruncate(fd, 5 * PG) != 0)
		die("ftruncate");
	m[4 * PG + 1] = 'G';
	printf("grown: %s, pread: %c\n", touch(m + 4 * PG + 1), at(fd2, 4 * PG + 1));
	struct stat sb;
	fstat(fd, &sb);
	printf("size %lld\n", (long long)sb.st_size);

	// What the mapping holds at exit reaches the file: no msync, no
	// munmap, no close.
	memcpy(m + 100, "left at exit", 12);
	return 0;
}
