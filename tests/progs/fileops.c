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
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

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

// oldGetdents lists dir with the old getdents(2) (struct linux_dirent:
// the type in the record's last byte), sorted, without "..".
static void oldGetdents(const char *dir) {
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	char buf[1024] __attribute__((aligned(8)));
	char *names[64];
	int n = 0;
	long got;
	while ((got = syscall(SYS_getdents, fd, buf, sizeof buf)) > 0)
		for (long off = 0; off < got && n < 64;) {
			unsigned short reclen = *(unsigned short *)(buf + off + 16);
			char *name = buf + off + 18;
			char type = buf[off + reclen - 1];
			if (strcmp(name, "..")) {
				names[n] = malloc(strlen(name) + 4);
				sprintf(names[n++], "%s/%d", name, type);
			}
			off += reclen;
		}
	if (got < 0)
		printf("getdents: %s\n", strerror(errno));
	close(fd);
	qsort(names, n, sizeof *names, cmp);
	printf("getdents %s:", dir);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static int rename2(const char *from, const char *to, unsigned flags) {
	return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

static void put(const char *p, const char *s) {
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		printf("put %s: %s\n", p, strerror(errno));
	close(fd);
}

// show prints what p is: a file and its contents, a directory, nothing.
static void show(const char *p) {
	struct stat st;
	if (lstat(p, &st) < 0) {
		printf("  %s: %s\n", p, strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		printf("  %s: directory\n", p);
		return;
	}
	char buf[64] = {0};
	int fd = open(p, O_RDONLY);
	int k = fd < 0 ? -1 : (int)read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("  %s: file of %lld bytes, nlink %ld: \"%s\"\n", p, (long long)st.st_size, (long)st.st_nlink,
	       k < 0 ? strerror(errno) : buf);
}

static int sameFile(const char *a, const char *b) {
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// renames runs renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE cases in
// the new, empty directory dir (named in the output as what), and removes
// it.
static void renames(const char *dir, const char *what) {
	printf("renameat2 in %s\n", what);
	int back = open(".", O_RDONLY | O_DIRECTORY);
	if (chdir(dir) < 0) {
		printf("chdir: %s\n", strerror(errno));
		return;
	}
	put("a", "A");
	put("b", "BBB");
	check("symlink nowhere dangling", symlink("nowhere", "dangling"));
	// RENAME_NOREPLACE: any existing name is EEXIST, nothing moves.
	check("noreplace a b", rename2("a", "b", RENAME_NOREPLACE));
	check("noreplace a a", rename2("a", "a", RENAME_NOREPLACE));
	check("noreplace a dangling", rename2("a", "dangling", RENAME_NOREPLACE));
	check("noreplace missing c", rename2("missing", "c", RENAME_NOREPLACE));
	show("a");
	show("b");
	check("noreplace a c", rename2("a", "c", RENAME_NOREPLACE));
	show("a");
	show("c");
	check("noreplace c b2", rename2("c", "b2", RENAME_NOREPLACE));
	check("noreplace b2 c (a name just freed)", rename2("b2", "c", RENAME_NOREPLACE));
	// RENAME_EXCHANGE: both must exist; the files swap names.
	check("noreplace|exchange c b", rename2("c", "b", RENAME_NOREPLACE | RENAME_EXCHANGE));
	check("exchange c missing", rename2("c", "missing", RENAME_EXCHANGE));
	check("exchange missing c", rename2("missing", "c", RENAME_EXCHANGE));
	int fd = open("c", O_RDONLY);
	check("exchange c b", rename2("c", "b", RENAME_EXCHANGE));
	show("b");
	show("c");
	char buf[16] = {0};
	check("read the fd opened as c before", fd < 0 ? -1 : (int)read(fd, buf, sizeof buf - 1));
	printf("  it reads \"%s\"\n", buf);
	close(fd);
	check("exchange c c", rename2("c", "c", RENAME_EXCHANGE));
	check("link c hard", link("c", "hard"));
	check("exchange c hard (one file)", rename2("c", "hard", RENAME_EXCHANGE));
	show("c");
	check("unlink hard", unlink("hard"));
	check("exchange dangling c", rename2("dangling", "c", RENAME_EXCHANGE));
	memset(buf, 0, sizeof buf);
	check("readlink c", (int)readlink("c", buf, sizeof buf - 1));
	printf("  c -> %s\n", buf);
	show("dangling");
	// A directory and a file.
	check("mkdir sub", mkdir("sub", 0755));
	put("sub/inner", "in");
	check("exchange sub b", rename2("sub", "b", RENAME_EXCHANGE));
	show("sub");
	show("b");
	show("b/inner");
	check("exchange b b/inner (into itself)", rename2("b", "b/inner", RENAME_EXCHANGE));
	check("exchange b/inner b (onto its parent)", rename2("b/inner", "b", RENAME_EXCHANGE));
	check("noreplace sub b", rename2("sub", "b", RENAME_NOREPLACE));
	// Across directories: the directory's parent link goes with it.
	check("mkdir p1", mkdir("p1", 0755));
	check("mkdir p2", mkdir("p2", 0755));
	check("mkdir p1/x", mkdir("p1/x", 0755));
	put("p2/y", "Y");
	struct stat p1, p2, p1after, p2after;
	stat("p1", &p1);
	stat("p2", &p2);
	check("exchange p1/x p2/y", rename2("p1/x", "p2/y", RENAME_EXCHANGE));
	show("p1/x");
	show("p2/y");
	stat("p1", &p1after);
	stat("p2", &p2after);
	// Filesystems that do not count subdirectories (btrfs) say 1 always.
	int follow = p1.st_nlink == 1 ? p1after.st_nlink == 1 && p2after.st_nlink == 1
	                              : p1after.st_nlink == p1.st_nlink - 1 && p2after.st_nlink == p2.st_nlink + 1;
	printf("  parent link counts follow: %s\n", follow ? "yes" : "no");
	printf("  p2/y/.. is p2: %s\n", sameFile("p2/y/..", "p2") ? "yes" : "no");
	list(".");
	for (const char *p = "c\0dangling\0sub\0b/inner\0p1/x\0\0"; *p; p += strlen(p) + 1)
		check(p, unlink(p));
	for (const char *p = "b\0p2/y\0p1\0p2\0\0"; *p; p += strlen(p) + 1)
		check(p, rmdir(p));
	list(".");
	if (fchdir(back) < 0)
		printf("fchdir: %s\n", strerror(errno));
	close(back);
	check("rmdir the directory", rmdir(dir));
}

// xattr_errors checks what extended-attribute calls refuse before any
// filesystem's support matters (that differs: the sandbox's store none).
static void xattr_errors(void) {
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	memcpy(longname, "user.", 5);
	longname[sizeof longname - 1] = 0;
	check("getxattr missing file", (int)getxattr("nothere", "user.a", NULL, 0));
	check("lgetxattr missing file", (int)lgetxattr("nothere", "user.a", NULL, 0));
	check("fgetxattr bad fd", (int)fgetxattr(999, "user.a", NULL, 0));
	check("listxattr missing file", (int)listxattr("nothere", NULL, 0));
	check("setxattr empty name", setxattr("xf", "", "v", 1, 0));
	check("setxattr long name", setxattr("xf", longname, "v", 1, 0));
	check("setxattr bad flags", setxattr("xf", "user.a", "v", 1, 4));
	static char big[(1 << 16) + 1];
	check("setxattr too big", setxattr("xf", "user.a", big, sizeof big, 0));
	check("setxattr unknown namespace", setxattr("xf", "foo.a", "v", 1, 0));
	check("getxattr unknown namespace", (int)getxattr("xf", "foo.a", NULL, 0));
	check("removexattr missing file", removexattr("nothere", "user.a"));
	check("fremovexattr bad fd", fremovexattr(999, "user.a"));
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
	check("mkdir d/sub", mkdir("d/sub", 0700));
	oldGetdents("d");
	check("rmdir d/sub", rmdir("d/sub"));
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
	char tmp[] = "/tmp/fileops-XXXXXX";
	if (mkdtemp(tmp))
		renames(tmp, "/tmp");
	else
		printf("mkdtemp: %s\n", strerror(errno));
	check("mkdir r", mkdir("r", 0755));
	renames("r", "the current directory");
	close(open("xf", O_CREAT | O_WRONLY, 0644));
	xattr_errors();
	check("unlink xf", unlink("xf"));
	list(".");
	return 0;
}
