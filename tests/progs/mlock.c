// mlock: the mlock family as a program sees it (gpg and password managers
// lock their secrets): a mapped range locks and unlocks, an unmapped one
// is ENOMEM, unknown flags are EINVAL, mlockall and munlockall succeed.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *res(int r) {
	if (r == 0)
		return "ok";
	return errno == ENOMEM ? "ENOMEM" : errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM" : strerror(errno);
}

int main(void) {
	char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mlock: %s\n", res(mlock(p + 100, 60000)));
	printf("munlock: %s\n", res(munlock(p, 65536)));
	printf("mlock2(MLOCK_ONFAULT): %s\n", res((int)syscall(SYS_mlock2, p, 4096, 1)));
	printf("mlock2(bad flags): %s\n", res((int)syscall(SYS_mlock2, p, 4096, 6)));
	munmap(p + 32768, 32768);
	printf("mlock over an unmapped page: %s\n", res(mlock(p, 65536)));
	printf("mlock of nothing: %s\n", res(mlock(p, 0)));
	printf("mlockall(0): %s\n", res(mlockall(0)));
	printf("mlockall(MCL_ONFAULT): %s\n", res(mlockall(MCL_ONFAULT)));
	printf("mlockall(MCL_CURRENT|MCL_FUTURE): %s\n", res(mlockall(MCL_CURRENT | MCL_FUTURE)));
	printf("munlockall: %s\n", res(munlockall()));
	return 0;
}
