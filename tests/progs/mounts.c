// mounts: mount(2) and umount2(2) as root: a tmpfs with options, its size
// limit, a bind mount of a directory and of a file, a read-only remount,
// stacked mounts, EBUSY with a mount inside, proc, and EPERM without
// CAP_SYS_ADMIN. Natively it first moves to a mount namespace of its own
// (the sandbox has one, EPERM to unshare, and its mounts are its own
// anyway), so the host's mounts are never touched.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static const char *en(int e) {
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case EROFS: return "EROFS";
	case ENOSPC: return "ENOSPC";
	case ENOTDIR: return "ENOTDIR";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}
#define RES(call) ((call) < 0 ? en(errno) : "ok")

static char *at(const char *name) {
	static char b[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
	return b[i];
}

static void put(const char *path, const char *s) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		write(fd, s, strlen(s));
		close(fd);
	}
}

// create makes path and closes it (an open file keeps Linux's mount busy).
static int create(const char *path) {
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	return fd;
}

static const char *get(const char *path) {
	static char b[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return en(errno);
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n < 0 ? 0 : n] = 0;
	return b;
}

// listed says whether /proc/self/mounts has a mount of type at path.
static int listed(const char *path, const char *type) {
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[512], want[256];
	snprintf(want, sizeof want, " %s %s ", path, type);
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return n;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	printf("make-rprivate: %s\n", RES(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
	strcpy(dir, "/tmp/mountsXXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	mkdir(at("a"), 0755);
	mkdir(at("b"), 0755);
	mkdir(at("src"), 0755);
	put(at("src/f"), "src");
	put(at("file"), "file");
	put(at("file2"), "other");

	// A tmpfs with options.
	printf("tmpfs: %s\n", RES(mount("none", at("a"), "tmpfs", MS_NOSUID, "size=1m,mode=700")));
	struct stat st;
	stat(at("a"), &st);
	struct statfs sf;
	statfs(at("a"), &sf);
	printf("tmpfs mode %o, magic tmpfs %d, listed %d\n", st.st_mode & 07777, sf.f_type == 0x01021994, listed(at("a"), "tmpfs"));
	put(at("a/x"), "x");
	int fd = open(at("a/big"), O_WRONLY | O_CREAT, 0644);
	static char buf[65536];
	long total = 0;
	ssize_t w;
	while ((w = write(fd, buf, sizeof buf)) > 0)
		total += w;
	printf("tmpfs full: %s, wrote at most 1 MiB %d\n", en(errno), total <= 1 << 20 && total > 900000);
	close(fd);

	// Bind mounts, a remount read-only.
	const char *r = RES(mount(at("src"), at("b"), NULL, MS_BIND, NULL));
	printf("bind: %s, reads %s\n", r, get(at("b/f")));
	put(at("b/g"), "through");
	printf("written through the bind: %s\n", get(at("src/g")));
	printf("remount ro: %s\n", RES(mount(NULL, at("b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)));
	r = RES(create(at("b/h")));
	printf("create in ro: %s, in its source: %s\n", r, RES(create(at("src/h"))));
	r = RES(mount(NULL, at("b"), NULL, MS_REMOUNT | MS_BIND, NULL));
	printf("remount rw: %s, create: %s\n", r, RES(create(at("b/i"))));
	r = RES(mount(at("file"), at("file2"), NULL, MS_BIND, NULL));
	printf("file bind: %s, reads %s\n", r, get(at("file2")));
	printf("file over dir: %s\n", RES(mount(at("file"), at("b"), NULL, MS_BIND, NULL)));

	// Unmounting.
	r = RES(umount2(at("b"), 0));
	printf("umount bind: %s, then %s\n", r, get(at("b/f")));
	r = RES(umount2(at("file2"), 0));
	printf("umount file: %s, then %s\n", r, get(at("file2")));
	r = RES(umount2(at("a"), 0));
	const char *x = get(at("a/x"));
	printf("umount tmpfs: %s, then %s, listed %d\n", r, x, listed(at("a"), "tmpfs"));
	r = RES(umount2(at("a"), 0));
	printf("umount again: %s; of a plain directory: %s\n", r, RES(umount2(at("src"), 0)));

	// Stacked mounts; a mount inside another.
	mount("one", at("a"), "tmpfs", 0, NULL);
	put(at("a/one"), "1");
	mount("two", at("a"), "tmpfs", 0, NULL);
	printf("stacked: %s", get(at("a/one")));
	umount2(at("a"), 0);
	printf(", after one umount: %s\n", get(at("a/one")));
	mkdir(at("a/in"), 0755);
	mount("in", at("a/in"), "tmpfs", 0, NULL);
	r = RES(umount2(at("a"), 0));
	const char *inner = RES(umount2(at("a/in"), 0));
	printf("umount with a mount inside: %s; inner: %s; outer: %s\n", r, inner, RES(umount2(at("a"), 0)));

	// proc.
	r = RES(mount("proc", at("a"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	printf("proc: %s, self/comm %s", r, get(at("a/self/comm")));
	printf("umount proc: %s\n", RES(umount2(at("a"), 0)));
	r = RES(umount2(at("a"), 0x100));
	printf("bad flags: %s, tmpfs bad option: %s\n", r, RES(mount("x", at("a"), "tmpfs", 0, "bogus=1")));

	// Without CAP_SYS_ADMIN.
	pid_t p = fork();
	if (p == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		const char *m = RES(mount("x", "/tmp", "tmpfs", 0, NULL));
		printf("as nobody: mount %s, umount %s\n", m, RES(umount2("/tmp", 0)));
		_exit(0);
	}
	waitpid(p, NULL, 0);
	unlink(at("src/f"));
	unlink(at("src/g"));
	unlink(at("src/h"));
	unlink(at("src/i"));
	unlink(at("file"));
	unlink(at("file2"));
	rmdir(at("src"));
	rmdir(at("a/in"));
	rmdir(at("a"));
	rmdir(at("b"));
	printf("rmdir: %s\n", RES(rmdir(dir)));
	return 0;
}
