/* Writes table.h: the squares of 0..15, for the other files to include. */
#include <stdio.h>

int main(void) {
	printf("static const int squares[16] = {");
	for (int i = 0; i < 16; i++)
		printf("%s%d", i ? ", " : "", i * i);
	printf("};\n");
	return 0;
}
