// ptys: pseudo-terminals made with posix_openpt, grantpt, unlockpt,
// ptsname and openpty: canonical reads with line editing and echo, raw
// reads with VMIN and VTIME, output processing (ONLCR), FIONREAD; then a
// child session with the slave as its controlling terminal: ^C from the
// master sends SIGINT to the foreground group, TIOCSWINSZ sends SIGWINCH,
// a background group's read stops it with SIGTTIN, and the master reads
// EIO once every slave is closed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (write(1, b, n) < 0) _exit(99);
}

// show prints bytes with control characters escaped.
static const char *show(const char *s, int n) {
	static char b[256];
	int j = 0;
	for (int i = 0; i < n && j < 240; i++) {
		unsigned char c = s[i];
		if (c == '\n') j += sprintf(b + j, "\\n");
		else if (c == '\r') j += sprintf(b + j, "\\r");
		else if (c < 32 || c == 127) j += sprintf(b + j, "\\x%02x", c);
		else b[j++] = c;
	}
	b[j] = 0;
	return b;
}

static int rd(int fd, char *b, int n) {
	int r = read(fd, b, n);
	if (r < 0) say("read: %s\n", strerror(errno));
	return r;
}

// drain reads what the master has within 100 ms.
static const char *drain(int m) {
	static char b[256];
	int n = 0;
	struct pollfd p = {m, POLLIN, 0};
	while (n < 250 && poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
		int r = read(m, b + n, 250 - n);
		if (r <= 0) break;
		n += r;
	}
	return show(b, n);
}

static volatile sig_atomic_t got_int, got_winch;
static void on_int(int s) { (void)s; got_int++; }
static void on_winch(int s) { (void)s; got_winch++; }

// packet: TIOCPKT on a master (as screen sets it): data comes after a
// TIOCPKT_DATA byte, a flush of the slave's queues is a status byte.
static void packet(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	struct termios t;
	tcgetattr(s, &t);
	t.c_oflag &= ~OPOST;
	tcsetattr(s, TCSANOW, &t);
	int on = 1, got = -1;
	say("TIOCPKT on the master: %s", ioctl(m, TIOCPKT, &on) ? strerror(errno) : "ok");
	ioctl(m, TIOCGPKT, &got);
	say(", TIOCGPKT %d", got);
	say(", on the slave: %s\n", ioctl(s, TIOCPKT, &on) ? strerror(errno) : "ok");
	write(s, "hi", 2);
	struct pollfd p = {m, POLLIN, 0};
	poll(&p, 1, 2000);
	char b[16];
	int n = read(m, b, sizeof b);
	say("read %d: %02x '%.*s'\n", n, n > 0 ? b[0] : 0, n > 1 ? n - 1 : 0, b + 1);
	tcflush(s, TCIOFLUSH);
	p.events = POLLPRI;
	say("POLLPRI after a flush: %d", poll(&p, 1, 2000));
	n = read(m, b, sizeof b);
	say(", read %d: %02x\n", n, n > 0 ? b[0] : 0);
	close(s);
	close(m);
}

static void basics(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0) { say("posix_openpt: %s\n", strerror(errno)); exit(1); }
	if (grantpt(m) || unlockpt(m)) { say("grantpt/unlockpt: %s\n", strerror(errno)); exit(1); }
	const char *name = ptsname(m);
	say("ptsname under /dev/pts: %s\n", name && !strncmp(name, "/dev/pts/", 9) ? "yes" : "no");
	int s = open(name, O_RDWR | O_NOCTTY);
	if (s < 0) { say("open slave: %s\n", strerror(errno)); exit(1); }
	say("isatty master %d slave %d\n", isatty(m), isatty(s));
	struct stat st;
	stat(name, &st);
	say("the slave is mine: %s\n", st.st_uid == geteuid() ? "yes" : "no");
	say("chmod it 0600: %s", chmod(name, 0600) ? strerror(errno) : "ok");
	fstat(s, &st);
	say(", fstat shows %o\n", st.st_mode & 07777);
	say("chown it to me: %s\n", chown(name, geteuid(), -1) ? strerror(errno) : "ok");
	chmod(name, 0620);
	struct termios t;
	tcgetattr(s, &t);
	say("default: ICANON %d ECHO %d ISIG %d ICRNL %d ONLCR %d VINTR %d VEOF %d\n",
	    !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO), !!(t.c_lflag & ISIG),
	    !!(t.c_iflag & ICRNL), !!(t.c_oflag & ONLCR), t.c_cc[VINTR], t.c_cc[VEOF]);

	char b[64];
	write(m, "ab", 2);
	struct pollfd p = {s, POLLIN, 0};
	say("half a line readable: %d\n", poll(&p, 1, 50));
	write(m, "x\x7f" "c\r", 4);
	// Linux hands pty input to the line discipline from a work queue:
	// wait until the line is readable, or FIONREAD races with it.
	poll(&p, 1, 2000);
	int n = 0;
	ioctl(s, FIONREAD, &n);
	say("FIONREAD %d\n", n);
	n = rd(s, b, sizeof b);
	say("canonical read %d '%s'\n", n, show(b, n));
	say("echo '%s'\n", drain(m));
	const char *ed = "one two\x17" "three\x15" "four\n";
	write(m, ed, strlen(ed));
	n = rd(s, b, sizeof b);
	say("werase+kill read '%s'\n", show(b, n));
	say("echo '%s'\n", drain(m));
	write(m, "x\x04", 2);
	n = rd(s, b, sizeof b);
	say("EOF-ended read %d '%s'\n", n, show(b, n));
	write(m, "\x04", 1);
	say("EOF read %d\n", rd(s, b, sizeof b));
	say("echo '%s'\n", drain(m));

	write(s, "out\nput", 7);
	say("output '%s'\n", drain(m));

	struct termios raw = t;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(s, TCSANOW, &raw);
	write(m, "xyz", 3);
	usleep(20000);
	n = rd(s, b, sizeof b);
	say("raw read %d '%s'\n", n, show(b, n));
	say("raw echo '%s'\n", drain(m));
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 2;
	tcsetattr(s, TCSANOW, &raw);
	say("VTIME read %d\n", rd(s, b, sizeof b));
	tcsetattr(s, TCSANOW, &t);

	struct winsize ws = {33, 111, 0, 0}, got = {0};
	ioctl(m, TIOCSWINSZ, &ws);
	ioctl(s, TIOCGWINSZ, &got);
	say("winsize %dx%d\n", got.ws_row, got.ws_col);
	close(s);
	n = read(m, b, sizeof b);
	say("master read after the slave closed: %d %s\n", n, n < 0 ? strerror(errno) : "");
	close(m);

	int am, as;
	if (openpty(&am, &as, NULL, NULL, NULL)) { say("openpty: %s\n", strerror(errno)); exit(1); }
	write(as, "hi\n", 3);
	say("openpty output '%s'\n", drain(am));
	close(as);
	close(am);
}

static void session(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	unlockpt(m);
	char name[64];
	snprintf(name, sizeof name, "%s", ptsname(m));
	int ready[2], go[2];
	if (pipe(ready) || pipe(go)) exit(1);
	pid_t c = fork();
	if (c == 0) {
		close(ready[0]);
		close(go[1]);
		setsid();
		int s = open(name, O_RDWR); // acquires the controlling terminal
		int fg = tcgetpgrp(s);
		say("child: controlling terminal: %s, foreground is me: %s, sid %s\n",
		    s >= 0 ? "yes" : "no", fg == getpid() ? "yes" : "no",
		    tcgetsid(s) == getpid() ? "mine" : "other");
		int t = open("/dev/tty", O_RDWR);
		say("child: /dev/tty opens: %s\n", t >= 0 ? "yes" : "no");
		struct sigaction sa = {0};
		sa.sa_handler = on_int;
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = on_winch;
		sigaction(SIGWINCH, &sa, NULL);
		char x = 1;
		write(ready[1], &x, 1);
		// The parent sends ^C and a resize, then says go.
		char b[8];
		while (read(go[0], b, 1) < 0 && errno == EINTR) {}
		say("child: SIGINT %d SIGWINCH %d\n", (int)got_int, (int)got_winch);

		// A background job that reads stops with SIGTTIN.
		pid_t bg = fork();
		if (bg == 0) {
			setpgid(0, 0);
			char r;
			read(s, &r, 1);
			_exit(3);
		}
		setpgid(bg, bg);
		int st;
		waitpid(bg, &st, WUNTRACED);
		say("child: background reader %s\n", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN ? "stopped by SIGTTIN" : "not stopped");
		// Bring it to the foreground: it reads a line and ends.
		tcsetpgrp(s, bg);
		kill(bg, SIGCONT);
		write(ready[1], &x, 1);
		waitpid(bg, &st, 0);
		tcsetpgrp(s, getpid());
		say("child: foreground job exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		// Writes from the background are allowed without TOSTOP.
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	char x;
	read(ready[0], &x, 1);
	write(m, "\x03", 1);
	struct winsize ws = {40, 100, 0, 0};
	ioctl(m, TIOCSWINSZ, &ws);
	usleep(100000);
	write(go[1], &x, 1);
	read(ready[0], &x, 1);
	write(m, "k\n", 2);
	int st;
	waitpid(c, &st, 0);
	say("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	say("echo seen by the master '%s'\n", drain(m));
	close(m);
}

int main(void) {
	basics();
	packet();
	session();
	return 0;
}
