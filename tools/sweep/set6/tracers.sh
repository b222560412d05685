# Tracers: strace -f on a shell pipeline (the syscalls' names and
# results), strace -c, ltrace on a libc call, and gdb against gdbserver
# on 127.0.0.1 (a breakpoint, a backtrace, a variable).
cat >t.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int add(int a, int b) { return a + b; }
int main(int argc, char **argv) {
	int s = 0;
	for (int i = 0; i < 10; i++) s = add(s, i);
	char *p = malloc(32); strcpy(p, "traced");
	printf("%s %d %zu\n", p, s, strlen(p));
	return 3;
}
C
gcc -g -O0 -o t t.c
strace -f -qq -e trace=execve,exit_group -e signal=none -o st.out sh -c './t; true'
sed -E 's/^[0-9]+ +//; s/, 0x[0-9a-f]+ \/\* [0-9]+ vars \*\//, ENV/' st.out | sort
strace -qq -e trace=write ./t 2>&1 >/dev/null | head -2
strace -c -o sc.out ./t >/dev/null; grep -cE 'total' sc.out
ltrace -e strlen+add ./t 2>&1 | grep -E 'strlen|exited' | sed 's/^[0-9]* *//'
gdbserver --once 127.0.0.1:18200 ./t >gs.out 2>gs.err &
g=$!
for _ in $(seq 100); do grep -q Listening gs.err && break; sleep 0.2; done
gdb -q -batch -nx -ex 'target remote 127.0.0.1:18200' -ex 'break add if a == 15' -ex continue \
	-ex 'bt 2' -ex 'print a + b' -ex 'info args' -ex 'kill' ./t 2>&1 |
	grep -E '^#|^\$|^a =|^b =' | sed -E 's/0x[0-9a-f]+ in //; s/=0x[0-9a-f]+/=ADDR/g; s/ at .*t\.c:/ line /'
wait $g 2>/dev/null
echo done
