// getcpu: getcpu(2) and sched_getcpu, within the thread's affinity mask
// (pinned to one CPU it reports that one), and the legacy vsyscall page
// as Linux emulates it by default (vsyscall=xonly): its three entry points
// (gettimeofday, time, getcpu) can be called, reading the page or calling
// anywhere else in it is SIGSEGV, and /proc/self/maps lists it. Older
// JVMs call the vsyscall getcpu when sched_getcpu fails. The vsyscall part
// runs with the argument "vsyscall" only: hosts may boot with
// vsyscall=none (the x86 lane's kernel does), where it dies natively.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VSYSCALL 0xffffffffff600000UL

typedef long (*vgettimeofday_t)(struct timeval *, struct timezone *);
typedef long (*vtime_t)(time_t *);
typedef long (*vgetcpu_t)(unsigned *, unsigned *, void *);

// How a child that runs f ends: "exit N" or the signal's name.
static const char *ends(void (*f)(void)) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		f();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	static char b[64];
	if (WIFSIGNALED(st))
		snprintf(b, sizeof b, "%s", WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : strsignal(WTERMSIG(st)));
	else
		snprintf(b, sizeof b, "exit %d", WEXITSTATUS(st));
	return b;
}

static void read_page(void) { (void)*(volatile char *)VSYSCALL; }
static void call_misaligned(void) { ((vtime_t)(VSYSCALL + 0x100))(NULL); }
static void bad_pointer(void) { ((vgettimeofday_t)VSYSCALL)((struct timeval *)8, NULL); }

int main(int argc, char **argv) {
	cpu_set_t mask;
	if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
		perror("sched_getaffinity");
		return 1;
	}
	int cpu = sched_getcpu();
	printf("sched_getcpu in the mask: %s\n", cpu >= 0 && CPU_ISSET(cpu, &mask) ? "yes" : "no");

	unsigned c = ~0u, node = ~0u;
	long r = syscall(SYS_getcpu, &c, &node, NULL);
	printf("getcpu: %ld, in the mask: %s, node %u\n", r, CPU_ISSET(c, &mask) ? "yes" : "no", node);
	printf("getcpu(NULL, NULL): %ld\n", syscall(SYS_getcpu, NULL, NULL, NULL));
	errno = 0;
	r = syscall(SYS_getcpu, (void *)8, NULL, NULL);
	printf("getcpu(bad): %ld %s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));

	// Pinned to the last CPU it may run on, the thread runs there.
	int last = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &mask))
			last = i;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	if (sched_setaffinity(0, sizeof one, &one) != 0) {
		perror("sched_setaffinity");
		return 1;
	}
	printf("pinned: sched_getcpu %s, getcpu %s\n", sched_getcpu() == last ? "the pinned CPU" : "another CPU",
	       syscall(SYS_getcpu, &c, NULL, NULL) == 0 && (int)c == last ? "the pinned CPU" : "another CPU");

	if (argc < 2 || strcmp(argv[1], "vsyscall") != 0)
		return 0;

	// The vsyscall page in /proc/self/maps.
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	const char *seen = "missing";
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, "[vsyscall]"))
			seen = strncmp(line, "ffffffffff600000-ffffffffff601000 --xp ", 39) == 0 ? "ffffffffff600000-ffffffffff601000 --xp" : line;
	if (f)
		fclose(f);
	printf("maps: [vsyscall] %s\n", seen);

	// Its three entry points.
	time_t before = time(NULL), t2 = 0;
	long vt = ((vtime_t)(VSYSCALL + 0x400))(&t2);
	time_t after = time(NULL);
	printf("vsyscall time: %s, stored: %s\n", vt >= before && vt <= after ? "now" : "wrong",
	       t2 == vt ? "yes" : "no");
	struct timeval tv = {0}, now;
	r = ((vgettimeofday_t)VSYSCALL)(&tv, NULL);
	gettimeofday(&now, NULL);
	printf("vsyscall gettimeofday: %ld, %s\n", r,
	       tv.tv_sec >= before && tv.tv_sec <= now.tv_sec && tv.tv_usec < 1000000 ? "now" : "wrong");
	printf("vsyscall gettimeofday(NULL, NULL): %ld\n", ((vgettimeofday_t)VSYSCALL)(NULL, NULL));
	c = ~0u;
	node = ~0u;
	r = ((vgetcpu_t)(VSYSCALL + 0x800))(&c, &node, NULL);
	printf("vsyscall getcpu: %ld, the pinned CPU: %s, node %u\n", r, (int)c == last ? "yes" : "no", node);

	// Anything else in the page faults.
	printf("read the page: %s\n", ends(read_page));
	printf("call into the middle: %s\n", ends(call_misaligned));
	printf("gettimeofday into a bad pointer: %s\n", ends(bad_pointer));
	return 0;
}
