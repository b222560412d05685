#include "stats.h"
#include "table.h"

long sum_squares(int n) {
	long s = 0;
	for (int i = 0; i < n && i < 16; i++)
		s += squares[i];
	return s;
}
