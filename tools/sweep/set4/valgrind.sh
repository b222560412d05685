cat > v.c <<'C'
#include <stdlib.h>
#include <stdio.h>
int main(void) { int *p = malloc(10 * sizeof *p); p[10] = 1; free(p); puts("done"); return 0; }
C
gcc -g -O0 v.c -o v && valgrind -q --error-exitcode=9 ./v 2>err.txt; echo "status $?"; grep -c "Invalid write of size 4" err.txt
