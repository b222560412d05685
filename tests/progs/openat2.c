// openat2: open_how's checks (size, unknown flags and resolve bits, mode
// without O_CREAT, O_PATH's companions, RESOLVE_CACHED) and the resolve
// flags: BENEATH and IN_ROOT against "..", absolute paths and symlinks,
// NO_SYMLINKS, NO_MAGICLINKS on /proc's magic links, NO_XDEV across the
// /proc mount. It works in a new directory under /tmp and prints only
// results, never paths or numbers that differ between runs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define R_NO_XDEV 0x01
#define R_NO_MAGICLINKS 0x02
#define R_NO_SYMLINKS 0x04
#define R_BENEATH 0x08
#define R_IN_ROOT 0x10
#define R_CACHED 0x20

struct how {
	uint64_t flags, mode, resolve;
	uint64_t extra[2]; // a newer libc's larger struct
};

static const char *en(int e) {
	switch (e) {
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case EXDEV: return "EXDEV";
	case ELOOP: return "ELOOP";
	case ENOENT: return "ENOENT";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

// try opens path at dirfd and prints the result: for a file, its first
// line (the files here name themselves).
static void try(const char *what, int dirfd, const char *path, uint64_t flags, uint64_t mode,
		uint64_t resolve, size_t size) {
	struct how h = {flags, mode, resolve, {0, 0}};
	long fd = syscall(SYS_openat2, dirfd, path, &h, size);
	if (fd < 0) {
		printf("%-28s %s\n", what, en(errno));
		return;
	}
	char buf[64] = "";
	if (!(flags & O_PATH)) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		char *nl = strchr(buf, '\n');
		if (nl)
			*nl = 0;
	}
	struct stat st;
	fstat(fd, &st);
	printf("%-28s ok %s%s\n", what, S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink" : "file ",
	       S_ISREG(st.st_mode) ? buf : "");
	close(fd);
}

static void put(const char *path, const char *text) {
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

int main(void) {
	char dir[] = "/tmp/openat2-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}
	// dir/top is the scope: top/a/f, top/g, links in and out of it, and
	// a file "outside" next to it with the same name as one in /.
	mkdir("top", 0755);
	mkdir("top/a", 0755);
	put("top/a/f", "top/a/f\n");
	put("top/g", "top/g\n");
	put("outside", "outside\n");
	symlink("../g", "top/a/up");         // stays inside
	symlink("../../outside", "top/a/out"); // leaves the scope
	symlink("/g", "top/abs");             // absolute
	symlink("a", "top/la");               // a symlink to a directory
	int top = open("top", O_RDONLY | O_DIRECTORY);
	int root = open("/", O_RDONLY | O_DIRECTORY);
	int proc = open("/proc", O_RDONLY | O_DIRECTORY);
	const size_t sz = 24;

	puts("== open_how");
	try("plain", top, "g", O_RDONLY, 0, 0, sz);
	try("size 16", top, "g", O_RDONLY, 0, 0, 16);
	try("size 40 zeros", top, "g", O_RDONLY, 0, 0, 40);
	try("size 5000", top, "g", O_RDONLY, 0, 0, 5000);
	{
		struct how h = {O_RDONLY, 0, 0, {1, 0}};
		long fd = syscall(SYS_openat2, top, "g", &h, sizeof h);
		printf("%-28s %s\n", "size 40 nonzero tail", fd < 0 ? en(errno) : "ok");
		if (fd >= 0)
			close(fd);
		fd = syscall(SYS_openat2, top, "g", (void *)8, sz);
		printf("%-28s %s\n", "bad pointer", fd < 0 ? en(errno) : "ok");
	}
	try("unknown flag", top, "g", O_RDONLY | (1ull << 40), 0, 0, sz);
	try("unknown resolve", top, "g", O_RDONLY, 0, 0x40, sz);
	try("beneath|in_root", top, "g", O_RDONLY, 0, R_BENEATH | R_IN_ROOT, sz);
	try("mode without O_CREAT", top, "g", O_RDONLY, 0644, 0, sz);
	try("O_CREAT bad mode", top, "new0", O_CREAT | O_WRONLY, 010644, 0, sz);
	try("O_PATH|O_RDWR", top, "g", O_PATH | O_RDWR, 0, 0, sz);
	try("O_PATH|O_NOFOLLOW", top, "abs", O_PATH | O_NOFOLLOW, 0, 0, sz);
	try("cached", top, "g", O_RDONLY, 0, R_CACHED, sz);
	try("cached O_CREAT", top, "new1", O_CREAT | O_WRONLY, 0644, R_CACHED, sz);
	try("cached O_TRUNC", top, "g", O_WRONLY | O_TRUNC, 0, R_CACHED, sz);

	puts("== RESOLVE_BENEATH");
	try("a/f", top, "a/f", O_RDONLY, 0, R_BENEATH, sz);
	try("a/../g", top, "a/../g", O_RDONLY, 0, R_BENEATH, sz);
	try("..", top, "..", O_RDONLY, 0, R_BENEATH, sz);
	try("../outside", top, "../outside", O_RDONLY, 0, R_BENEATH, sz);
	try("/etc/hostname", top, "/etc/hostname", O_RDONLY, 0, R_BENEATH, sz);
	try("a/up (inside)", top, "a/up", O_RDONLY, 0, R_BENEATH, sz);
	try("a/out (escapes)", top, "a/out", O_RDONLY, 0, R_BENEATH, sz);
	try("abs (absolute link)", top, "abs", O_RDONLY, 0, R_BENEATH, sz);
	try("la/f", top, "la/f", O_RDONLY, 0, R_BENEATH, sz);
	try("create a/new", top, "a/new", O_CREAT | O_WRONLY, 0644, R_BENEATH, sz);
	try("create ../new", top, "../new", O_CREAT | O_WRONLY, 0644, R_BENEATH, sz);
	try("AT_FDCWD top/g", AT_FDCWD, "top/g", O_RDONLY, 0, R_BENEATH, sz);
	try("AT_FDCWD ../x", AT_FDCWD, "../x", O_RDONLY, 0, R_BENEATH, sz);
	try("proc self/exe", proc, "self/exe", O_RDONLY, 0, R_BENEATH, sz);

	puts("== RESOLVE_IN_ROOT");
	try("/g", top, "/g", O_RDONLY, 0, R_IN_ROOT, sz);
	try("../../g", top, "../../g", O_RDONLY, 0, R_IN_ROOT, sz);
	try("abs (absolute link)", top, "abs", O_RDONLY, 0, R_IN_ROOT, sz);
	try("a/out (clamped)", top, "a/out", O_RDONLY, 0, R_IN_ROOT, sz);
	try("/outside", top, "/outside", O_RDONLY, 0, R_IN_ROOT, sz);
	try("create /a/new2", top, "/a/new2", O_CREAT | O_WRONLY | O_EXCL, 0644, R_IN_ROOT, sz);
	try("reopen a/new2", top, "a/new2", O_RDONLY, 0, 0, sz);

	puts("== RESOLVE_NO_SYMLINKS");
	try("a/f", top, "a/f", O_RDONLY, 0, R_NO_SYMLINKS, sz);
	try("la/f", top, "la/f", O_RDONLY, 0, R_NO_SYMLINKS, sz);
	try("a/up", top, "a/up", O_RDONLY, 0, R_NO_SYMLINKS, sz);
	try("abs O_PATH|O_NOFOLLOW", top, "abs", O_PATH | O_NOFOLLOW, 0, R_NO_SYMLINKS, sz);

	puts("== RESOLVE_NO_MAGICLINKS");
	char fdpath[64];
	int g = openat(top, "g", O_RDONLY);
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", g);
	try("/proc/self/fd/N", AT_FDCWD, fdpath, O_RDONLY, 0, R_NO_MAGICLINKS, sz);
	try("/proc/self/fd/N plain", AT_FDCWD, fdpath, O_RDONLY, 0, 0, sz);
	try("/proc/self/exe", AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, R_NO_MAGICLINKS, sz);
	try("/proc/self/cwd/top/g", AT_FDCWD, "/proc/self/cwd/top/g", O_RDONLY, 0, R_NO_MAGICLINKS, sz);
	try("/proc/self/status", AT_FDCWD, "/proc/self/status", O_RDONLY, 0, R_NO_MAGICLINKS, sz);
	try("la/f (plain symlink)", top, "la/f", O_RDONLY, 0, R_NO_MAGICLINKS, sz);

	puts("== RESOLVE_NO_XDEV");
	try("/ proc/self/status", root, "proc/self/status", O_RDONLY, 0, R_NO_XDEV, sz);
	try("/proc self/status", proc, "self/status", O_RDONLY, 0, R_NO_XDEV, sz);
	try("/proc ..", proc, "..", O_RDONLY, 0, R_NO_XDEV, sz);
	try("/proc /proc/self/status", proc, "/proc/self/status", O_RDONLY, 0, R_NO_XDEV, sz);
	try("top a/../g", top, "a/../g", O_RDONLY, 0, R_NO_XDEV, sz);

	unlink("top/a/new");
	unlink("top/a/new2");
	unlink("top/a/up");
	unlink("top/a/out");
	unlink("top/abs");
	unlink("top/la");
	unlink("top/a/f");
	unlink("top/g");
	unlink("outside");
	rmdir("top/a");
	rmdir("top");
	if (chdir("/") == 0)
		rmdir(dir);
	return 0;
}
