// procs: fork, exec, wait and signals between processes. Prints only what
// is the same natively and in the sandbox (no PIDs: the sandbox's first
// process is PID 1, a native run's is not).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
	}
}

static void show(const char *what, int st) {
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by %d\n", what, WTERMSIG(st));
	else if (WIFSTOPPED(st))
		printf("%s: stopped by %d\n", what, WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		printf("%s: continued\n", what);
	else
		printf("%s: status %#x\n", what, st);
	fflush(stdout);
}

static pid_t child(int (*fn)(void)) {
	fflush(stdout);
	pid_t p = fork();
	if (p < 0) {
		perror("fork");
		exit(100);
	}
	if (p == 0)
		_exit(fn());
	return p;
}

static int exit7(void) { return 7; }
static int term(void) {
	kill(getpid(), SIGTERM);
	return 1;
}
static int segv(void) {
	volatile int *p = 0;
	return *p;
}
static int pauser(void) {
	for (;;)
		pause();
}
static int echo(void) {
	execl("/bin/echo", "echo", "exec from a child", (char *)0);
	return 127;
}
static int exit3(void) { return 3; }

static int global = 1;
static int cow(void) {
	global = 2;
	return global;
}

static volatile sig_atomic_t chld_code, chld_status, chld_count;
static void on_chld(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_count++;
}

int main(void) {
	int st;
	pid_t p;

	setvbuf(stdout, NULL, _IOLBF, 0);

	p = child(exit7);
	if (waitpid(p, &st, 0) != p)
		perror("waitpid");
	show("exit(7)", st);

	p = child(term);
	waitpid(p, &st, 0);
	show("SIGTERM", st);

	p = child(segv);
	waitpid(p, &st, 0);
	show("NULL dereference", st);

	p = child(echo);
	waitpid(p, &st, 0);
	show("execl /bin/echo", st);

	// No children left.
	errno = 0;
	int wr = (int)wait(&st);
	printf("wait with no children: %d %s\n", wr, errno == ECHILD ? "ECHILD" : strerror(errno));

	// Copy-on-write: the child's write stays in the child.
	p = child(cow);
	global = 5;
	waitpid(p, &st, 0);
	printf("cow: child saw %d, parent has %d\n", WEXITSTATUS(st), global);

	// Shared anonymous memory is shared.
	volatile int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*shared = 1;
	fflush(stdout);
	if ((p = fork()) == 0) {
		*shared = 42;
		_exit(0);
	}
	waitpid(p, &st, 0);
	printf("shared mapping after the child wrote: %d\n", *shared);

	// A zombie stays until it is waited for.
	p = child(exit3);
	msleep(50);
	printf("zombie exists: %s\n", kill(p, 0) == 0 ? "yes" : "no");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, p, &si, WEXITED | WNOWAIT) == 0)
		printf("waitid WNOWAIT: code %s status %d\n", si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_status);
	printf("still a zombie: %s\n", kill(p, 0) == 0 ? "yes" : "no");
	waitpid(p, &st, 0);
	show("reaped", st);
	printf("gone: %s\n", kill(p, 0) == -1 && errno == ESRCH ? "yes" : "no");

	// WNOHANG with a running child.
	p = child(pauser);
	printf("WNOHANG on a running child: %d\n", (int)waitpid(p, &st, WNOHANG));
	// Stop, continue, kill.
	kill(p, SIGSTOP);
	waitpid(p, &st, WUNTRACED);
	show("SIGSTOP", st);
	kill(p, SIGCONT);
	waitpid(p, &st, WCONTINUED);
	show("SIGCONT", st);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	show("SIGKILL", st);

	// A process group: two children, one kill(-pgid).
	pid_t a = child(pauser), b = child(pauser);
	setpgid(a, a);
	setpgid(b, a);
	printf("same group: %s\n", getpgid(a) == a && getpgid(b) == a ? "yes" : "no");
	kill(-a, SIGTERM);
	waitpid(a, &st, 0);
	show("group member a", st);
	waitpid(b, &st, 0);
	show("group member b", st);

	// setsid in a child makes a new session and group.
	fflush(stdout);
	if ((p = fork()) == 0) {
		pid_t s = setsid();
		_exit(s == getpid() && getsid(0) == getpid() && getpgrp() == getpid() ? 0 : 1);
	}
	waitpid(p, &st, 0);
	show("setsid in a child", st);

	// SIGCHLD with its siginfo.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	p = child(exit3);
	while (chld_count == 0)
		msleep(5);
	printf("SIGCHLD: code %s status %d\n", chld_code == CLD_EXITED ? "CLD_EXITED" : "?", (int)chld_status);
	waitpid(p, &st, 0);

	// SIGCHLD ignored: children are reaped at once.
	signal(SIGCHLD, SIG_IGN);
	p = child(exit3);
	errno = 0;
	pid_t w = waitpid(p, &st, 0);
	printf("SIG_IGN SIGCHLD: waitpid %s\n", w == -1 && errno == ECHILD ? "ECHILD" : "returned a status");
	signal(SIGCHLD, SIG_DFL);

	// An orphan goes to the nearest subreaper: this process.
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid_t self = getpid();
	volatile int *flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fflush(stdout);
	if ((p = fork()) == 0) {
		pid_t mid = getpid();
		if (fork() == 0) {
			while (getppid() == mid)
				msleep(2);
			*flag = getppid() == self ? 1 : 3;
			_exit(5);
		}
		_exit(0);
	}
	waitpid(p, &st, 0);
	while (*flag == 0)
		msleep(2);
	printf("orphan reparented to the subreaper: %s\n", *flag == 1 ? "yes" : "no");
	waitpid(-1, &st, 0);
	show("the orphan, reaped by the subreaper", st);

	// vfork + exec, and posix_spawn.
	fflush(stdout);
	if ((p = vfork()) == 0) {
		execl("/bin/true", "true", (char *)0);
		_exit(127);
	}
	waitpid(p, &st, 0);
	show("vfork + exec /bin/true", st);
	char *argv[] = {"echo", "spawned", NULL};
	fflush(stdout);
	if (posix_spawn(&p, "/bin/echo", NULL, NULL, argv, environ) != 0)
		printf("posix_spawn failed\n");
	waitpid(p, &st, 0);
	show("posix_spawn /bin/echo", st);

	// PR_SET_PDEATHSIG: the grandchild dies with its parent.
	fflush(stdout);
	if ((p = fork()) == 0) {
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			*flag = 2;
			pause();
			_exit(0);
		}
		while (*flag != 2)
			msleep(2);
		_exit(0);
	}
	waitpid(p, &st, 0);
	waitpid(-1, &st, 0);
	show("PR_SET_PDEATHSIG grandchild", st);
	// /proc/self is whoever looks: a child sees its own PID and parent.
	fflush(stdout);
	if ((p = fork()) == 0) {
		char buf[64] = {0}, stat[512] = {0};
		readlink("/proc/self", buf, sizeof buf - 1);
		FILE *f = fopen("/proc/self/stat", "r");
		if (f) {
			fread(stat, 1, sizeof stat - 1, f);
			fclose(f);
		}
		int spid = 0, sppid = 0;
		char state = 0;
		char *rp = strrchr(stat, ')');
		if (rp)
			sscanf(rp + 2, "%c %d", &state, &sppid);
		sscanf(stat, "%d", &spid);
		printf("/proc/self in a child: pid %s, stat pid %s, ppid %s, state %c\n",
		       atoi(buf) == getpid() ? "ok" : buf, spid == getpid() ? "ok" : "wrong",
		       sppid == getppid() ? "ok" : "wrong", state);
		_exit(0);
	}
	waitpid(p, &st, 0);
	char name[16] = {0};
	prctl(PR_SET_NAME, "procs-test");
	prctl(PR_GET_NAME, name);
	printf("PR_GET_NAME: %s\n", name);
	printf("done\n");
	return 0;
}
