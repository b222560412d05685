// fsmisc: the older and rarer file calls real programs still make:
// utime, utimes and futimesat (Perl's utime, old build tools); sync,
// syncfs, sync_file_range (git, databases) and readahead; preadv2 and
// pwritev2 with their flags; chroot; unshare of what a process already
// owns, and of a descriptor table a CLONE_FILES child shares; a socket's
// signal owner (F_SETOWN, F_SETSIG, FIOASYNC). It works in a new directory under /tmp and prints no times,
// inode numbers or PIDs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#define RWF_DSYNC 0x2
#define RWF_SYNC 0x4
#define RWF_NOWAIT 0x8
#define RWF_APPEND 0x10
#endif

static const char *en(int e) {
	switch (e) {
	case 0: return "ok";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ENOENT: return "ENOENT";
	case ESPIPE: return "ESPIPE";
	case EAGAIN: return "EAGAIN";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	case ENOTDIR: return "ENOTDIR";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

#define RES(call) ((call) < 0 ? en(errno) : "ok")

static char dir[64];

static const char *at(const char *name) {
	static char buf[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

static void times_of(const char *what, const char *path) {
	struct stat st;
	stat(path, &st);
	printf("%s: atime %lld.%09ld mtime %lld.%09ld\n", what, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void old_times(void) {
	close(open(at("t"), O_CREAT | O_WRONLY, 0644));
	struct utimbuf ub = {.actime = 1000000000, .modtime = 1100000000};
	// The raw calls: glibc turns utime() and utimes() into utimensat.
	printf("utime: %s\n", RES(syscall(SYS_utime, at("t"), &ub)));
	times_of("after utime", at("t"));
	struct timeval tv[2] = {{1200000000, 250000}, {1300000000, 999999}};
	printf("utimes: %s\n", RES(syscall(SYS_utimes, at("t"), tv)));
	times_of("after utimes", at("t"));
	struct timeval bad[2] = {{1, 1000000}, {1, 0}};
	printf("utimes, usec 1000000: %s\n", RES(syscall(SYS_utimes, at("t"), bad)));
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	struct timeval tv2[2] = {{1400000000, 1}, {1500000000, 2}};
	printf("futimesat: %s\n", RES(syscall(SYS_futimesat, d, "t", tv2)));
	times_of("after futimesat", at("t"));
	close(d);
	time_t before = time(NULL);
	printf("utime NULL: %s", RES(syscall(SYS_utime, at("t"), NULL)));
	struct stat st;
	stat(at("t"), &st);
	printf(", mtime is now: %s\n", st.st_mtime >= before && st.st_mtime <= time(NULL) + 1 ? "yes" : "no");
	printf("utime, missing file: %s\n", RES(syscall(SYS_utime, at("none"), &ub)));
	printf("utimes, bad pointer: %s\n", RES(syscall(SYS_utimes, at("t"), 16)));
	printf("utime, NULL path: %s\n", RES(syscall(SYS_utime, NULL, &ub)));
	printf("sync_file_range, bad fd and flags: %s\n", RES(sync_file_range(-1, -1, 0, 99)));
}

static void syncs(void) {
	int fd = open(at("s"), O_CREAT | O_RDWR, 0644);
	write(fd, "data", 4);
	sync();
	printf("sync: done\n");
	printf("syncfs: %s\n", RES(syncfs(fd)));
	printf("syncfs bad fd: %s\n", RES(syncfs(999)));
	printf("sync_file_range write: %s\n", RES(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)));
	printf("sync_file_range all flags: %s\n", RES(sync_file_range(fd, 0, 4, 7)));
	printf("sync_file_range bad flag: %s\n", RES(sync_file_range(fd, 0, 4, 8)));
	printf("sync_file_range negative offset: %s\n", RES(sync_file_range(fd, -1, 4, SYNC_FILE_RANGE_WRITE)));
	int p[2];
	pipe(p);
	printf("sync_file_range on a pipe: %s\n", RES(sync_file_range(p[0], 0, 0, SYNC_FILE_RANGE_WRITE)));
	printf("readahead: %s\n", RES(readahead(fd, 0, 4096)));
	printf("readahead on a pipe: %s\n", RES(readahead(p[0], 0, 4096)));
	int wo = open(at("s"), O_WRONLY);
	printf("readahead write-only: %s\n", RES(readahead(wo, 0, 4096)));
	close(wo);
	close(p[0]);
	close(p[1]);
	close(fd);
}

static void rw2(void) {
	int fd = open(at("v"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	char a[] = "hello ", b[] = "world";
	struct iovec w[2] = {{a, 6}, {b, 5}};
	printf("pwritev2 at 0: %zd\n", pwritev2(fd, w, 2, 0, 0));
	printf("position after: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	printf("pwritev2 at -1: %zd\n", pwritev2(fd, w, 1, -1, 0));
	printf("position after: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	lseek(fd, 2, SEEK_SET);
	struct iovec one = {b, 5};
	printf("pwritev2 RWF_APPEND at -1: %zd", pwritev2(fd, &one, 1, -1, RWF_APPEND));
	printf(", position %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	printf("pwritev2 RWF_DSYNC|RWF_SYNC|RWF_HIPRI: %zd\n", pwritev2(fd, &one, 1, 0, RWF_DSYNC | RWF_SYNC | RWF_HIPRI));
	printf("pwritev2 unknown flag: %s\n", RES(pwritev2(fd, &one, 1, 0, 0x40000000)));
	char buf[64] = {0};
	struct iovec r = {buf, sizeof buf - 1};
	ssize_t n = preadv2(fd, &r, 1, 0, 0);
	printf("preadv2 at 0: %zd %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	lseek(fd, 6, SEEK_SET);
	memset(buf, 0, sizeof buf);
	n = preadv2(fd, &r, 1, -1, RWF_HIPRI);
	printf("preadv2 at -1: %zd %.*s, position %lld\n", n, (int)(n > 0 ? n : 0), buf, (long long)lseek(fd, 0, SEEK_CUR));
	printf("preadv2 unknown flag: %s\n", RES(preadv2(fd, &r, 1, 0, 0x40000000)));
	printf("preadv2 bad fd: %s\n", RES(preadv2(999, &r, 1, 0, 0)));
	int p[2];
	pipe(p);
	// (RWF_NOWAIT on a pipe is EOPNOTSUPP before Linux 6.x and EAGAIN
	// after, as the sandbox does: not compared.)
	printf("preadv2 on a pipe at offset 0: %s\n", RES(preadv2(p[0], &r, 1, 0, 0)));
	close(p[0]);
	close(p[1]);
	close(fd);
}

// fallocates: fallocate's modes: growing, KEEP_SIZE, punching a hole
// (the bytes read as zero, the size stays), and modes refused everywhere
// (ZERO_RANGE and the range moves depend on the file system: not here).
static void fallocates(void) {
	int fd = open(at("fa"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	char buf[20000];
	memset(buf, 'x', sizeof buf);
	if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
		printf("write failed\n");
	struct stat st;
	printf("fallocate 0..30000: %s", RES(fallocate(fd, 0, 0, 30000)));
	fstat(fd, &st);
	printf(", size %lld\n", (long long)st.st_size);
	printf("KEEP_SIZE to 50000: %s", RES(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 50000)));
	fstat(fd, &st);
	printf(", size %lld\n", (long long)st.st_size);
	printf("PUNCH_HOLE|KEEP_SIZE 4096+8192: %s", RES(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192)));
	fstat(fd, &st);
	char got[3];
	pread(fd, &got[0], 1, 4095);
	pread(fd, &got[1], 1, 4096);
	pread(fd, &got[2], 1, 12288);
	printf(", size %lld, bytes at 4095/4096/12288: %c%c%c\n", (long long)st.st_size, got[0], got[1] ? got[1] : '0',
	       got[2]);
	printf("PUNCH_HOLE alone: %s\n", RES(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10)));
	printf("mode 0x80: %s\n", RES(fallocate(fd, 0x80, 0, 4096)));
	printf("length 0: %s\n", RES(fallocate(fd, 0, 0, 0)));
	close(fd);
	fd = open(at("fa"), O_RDONLY);
	printf("read-only fd: %s\n", RES(fallocate(fd, 0, 0, 10)));
	close(fd);
	unlink(at("fa"));
}

static void chroots(void) {
	if (geteuid() != 0) {
		printf("chroot: not root, skipped\n");
		return;
	}
	mkdir(at("root"), 0755);
	mkdir(at("root/sub"), 0755);
	int fd = open(at("root/sub/file"), O_CREAT | O_WRONLY, 0644);
	write(fd, "inside\n", 7);
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		printf("chroot to a file: %s\n", RES(chroot(at("t"))));
		printf("chroot to a missing directory: %s\n", RES(chroot(at("nothere"))));
		printf("chroot: %s\n", RES(chroot(at("root"))));
		chdir("/");
		char buf[32] = {0};
		int f = open("/sub/file", O_RDONLY);
		read(f, buf, sizeof buf - 1);
		printf("read /sub/file inside: %s", buf);
		struct stat a, b;
		stat("/", &a);
		stat("/..", &b);
		printf("/.. is /: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
		f = open("/../../../sub/file", O_RDONLY);
		printf("/../../../sub/file: %s\n", f >= 0 ? "opened" : en(errno));
		char cwd[64];
		printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
		printf("/tmp inside: %s\n", access("/tmp", F_OK) == 0 ? "there" : en(errno));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	unlink(at("root/sub/file"));
	rmdir(at("root/sub"));
	rmdir(at("root"));
}

static void *idle(void *arg) {
	(void)arg;
	pause();
	return NULL;
}

// Children that share the caller's descriptor table (CLONE_FILES).
static int shared_fd;
static int close_shared(void *arg) {
	if (arg && unshare(CLONE_FILES) != 0)
		return 1;
	return close(shared_fd) == 0 ? 0 : 2;
}
static int exec_true(void *arg) {
	execl("/bin/true", "true", (char *)NULL);
	return 3;
}
static int in_shared_table(int (*fn)(void *), void *arg) {
	static char stack[64 << 10];
	pid_t pid = clone(fn, stack + sizeof stack, CLONE_FILES | SIGCHLD, arg);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// A table shared by CLONE_FILES: a close in the child closes the
// parent's descriptor; after unshare(CLONE_FILES) it does not; execve
// copies a shared table first, so the new program's close-on-exec files
// stay open for the parent.
static void shared_tables(void) {
	shared_fd = open("/dev/null", O_RDONLY);
	int rc = in_shared_table(close_shared, NULL);
	printf("child closes a shared fd: %d, parent's: %s\n", rc, fcntl(shared_fd, F_GETFD) < 0 ? en(errno) : "open");
	shared_fd = open("/dev/null", O_RDONLY);
	rc = in_shared_table(close_shared, "unshare");
	printf("child unshares, then closes: %d, parent's: %s\n", rc, fcntl(shared_fd, F_GETFD) < 0 ? en(errno) : "open");
	int ce = open("/dev/null", O_RDONLY | O_CLOEXEC);
	rc = in_shared_table(exec_true, NULL);
	printf("child execs: %d, parent's close-on-exec fd: %s\n", rc, fcntl(ce, F_GETFD) == FD_CLOEXEC ? "open" : en(errno));
	close(shared_fd);
	close(ce);
}

static void unshares(void) {
	printf("unshare(0): %s\n", RES(unshare(0)));
	printf("unshare(CLONE_FILES|CLONE_FS|CLONE_SYSVSEM): %s\n", RES(unshare(CLONE_FILES | CLONE_FS | CLONE_SYSVSEM)));
	printf("unshare(CLONE_VM), one thread: %s\n", RES(unshare(CLONE_VM)));
	printf("unshare(CSIGNAL bits): %s\n", RES(unshare(0x11)));
	pthread_t th;
	pthread_create(&th, NULL, idle, NULL);
	printf("unshare(CLONE_VM), two threads: %s\n", RES(unshare(CLONE_VM)));
	printf("unshare(CLONE_THREAD), two threads: %s\n", RES(unshare(CLONE_THREAD)));
	// (CLONE_FILES or CLONE_FS in a thread: the sandbox cannot give a
	// thread its own table or cwd, EINVAL where Linux succeeds.)
}

// nslinks: a /proc/self/ns link followed (stat, open) is the namespace's
// inode, whose number readlink shows (what lsns reads). The numbers
// themselves differ between hosts: only their agreement is printed.
static void nslinks(void) {
	const char *kinds[] = {"net", "pid", "uts", "ipc", "mnt", "user"};
	for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		char path[64], link[64], want[64];
		snprintf(path, sizeof path, "/proc/self/ns/%s", kinds[i]);
		ssize_t n = readlink(path, link, sizeof link - 1);
		link[n < 0 ? 0 : n] = 0;
		struct stat st;
		int r = stat(path, &st);
		snprintf(want, sizeof want, "%s:[%lu]", kinds[i], (unsigned long)st.st_ino);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		char b[4];
		ssize_t rr = fd >= 0 ? read(fd, b, sizeof b) : -2;
		printf("ns %s: stat %s, inode matches %d, regular %d, open %d, read %s", kinds[i], RES(r),
		       strcmp(link, want) == 0, S_ISREG(st.st_mode), fd >= 0, rr == -1 && errno == EINVAL ? "EINVAL" : "other");
		// nsfs's ioctls (linux/nsfs.h): the type; a pid namespace's
		// parent is out of reach from its own processes (EPERM).
		printf(", type %#x", ioctl(fd, _IO(0xb7, 0x3), 0));
		if (strcmp(kinds[i], "pid") == 0)
			printf(", parent %s", RES(ioctl(fd, _IO(0xb7, 0x2), 0)));
		printf("\n");
		if (fd >= 0)
			close(fd);
	}
}

// owners: F_SETOWN, F_SETOWN_EX, F_SETSIG and FIOASYNC on a socket, as
// nginx sets them on its channels (kept and read back).
static void owners(void) {
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int r = fcntl(sv[0], F_SETOWN, getpid());
	printf("F_SETOWN: %d, F_GETOWN is pid %d\n", r, fcntl(sv[0], F_GETOWN) == getpid());
	struct f_owner_ex ex = {F_OWNER_PGRP, getpgrp()}, got = {0};
	r = fcntl(sv[0], F_SETOWN_EX, &ex);
	fcntl(sv[0], F_GETOWN_EX, &got);
	printf("F_SETOWN_EX pgrp: %d, got type %d same id %d\n", r, got.type, got.pid == getpgrp());
	ex.type = 7;
	r = fcntl(sv[0], F_SETOWN_EX, &ex);
	printf("F_SETOWN_EX type 7: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
	fcntl(sv[1], F_GETOWN_EX, &got);
	printf("no owner: type %d id %d, F_GETOWN %d\n", got.type, got.pid, fcntl(sv[1], F_GETOWN));
	r = fcntl(sv[0], F_SETSIG, SIGUSR1);
	printf("F_SETSIG: %d, F_GETSIG %d\n", r, fcntl(sv[0], F_GETSIG) == SIGUSR1);
	r = fcntl(sv[0], F_SETSIG, 65);
	printf("F_SETSIG 65: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
	int on = 1;
	r = ioctl(sv[0], FIOASYNC, &on);
	printf("FIOASYNC on: %d, O_ASYNC %d", r, (fcntl(sv[0], F_GETFL) & O_ASYNC) != 0);
	on = 0;
	ioctl(sv[0], FIOASYNC, &on);
	printf(", off: O_ASYNC %d\n", (fcntl(sv[0], F_GETFL) & O_ASYNC) != 0);
	close(sv[0]);
	close(sv[1]);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	nslinks();
	owners();
	strcpy(dir, "/tmp/fsmiscXXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	old_times();
	syncs();
	rw2();
	fallocates();
	chroots();
	const char *names[] = {"t", "s", "v"};
	for (unsigned i = 0; i < 3; i++)
		unlink(at(names[i]));
	printf("rmdir: %s\n", RES(rmdir(dir)));
	shared_tables();
	unshares();
	return 0;
}
