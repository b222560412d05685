// wrmsr: WRMSR at CPL 3 raises #GP; expect SIGSEGV (139).
// It announces itself with write(2) (unbuffered, so the line is not lost when
// the process dies), then faults. Reaching the end is a failure (exit 99).
#include <string.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

int main(void) {
	say("executing wrmsr\n");
	__asm__ volatile("wrmsr" : : "c"(0x10), "a"(0), "d"(0));
	say("survived\n");
	return 99;
}
