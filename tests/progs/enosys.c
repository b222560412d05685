// enosys: unimplemented syscall numbers fail with ENOSYS, and the syscall
// instruction preserves every register except rax (result), rcx and r11 (as
// on Linux), including the arithmetic flags.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok) {
	printf("%s: %s\n", name, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

static int is_enosys(long nr) {
	errno = 0;
	long r = syscall(nr, 1L, 2L, 3L, 4L, 5L, 6L);
	return r == -1 && errno == ENOSYS;
}

// abi_probe(nr, out): loads known values into all general purpose registers
// that the syscall must preserve, sets CF, PF, ZF, SF and OF (AF and DF
// clear), executes `syscall` with rax=nr and stores, in order, rax rdi rsi
// rdx r10 r8 r9 rbx rbp r12 r13 r14 r15 and the flags before and after into
// out[0..14].
void abi_probe(long nr, uint64_t *out);
__asm__(".text\n"
        ".globl abi_probe\n"
        ".type abi_probe, @function\n"
        "abi_probe:\n"
        "  push %rbx\n"
        "  push %rbp\n"
        "  push %r12\n"
        "  push %r13\n"
        "  push %r14\n"
        "  push %r15\n"
        "  push %rsi\n" // out
        "  mov %rdi, %rax\n"
        "  movabs $0x1111111111111111, %rdi\n"
        "  movabs $0x2222222222222222, %rsi\n"
        "  movabs $0x3333333333333333, %rdx\n"
        "  movabs $0x4444444444444444, %r10\n"
        "  movabs $0x5555555555555555, %r8\n"
        "  movabs $0x6666666666666666, %r9\n"
        "  movabs $0x7777777777777777, %rbx\n"
        "  movabs $0x8888888888888888, %rbp\n"
        "  movabs $0x9999999999999999, %r12\n"
        "  movabs $0xaaaaaaaaaaaaaaaa, %r13\n"
        "  movabs $0xbbbbbbbbbbbbbbbb, %r14\n"
        "  movabs $0xcccccccccccccccc, %r15\n"
        "  push $0x8c5\n" // CF PF ZF SF OF set; AF DF clear
        "  popfq\n"
        "  pushfq\n"
        "  syscall\n"
        "  pushfq\n"
        "  mov 16(%rsp), %rcx\n" // out (above the two saved flag words)
        "  mov %rax, 0(%rcx)\n"
        "  mov %rdi, 8(%rcx)\n"
        "  mov %rsi, 16(%rcx)\n"
        "  mov %rdx, 24(%rcx)\n"
        "  mov %r10, 32(%rcx)\n"
        "  mov %r8, 40(%rcx)\n"
        "  mov %r9, 48(%rcx)\n"
        "  mov %rbx, 56(%rcx)\n"
        "  mov %rbp, 64(%rcx)\n"
        "  mov %r12, 72(%rcx)\n"
        "  mov %r13, 80(%rcx)\n"
        "  mov %r14, 88(%rcx)\n"
        "  mov %r15, 96(%rcx)\n"
        "  pop %rax\n" // flags after
        "  mov %rax, 112(%rcx)\n"
        "  pop %rax\n" // flags before
        "  mov %rax, 104(%rcx)\n"
        "  pop %rsi\n"
        "  pop %r15\n"
        "  pop %r14\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  pop %rbp\n"
        "  pop %rbx\n"
        "  ret\n"
        ".size abi_probe, .-abi_probe\n");

static void abi_check(const char *name, long nr, long want_rax) {
	static const uint64_t want[13] = {
		0, 0x1111111111111111, 0x2222222222222222, 0x3333333333333333,
		0x4444444444444444, 0x5555555555555555, 0x6666666666666666,
		0x7777777777777777, 0x8888888888888888, 0x9999999999999999,
		0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb, 0xcccccccccccccccc,
	};
	static const char *names[13] = {"rax", "rdi", "rsi", "rdx", "r10", "r8", "r9",
	                                "rbx", "rbp", "r12", "r13", "r14", "r15"};
	uint64_t out[15];
	memset(out, 0, sizeof out);
	abi_probe(nr, out);
	int ok = 1;
	if ((long)out[0] != want_rax) {
		fprintf(stderr, "%s: rax=%ld want %ld\n", name, (long)out[0], want_rax);
		ok = 0;
	}
	for (int i = 1; i < 13; i++)
		if (out[i] != want[i]) {
			fprintf(stderr, "%s: %s=%#llx want %#llx\n", name, names[i],
			        (unsigned long long)out[i], (unsigned long long)want[i]);
			ok = 0;
		}
	// CF PF AF ZF SF OF DF
	const uint64_t mask = 0xcd5;
	if ((out[13] & mask) != (out[14] & mask)) {
		fprintf(stderr, "%s: rflags before %#llx after %#llx\n", name,
		        (unsigned long long)out[13], (unsigned long long)out[14]);
		ok = 0;
	}
	check(name, ok);
}

// 335 is unassigned on stock x86-64 Linux (334 is rseq, 424 pidfd_send_signal)
// but some patched host kernels use it, so the e2e test checks this program's
// output against a golden copy instead of against a native run.
int main(void) {
	check("syscall(1000) -> ENOSYS", is_enosys(1000));
	check("syscall(335) -> ENOSYS", is_enosys(335));
	check("syscall(100000) -> ENOSYS", is_enosys(100000));
	abi_check("registers and flags preserved across ENOSYS syscall", 1000, -ENOSYS);
	abi_check("registers and flags preserved across getppid", SYS_getppid, (long)getppid());
	return fails ? 1 : 0;
}
