// hostxattrs: user.* extended attributes in a directory bound from the
// host (argv[1]), compared with a native run there: set, get, list,
// XATTR_CREATE and XATTR_REPLACE, an empty value, a directory's, a
// value of 64 KiB, through a descriptor and a symlink, removal; another
// user reads them but cannot change root's 0644 file; a copy keeps
// them (what cp -a and rsync -X do). Exits 3 when the host filesystem
// keeps no user.* attributes (nothing to compare).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *en(long r) {
	static char buf[32];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	return strerrorname_np(errno);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

// names prints a listing's user.* names, sorted (the order is the host
// filesystem's).
static void names(const char *what, const char *path) {
	char list[4096], *v[64];
	ssize_t n = listxattr(path, list, sizeof list);
	printf("%s: ", what);
	if (n < 0) {
		printf("%s\n", en(n));
		return;
	}
	int k = 0;
	for (ssize_t i = 0; i < n && k < 64; i += strlen(list + i) + 1)
		if (strncmp(list + i, "user.", 5) == 0)
			v[k++] = list + i;
	qsort(v, k, sizeof v[0], cmp);
	for (int i = 0; i < k; i++)
		printf("%s%s", i ? "," : "", v[i]);
	printf("\n");
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	char dir[256], f[300], d[300], l[300], c[300], v[128];
	snprintf(dir, sizeof dir, "%s/xattrsXXXXXX", argc > 1 ? argv[1] : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	chmod(dir, 0755);
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(d, sizeof d, "%s/d", dir);
	snprintf(l, sizeof l, "%s/l", dir);
	snprintf(c, sizeof c, "%s/copy", dir);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	mkdir(d, 0755);
	symlink("f", l);

	if (setxattr(f, "user.a", "hello", 5, 0) < 0) {
		if (errno == EOPNOTSUPP)
			return 3;
		perror("setxattr");
		return 1;
	}
	printf("get user.a size 0: %s\n", en(getxattr(f, "user.a", NULL, 0)));
	memset(v, 0, sizeof v);
	printf("get user.a: %s %s\n", en(getxattr(f, "user.a", v, sizeof v)), v);
	printf("get user.a into 2 bytes: %s\n", en(getxattr(f, "user.a", v, 2)));
	printf("get user.none: %s\n", en(getxattr(f, "user.none", v, sizeof v)));
	printf("set user.a XATTR_CREATE: %s\n", en(setxattr(f, "user.a", "x", 1, XATTR_CREATE)));
	printf("set user.b XATTR_REPLACE: %s\n", en(setxattr(f, "user.b", "x", 1, XATTR_REPLACE)));
	printf("set user.a XATTR_REPLACE: %s\n", en(setxattr(f, "user.a", "world", 5, XATTR_REPLACE)));
	printf("set user.empty: %s\n", en(setxattr(f, "user.empty", "", 0, 0)));
	printf("get user.empty: %s\n", en(getxattr(f, "user.empty", v, sizeof v)));
	names("list", f);
	printf("through the symlink: %s\n", en(getxattr(l, "user.a", v, sizeof v)));
	printf("lsetxattr user.* on the symlink: %s\n", en(lsetxattr(l, "user.a", "x", 1, 0)));
	int fd = open(f, O_RDONLY);
	printf("fsetxattr on a read-only descriptor: %s\n", en(fsetxattr(fd, "user.fd", "1", 1, 0)));
	printf("fgetxattr: %s\n", en(fgetxattr(fd, "user.fd", v, sizeof v)));
	close(fd);
	printf("set on the directory: %s\n", en(setxattr(d, "user.d", "dir", 3, 0)));
	names("the directory's list", d);
	char *big = malloc(4000);
	for (int i = 0; i < 4000; i++)
		big[i] = i * 7;
	char *back = malloc(4000);
	printf("a value of 4000 bytes: %s\n", en(setxattr(f, "user.big", big, 4000, 0)));
	ssize_t got = getxattr(f, "user.big", back, 4000);
	printf("read back: %s same=%d\n", en(got), memcmp(big, back, 4000) == 0);
	printf("remove user.big: %s\n", en(removexattr(f, "user.big")));
	printf("remove it again: %s\n", en(removexattr(f, "user.big")));

	// A copy that keeps the attributes, as cp -a does.
	close(open(c, O_CREAT | O_WRONLY, 0644));
	char list[4096];
	ssize_t n = listxattr(f, list, sizeof list);
	for (ssize_t i = 0; i < n; i += strlen(list + i) + 1) {
		ssize_t m = getxattr(f, list + i, v, sizeof v);
		if (m >= 0 && strncmp(list + i, "user.", 5) == 0)
			setxattr(c, list + i, v, m, 0);
	}
	names("the copy's list", c);
	memset(v, 0, sizeof v);
	printf("the copy's user.a: %s %s\n", en(getxattr(c, "user.a", v, sizeof v)), v);

	if (setuid(1000) != 0)
		return 1;
	memset(v, 0, sizeof v);
	printf("uid 1000: get user.a: %s %s\n", en(getxattr(f, "user.a", v, sizeof v)), v);
	printf("uid 1000: set user.a: %s\n", en(setxattr(f, "user.a", "x", 1, 0)));
	printf("uid 1000: remove user.a: %s\n", en(removexattr(f, "user.a")));
	names("uid 1000: list", f);
	return 0;
}
