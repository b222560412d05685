// privcalls: calls whose answer in the sandbox differs from a root
// shell's on the host by design, so this program's expected output is
// the sandbox's (e2e golden): setting the clock is EPERM (the sandbox's
// clocks are the host's), the kernel log is empty and only for
// CAP_SYSLOG, fchmodat2 (Linux 6.6, not on every host) with its flags.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const char *en(long r) {
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOENT: return "ENOENT";
	default: return strerror(errno);
	}
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("clock_settime(REALTIME, now): %s\n", en(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts)));
	printf("clock_settime(MONOTONIC): %s\n", en(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts)));
	printf("clock_settime(PROCESS_CPUTIME_ID): %s\n", en(syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ts)));
	printf("clock_settime(REALTIME, NULL): %s\n", en(syscall(SYS_clock_settime, CLOCK_REALTIME, NULL)));
	struct timespec bad = {0, 2000000000};
	printf("clock_settime(REALTIME, 2e9 ns): %s\n", en(syscall(SYS_clock_settime, CLOCK_REALTIME, &bad)));
	struct timespec late = {10400000000LL, 0}; // the year 2300: past Linux's settable range
	printf("clock_settime(REALTIME, the year 2300): %s\n", en(syscall(SYS_clock_settime, CLOCK_REALTIME, &late)));
	struct timeval tv;
	gettimeofday(&tv, NULL);
	printf("settimeofday(now): %s\n", en(syscall(SYS_settimeofday, &tv, NULL)));
	tv.tv_usec = 2000000;
	printf("settimeofday(2e6 us): %s\n", en(syscall(SYS_settimeofday, &tv, NULL)));
	printf("settimeofday(bad pointer): %s\n", en(syscall(SYS_settimeofday, (void *)8, NULL)));

	char buf[256];
	long size = syscall(SYS_syslog, 10, NULL, 0);
	printf("syslog SIZE_BUFFER: %s\n", size > 0 ? "positive" : en(size));
	printf("syslog READ_ALL: %ld\n", syscall(SYS_syslog, 3, buf, sizeof buf));
	printf("syslog READ_ALL to NULL: %s\n", en(syscall(SYS_syslog, 3, NULL, 10)));
	printf("syslog CONSOLE_LEVEL 9: %s\n", en(syscall(SYS_syslog, 8, NULL, 9)));
	printf("syslog type 99: %s\n", en(syscall(SYS_syslog, 99, NULL, 0)));

	char dir[] = "/tmp/privcallsXXXXXX", f[64], l[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(l, sizeof l, "%s/l", dir);
	close(open(f, O_CREAT | O_WRONLY, 0600));
	symlink("f", l);
	struct stat st;
	printf("fchmodat2(f, 0640, 0): %s", en(syscall(SYS_fchmodat2, AT_FDCWD, f, 0640, 0)));
	stat(f, &st);
	printf(", mode %o\n", st.st_mode & 07777);
	printf("fchmodat2(l, 0600, AT_SYMLINK_NOFOLLOW): %s\n", en(syscall(SYS_fchmodat2, AT_FDCWD, l, 0600, AT_SYMLINK_NOFOLLOW)));
	printf("fchmodat2(l, 0604, 0): %s", en(syscall(SYS_fchmodat2, AT_FDCWD, l, 0604, 0)));
	stat(f, &st);
	printf(", f's mode %o\n", st.st_mode & 07777);
	int pfd = open(f, O_PATH);
	printf("fchmodat2(O_PATH fd, \"\", 0600, AT_EMPTY_PATH): %s", en(syscall(SYS_fchmodat2, pfd, "", 0600, AT_EMPTY_PATH)));
	stat(f, &st);
	printf(", mode %o\n", st.st_mode & 07777);
	printf("fchmodat2 with a bad flag: %s\n", en(syscall(SYS_fchmodat2, AT_FDCWD, f, 0600, 0x1)));
	printf("fchmodat2(\"\") without AT_EMPTY_PATH: %s\n", en(syscall(SYS_fchmodat2, AT_FDCWD, "", 0600, 0)));
	unlink(l);
	unlink(f);
	rmdir(dir);

	// Without CAP_SYSLOG: EPERM.
	if (setuid(1000) == 0)
		printf("syslog SIZE_BUFFER as uid 1000: %s\n", en(syscall(SYS_syslog, 10, NULL, 0)));
	return 0;
}
