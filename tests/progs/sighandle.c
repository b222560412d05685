// sighandle: handlers for signals sent from outside while the program
// blocks. sigsuspend cut by a handler returns EINTR (SIGINT is blocked
// until then, so an early signal waits for it); a futex wait cut by an
// SA_RESTART handler runs again (it must not return). The e2e test sends
// SIGINT, SIGHUP, then SIGTERM (which kills it), reading each line first.
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *s) { write(1, s, strlen(s)); }
static void on_int(int sig) { say("int\n"); }
static void on_hup(int sig) { say("hup\n"); }

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);

	sigset_t intset, none;
	sigemptyset(&intset);
	sigaddset(&intset, SIGINT);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &intset, NULL);
	say("ready\n");
	int r = sigsuspend(&none);
	printf("sigsuspend: %d %s\n", r, r < 0 && errno == EINTR ? "EINTR" : "?");
	fflush(stdout);

	int word = 0;
	say("waiting\n");
	r = syscall(SYS_futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0);
	printf("futex returned %d (errno %d)\n", r, errno);
	return 3;
}
