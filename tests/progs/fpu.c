// fpu: floating point and vector state must survive syscalls. The application
// kernel is Go code that itself uses SSE/AVX, so any register it fails to
// save/restore around a syscall shows up here. Each test loads known values
// into the registers with inline asm, executes a raw `syscall` in the same asm
// block, stores the registers back and compares. The syscalls used cover
// write to stdout, cheap in-kernel calls, a blocking sleep and ENOSYS.
// Output is deterministic (the write syscall prints one '.' per round).
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 16

static int fails;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void check(const char *name, int ok) {
	char b[256];
	snprintf(b, sizeof b, "%s: %s\n", name, ok ? "ok" : "FAIL");
	say(b);
	if (!ok)
		fails++;
}

struct sc {
	const char *name;
	long nr, a1, a2, a3;
};

static struct timespec one_ms = {0, 1000000};
static struct timespec ts_out;
static struct sc calls[] = {
	{"write", SYS_write, 1, (long)".", 1},
	{"getpid", SYS_getpid, 0, 0, 0},
	{"sched_yield", SYS_sched_yield, 0, 0, 0},
	{"clock_gettime", SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts_out, 0},
	{"nanosleep", SYS_nanosleep, (long)&one_ms, 0, 0},
	{"enosys", 1000, 0, 0, 0},
};
#define NCALLS (sizeof calls / sizeof calls[0])

#define X8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define X16(M) X8(M) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define X16HI(M) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23) \
	M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31)
#define XMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define XMM_HI_CLOBBERS "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", \
	"xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31"

// Buffers large enough for 32 zmm registers plus 8 mask registers.
static unsigned char in[32 * 64 + 64] __attribute__((aligned(64)));
static unsigned char out[32 * 64 + 64] __attribute__((aligned(64)));

static void pattern(size_t n, int round, int call) {
	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)(i * 13 + (size_t)round * 7 + (size_t)call * 3 + 1);
	memset(out, 0, sizeof out);
}

// ---- SSE: xmm0-15 ----
#define LD_XMM(i) "movdqu " #i "*16(%[in]), %%xmm" #i "\n\t"
#define ST_XMM(i) "movdqu %%xmm" #i ", " #i "*16(%[out])\n\t"
static long sse_syscall(const struct sc *s) {
	long ret;
	__asm__ volatile(X16(LD_XMM) "syscall\n\t" X16(ST_XMM)
	                 : "=a"(ret)
	                 : "0"(s->nr), "D"(s->a1), "S"(s->a2), "d"(s->a3), [in] "r"(in), [out] "r"(out)
	                 : "rcx", "r11", "memory", XMM_CLOBBERS);
	return ret;
}

// ---- AVX: ymm0-15 ----
#define LD_YMM(i) "vmovdqu " #i "*32(%[in]), %%ymm" #i "\n\t"
#define ST_YMM(i) "vmovdqu %%ymm" #i ", " #i "*32(%[out])\n\t"
__attribute__((target("avx"))) static long avx_syscall(const struct sc *s) {
	long ret;
	__asm__ volatile(X16(LD_YMM) "syscall\n\t" X16(ST_YMM) "vzeroupper\n\t"
	                 : "=a"(ret)
	                 : "0"(s->nr), "D"(s->a1), "S"(s->a2), "d"(s->a3), [in] "r"(in), [out] "r"(out)
	                 : "rcx", "r11", "memory", XMM_CLOBBERS);
	return ret;
}

// ---- AVX-512: zmm0-31 and k0-7 ----
#define LD_ZMM(i) "vmovdqu64 " #i "*64(%[in]), %%zmm" #i "\n\t"
#define ST_ZMM(i) "vmovdqu64 %%zmm" #i ", " #i "*64(%[out])\n\t"
#define LD_K(i) "kmovw 2048+" #i "*2(%[in]), %%k" #i "\n\t"
#define ST_K(i) "kmovw %%k" #i ", 2048+" #i "*2(%[out])\n\t"
__attribute__((target("avx512f"))) static long avx512_syscall(const struct sc *s) {
	long ret;
	__asm__ volatile(X16(LD_ZMM) X16HI(LD_ZMM) X8(LD_K) "syscall\n\t" X16(ST_ZMM) X16HI(ST_ZMM)
	                     X8(ST_K) "vzeroupper\n\t"
	                 : "=a"(ret)
	                 : "0"(s->nr), "D"(s->a1), "S"(s->a2), "d"(s->a3), [in] "r"(in), [out] "r"(out)
	                 : "rcx", "r11", "memory", XMM_CLOBBERS, XMM_HI_CLOBBERS, "k0", "k1", "k2",
	                   "k3", "k4", "k5", "k6", "k7");
	return ret;
}

// ---- x87: all eight stack registers (80-bit values) ----
#define LD_ST(i) "fldt " #i "*16(%[in])\n\t"
#define ST_ST(i) "fstpt " #i "*16(%[out])\n\t"
static long x87_syscall(const struct sc *s) {
	long ret;
	__asm__ volatile(X8(LD_ST) "syscall\n\t" X8(ST_ST)
	                 : "=a"(ret)
	                 : "0"(s->nr), "D"(s->a1), "S"(s->a2), "d"(s->a3), [in] "r"(in), [out] "r"(out)
	                 : "rcx", "r11", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
	                   "st(6)", "st(7)");
	return ret;
}

static void x87_pattern(int round, int call) {
	memset(in, 0, sizeof in);
	memset(out, 0, sizeof out);
	for (int i = 0; i < 8; i++) {
		long double v = (long double)(i + 1) / 3.0L + (long double)round * 1e-7L + call;
		memcpy(in + i * 16, &v, 10);
	}
}

static int x87_ok(void) {
	// fstpt pops the top of stack first: out[i] holds in[7 - i].
	for (int i = 0; i < 8; i++)
		if (memcmp(out + i * 16, in + (7 - i) * 16, 10) != 0)
			return 0;
	return 1;
}

// ---- control registers: MXCSR and the x87 control word ----
static long ctl_syscall(const struct sc *s, uint32_t mx, uint16_t cw, uint32_t *mx_out, uint16_t *cw_out) {
	long ret;
	uint32_t mx_def = 0x1f80;
	uint16_t cw_def = 0x037f;
	__asm__ volatile("ldmxcsr %[mx]\n\t"
	                 "fldcw %[cw]\n\t"
	                 "syscall\n\t"
	                 "stmxcsr %[mxo]\n\t"
	                 "fnstcw %[cwo]\n\t"
	                 "ldmxcsr %[mxd]\n\t"
	                 "fldcw %[cwd]\n\t"
	                 : "=a"(ret), [mxo] "=m"(*mx_out), [cwo] "=m"(*cw_out)
	                 : "0"(s->nr), "D"(s->a1), "S"(s->a2), "d"(s->a3), [mx] "m"(mx), [cw] "m"(cw),
	                   [mxd] "m"(mx_def), [cwd] "m"(cw_def)
	                 : "rcx", "r11", "memory");
	return ret;
}

typedef long (*vecfn)(const struct sc *);

static void vector_test(const char *feature, vecfn fn, size_t bytes) {
	for (size_t c = 0; c < NCALLS; c++) {
		char name[64];
		snprintf(name, sizeof name, "%s/%s: ", feature, calls[c].name);
		say(name);
		int ok = 1;
		for (int r = 0; r < ROUNDS; r++) {
			pattern(bytes, r, (int)c);
			fn(&calls[c]);
			if (memcmp(in, out, bytes) != 0)
				ok = 0;
		}
		say(ok ? "ok\n" : "FAIL\n");
		if (!ok)
			fails++;
	}
}

// A plain floating point computation, printed step by step through write(2).
static void compute(void) {
	double y = 1.0, h = 0.0, p = 1.0;
	float f = 0.1f;
	typedef double v2df __attribute__((vector_size(16)));
	v2df v = {1.5, -2.25};
	for (int step = 1; step <= 12; step++) {
		y = (y + 2.0 / y) / 2.0;  // Newton for sqrt(2)
		h += 1.0 / step;          // harmonic numbers
		p *= 1.0 + 1.0 / (step * step);
		f = f * 1.5f - 0.01f;
		v = v * (v2df){1.0625, 0.9375} + (v2df){0.5, 0.25};
		char b[256];
		snprintf(b, sizeof b, "step %2d: y=%.17g h=%.17g p=%.17g f=%.9g v=(%.17g, %.17g)\n",
		         step, y, h, p, (double)f, v[0], v[1]);
		say(b);
	}
}

int main(void) {
	__builtin_cpu_init();
	compute();

	vector_test("sse", sse_syscall, 16 * 16);
	if (__builtin_cpu_supports("avx"))
		vector_test("avx", avx_syscall, 16 * 32);
	else
		say("avx: unsupported\n");
	if (__builtin_cpu_supports("avx512f"))
		vector_test("avx512", avx512_syscall, 32 * 64 + 16);
	else
		say("avx512: unsupported\n");

	for (size_t c = 0; c < NCALLS; c++) {
		char name[64];
		snprintf(name, sizeof name, "x87/%s: ", calls[c].name);
		say(name);
		int ok = 1;
		for (int r = 0; r < ROUNDS; r++) {
			x87_pattern(r, (int)c);
			x87_syscall(&calls[c]);
			if (!x87_ok())
				ok = 0;
		}
		say(ok ? "ok\n" : "FAIL\n");
		if (!ok)
			fails++;
	}

	for (size_t c = 0; c < NCALLS; c++) {
		char name[64];
		snprintf(name, sizeof name, "mxcsr+fpucw/%s: ", calls[c].name);
		say(name);
		int ok = 1;
		// MXCSR: round toward zero + flush-to-zero; x87: round up, 53-bit precision.
		uint32_t mx = 0xff80, mxo = 0;
		uint16_t cw = 0x0a7f, cwo = 0;
		for (int r = 0; r < ROUNDS; r++) {
			ctl_syscall(&calls[c], mx, cw, &mxo, &cwo);
			// Exception flag bits (0-5) in MXCSR may legitimately be set.
			if ((mxo & ~0x3fu) != mx || cwo != cw)
				ok = 0;
		}
		say(ok ? "ok\n" : "FAIL\n");
		if (!ok)
			fails++;
	}

	compute();
	check("fpu", fails == 0);
	return fails ? 1 : 0;
}
