// sharing: what a process learns of, and takes from, another it may
// trace: pidfd_getfd (a duplicate of the other's descriptor: the same
// open file, its offset shared) and kcmp (whether two tasks share an open
// file, an address space, a descriptor table; else an order that is the
// same both ways round), with their errors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
enum { KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM, KCMP_EPOLL_TFD };

static const char *en(int e) {
	switch (e) {
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EFAULT: return "EFAULT";
	case EPERM: return "EPERM";
	default: return strerror(e);
	}
}

static long kcmp(pid_t a, pid_t b, int type, long i1, long i2) {
	return syscall(SYS_kcmp, a, b, type, i1, i2);
}

// A kcmp result as words: equal, or ordered (the same order both ways).
static const char *cmp(pid_t a, pid_t b, int type, long i1, long i2) {
	long r = kcmp(a, b, type, i1, i2);
	if (r < 0)
		return en(errno);
	if (r == 0)
		return "equal";
	long back = kcmp(b, a, type, i2, i1);
	if ((r == 1 && back == 2) || (r == 2 && back == 1))
		return "ordered";
	return "inconsistent";
}

static pid_t self;
static void *thread(void *arg) {
	pid_t tid = gettid();
	printf("thread vs process: VM %s, FILES %s, FS %s, SIGHAND %s, SYSVSEM %s\n", cmp(tid, self, KCMP_VM, 0, 0),
	       cmp(tid, self, KCMP_FILES, 0, 0), cmp(tid, self, KCMP_FS, 0, 0), cmp(tid, self, KCMP_SIGHAND, 0, 0),
	       cmp(tid, self, KCMP_SYSVSEM, 0, 0));
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	self = getpid();
	char path[] = "/tmp/sharingXXXXXX";
	int tmp = mkstemp(path);
	if (tmp < 0 || write(tmp, "0123456789", 10) != 10) {
		perror("mkstemp");
		return 1;
	}
	int ready[2], go[2];
	if (pipe(ready) || pipe(go))
		return 1;
	pid_t child = fork();
	if (child == 0) {
		// The child's fd 10: its own open of the file, at offset 2.
		int fd = open(path, O_RDONLY);
		dup2(fd, 10);
		lseek(10, 2, SEEK_SET);
		char b = 1;
		write(ready[1], &b, 1);
		read(go[0], &b, 1);
		_exit(0);
	}
	char b;
	read(ready[0], &b, 1);
	int pfd = syscall(SYS_pidfd_open, child, 0);

	int got = syscall(SYS_pidfd_getfd, pfd, 10, 0);
	printf("pidfd_getfd: %s, close-on-exec %d\n", got >= 0 ? "ok" : en(errno), fcntl(got, F_GETFD) == FD_CLOEXEC);
	char c[3] = {0};
	read(got, c, 2);
	printf("read through it: %s (the child's offset)\n", c);
	printf("kcmp FILE, the child's fd 10 and ours: %s\n", cmp(child, self, KCMP_FILE, 10, got));
	printf("kcmp FILE, the child's fd 10 and our own open: %s\n", cmp(child, self, KCMP_FILE, 10, tmp));
	printf("kcmp FILE, a dup: %s\n", cmp(self, self, KCMP_FILE, tmp, dup(tmp)));
	printf("kcmp VM child/parent: %s, self: %s\n", cmp(child, self, KCMP_VM, 0, 0), cmp(self, self, KCMP_VM, 0, 0));
	printf("kcmp FILES child/parent: %s, SIGHAND: %s, FS: %s\n", cmp(child, self, KCMP_FILES, 0, 0),
	       cmp(child, self, KCMP_SIGHAND, 0, 0), cmp(child, self, KCMP_FS, 0, 0));
	// Linux compares I/O contexts and semaphore undo lists, which stay
	// unmade (equal) until used: SEM_UNDO makes the parent's.
	printf("kcmp IO child/parent: %s, SYSVSEM: %s\n", cmp(child, self, KCMP_IO, 0, 0), cmp(child, self, KCMP_SYSVSEM, 0, 0));
	int sem = semget(IPC_PRIVATE, 1, 0600);
	struct sembuf up = {0, 1, SEM_UNDO};
	printf("semop with SEM_UNDO: %s\n", semop(sem, &up, 1) == 0 ? "ok" : en(errno));
	printf("kcmp SYSVSEM child/parent after it: %s\n", cmp(child, self, KCMP_SYSVSEM, 0, 0));
	semctl(sem, 0, IPC_RMID);
	pthread_t th;
	pthread_create(&th, NULL, thread, NULL);
	pthread_join(th, NULL);

	printf("pidfd_getfd of a closed fd: %s\n", syscall(SYS_pidfd_getfd, pfd, 99, 0) < 0 ? en(errno) : "ok");
	printf("pidfd_getfd with flags: %s\n", syscall(SYS_pidfd_getfd, pfd, 10, 1) < 0 ? en(errno) : "ok");
	printf("pidfd_getfd of a file that is no pidfd: %s\n", syscall(SYS_pidfd_getfd, tmp, 0, 0) < 0 ? en(errno) : "ok");
	printf("pidfd_send_signal to no pidfd: %s\n", syscall(SYS_pidfd_send_signal, tmp, 0, NULL, 0) < 0 ? en(errno) : "ok");
	siginfo_t si;
	printf("waitid(P_PIDFD) of no pidfd: %s\n", waitid(P_PIDFD, tmp, &si, WEXITED | WNOHANG) < 0 ? en(errno) : "ok");
	printf("kcmp FILE of a closed fd: %s\n", cmp(self, self, KCMP_FILE, 99, tmp));
	printf("kcmp of no such task: %s\n", cmp(self, 999999, KCMP_VM, 0, 0));
	printf("kcmp of a bad type: %s\n", kcmp(self, self, 99, 0, 0) < 0 ? en(errno) : "ok");
	printf("kcmp EPOLL_TFD with a bad slot: %s\n", kcmp(self, self, KCMP_EPOLL_TFD, 0, 0) < 0 ? en(errno) : "ok");

	write(go[1], &b, 1);
	int st;
	waitpid(child, &st, 0);
	printf("pidfd_getfd after the exit: %s\n", syscall(SYS_pidfd_getfd, pfd, 10, 0) < 0 ? en(errno) : "ok");
	unlink(path);
	return 0;
}
