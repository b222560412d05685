// escapes: the escape suite (issue 12). Each argument names a case; each
// case tries to reach past the sandbox and prints one line saying what
// happened. The e2e test (escape_test.go) runs them with and without
// ringbox's own confinement and checks every line: an attempt must fail,
// or succeed only inside the sandbox.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
	static char buf[32];
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case ENOTTY: return "ENOTTY";
	case EBADF: return "EBADF";
	case ENXIO: return "ENXIO";
	case ENODEV: return "ENODEV";
	case EMFILE: return "EMFILE";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ESRCH: return "ESRCH";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

static volatile long target = 1;

// A child that waits to be killed; it reports whether target changed.
static pid_t sleeper(void) {
	pid_t p = fork();
	if (p == 0) {
		for (int i = 0; i < 200 && target == 1; i++)
			usleep(10000);
		_exit(target == 1 ? 0 : 42);
	}
	return p;
}

// reap ends the sleeper: if something was written to it, it sees that
// and exits 42 by itself.
static int reap(pid_t p, int written) {
	int st;
	if (!written)
		kill(p, SIGKILL);
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// /proc/self/mem and /proc/PID/mem: writes must fail or stay inside.
static void procmem(void) {
	char path[64];
	long v = 2;
	int fd = open("/proc/self/mem", O_RDWR);
	int e1 = fd < 0 ? errno : 0;
	const char *self = en(e1);
	if (fd >= 0) {
		ssize_t n = pwrite(fd, &v, sizeof v, (off_t)(uintptr_t)&target);
		self = n == sizeof v && target == 2 ? "inside" : en(errno);
		close(fd);
		target = 1;
	}
	pid_t c = sleeper();
	snprintf(path, sizeof path, "/proc/%d/mem", c);
	fd = open(path, O_RDWR);
	const char *child = fd < 0 ? en(errno) : "opened";
	if (fd >= 0) {
		ssize_t n = pwrite(fd, &v, sizeof v, (off_t)(uintptr_t)&target);
		child = n == sizeof v ? "written" : en(errno);
		close(fd);
	}
	int st = reap(c, strcmp(child, "written") == 0);
	// A write that worked must have reached the sandboxed child only.
	printf("procmem: self=%s child=%s%s\n", self, child,
	       strcmp(child, "written") == 0 ? (st == 42 ? " inside" : " lost") : "");
}

// ptrace and process_vm_writev from inside: fail, or stay inside.
static void ptraces(void) {
	// TRACEME in a child of its own (natively it would make this process
	// its parent's tracee); the child exits with the errno.
	pid_t t = fork();
	if (t == 0)
		_exit(ptrace(PTRACE_TRACEME, 0, 0, 0) < 0 ? errno : 0);
	int ts;
	waitpid(t, &ts, 0);
	const char *me = en(WIFEXITED(ts) ? WEXITSTATUS(ts) : -1);
	long r;
	pid_t c = sleeper();
	errno = 0;
	r = ptrace(PTRACE_ATTACH, c, 0, 0);
	const char *att = r < 0 ? en(errno) : "ok";
	long v = 3;
	struct iovec local = {&v, sizeof v}, remote = {(void *)&target, sizeof v};
	ssize_t n = process_vm_writev(c, &local, 1, &remote, 1, 0);
	const char *vmw = n < 0 ? en(errno) : "written";
	if (att[0] == 'o') {
		waitpid(c, NULL, 0);
		ptrace(PTRACE_DETACH, c, 0, 0);
	}
	int st = reap(c, n > 0);
	printf("ptrace: traceme=%s attach=%s process_vm_writev=%s%s\n", me, att, vmw,
	       n > 0 ? (st == 42 ? " inside" : " lost") : "");
}

// Mappings at the supervisor's addresses (the upper half: the entry
// code's alias, the CPU pages), past the user range, at page 0, and over
// the program's own text.
static void mmaps(void) {
	static const uintptr_t addrs[] = {
		0xffff800000000000ull, 0xffffff0000000000ull, 0xfffffffffffff000ull,
		0x800000000000ull, 0x7ffffffff000ull, 0,
	};
	printf("mmap:");
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		void *p = mmap((void *)addrs[i], 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		printf(" %#lx=%s", (unsigned long)addrs[i], p == MAP_FAILED ? en(errno) : "MAPPED");
	}
	void *p = mmap((void *)((uintptr_t)&mmaps & ~4095ul), 4096, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf(" own-text=%s\n", p == MAP_FAILED ? en(errno) : "MAPPED");
}

// KVM's requests on every kind of descriptor the program has; /dev/kvm
// itself.
static void ioctls(void) {
	static const unsigned long reqs[] = {0xae00, 0xae01, 0xae41, 0xae80, 0x8090ae81};
	int fds[4] = {0, 1, 2, open("/", O_RDONLY | O_DIRECTORY)};
	int okc = 0;
	for (int i = 0; i < 4; i++)
		for (size_t j = 0; j < sizeof reqs / sizeof reqs[0]; j++)
			if (ioctl(fds[i], reqs[j], 0) >= 0)
				okc++;
	int k = open("/dev/kvm", O_RDWR);
	printf("ioctl: kvm requests that worked=%d open(/dev/kvm)=%s\n", okc, k < 0 ? en(errno) : "OPENED");
}

// Device nodes made with mknod must not open a host device.
static void mknods(void) {
	static const struct {
		const char *path;
		mode_t mode;
		dev_t dev;
	} nodes[] = {
		{"/tmp/kvm", S_IFCHR | 0666, 0},
		{"/tmp/mem", S_IFCHR | 0666, 0},
		{"/tmp/sda", S_IFBLK | 0666, 0},
	};
	dev_t devs[] = {makedev(10, 232), makedev(1, 1), makedev(8, 0)};
	printf("mknod:");
	for (int i = 0; i < 3; i++) {
		int r = mknod(nodes[i].path, nodes[i].mode, devs[i]);
		const char *made = r < 0 ? en(errno) : "made";
		const char *op = "-";
		if (r == 0) {
			int fd = open(nodes[i].path, O_RDWR);
			op = fd < 0 ? en(errno) : "OPENED";
		}
		printf(" %s=%s/%s", nodes[i].path, made, op);
	}
	printf("\n");
}

// Symlink races: one thread flips /m/l between a directory and a link
// that climbs out of the mount, others open through it. No read may see
// the host's secret.
static const char *climb;
static volatile int stop;

static void *flipper(void *arg) {
	(void)arg;
	while (!stop) {
		symlink("d", "/m/tmp1");
		rename("/m/tmp1", "/m/l");
		symlink(climb, "/m/tmp2");
		rename("/m/tmp2", "/m/l");
	}
	return NULL;
}

static int leaks, inside;

static void *opener(void *arg) {
	(void)arg;
	for (int i = 0; i < 3000; i++) {
		int fd = open("/m/l/secret", O_RDONLY);
		if (fd < 0)
			continue;
		char buf[64] = {0};
		read(fd, buf, sizeof buf - 1);
		close(fd);
		if (strstr(buf, "HOST SECRET"))
			__atomic_add_fetch(&leaks, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void symrace(const char *up) {
	climb = up;
	mkdir("/m/d", 0755);
	int fd = open("/m/d/secret", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, "inside\n", 7);
	close(fd);
	pthread_t f, o[3];
	pthread_create(&f, NULL, flipper, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&o[i], NULL, opener, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(o[i], NULL);
	stop = 1;
	pthread_join(f, NULL);
	printf("symrace: leaks=%d read-inside=%s\n", leaks, inside > 0 ? "yes" : "no");
}

// A descriptor bomb ends at the sandbox's own limit.
static void fdbomb(void) {
	int n = 0, e = 0;
	for (;;) {
		int fd = open("/", O_RDONLY);
		if (fd < 0) {
			e = errno;
			break;
		}
		n++;
	}
	for (int fd = 3; fd < n + 3; fd++)
		close(fd);
	printf("fdbomb: %s after more than 1000=%s\n", en(e), n > 1000 ? "yes" : "no");
}

// A disk bomb ends at --disk with ENOSPC.
static void diskbomb(void) {
	static char block[1 << 16];
	memset(block, 'x', sizeof block);
	int fd = open("/tmp/bomb", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int e = 0;
	long total = 0;
	for (;;) {
		ssize_t n = write(fd, block, sizeof block);
		if (n < 0) {
			e = errno;
			break;
		}
		total += n;
		if (total > (1l << 30))
			break;
	}
	close(fd);
	unlink("/tmp/bomb");
	printf("diskbomb: %s\n", en(e));
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];
		if (!strcmp(c, "procmem"))
			procmem();
		else if (!strcmp(c, "ptrace"))
			ptraces();
		else if (!strcmp(c, "mmap"))
			mmaps();
		else if (!strcmp(c, "ioctl"))
			ioctls();
		else if (!strcmp(c, "mknod"))
			mknods();
		else if (!strncmp(c, "symrace=", 8))
			symrace(c + 8);
		else if (!strcmp(c, "fdbomb"))
			fdbomb();
		else if (!strcmp(c, "diskbomb"))
			diskbomb();
		else {
			fprintf(stderr, "escapes: unknown case %s\n", c);
			return 2;
		}
	}
	return 0;
}
