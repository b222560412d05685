// badsigreturn: a handler edits its frame so that rt_sigreturn gets a
// non-canonical RIP ("rip"), a kernel-half RSP ("rsp") or a corrupt FP
// image ("fp": reserved MXCSR bits, every XSTATE_BV bit, a reserved header
// word). Linux refuses each frame with SIGSEGV; ringbox must do the same
// and never fault in its own return path.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static const char *mode;

static void handler(int sig, siginfo_t *si, void *ucv) {
	ucontext_t *uc = ucv;
	if (strcmp(mode, "rip") == 0)
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)0x8000000000001000ULL;
	else if (strcmp(mode, "rsp") == 0)
		uc->uc_mcontext.gregs[REG_RSP] = (greg_t)0xffff800000001000ULL;
	else {
		unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
		memset(fp + 24, 0xff, 4);   // MXCSR
		memset(fp + 512, 0xff, 8);  // XSTATE_BV
		memset(fp + 512 + 8, 0xff, 8); // XCOMP_BV
		memset(fp + 512 + 40, 0xff, 8); // reserved header bytes
	}
}

int main(int argc, char **argv) {
	mode = argc > 1 ? argv[1] : "rip";
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("survived\n");
	return 0;
}
