// hello: a static hello world, timed from outside as a whole run.
#include <stdio.h>

int main(void) {
	printf("hello, world\n");
	return 0;
}
