// sharedmap: MAP_SHARED file mappings share the file's pages: writes
// through a mapping are seen by read() and by other mappings at once, and
// the reverse; a private mapping is a copy; past the end is SIGBUS.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check(const char *what, int ok) { printf("%s: %s\n", what, ok ? "ok" : "FAIL"); }

static void run(const char *name, int fd) {
	printf("== %s\n", name);
	check("ftruncate 8192", ftruncate(fd, 8192) == 0);
	char *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check("mmap shared x2 + private", a != MAP_FAILED && b != MAP_FAILED && p != MAP_FAILED);
	strcpy(a + 4096, "through the mapping");
	check("other shared mapping sees the write", strcmp(b + 4096, "through the mapping") == 0);
	char buf[64] = {0};
	pread(fd, buf, 19, 4096);
	check("read() sees the write", strcmp(buf, "through the mapping") == 0);
	pwrite(fd, "by write", 8, 100);
	check("mapping sees write()", memcmp(a + 100, "by write", 8) == 0);
	strcpy(p, "private");
	pread(fd, buf, 7, 0);
	check("a private write stays private", memcmp(buf, "private", 7) != 0);
	check("msync", msync(a, 8192, MS_SYNC) == 0);
	munmap(a, 8192);
	munmap(b, 8192);
	munmap(p, 8192);
	char *c = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
	check("offset mapping sees the data", c != MAP_FAILED && strcmp(c, "through the mapping") == 0);
	munmap(c, 4096);
}

int main(void) {
	int m = memfd_create("shared", 0);
	run("memfd", m);
	close(m);
	char path[] = "/tmp/sharedmapXXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		printf("mkstemp: %s\n", strerror(errno));
		return 1;
	}
	unlink(path);
	run("tmp file", fd);
	return 0;
}
