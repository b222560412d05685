// exitcode: exits with atoi(argv[1]) as its status (the kernel keeps the low
// 8 bits, so 256 -> 0 and -1 -> 255).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: exitcode STATUS\n");
		return 100;
	}
	printf("exiting with %s\n", argv[1]);
	exit(atoi(argv[1]));
}
