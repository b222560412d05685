// fileops: exercises file-system syscalls in the current directory and
// prints deterministic results (no times, no inode numbers), so native and
// sandboxed runs in equal, empty directories print the same.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void check(const char *what, int rc) {
	printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void list(const char *dir) {
	DIR *d = opendir(dir);
	if (!d) {
		printf("opendir %s: %s\n", dir, strerror(errno));
		return;
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, "..")) // its mode depends on where the directory is
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	printf("%s:", dir);
	for (int i = 0; i < n; i++) {
		struct stat st;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		lstat(p, &st);
		printf(" %s(%o,%lld)", names[i], st.st_mode & 07777, S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
		free(names[i]);
	}
	printf("\n");
}

int main(void) {
	umask(022);
	check("mkdir d", mkdir("d", 0755));
	check("mkdir d again", mkdir("d", 0755));
	int fd = open("d/f", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check("create d/f", fd);
	check("write", (int)write(fd, "hello world\n", 12));
	check("close", close(fd));
	check("rename d/f d/g", rename("d/f", "d/g"));
	check("link d/g d/h", link("d/g", "d/h"));
	check("symlink g d/s", symlink("g", "d/s"));
	char buf[64] = {0};
	check("readlink d/s", (int)readlink("d/s", buf, sizeof buf - 1));
	printf("link target: %s\n", buf);
	check("chmod d/g 600", chmod("d/g", 0600));
	check("truncate d/h 5", truncate("d/h", 5));
	struct stat st;
	check("stat d/s", stat("d/s", &st));
	printf("size via symlink: %lld nlink %ld\n", (long long)st.st_size, (long)st.st_nlink);
	fd = open("d/g", O_RDONLY);
	memset(buf, 0, sizeof buf);
	check("read d/g", (int)read(fd, buf, sizeof buf - 1));
	printf("content: %s\n", buf);
	close(fd);
	fd = open("d/a", O_CREAT | O_EXCL | O_WRONLY, 0666);
	check("create d/a excl", fd);
	close(fd);
	check("create d/a excl again", open("d/a", O_CREAT | O_EXCL | O_WRONLY, 0666));
	fd = open("d/a", O_WRONLY | O_APPEND);
	write(fd, "one\n", 4);
	write(fd, "two\n", 4);
	close(fd);
	list("d");
	check("rmdir d (not empty)", rmdir("d"));
	check("unlink d (a directory)", unlink("d"));
	check("mkdir d/sub", mkdir("d/sub", 0700));
	check("rename d/sub d/sub/x", rename("d/sub", "d/sub/x"));
	check("chdir d", chdir("d"));
	char cwd[256];
	printf("cwd ends with /d: %s\n", getcwd(cwd, sizeof cwd) && strlen(cwd) >= 2 && !strcmp(cwd + strlen(cwd) - 2, "/d") ? "yes" : "no");
	check("chdir ..", chdir(".."));
	for (const char *p = "d/s\0d/h\0d/g\0d/a\0"; *p; p += strlen(p) + 1)
		check(p, unlink(p));
	check("rmdir d/sub", rmdir("d/sub"));
	check("rmdir d", rmdir("d"));
	list(".");
	return 0;
}
