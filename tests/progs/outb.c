// outb: OUT to an I/O port without ioperm raises #GP; expect SIGSEGV (139).
// It announces itself with write(2) (unbuffered, so the line is not lost when
// the process dies), then faults. Reaching the end is a failure (exit 99).
#include <string.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

int main(void) {
	say("executing outb\n");
	__asm__ volatile("outb %%al, $0x80" : : "a"(0));
	say("survived\n");
	return 99;
}
