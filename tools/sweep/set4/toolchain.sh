cat > lib.c <<'C'
int twice(int x) { return 2 * x; }
C
cat > main.c <<'C'
#include <stdatomic.h>
#include <stdio.h>
#include <threads.h>
int twice(int);
static atomic_int n;
static int run(void *a) { for (int i = 0; i < 10000; i++) atomic_fetch_add(&n, 1); return 0; }
int main(void) { thrd_t t[4]; for (int i = 0; i < 4; i++) thrd_create(&t[i], run, 0); for (int i = 0; i < 4; i++) thrd_join(t[i], 0); printf("%d %d\n", atomic_load(&n), twice(21)); return 0; }
C
gcc -O2 -c lib.c && ar rcs libt.a lib.o && gcc -O2 -pthread main.c -L. -lt -o m && ./m
nm libt.a | grep -c twice
strip m && ./m
objdump -d lib.o | grep -c ret
gcc -shared -fPIC lib.c -o libt.so && gcc main.c -L. -lt -Wl,-rpath,. -o md && ./md && ldd md | grep -c libt
ld -r lib.o -o lib2.o && echo relocatable
