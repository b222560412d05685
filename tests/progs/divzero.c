// divzero: integer division by zero raises #DE; expect SIGFPE (136).
// It announces itself with write(2) (unbuffered, so the line is not lost when
// the process dies), then faults. Reaching the end is a failure (exit 99).
#include <string.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

int main(void) {
	say("dividing by zero\n");
	volatile int zero = 0, num = 42;
	volatile int q = num / zero;
	(void)q;
	say("survived\n");
	return 99;
}
