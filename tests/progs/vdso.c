// vdso: the vDSO as programs find it. AT_SYSINFO_EHDR names an ELF shared
// object called linux-vdso.so.1 whose functions are found by walking its
// own tables with the version LINUX_2.6 (as Go's runtime and glibc do),
// return what the system calls return (a clock read through the vDSO and
// one through the kernel never disagree in order), and go on working after
// fork and exec. /proc/self/maps shows it as [vdso]; its text cannot be
// written. With the argument "exec" it checks a freshly exec'd image.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok) {
	printf("%s: %s\n", name, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

// The vDSO's dynamic tables.
static struct {
	uintptr_t base, bias;
	Elf64_Sym *sym;
	const char *str;
	Elf32_Word *hash;
	Elf64_Versym *versym;
	Elf64_Verdef *verdef;
	const char *soname;
} v;

static unsigned long elfhash(const char *s) {
	unsigned long h = 0, g;
	while (*s) {
		h = (h << 4) + (unsigned char)*s++;
		if ((g = h & 0xf0000000))
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static int parse(uintptr_t base) {
	memset(&v, 0, sizeof v);
	v.base = base;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_DYN)
		return 0;
	Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
	Elf64_Dyn *dyn = NULL;
	int load = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load) {
			v.bias = base + ph[i].p_offset - ph[i].p_vaddr;
			load = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (Elf64_Dyn *)(base + ph[i].p_offset);
		}
	}
	if (!load || !dyn)
		return 0;
	uintptr_t soname = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = dyn->d_un.d_ptr + v.bias;
		switch (dyn->d_tag) {
		case DT_SYMTAB: v.sym = (Elf64_Sym *)p; break;
		case DT_STRTAB: v.str = (const char *)p; break;
		case DT_HASH: v.hash = (Elf32_Word *)p; break;
		case DT_VERSYM: v.versym = (Elf64_Versym *)p; break;
		case DT_VERDEF: v.verdef = (Elf64_Verdef *)p; break;
		case DT_SONAME: soname = dyn->d_un.d_val; break;
		}
	}
	if (!v.sym || !v.str || !v.hash)
		return 0;
	v.soname = v.str + soname;
	return 1;
}

// match reports whether symbol i has version ver.
static int match(int i, const char *ver) {
	if (!v.versym || !v.verdef)
		return 0;
	unsigned ndx = v.versym[i] & 0x7fff;
	for (Elf64_Verdef *d = v.verdef;; d = (Elf64_Verdef *)((char *)d + d->vd_next)) {
		if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == ndx) {
			Elf64_Verdaux *a = (Elf64_Verdaux *)((char *)d + d->vd_aux);
			return d->vd_hash == elfhash(ver) && strcmp(v.str + a->vda_name, ver) == 0;
		}
		if (d->vd_next == 0)
			return 0;
	}
}

static void *lookup(const char *name, const char *ver) {
	Elf32_Word nbucket = v.hash[0];
	Elf32_Word *bucket = &v.hash[2], *chain = &v.hash[2 + nbucket];
	for (Elf32_Word i = bucket[elfhash(name) % nbucket]; i != 0; i = chain[i]) {
		Elf64_Sym *s = &v.sym[i];
		if (ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF &&
		    strcmp(v.str + s->st_name, name) == 0 && match(i, ver))
			return (void *)(v.bias + s->st_value);
	}
	return NULL;
}

typedef long (*clock_gettime_t)(clockid_t, struct timespec *);
typedef long (*gettimeofday_t)(struct timeval *, struct timezone *);
typedef long (*time_t_fn)(time_t *);
typedef long (*clock_getres_t)(clockid_t, struct timespec *);
typedef long (*getcpu_t)(unsigned *, unsigned *, void *);

static clock_gettime_t vgettime;
static gettimeofday_t vgettimeofday;
static time_t_fn vtime;
static clock_getres_t vgetres;
static getcpu_t vgetcpu;

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static int find_all(void) {
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	if (base == 0 || !parse(base))
		return 0;
	vgettime = (clock_gettime_t)lookup("__vdso_clock_gettime", "LINUX_2.6");
	vgettimeofday = (gettimeofday_t)lookup("__vdso_gettimeofday", "LINUX_2.6");
	vtime = (time_t_fn)lookup("__vdso_time", "LINUX_2.6");
	vgetres = (clock_getres_t)lookup("__vdso_clock_getres", "LINUX_2.6");
	vgetcpu = (getcpu_t)lookup("__vdso_getcpu", "LINUX_2.6");
	return vgettime && vgettimeofday && vtime && vgetres && vgetcpu;
}

// ordered reports whether a vDSO reading, a system call reading and a
// second vDSO reading of clock c come in order.
static int ordered(clockid_t c) {
	struct timespec a, b, d;
	for (int i = 0; i < 300; i++) {
		if (vgettime(c, &a) != 0 || syscall(SYS_clock_gettime, c, &b) != 0 || vgettime(c, &d) != 0)
			return 0;
		if (ns(&a) > ns(&b) || ns(&b) > ns(&d)) {
			fprintf(stderr, "clock %d: %lld %lld %lld\n", c, (long long)ns(&a), (long long)ns(&b), (long long)ns(&d));
			return 0;
		}
	}
	return 1;
}

// close_to reports whether the vDSO and the system call read clock c
// within slack ns of each other.
static int close_to(clockid_t c, int64_t slack) {
	struct timespec a, b;
	if (vgettime(c, &a) != 0 || syscall(SYS_clock_gettime, c, &b) != 0)
		return 0;
	int64_t d = ns(&a) - ns(&b);
	if (d < -slack || d > slack) {
		fprintf(stderr, "clock %d: vDSO %lld, syscall %lld\n", c, (long long)ns(&a), (long long)ns(&b));
		return 0;
	}
	return 1;
}

static int clocks_work(void) {
	struct timespec t;
	int64_t prev = 0;
	for (int i = 0; i < 5000; i++) {
		if (vgettime(CLOCK_MONOTONIC, &t) != 0 || ns(&t) < prev)
			return 0;
		prev = ns(&t);
	}
	return ordered(CLOCK_MONOTONIC) && ordered(CLOCK_REALTIME);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "loop") == 0) {
		// For a count of the system calls made: libc's clock calls,
		// which go through the vDSO.
		struct timespec t;
		struct timeval tv;
		for (int i = 0; i < 1000; i++) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			gettimeofday(&tv, NULL);
		}
		printf("looped\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		check("exec'd: vDSO found", find_all());
		check("exec'd: clocks work", vgettime && clocks_work());
		return fails != 0;
	}
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	check("AT_SYSINFO_EHDR set", base != 0);
	check("an ELF shared object", base != 0 && parse(base));
	check("SONAME linux-vdso.so.1", v.soname && strcmp(v.soname, "linux-vdso.so.1") == 0);
	const char *names[] = {"clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"};
	int all = 1;
	for (int i = 0; i < 5; i++) {
		char n[64];
		snprintf(n, sizeof n, "__vdso_%s", names[i]);
		void *f = lookup(n, "LINUX_2.6");
		all = all && f && lookup(names[i], "LINUX_2.6") == f;
		if (!f)
			fprintf(stderr, "%s@LINUX_2.6 not found\n", n);
	}
	check("__vdso_* and aliases at LINUX_2.6", all);
	check("no such version", lookup("__vdso_clock_gettime", "LINUX_9.9") == NULL);
	if (!find_all()) {
		check("vDSO functions found", 0);
		return 1;
	}

	check("CLOCK_MONOTONIC: vDSO and syscall in order", ordered(CLOCK_MONOTONIC));
	check("CLOCK_REALTIME: vDSO and syscall in order", ordered(CLOCK_REALTIME));
	check("CLOCK_BOOTTIME: vDSO close to syscall", close_to(CLOCK_BOOTTIME, 50000000));
	check("CLOCK_MONOTONIC_RAW: vDSO close to syscall", close_to(CLOCK_MONOTONIC_RAW, 500000000));
	check("CLOCK_REALTIME_COARSE: vDSO close to syscall", close_to(CLOCK_REALTIME_COARSE, 50000000));
	check("CLOCK_MONOTONIC_COARSE: vDSO close to syscall", close_to(CLOCK_MONOTONIC_COARSE, 50000000));
	struct timespec t;
	check("CLOCK_PROCESS_CPUTIME_ID through the vDSO",
	      vgettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 && ns(&t) > 0);
	check("a bad clock id: -EINVAL", vgettime(12345, &t) == -EINVAL);
	check("monotonic through the vDSO never goes back", clocks_work());

	struct timeval a, b, c;
	int ok = 1;
	for (int i = 0; i < 300 && ok; i++) {
		ok = vgettimeofday(&a, NULL) == 0 && syscall(SYS_gettimeofday, &b, NULL) == 0 && vgettimeofday(&c, NULL) == 0 &&
		     timercmp(&a, &b, <=) && timercmp(&b, &c, <=);
	}
	check("gettimeofday: vDSO and syscall in order", ok);
	time_t t1 = vtime(NULL), t2 = syscall(SYS_time, NULL), t3;
	check("time: vDSO close to syscall", t2 - t1 >= 0 && t2 - t1 <= 1 && vtime(&t3) >= t1 && t3 >= t1);
	struct timespec r1, r2;
	check("clock_getres(CLOCK_MONOTONIC): as the syscall",
	      vgetres(CLOCK_MONOTONIC, &r1) == 0 && syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r2) == 0 && ns(&r1) == ns(&r2));
	check("clock_getres(CLOCK_MONOTONIC_COARSE): a tick",
	      vgetres(CLOCK_MONOTONIC_COARSE, &r1) == 0 && ns(&r1) > 0 && ns(&r1) <= 20000000);
	check("clock_getres(bad id): -EINVAL", vgetres(12345, &r1) == -EINVAL);

	// getcpu: pinned to the first allowed CPU, both say that one.
	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	int first = 0;
	while (!CPU_ISSET(first, &set))
		first++;
	CPU_ZERO(&set);
	CPU_SET(first, &set);
	unsigned cpu = 99999, node = 99999, scpu = 77777;
	check("getcpu: the pinned CPU",
	      sched_setaffinity(0, sizeof set, &set) == 0 && vgetcpu(&cpu, &node, NULL) == 0 &&
		      syscall(SYS_getcpu, &scpu, NULL, NULL) == 0 && cpu == (unsigned)first && scpu == cpu && node == 0);

	// /proc/self/maps names it.
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int listed = 0;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo;
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-", &lo) == 1 && lo == base)
			listed = 1;
	}
	if (f)
		fclose(f);
	check("/proc/self/maps: [vdso] at AT_SYSINFO_EHDR", listed);

	// Every page of [vvar] (and [vvar_vclock]) reads, or is SIGBUS where
	// the kernel leaves it unbacked; nothing else happens.
	f = fopen("/proc/self/maps", "r");
	int vvar_ok = f != NULL;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (!strstr(line, "[vvar") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		for (unsigned long a = lo; a < hi; a += 4096) {
			fflush(stdout);
			pid_t c = fork();
			if (c == 0) {
				(void)*(volatile char *)a;
				_exit(0);
			}
			int cs;
			waitpid(c, &cs, 0);
			if (!(WIFEXITED(cs) && WEXITSTATUS(cs) == 0) && !(WIFSIGNALED(cs) && WTERMSIG(cs) == SIGBUS)) {
				fprintf(stderr, "reading %#lx: status %#x\n", a, cs);
				vvar_ok = 0;
			}
		}
	}
	if (f)
		fclose(f);
	check("[vvar]: each page readable or SIGBUS", vvar_ok);

	// Its text is read-only: a write is SIGSEGV.
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		*(volatile char *)(uintptr_t)vgettime = 0;
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	check("writing the vDSO: SIGSEGV", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);

	// A forked child uses it as it is.
	p = fork();
	if (p == 0)
		_exit(clocks_work() ? 0 : 1);
	waitpid(p, &st, 0);
	check("fork: the child's clocks work", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	// An exec'd image finds its own.
	fflush(stdout);
	p = fork();
	if (p == 0) {
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(127);
	}
	waitpid(p, &st, 0);
	check("exec: the new image's vDSO works", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return fails != 0;
}
