// ud2: UD2 raises #UD; expect SIGILL (132).
// It announces itself with write(2) (unbuffered, so the line is not lost when
// the process dies), then faults. Reaching the end is a failure (exit 99).
#include <string.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

int main(void) {
	say("executing ud2\n");
	__asm__ volatile("ud2");
	say("survived\n");
	return 99;
}
