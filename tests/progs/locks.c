// locks: advisory file locks between processes. POSIX record locks
// (conflicts, F_GETLK's answer, waiting in F_SETLKW, splitting, release on
// any close of the file and at exit, EDEADLK, EINTR), OFD locks (owned by
// the open file), flock (shared by fork, independent of record locks),
// and the open-mode checks. SQLite and flock(1) rely on these.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int r) {
	if (r == 0)
		return "ok";
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	case EBADF: return "EBADF";
	case EDEADLK: return "EDEADLK";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", errno);
	return b;
}

static int lk(int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

// child runs f in a child process and waits for it.
static void child(void (*f)(void)) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		f();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static pid_t parent;
static char path[64];

static void conflicts(void) {
	int fd = open(path, O_RDWR);
	printf("child: write lock on [5,15): %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 5, 10)));
	printf("child: read lock on [10,20): %s\n", ename(lk(fd, F_SETLK, F_RDLCK, 10, 10)));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10};
	fcntl(fd, F_GETLK, &fl);
	printf("child: F_GETLK: type %s, start %lld, len %lld, the parent's: %s\n",
	       fl.l_type == F_WRLCK ? "F_WRLCK" : fl.l_type == F_UNLCK ? "F_UNLCK" : "other",
	       (long long)fl.l_start, (long long)fl.l_len, fl.l_pid == parent ? "yes" : "no");
	struct flock free = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5};
	fcntl(fd, F_GETLK, &free);
	printf("child: F_GETLK of a free range: %s\n", free.l_type == F_UNLCK ? "F_UNLCK" : "locked");
	printf("child: write lock on [10,15): %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 10, 5)));
	printf("child: write lock on [40,60), the hole: %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 40, 20)));
	printf("child: write lock on [35,45): %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 35, 10)));
}

static void waits(void) {
	int fd = open(path, O_RDWR);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = lk(fd, F_SETLKW, F_WRLCK, 0, 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	printf("child: F_SETLKW: %s, waited for the parent: %s\n", ename(r), ms >= 150 ? "yes" : "no");
}

static void after_close(void) {
	int fd = open(path, O_RDWR);
	printf("child: after the parent closed another descriptor: %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
}

static void exits_holding(void) {
	int fd = open(path, O_RDWR);
	printf("child: locks all and exits: %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
}

static void flock_child(void) {
	int fd = open(path, O_RDWR);
	printf("child: its own open, LOCK_EX|LOCK_NB: %s\n", flock(fd, LOCK_EX | LOCK_NB) == 0 ? "ok" : errno == EWOULDBLOCK ? "EWOULDBLOCK" : "other");
	printf("child: its own open, LOCK_SH|LOCK_NB: %s\n", flock(fd, LOCK_SH | LOCK_NB) == 0 ? "ok" : errno == EWOULDBLOCK ? "EWOULDBLOCK" : "other");
	printf("child: a record lock beside the flock: %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
}

static int shared_fd;
static void flock_inherited(void) {
	printf("child: LOCK_EX on the inherited descriptor: %s\n", ename(flock(shared_fd, LOCK_EX | LOCK_NB)));
}

static void deadlock_child(void) {
	int fd = open(path, O_RDWR);
	lk(fd, F_SETLK, F_WRLCK, 1, 1);
	// Waits for the parent's byte 0; the parent then asks for byte 1.
	int r = lk(fd, F_SETLKW, F_WRLCK, 0, 1);
	printf("child: got byte 0 once the parent gave up: %s\n", ename(r));
}

static void onalarm(int sig) { (void)sig; }

int main(void) {
	parent = getpid();
	snprintf(path, sizeof path, "/tmp/ringbox-locks-%d", (int)parent);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	if (write(fd, "0123456789", 10) != 10)
		return 1;

	printf("== POSIX locks\n");
	printf("write lock on [0,10): %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 0, 10)));
	printf("write lock on [30,100): %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 30, 70)));
	printf("unlock [40,60): %s\n", ename(lk(fd, F_SETLK, F_UNLCK, 40, 20)));
	printf("my own F_GETLK sees no conflict: %s\n", ({
		       struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		       fcntl(fd, F_GETLK, &fl);
		       fl.l_type == F_UNLCK ? "yes" : "no";
	       }));
	child(conflicts);
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	lk(fd, F_SETLK, F_WRLCK, 0, 1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		waits();
		fflush(stdout);
		_exit(0);
	}
	msleep(300);
	lk(fd, F_SETLK, F_UNLCK, 0, 1);
	waitpid(pid, NULL, 0);

	lk(fd, F_SETLK, F_WRLCK, 0, 0);
	int other = open(path, O_RDONLY);
	close(other); // drops every lock this process holds on the file
	child(after_close);

	child(exits_holding);
	printf("after the child's exit: %s\n", ename(lk(fd, F_SETLK, F_WRLCK, 0, 0)));
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	// EDEADLK: the child holds byte 1 and waits for byte 0, which the
	// parent holds; the parent's wait for byte 1 would close the cycle.
	lk(fd, F_SETLK, F_WRLCK, 0, 1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		deadlock_child();
		fflush(stdout);
		_exit(0);
	}
	msleep(300);
	printf("waiting for the child's byte: %s\n", ename(lk(fd, F_SETLKW, F_WRLCK, 1, 1)));
	fflush(stdout);
	lk(fd, F_SETLK, F_UNLCK, 0, 1);
	waitpid(pid, NULL, 0);

	// A signal ends F_SETLKW (a handler without SA_RESTART): EINTR.
	pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		lk(cfd, F_SETLK, F_WRLCK, 0, 0);
		msleep(1500);
		_exit(0);
	}
	msleep(300);
	struct sigaction sa = {.sa_handler = onalarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	printf("F_SETLKW cut by a signal: %s\n", ename(lk(fd, F_SETLKW, F_WRLCK, 0, 0)));
	waitpid(pid, NULL, 0);

	int ro = open(path, O_RDONLY);
	printf("write lock through a read-only descriptor: %s\n", ename(lk(ro, F_SETLK, F_WRLCK, 0, 0)));
	printf("bad type: %s\n", ename(lk(fd, F_SETLK, 42, 0, 0)));
	printf("negative start: %s\n", ename(lk(fd, F_SETLK, F_WRLCK, -5, 1)));

	printf("== OFD locks\n");
	int o1 = open(path, O_RDWR), o2 = open(path, O_RDWR);
	printf("first open: %s\n", ename(lk(o1, F_OFD_SETLK, F_WRLCK, 0, 0)));
	printf("second open: %s\n", ename(lk(o2, F_OFD_SETLK, F_WRLCK, 0, 0)));
	printf("a POSIX lock of this process beside it: %s\n", ename(lk(fd, F_SETLK, F_RDLCK, 0, 0)));
	close(o1);
	printf("after closing the first: %s\n", ename(lk(o2, F_OFD_SETLK, F_WRLCK, 0, 0)));
	close(o2);

	printf("== flock\n");
	shared_fd = open(path, O_RDWR);
	printf("LOCK_EX: %s\n", ename(flock(shared_fd, LOCK_EX)));
	child(flock_child);
	child(flock_inherited);
	printf("bad operation: %s\n", ename(flock(shared_fd, 0)));
	close(shared_fd);
	printf("after close, the lock is free: %s\n", ename(flock(ro, LOCK_EX | LOCK_NB)));
	unlink(path);
	return 0;
}
