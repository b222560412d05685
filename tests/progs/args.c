// args: prints argc/argv/envp and the deterministic part of the auxiliary
// vector, and checks the initial stack layout the kernel hands to _start.
// Output contains no addresses, so native and sandboxed runs compare equal.
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char _start[];
extern char **environ;
extern const ElfW(Ehdr) __ehdr_start;

static int fails;

static void check(const char *what, int ok) {
	printf("%s: %s\n", what, ok ? "ok" : "FAIL");
	if (!ok)
		fails++;
}

struct auxent {
	int present;
	unsigned long val;
};

int main(int argc, char **argv, char **envp) {
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=\"%s\"\n", i, argv[i]);
	check("argv[argc] is NULL", argv[argc] == NULL);

	int envc = 0;
	char **e = envp;
	for (; *e; e++, envc++)
		printf("envp[%d]=\"%s\"\n", envc, *e);
	printf("envc=%d\n", envc);
	check("environ == envp", environ == envp);

	// Initial stack: [rsp]=argc, argv[0..argc], NULL, envp..., NULL, auxv.
	long *sp = (long *)argv - 1;
	check("argc stored just below argv", *sp == argc);
	check("initial stack pointer 16-byte aligned", ((uintptr_t)sp & 15) == 0);
	check("envp follows argv", envp == argv + argc + 1);

	// Walk the auxiliary vector that follows envp's NULL terminator.
	struct auxent aux[64];
	memset(aux, 0, sizeof aux);
	int naux = 0, terminated = 0;
	for (Elf64_auxv_t *av = (Elf64_auxv_t *)(e + 1); naux < 512; av++, naux++) {
		if (av->a_type == AT_NULL) {
			terminated = 1;
			break;
		}
		if (av->a_type < 64) {
			aux[av->a_type].present = 1;
			aux[av->a_type].val = av->a_un.a_val;
		}
	}
	check("auxv terminated by AT_NULL", terminated);

	static const struct {
		int type;
		const char *name;
	} printed[] = {
		{AT_PAGESZ, "AT_PAGESZ"}, {AT_CLKTCK, "AT_CLKTCK"},
		{AT_SECURE, "AT_SECURE"}, {AT_UID, "AT_UID"},
		{AT_EUID, "AT_EUID"},     {AT_GID, "AT_GID"},
		{AT_EGID, "AT_EGID"},     {AT_PHENT, "AT_PHENT"},
		{AT_PHNUM, "AT_PHNUM"},
	};
	for (size_t i = 0; i < sizeof printed / sizeof printed[0]; i++) {
		int t = printed[i].type;
		if (aux[t].present)
			printf("%s=%lu\n", printed[i].name, aux[t].val);
		else
			printf("%s missing\n", printed[i].name);
	}
	// Absent or zero are both fine for a static binary; print what glibc sees.
	printf("getauxval(AT_BASE)=%lu\n", getauxval(AT_BASE));
	check("getauxval(AT_PAGESZ) matches auxv",
	      getauxval(AT_PAGESZ) == aux[AT_PAGESZ].val);
	check("sysconf(_SC_PAGESIZE) matches AT_PAGESZ",
	      (unsigned long)sysconf(_SC_PAGESIZE) == aux[AT_PAGESZ].val);
	check("getuid() == AT_UID", (unsigned long)getuid() == aux[AT_UID].val);
	check("geteuid() == AT_EUID", (unsigned long)geteuid() == aux[AT_EUID].val);
	check("getgid() == AT_GID", (unsigned long)getgid() == aux[AT_GID].val);
	check("getegid() == AT_EGID", (unsigned long)getegid() == aux[AT_EGID].val);

	// AT_RANDOM: 16 readable bytes.
	const unsigned char *rnd = (const unsigned char *)aux[AT_RANDOM].val;
	int rnd_ok = aux[AT_RANDOM].present && rnd != NULL;
	if (rnd_ok) {
		volatile unsigned sum = 0;
		for (int i = 0; i < 16; i++)
			sum += rnd[i];
		(void)sum;
	}
	check("AT_RANDOM non-NULL and readable", rnd_ok);

	if (aux[AT_EXECFN].present && aux[AT_EXECFN].val)
		printf("AT_EXECFN=\"%s\"\n", (const char *)aux[AT_EXECFN].val);
	else
		printf("AT_EXECFN missing\n");

	// AT_PHDR must point at this binary's program headers as loaded.
	const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)aux[AT_PHDR].val;
	check("AT_PHDR non-NULL", phdr != NULL);
	check("AT_PHDR == __ehdr_start + e_phoff",
	      (uintptr_t)phdr == (uintptr_t)&__ehdr_start + __ehdr_start.e_phoff);
	check("AT_PHNUM == e_phnum", aux[AT_PHNUM].val == __ehdr_start.e_phnum);
	int have_load = 0;
	if (phdr != NULL)
		for (unsigned long i = 0; i < aux[AT_PHNUM].val; i++)
			if (phdr[i].p_type == PT_LOAD)
				have_load = 1;
	check("program headers contain PT_LOAD", have_load);
	check("AT_ENTRY == &_start", aux[AT_ENTRY].val == (uintptr_t)_start);
	printf("ELF type=%s\n", __ehdr_start.e_type == ET_EXEC  ? "ET_EXEC"
	                        : __ehdr_start.e_type == ET_DYN ? "ET_DYN"
	                                                        : "other");

	fflush(stdout);
	return fails ? 1 : 0;
}
