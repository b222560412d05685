#include <stdio.h>

int main(void) {
	printf("hello from gcc -O2\n");
	return 0;
}
