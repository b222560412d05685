// signalfds: signalfd and signalfd4. Signals blocked and read as
// signalfd_siginfo records: kill (SI_USER, the sender), sigqueue (the
// value), SIGCHLD from a child's exit and death (si_status), several at
// once, a mask changed on an existing signalfd, SFD_NONBLOCK (EAGAIN) and
// SFD_CLOEXEC, poll and epoll woken by another process's signal, a
// thread's own signal readable by that thread only, a child reading its
// own signals through an inherited signalfd, and bad input.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	}
	return strerror(errno);
}

#define CHECK(what, call)                                                      \
	do {                                                                       \
		long r_ = (long)(call);                                                \
		if (r_ < 0)                                                            \
			printf("%s: -1 %s\n", what, err());                                \
		else                                                                   \
			printf("%s: %ld\n", what, r_);                                     \
	} while (0)

static const char *yesno(int c) { return c ? "yes" : "no"; }

static const char *code(int c) {
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	}
	return "other";
}

// rd reads one record and prints it; pid is the expected sender.
static int rd(const char *what, int fd, pid_t pid) {
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof si);
	if (n < 0) {
		printf("%s: -1 %s\n", what, err());
		return 0;
	}
	printf("%s: %zd bytes signo %u (%s) code %s sender %s uid %s", what, n, si.ssi_signo,
	       strsignal(si.ssi_signo), code(si.ssi_code), yesno(si.ssi_pid == (uint32_t)pid),
	       yesno(si.ssi_uid == getuid()));
	if (si.ssi_code == SI_QUEUE)
		printf(" int %d ptr %llu", si.ssi_int, (unsigned long long)si.ssi_ptr);
	if (si.ssi_signo == SIGCHLD)
		printf(" status %d", si.ssi_status);
	printf("\n");
	return si.ssi_signo;
}

static int pending(int fd) {
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0);
}

static int tfd;
static pid_t main_tid;

// thread reads the signal main sends to it alone.
static void *thread(void *arg) {
	(void)arg;
	struct pollfd p = {.fd = tfd, .events = POLLIN};
	int n = poll(&p, 1, 5000);
	printf("thread: poll %d\n", n);
	rd("thread read", tfd, getpid());
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	sigset_t all;
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGCHLD);
	sigaddset(&all, SIGTERM);
	sigprocmask(SIG_BLOCK, &all, NULL);

	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGKILL); // never read: ignored
	int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	printf("signalfd: %s nonblock %s cloexec %s\n", yesno(fd >= 0), yesno(fcntl(fd, F_GETFL) & O_NONBLOCK),
	       yesno(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	struct stat st;
	fstat(fd, &st);
	printf("fstat: mode %o\n", st.st_mode);
	char link[64] = "", path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	readlink(path, link, sizeof link - 1);
	printf("link: %s\n", link);
	rd("read nothing pending", fd, 0);
	printf("poll nothing pending: %d\n", pending(fd));

	kill(getpid(), SIGUSR1);
	printf("poll after kill: %d\n", pending(fd));
	rd("read kill", fd, getpid());
	printf("poll after read: %d\n", pending(fd));
	sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 1234});
	rd("read sigqueue", fd, getpid());

	// SIGUSR2 is not in the mask until the mask changes.
	kill(getpid(), SIGUSR2);
	printf("poll SIGUSR2 not in mask: %d\n", pending(fd));
	sigaddset(&m, SIGUSR2);
	CHECK("update mask", signalfd(fd, &m, 0));
	printf("poll SIGUSR2 in mask: %d\n", pending(fd));
	kill(getpid(), SIGUSR1);
	struct signalfd_siginfo two[3];
	ssize_t n = read(fd, two, sizeof two);
	printf("read two at once: %zd bytes, %u then %u\n", n, two[0].ssi_signo, two[1].ssi_signo);
	char small[100];
	CHECK("read short buffer", read(fd, small, sizeof small));
	CHECK("write", write(fd, small, 8));
	sigset_t none;
	sigpending(&none);
	printf("still pending: %s\n", yesno(sigismember(&none, SIGUSR1) || sigismember(&none, SIGUSR2)));

	// SIGCHLD with the child's status, from a blocking signalfd.
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	int cfd = signalfd(-1, &chld, 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	rd("SIGCHLD exit", cfd, pid);
	int status;
	waitpid(pid, &status, 0);
	pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		for (;;)
			pause();
	}
	kill(pid, SIGTERM);
	rd("SIGCHLD killed", cfd, pid);
	waitpid(pid, &status, 0);
	close(cfd);

	// epoll woken by another process's signal.
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 99};
	CHECK("epoll_ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	struct epoll_event out;
	printf("epoll_wait nothing: %d\n", epoll_wait(ep, &out, 1, 0));
	pid = fork();
	if (pid == 0) {
		struct timespec t = {0, 30000000};
		nanosleep(&t, NULL);
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	int k = epoll_wait(ep, &out, 1, 5000);
	printf("epoll_wait: %d data %u IN %s\n", k, out.data.u32, yesno(out.events & EPOLLIN));
	rd("read child's signal", fd, pid);
	printf("epoll_wait after read: %d\n", epoll_wait(ep, &out, 1, 0));
	waitpid(pid, &status, 0);
	close(ep);

	// A blocking read woken by a signal from a child.
	int bfd = signalfd(-1, &m, 0);
	pid = fork();
	if (pid == 0) {
		struct timespec t = {0, 30000000};
		nanosleep(&t, NULL);
		sigqueue(getppid(), SIGUSR1, (union sigval){.sival_int = 77});
		_exit(0);
	}
	rd("blocking read", bfd, pid);
	waitpid(pid, &status, 0);

	// A signal sent to one thread is that thread's to read.
	tfd = bfd;
	main_tid = syscall(SYS_gettid);
	pthread_t th;
	pthread_create(&th, NULL, thread, NULL);
	struct timespec t = {0, 30000000};
	nanosleep(&t, NULL);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	printf("main: poll after the thread's signal: %d\n", pending(bfd));
	syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
	printf("main: poll own thread signal: %d\n", pending(bfd));
	rd("main read", bfd, getpid());

	// A child reads its own signals through the inherited signalfd.
	kill(getpid(), SIGUSR1);
	pid = fork();
	if (pid == 0) {
		printf("child: poll (the parent's signal is not the child's): %d\n", pending(fd));
		kill(getpid(), SIGUSR2);
		rd("child read", fd, getpid());
		_exit(0);
	}
	waitpid(pid, &status, 0);
	rd("parent read", fd, getpid());

	// Bad input.
	int pfd[2];
	pipe(pfd);
	CHECK("bad size", syscall(SYS_signalfd4, -1, &m, 4, 0));
	CHECK("bad flags", syscall(SYS_signalfd4, -1, &m, 8, 0x1));
	CHECK("bad pointer", syscall(SYS_signalfd4, -1, (void *)8, 8, 0));
	CHECK("not a signalfd", signalfd(pfd[0], &m, 0));
	CHECK("bad fd", signalfd(99, &m, 0));
	CHECK("old signalfd", syscall(SYS_signalfd, -1, &m, 8));
	return 0;
}
