// cli: CLI at CPL 3 with IOPL 0 raises #GP; expect SIGSEGV (139).
// It announces itself with write(2) (unbuffered, so the line is not lost when
// the process dies), then faults. Reaching the end is a failure (exit 99).
#include <string.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

int main(void) {
	say("executing cli\n");
	__asm__ volatile("cli");
	say("survived\n");
	return 99;
}
