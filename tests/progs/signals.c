// signals: handlers run on a signal frame and return through rt_sigreturn
// with registers, FP state and the signal mask restored. Covers
// SA_SIGINFO, the handler's mask, sigaltstack with SA_ONSTACK, fault
// handlers leaving by siglongjmp, a handler that edits the interrupted
// context, and SA_RESETHAND (the second SIGUSR2 kills the program).
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) // linux/signal.h; not exported by glibc
#endif

static volatile int got, code, blocked_inside;
static volatile double handler_math;
static sigjmp_buf jb;
static char altstack[64 * 1024];
static volatile int on_alt;

static void on_usr1(int sig, siginfo_t *si, void *uc) {
	sigset_t cur;
	got = si->si_signo;
	code = si->si_code;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	blocked_inside = sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGHUP);
	handler_math = 0;
	for (int i = 1; i < 100; i++)
		handler_math += 1.0 / i; // clobbers xmm registers
}

static volatile int inside_flags = -1;
static void on_alt_sig(int sig) {
	char here;
	on_alt = &here >= altstack && &here < altstack + sizeof altstack;
	stack_t cur;
	sigaltstack(NULL, &cur);
	inside_flags = cur.ss_flags;
}

static void on_fault(int sig, siginfo_t *si, void *uc) {
	printf("fault handler: signal %d, address %p\n", sig, si->si_addr);
	siglongjmp(jb, sig);
}

static void on_ill(int sig, siginfo_t *si, void *ucv) {
	ucontext_t *uc = ucv;
	uc->uc_mcontext.gregs[REG_RIP] += 2; // skip the ud2
	uc->uc_mcontext.gregs[REG_RBX] = 0x1234;
}

static char order[8];
static volatile int norder;
static void record(int sig) { order[norder++] = sig == SIGUSR1 ? '1' : '2'; }

static void on_usr2(int sig) {
	printf("usr2 handler\n");
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGUSR1, &sa, NULL);

	volatile double x = 3.25;
	double y = x * 2;
	kill(getpid(), SIGUSR1);
	double z = y + 1;
	printf("usr1: signo %d code %d, mask inside ok %d, math %.6f, fp kept %.2f\n",
	       got, code, blocked_inside, handler_math, z);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("mask restored: %d\n", !sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGHUP));

	// A blocked signal waits until it is unblocked.
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	got = 0;
	sigprocmask(SIG_BLOCK, &s, NULL);
	raise(SIGUSR1);
	printf("while blocked: %d\n", got);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	printf("after unblock: %d code %d\n", got, code);

	// sigaltstack + SA_ONSTACK.
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	if (sigaltstack(&ss, NULL) != 0)
		perror("sigaltstack");
	stack_t old;
	sigaltstack(NULL, &old);
	printf("altstack: size ok %d flags %d\n", old.ss_size == sizeof altstack, old.ss_flags);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alt_sig;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGWINCH, &sa, NULL);
	raise(SIGWINCH);
	printf("handler on altstack: %d, flags inside %d\n", on_alt, inside_flags);

	// SS_AUTODISARM: disarmed while the handler runs, back after it.
	ss.ss_flags = SS_AUTODISARM;
	sigaltstack(&ss, NULL);
	on_alt = 0;
	raise(SIGWINCH);
	sigaltstack(NULL, &old);
	printf("autodisarm: on altstack %d, flags inside %d, after %#x size ok %d\n", on_alt,
	       inside_flags, old.ss_flags, old.ss_size == sizeof altstack);

	// Fault handlers leaving by siglongjmp.
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	int r = sigsetjmp(jb, 1);
	if (r == 0)
		*(volatile int *)16 = 1;
	printf("back from SIGSEGV: %d\n", r);
	r = sigsetjmp(jb, 1);
	if (r == 0) {
		int q;
		__asm__ volatile("xor %%ecx, %%ecx\n\tmov $1, %%eax\n\tcltd\n\tidiv %%ecx"
				 : "=a"(q) : : "ecx", "edx");
		printf("%d\n", q);
	}
	printf("back from SIGFPE: %d\n", r);

	// A handler that edits the interrupted context.
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_ill;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGILL, &sa, NULL);
	uint64_t rbx;
	__asm__ volatile("mov $1, %%rbx\n\tud2\n\tmov %%rbx, %0" : "=r"(rbx) : : "rbx");
	printf("after ud2: rbx %#lx\n", (unsigned long)rbx);

	// Two signals unblocked at once: both frames are pushed before the
	// return to user code, so the higher one (pushed last) runs first.
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = record;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t both;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigprocmask(SIG_BLOCK, &both, NULL);
	raise(SIGUSR1);
	raise(SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &both, NULL);
	printf("delivery order: %.*s\n", norder, order);

	// SA_RESETHAND: the handler runs once, then the default action.
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	fflush(stdout);
	raise(SIGUSR2);
	printf("not reached\n");
	return 0;
}
