// hello: the smallest end-to-end check. Prints one line on stdout and one on
// stderr (the e2e test compares both with a native run).
#include <stdio.h>

int main(void) {
	printf("hello, world\n");
	fflush(stdout);
	fprintf(stderr, "hello, stderr\n");
	return 0;
}
