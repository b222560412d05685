// mounts: mount(2) and umount2(2) as root: a tmpfs with options, its size
// limit, a bind mount of a directory and of a file, a read-only remount,
// stacked mounts, EBUSY with a mount inside, proc, noexec, set-user-ID and
// set-group-ID programs and nosuid, and EPERM without CAP_SYS_ADMIN. Natively it first moves to a mount namespace of its own
// (the sandbox has one, EPERM to unshare, and its mounts are its own
// anyway), so the host's mounts are never touched.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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
	case EACCES: return "EACCES";
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

// ids prints the process's IDs, AT_SECURE, whether it has effective
// capabilities (what running a set-ID copy of this program gave it), and
// what access(2) says of secret.
static int ids(const char *secret) {
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	char line[256];
	unsigned long long eff = 1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		sscanf(line, "CapEff: %llx", &eff);
	if (f)
		fclose(f);
	printf("uids %d %d %d gids %d %d %d secure %lu caps %s", (int)r, (int)e, (int)s, (int)gr, (int)ge, (int)gs,
	       getauxval(AT_SECURE), eff ? "some" : "none");
	// A set-ID program is not dumpable: its /proc files are root's.
	struct stat ps;
	stat("/proc/self/status", &ps);
	printf(" dumpable %d proc %d", prctl(PR_GET_DUMPABLE), (int)ps.st_uid);
	// access(2) asks as the real IDs, AT_EACCESS as the effective ones.
	printf(" access %s", RES(access(secret, R_OK)));
	printf(" eaccess %s\n", RES(faccessat(AT_FDCWD, secret, R_OK, AT_EACCESS)));
	return 0;
}

// copy copies this program to path with mode (after a chown to 1000:1000).
static void copy(const char *path, mode_t mode) {
	int in = open("/proc/self/exe", O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	static char b[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, b, sizeof b)) > 0)
		write(out, b, n);
	close(in);
	close(out);
	chown(path, 1000, 1000);
	chmod(path, mode);
}

// run runs path ids as uid:gid (-1: stay root) and says how exec went.
static void run(const char *what, const char *path, int uid) {
	printf("%s: ", what);
	pid_t p = fork();
	if (p == 0) {
		if (uid >= 0 && (setgid(uid) != 0 || setuid(uid) != 0))
			_exit(3);
		execl(path, "prog", "ids", at("a/secret"), (char *)NULL);
		printf("exec %s\n", en(errno));
		_exit(0);
	}
	waitpid(p, NULL, 0);
}

// hasopt says whether the last mount at path in /proc/self/mounts has
// option opt.
static int hasopt(const char *path, const char *opt) {
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[512], want[256], o[256];
	snprintf(want, sizeof want, " %s ", path);
	int has = 0;
	while (f && fgets(line, sizeof line, f)) {
		char *p = strstr(line, want);
		if (!p || sscanf(p + strlen(want), "%*s %255s", o) != 1)
			continue;
		has = 0;
		for (char *t = strtok(o, ","); t; t = strtok(NULL, ","))
			has |= strcmp(t, opt) == 0;
	}
	if (f)
		fclose(f);
	return has;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2 && strcmp(argv[1], "ids") == 0)
		return ids(argv[2]);
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

	// noexec: no exec, no executable mapping.
	chmod(dir, 0755);
	mount("x", at("a"), "tmpfs", MS_NOEXEC, "mode=755");
	copy(at("a/prog"), 06755);
	copy(at("a/secret"), 0600); // user 1000's alone
	run("exec on noexec", at("a/prog"), -1);
	fd = open(at("a/prog"), O_RDONLY);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	printf("mmap exec on noexec: %s", m == MAP_FAILED ? en(errno) : "ok");
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	printf(", read-only: %s", m == MAP_FAILED ? en(errno) : "ok");
	printf(", mprotect exec: %s\n", RES(mprotect(m, 4096, PROT_READ | PROT_EXEC)));
	munmap(m, 4096);
	close(fd);
	printf("listed noexec: %d\n", hasopt(at("a"), "noexec"));
	// Set-user-ID and set-group-ID: the effective IDs become the file's,
	// the saved ones too, ld.so is told (AT_SECURE); not on nosuid.
	printf("remount exec: %s\n", RES(mount(NULL, at("a"), NULL, MS_REMOUNT, NULL)));
	run("setuid as nobody", at("a/prog"), 65534);
	run("setuid as root", at("a/prog"), -1);
	copy(at("a/plain"), 0755);
	run("plain as nobody", at("a/plain"), 65534);
	copy(at("a/gid"), 02744); // set-group-ID without group exec: not honoured
	run("setgid without g+x as root", at("a/gid"), -1);
	r = RES(mount(NULL, at("a"), NULL, MS_REMOUNT | MS_NOSUID, NULL));
	printf("remount nosuid: %s, listed nosuid %d noexec %d\n", r, hasopt(at("a"), "nosuid"), hasopt(at("a"), "noexec"));
	run("setuid on nosuid as nobody", at("a/prog"), 65534);
	unlink(at("a/prog"));
	unlink(at("a/plain"));
	unlink(at("a/gid"));
	unlink(at("a/secret"));
	printf("umount: %s\n", RES(umount2(at("a"), 0)));

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
