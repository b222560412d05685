// mmap: anonymous memory management semantics. Every step prints "NAME: ok"
// or "NAME: FAIL"; no addresses are printed. No signal handlers are used:
// whether a page is writable is probed with a raw clock_gettime syscall that
// writes into it (EFAULT when the kernel cannot write there).
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static size_t PG;
static int fails;

static void check(const char *name, int ok) {
	printf("%s: %s\n", name, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

static int is_fill(const unsigned char *p, size_t n, unsigned char v) {
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

// Page i of a test mapping holds the byte value (i + 1 + salt).
static void fill_pages(unsigned char *p, size_t first, size_t count, int salt) {
	for (size_t i = first; i < first + count; i++)
		memset(p + i * PG, (int)(i + 1 + salt), PG);
}

static int check_pages(const unsigned char *p, size_t first, size_t count, int salt) {
	for (size_t i = first; i < first + count; i++)
		if (!is_fill(p + i * PG, PG, (unsigned char)(i + 1 + salt)))
			return 0;
	return 1;
}

// Asks the kernel to write 16 bytes at addr. Returns 0 on success or errno.
static int kernel_write_probe(void *addr) {
	long r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, addr);
	return r == 0 ? 0 : errno;
}

static unsigned char *map_anon(size_t len, int prot) {
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : (unsigned char *)p;
}

int main(void) {
	PG = (size_t)sysconf(_SC_PAGESIZE);

	// 1. Fresh anonymous memory is zero and writable.
	unsigned char *p = map_anon(16 * PG, PROT_READ | PROT_WRITE);
	check("mmap anonymous", p != NULL);
	if (!p)
		return 1;
	check("fresh pages are zero", is_fill(p, 16 * PG, 0));
	fill_pages(p, 0, 16, 0);
	check("write and read back", check_pages(p, 0, 16, 0));

	// 2. mprotect read-only and back.
	check("mprotect PROT_READ", mprotect(p, 16 * PG, PROT_READ) == 0);
	check("read-only pages keep contents", check_pages(p, 0, 16, 0));
	check("kernel write to read-only page -> EFAULT", kernel_write_probe(p + 3 * PG) == EFAULT);
	check("read-only page unchanged", check_pages(p, 3, 1, 0));
	check("mprotect PROT_READ|PROT_WRITE", mprotect(p, 16 * PG, PROT_READ | PROT_WRITE) == 0);
	check("kernel write to writable page succeeds", kernel_write_probe(p + 3 * PG) == 0);
	fill_pages(p, 3, 1, 0);
	fill_pages(p, 0, 16, 0);
	check("writable again", check_pages(p, 0, 16, 0));

	// 3. PROT_NONE on one page in the middle, then back: contents survive.
	check("mprotect one page PROT_NONE", mprotect(p + 2 * PG, PG, PROT_NONE) == 0);
	check("kernel write to PROT_NONE page -> EFAULT", kernel_write_probe(p + 2 * PG) == EFAULT);
	check("neighbours of PROT_NONE page intact",
	      check_pages(p, 0, 2, 0) && check_pages(p, 3, 13, 0));
	check("mprotect page back to RW", mprotect(p + 2 * PG, PG, PROT_READ | PROT_WRITE) == 0);
	check("PROT_NONE page kept its contents", check_pages(p, 2, 1, 0));

	// 4. Partial munmap of the middle of the mapping.
	check("munmap pages 4..7", munmap(p + 4 * PG, 4 * PG) == 0);
	check("kernel write into hole -> EFAULT", kernel_write_probe(p + 5 * PG) == EFAULT);
	check("mprotect on hole -> ENOMEM",
	      mprotect(p + 4 * PG, PG, PROT_READ) == -1 && errno == ENOMEM);
	check("munmap of hole again succeeds", munmap(p + 4 * PG, 4 * PG) == 0);
	check("pages around hole intact", check_pages(p, 0, 4, 0) && check_pages(p, 8, 8, 0));

	// 5. MAP_FIXED into the hole and over existing pages.
	void *q = mmap(p + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	check("MAP_FIXED into hole", q == (void *)(p + 4 * PG));
	check("MAP_FIXED pages in hole are zero", q == (void *)(p + 4 * PG) && is_fill(q, 4 * PG, 0));
	fill_pages(p, 4, 4, 0);
	q = mmap(p + 8 * PG, 2 * PG, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	check("MAP_FIXED over existing pages", q == (void *)(p + 8 * PG));
	check("replaced pages are zero", is_fill(p + 8 * PG, 2 * PG, 0));
	check("other pages intact", check_pages(p, 0, 8, 0) && check_pages(p, 10, 6, 0));
	fill_pages(p, 8, 2, 0);

	// 6. mremap: grow (may move), move to a fixed address, shrink.
	unsigned char *r = mremap(p, 16 * PG, 64 * PG, MREMAP_MAYMOVE);
	check("mremap grow 16 -> 64 pages", r != MAP_FAILED);
	if (r == MAP_FAILED)
		return 1;
	check("grown mapping keeps contents", check_pages(r, 0, 16, 0));
	check("grown tail is zero", is_fill(r + 16 * PG, 48 * PG, 0));
	fill_pages(r, 16, 48, 0);
	unsigned char *dst = map_anon(64 * PG, PROT_NONE);
	check("reserve PROT_NONE destination", dst != NULL);
	unsigned char *m = mremap(r, 64 * PG, 64 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	check("mremap move to fixed address", m == dst);
	check("moved mapping keeps contents", m == dst && check_pages(m, 0, 64, 0));
	check("old address unmapped after move", kernel_write_probe(r) == EFAULT);
	check("mremap shrink 64 -> 8 pages", mremap(dst, 64 * PG, 8 * PG, 0) == dst);
	check("shrunk tail unmapped", kernel_write_probe(dst + 8 * PG) == EFAULT);
	check("shrunk mapping keeps contents", check_pages(dst, 0, 8, 0));
	check("munmap moved mapping", munmap(dst, 8 * PG) == 0);

	// 7. madvise(MADV_DONTNEED) zeroes private anonymous pages.
	unsigned char *d = map_anon(8 * PG, PROT_READ | PROT_WRITE);
	check("mmap for madvise", d != NULL);
	if (!d)
		return 1;
	fill_pages(d, 0, 8, 40);
	check("madvise MADV_DONTNEED pages 2..4", madvise(d + 2 * PG, 3 * PG, MADV_DONTNEED) == 0);
	check("DONTNEED pages read back zero", is_fill(d + 2 * PG, 3 * PG, 0));
	check("other pages intact after DONTNEED",
	      check_pages(d, 0, 2, 40) && check_pages(d, 5, 3, 40));
	fill_pages(d, 2, 3, 40);
	check("DONTNEED pages writable again", check_pages(d, 0, 8, 40));
	munmap(d, 8 * PG);

	// 8. Large PROT_NONE reservation, parts made usable (runtime-style heaps).
	size_t big = (size_t)1 << 30, slice = (size_t)1 << 20;
	unsigned char *res = mmap(NULL, big, PROT_NONE,
	                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	check("reserve 1 GiB PROT_NONE", res != MAP_FAILED);
	if (res != MAP_FAILED) {
		size_t offs[] = {0, big / 2, big - slice};
		int ok = 1;
		for (int k = 0; k < 3; k++) {
			if (mprotect(res + offs[k], slice, PROT_READ | PROT_WRITE) != 0)
				ok = 0;
			else {
				if (!is_fill(res + offs[k], slice, 0))
					ok = 0;
				memset(res + offs[k], 0x5A + k, slice);
			}
		}
		for (int k = 0; k < 3 && ok; k++)
			if (!is_fill(res + offs[k], slice, (unsigned char)(0x5A + k)))
				ok = 0;
		check("slices of reservation usable", ok);
		check("rest of reservation still PROT_NONE", kernel_write_probe(res + slice) == EFAULT);
		check("munmap reservation", munmap(res, big) == 0);
	}

	// 9. MAP_SHARED|MAP_ANONYMOUS and MAP_POPULATE.
	unsigned char *sh = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	check("MAP_SHARED anonymous", sh != MAP_FAILED && is_fill(sh, 4 * PG, 0));
	if (sh != MAP_FAILED) {
		fill_pages(sh, 0, 4, 9);
		check("MAP_SHARED write/read", check_pages(sh, 0, 4, 9));
		munmap(sh, 4 * PG);
	}
	unsigned char *pop = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
	                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check("MAP_POPULATE", pop != MAP_FAILED && is_fill(pop, 16 * PG, 0));
	if (pop != MAP_FAILED)
		munmap(pop, 16 * PG);

	// 10. Generate code, flip to PROT_READ|PROT_EXEC and call it (JIT pattern).
	unsigned char *code = map_anon(PG, PROT_READ | PROT_WRITE);
	int jit_ok = 0;
	if (code) {
		static const unsigned char fn[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3}; // mov eax,42; ret
		memcpy(code, fn, sizeof fn);
		if (mprotect(code, PG, PROT_READ | PROT_EXEC) == 0) {
			int (*f)(void) = (int (*)(void))(void *)code;
			jit_ok = f() == 42;
		}
		munmap(code, PG);
	}
	check("execute generated code", jit_ok);

	// 11. brk grows and shrinks the heap.
	unsigned char *cur = sbrk(0);
	unsigned char *old = sbrk(1 << 20);
	int brk_ok = old == cur && (unsigned char *)sbrk(0) == cur + (1 << 20);
	if (brk_ok) {
		unsigned char *first = (unsigned char *)(((uintptr_t)cur + PG - 1) & ~(uintptr_t)(PG - 1));
		brk_ok = is_fill(first, (size_t)(cur + (1 << 20) - first), 0);
		memset(cur, 0x77, 1 << 20);
		brk_ok = brk_ok && is_fill(cur, 1 << 20, 0x77);
		sbrk(-(1 << 20));
		brk_ok = brk_ok && (unsigned char *)sbrk(0) == cur;
		brk_ok = brk_ok && kernel_write_probe(first + PG) == EFAULT;
	}
	check("brk grow/shrink", brk_ok);

	// 12. Invalid arguments.
	errno = 0;
	check("mmap length 0 -> EINVAL",
	      mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	unsigned char *e = map_anon(2 * PG, PROT_READ | PROT_WRITE);
	errno = 0;
	check("munmap unaligned -> EINVAL", munmap(e + 1, PG) == -1 && errno == EINVAL);
	errno = 0;
	check("mprotect unaligned -> EINVAL", mprotect(e + 1, PG, PROT_READ) == -1 && errno == EINVAL);
	errno = 0;
	check("MAP_FIXED unaligned -> EINVAL",
	      mmap(e + 1, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
	          errno == EINVAL);
	errno = 0;
	check("mmap without MAP_PRIVATE/MAP_SHARED -> EINVAL",
	      mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	errno = 0;
	check("mremap bad flags -> EINVAL", mremap(e, PG, PG, 0x1000) == MAP_FAILED && errno == EINVAL);
	munmap(e, 2 * PG);

	fflush(stdout);
	return fails ? 1 : 0;
}
