// caps: capability sets through capget/capset, the bounding set, the
// ambient set, and what set*id and execve do to them (capabilities(7)).
// Run as root, as ringbox's e2e suite does natively and in the sandbox.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t eff, prm, inh, all;

static void get(void) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0) {
		printf("capget: %s\n", strerrorname_np(errno));
		return;
	}
	eff = d[0].effective | (uint64_t)d[1].effective << 32;
	prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
}

static int set(uint64_t e, uint64_t p, uint64_t i) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{(uint32_t)e, (uint32_t)p, (uint32_t)i}, {e >> 32, p >> 32, i >> 32}};
	return syscall(SYS_capset, &h, d) == 0 ? 0 : errno;
}

// rel names a set by what it lacks of all.
static const char *rel(uint64_t set) {
	static char buf[64];
	uint64_t lack = all & ~set;
	if (lack == all)
		return "none";
	snprintf(buf, sizeof buf, "all-%llx", (unsigned long long)lack);
	return buf;
}

// show prints the sets as what they lack of root's starting permitted
// set ("all": nothing; hosts differ in what root has), and two bits.
static void show(const char *what) {
	get();
	int amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0);
	int bnd = prctl(PR_CAPBSET_READ, CAP_CHOWN);
	printf("%s: eff %s", what, rel(eff));
	printf(" prm %s inh %llx amb-kill %d bnd-chown %d\n", rel(prm), (unsigned long long)inh, amb, bnd);
}

// call prints a call's result and its errno.
static void call(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerrorname_np(errno) : ""); }

static const char *err(int e) { return e ? strerrorname_np(e) : "0"; }

int main(int argc, char **argv) {
	if (argc > 2) {
		sscanf(argv[2], "%llx", (unsigned long long *)&all);
		show("after execve");
		call("keepcaps after execve", prctl(PR_GET_KEEPCAPS));
		return 0;
	}
	if (getuid() != 0) {
		printf("not root\n");
		return 0;
	}
	get();
	all = prm;
	show("start");
	call("bounding read 41", prctl(PR_CAPBSET_READ, 41));
	uint64_t chown = 1ull << CAP_CHOWN, kill = 1ull << CAP_KILL;
	printf("drop CAP_CHOWN from effective: %s\n", err(set(all & ~chown, all, 0)));
	show("dropped");
	printf("effective beyond permitted: %s\n", err(set(all, all & ~chown, 0)));
	call("ambient raise CAP_KILL, not inheritable", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
	printf("inheritable CAP_KILL: %s\n", err(set(all, all, kill)));
	printf("ambient raise: %d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
	show("ambient");
	fflush(stdout);

	pid_t p = fork();
	if (p == 0) {
		seteuid(1000);
		show("euid 1000");
		seteuid(0);
		show("euid 0 again");
		setresuid(1000, 1000, 1000);
		show("all uids 1000");
		printf("setuid(0) back: %s\n", setuid(0) == 0 ? "0" : strerrorname_np(errno));
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, NULL, 0);
	p = fork();
	if (p == 0) {
		printf("drop bounding CAP_CHOWN: %d\n", prctl(PR_CAPBSET_DROP, CAP_CHOWN));
		fflush(stdout);
		char a[32];
		snprintf(a, sizeof a, "%llx", (unsigned long long)all);
		execl("/proc/self/exe", argv[0], "exec", a, (char *)NULL);
		printf("execl: %s\n", strerrorname_np(errno));
		_exit(1);
	}
	waitpid(p, NULL, 0);
	p = fork();
	if (p == 0) {
		// As a user with CAP_KILL ambient: kept across execve.
		call("keepcaps", prctl(PR_SET_KEEPCAPS, 1));
		setresuid(1000, 1000, 1000);
		show("user, keepcaps");
		fflush(stdout);
		char a[32];
		snprintf(a, sizeof a, "%llx", (unsigned long long)all);
		execl("/proc/self/exe", argv[0], "exec", a, (char *)NULL);
		_exit(1);
	}
	waitpid(p, NULL, 0);
	return 0;
}
