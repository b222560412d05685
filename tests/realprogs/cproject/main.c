#include <stdio.h>
#include "stats.h"
#include "table.h"
#include "words.h"

int main(int argc, char **argv) {
	printf("squares[7] = %d\n", squares[7]);
	printf("sum of the first 10 squares = %ld\n", sum_squares(10));
	for (int i = 1; i < argc; i++)
		printf("%d words in \"%s\"\n", count_words(argv[i]), argv[i]);
	return 0;
}
