// pidfds: pidfd_open, polling a pidfd for the exit, pidfd_send_signal,
// waitid(P_PIDFD), clone3 with CLONE_PIDFD, and the errors for a thread's
// TID and a process that does not exist.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int pidfd_open(pid_t pid, unsigned flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }

static const char *code(int c) {
	return c == CLD_EXITED ? "CLD_EXITED" : c == CLD_KILLED ? "CLD_KILLED" : "other";
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	int fd = pidfd_open(p, 0);
	printf("pidfd_open: %s\n", fd >= 0 ? "ok" : strerror(errno));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	printf("readable while it runs: %d\n", poll(&pfd, 1, 0));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	printf("pidfd_send_signal: %d\n", (int)syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
	int pr = poll(&pfd, 1, 10000);
	printf("readable after it died: %d (revents POLLIN %s)\n", pr, pfd.revents & POLLIN ? "yes" : "no");
	int er = epoll_wait(ep, &out, 1, 10000);
	printf("epoll_wait on the pidfd: %d, data %u\n", er, out.data.u32);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = waitid(P_PIDFD, fd, &si, WEXITED);
	printf("waitid(P_PIDFD): %d %s %d\n", r, code(si.si_code), si.si_status);
	errno = 0;
	printf("pidfd_send_signal to a reaped process: %s\n",
	       syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) == -1 && errno == ESRCH ? "ESRCH" : "?");
	close(fd);

	// clone3 with CLONE_PIDFD: the parent gets the pidfd.
	int cfd = -1;
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&cfd;
	ca.exit_signal = SIGCHLD;
	fflush(stdout);
	long c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0)
		_exit(5);
	printf("clone3 CLONE_PIDFD: %s\n", c > 0 && cfd >= 0 ? "got a pidfd" : strerror(errno));
	memset(&si, 0, sizeof si);
	r = waitid(P_PIDFD, cfd, &si, WEXITED);
	printf("waitid(P_PIDFD) of the clone3 child: %d %s %d\n", r, code(si.si_code), si.si_status);

	errno = 0;
	pidfd_open(0x3fffffff, 0);
	printf("pidfd_open of no process: %s\n", errno == ESRCH ? "ESRCH" : strerror(errno));
	errno = 0;
	pidfd_open(getpid(), 12345);
	printf("pidfd_open with bad flags: %s\n", errno == EINVAL ? "EINVAL" : strerror(errno));
	return 0;
}
