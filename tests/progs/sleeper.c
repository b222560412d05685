// sleeper: announces itself with "ready" on stdout, then blocks in pause()
// until a signal kills it. The e2e test sends SIGINT/SIGTERM to ringbox and
// expects the status 128+signal.
#include <string.h>
#include <unistd.h>

int main(void) {
	const char *msg = "ready\n";
	if (write(1, msg, strlen(msg)) != (ssize_t)strlen(msg))
		return 2;
	pause();
	// Only reached if pause() returned, which it must not without a handler.
	sleep(30);
	return 3;
}
