// xattrs: extended attributes on the sandbox's own files (its /tmp, the
// root's writable layer), with Linux's checks: sizes (ERANGE, E2BIG),
// XATTR_CREATE/REPLACE, the namespaces' rules for root and for another
// user, and none on files the sandbox does not keep (the host's files
// under the root, /proc, a pipe). Its expected output is the sandbox's
// (e2e golden): Linux's tmpfs keeps user.* attributes only since 6.6.
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

// names prints a listing's names, comma-separated.
static void names(const char *what, const char *path) {
	char list[1024];
	ssize_t n = listxattr(path, list, sizeof list);
	printf("%s: ", what);
	if (n < 0) {
		printf("%s\n", en(n));
		return;
	}
	for (ssize_t i = 0; i < n; i += strlen(list + i) + 1)
		printf("%s%s", i ? "," : "", list + i);
	printf(" (%zd bytes)\n", n);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	char dir[] = "/tmp/xattrsXXXXXX", f[64], l[64], sticky[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(l, sizeof l, "%s/l", dir);
	snprintf(sticky, sizeof sticky, "%s/sticky", dir);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	symlink("f", l);
	chmod(dir, 0755);

	char v[64];
	printf("set user.a: %s\n", en(setxattr(f, "user.a", "hello", 5, 0)));
	printf("get user.a size 0: %s\n", en(getxattr(f, "user.a", NULL, 0)));
	memset(v, 0, sizeof v);
	printf("get user.a: %s %s\n", en(getxattr(f, "user.a", v, sizeof v)), v);
	printf("get user.a into 2 bytes: %s\n", en(getxattr(f, "user.a", v, 2)));
	printf("get user.none: %s\n", en(getxattr(f, "user.none", v, sizeof v)));
	printf("set user.a XATTR_CREATE: %s\n", en(setxattr(f, "user.a", "x", 1, XATTR_CREATE)));
	printf("set user.b XATTR_REPLACE: %s\n", en(setxattr(f, "user.b", "x", 1, XATTR_REPLACE)));
	printf("set user.empty (no value): %s\n", en(setxattr(f, "user.empty", "", 0, 0)));
	printf("set trusted.t: %s\n", en(setxattr(f, "trusted.t", "t", 1, 0)));
	printf("set security.s: %s\n", en(setxattr(f, "security.s", "s", 1, 0)));
	printf("list size 0: %s\n", en(listxattr(f, NULL, 0)));
	printf("list into 4 bytes: %s\n", en(listxattr(f, v, 4)));
	names("list", f);
	printf("through the symlink: %s\n", en(getxattr(l, "user.a", v, sizeof v)));
	printf("lsetxattr user.* on the symlink: %s\n", en(lsetxattr(l, "user.a", "x", 1, 0)));
	printf("lgetxattr user.* of the symlink: %s\n", en(lgetxattr(l, "user.a", v, sizeof v)));
	printf("lsetxattr trusted.* on the symlink: %s\n", en(lsetxattr(l, "trusted.t", "x", 1, 0)));
	int fd = open(f, O_RDONLY);
	printf("fgetxattr: %s\n", en(fgetxattr(fd, "user.a", v, sizeof v)));
	printf("fsetxattr on a read-only descriptor: %s\n", en(fsetxattr(fd, "user.fd", "1", 1, 0)));
	close(fd);
	printf("remove user.empty: %s\n", en(removexattr(f, "user.empty")));
	printf("remove it again: %s\n", en(removexattr(f, "user.empty")));
	printf("bad flags: %s\n", en(setxattr(f, "user.a", "x", 1, 4)));
	printf("unknown namespace: %s\n", en(setxattr(f, "foo.bar", "x", 1, 0)));
	printf("empty name: %s\n", en(getxattr(f, "", v, sizeof v)));
	printf("system.posix_acl_access: %s\n", en(getxattr(f, "system.posix_acl_access", v, sizeof v)));
	char *big = calloc(1, 65537);
	printf("a value of 64 KiB + 1: %s\n", en(setxattr(f, "user.big", big, 65537, 0)));
	printf("a value of 64 KiB: %s\n", en(setxattr(f, "user.big", big, 65536, 0)));
	printf("then another: %s\n", en(setxattr(f, "user.more", "x", 1, 0)));
	removexattr(f, "user.big");
	mkdir(sticky, 01777);
	printf("set user.* on a directory: %s\n", en(setxattr(dir, "user.d", "1", 1, 0)));

	// Files the sandbox does not keep attributes for.
	printf("a host file under the root: %s\n", en(getxattr("/bin/sh", "user.a", v, sizeof v)));
	names("its listing", "/bin/sh");
	printf("/proc/self/status: %s\n", en(getxattr("/proc/self/status", "user.a", v, sizeof v)));
	names("its listing", "/proc/self/status");
	int p[2];
	pipe(p);
	printf("a pipe: %s\n", en(fsetxattr(p[0], "user.a", "1", 1, 0)));

	// Another user.
	if (setuid(1000) != 0)
		return 1;
	printf("uid 1000: get user.a: %s\n", en(getxattr(f, "user.a", v, sizeof v)));
	printf("uid 1000: set user.a on root's 0644 file: %s\n", en(setxattr(f, "user.a", "x", 1, 0)));
	printf("uid 1000: get trusted.t: %s\n", en(getxattr(f, "trusted.t", v, sizeof v)));
	printf("uid 1000: set trusted.t: %s\n", en(setxattr(f, "trusted.t", "x", 1, 0)));
	printf("uid 1000: set security.s: %s\n", en(setxattr(f, "security.s", "x", 1, 0)));
	names("uid 1000: list", f);
	printf("uid 1000: set user.* on a sticky directory of root's: %s\n", en(setxattr(sticky, "user.a", "1", 1, 0)));
	return 0;
}
