// fifos: named pipes. mkfifo and mknod (S_IFIFO, S_IFREG, refused
// types), stat and fstat of a FIFO, opens that wait for the other side
// (in both orders, across fork), O_NONBLOCK opens (a reader at once, a
// writer ENXIO without a reader), O_RDWR, poll before and after a writer
// came and went, EOF, EPIPE, F_GETPIPE_SZ, data dropped when the last
// end closes, a signal ending a blocked open (EINTR), an unlinked FIFO
// still working, and /proc/self/fd naming the FIFO's path.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(void) {
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EINTR: return "EINTR";
	case ENXIO: return "ENXIO";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EBADF: return "EBADF";
	case ESPIPE: return "ESPIPE";
	}
	return strerror(errno);
}

#define CHECK(what, call)                                                      \
	do {                                                                       \
		long r_ = (long)(call);                                                \
		if (r_ < 0)                                                            \
			printf("%s: -1 %s\n", what, err());                                \
		else                                                                   \
			printf("%s: ok\n", what);                                          \
	} while (0)

static void pr_poll(const char *what, int fd, short events) {
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, 0);
	printf("%s: %d revents", what, n);
	if (p.revents & POLLIN) printf(" IN");
	if (p.revents & POLLOUT) printf(" OUT");
	if (p.revents & POLLHUP) printf(" HUP");
	if (p.revents & POLLERR) printf(" ERR");
	printf("\n");
}

static char dir[64];

static const char *at(const char *name) {
	static char buf[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

static void on_alarm(int sig) { (void)sig; }

static void make_and_stat(void) {
	umask(022);
	CHECK("mkfifo", mkfifo(at("f"), 0666));
	CHECK("mkfifo again", mkfifo(at("f"), 0666));
	struct stat st;
	stat(at("f"), &st);
	printf("stat: fifo=%d mode=%o size=%lld\n", S_ISFIFO(st.st_mode), st.st_mode & 07777, (long long)st.st_size);
	CHECK("mknod fifo", mknod(at("g"), S_IFIFO | 0600, 0));
	stat(at("g"), &st);
	printf("mknod fifo: fifo=%d mode=%o\n", S_ISFIFO(st.st_mode), st.st_mode & 07777);
	CHECK("mknod regular", mknod(at("r"), S_IFREG | 0640, 0));
	stat(at("r"), &st);
	printf("mknod regular: reg=%d mode=%o size=%lld\n", S_ISREG(st.st_mode), st.st_mode & 07777, (long long)st.st_size);
	CHECK("mknod type 0", mknod(at("r0"), 0644, 0));
	stat(at("r0"), &st);
	printf("mknod type 0: reg=%d\n", S_ISREG(st.st_mode));
	CHECK("mknod directory", mknod(at("d"), S_IFDIR | 0755, 0));
	CHECK("mknod bad type", mknod(at("x"), 0170000 | 0644, 0));
	CHECK("mknod no parent", mknod(at("none/f"), S_IFIFO | 0644, 0));
	CHECK("mknod trailing slash", mknod(at("slash/"), S_IFIFO | 0644, 0));
	CHECK("mknod trailing slash, exists", mknod(at("f/"), S_IFIFO | 0644, 0));
	CHECK("mknodat", mknodat(AT_FDCWD, at("h"), S_IFIFO | 0644, 0));
	CHECK("mkfifoat exists", mkfifoat(AT_FDCWD, at("h"), 0644));
}

static void nonblocking(void) {
	CHECK("open writer nonblock, no reader", open(at("f"), O_WRONLY | O_NONBLOCK));
	int r = open(at("f"), O_RDONLY | O_NONBLOCK);
	printf("open reader nonblock: %s\n", r >= 0 ? "ok" : err());
	char buf[16];
	printf("read, no writer yet: %zd\n", read(r, buf, sizeof buf));
	pr_poll("poll reader, no writer yet", r, POLLIN);
	int w = open(at("f"), O_WRONLY | O_NONBLOCK);
	printf("open writer nonblock with a reader: %s\n", w >= 0 ? "ok" : err());
	struct stat a, b;
	fstat(w, &a);
	stat(at("f"), &b);
	printf("fstat: fifo=%d same inode=%d\n", S_ISFIFO(a.st_mode), a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	printf("F_GETPIPE_SZ: %d\n", fcntl(w, F_GETPIPE_SZ));
	printf("lseek: %s\n", lseek(r, 0, SEEK_SET) < 0 ? err() : "ok");
	pr_poll("poll reader, empty", r, POLLIN);
	printf("write: %zd\n", write(w, "hello", 5));
	pr_poll("poll reader, data", r, POLLIN);
	pr_poll("poll writer", w, POLLOUT);
	ssize_t n = read(r, buf, sizeof buf);
	printf("read: %zd %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	n = read(r, buf, sizeof buf);
	printf("read empty with a writer: %zd %s\n", n, n < 0 ? err() : "");
	close(w);
	pr_poll("poll reader, writer gone", r, POLLIN);
	printf("read, writer gone: %zd\n", read(r, buf, sizeof buf));
	w = open(at("f"), O_WRONLY | O_NONBLOCK);
	close(r);
	signal(SIGPIPE, SIG_IGN);
	n = write(w, "x", 1);
	printf("write, reader gone: %zd %s\n", n, n < 0 ? err() : "");
	pr_poll("poll writer, reader gone", w, POLLOUT);
	close(w);
}

static void rdwr(void) {
	int fd = open(at("f"), O_RDWR);
	printf("open O_RDWR: %s\n", fd >= 0 ? "ok" : err());
	printf("write: %zd\n", write(fd, "abc", 3));
	char buf[8];
	ssize_t n = read(fd, buf, sizeof buf);
	printf("read back: %zd %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	printf("write then close: %zd\n", write(fd, "left", 4));
	close(fd);
	fd = open(at("f"), O_RDWR | O_NONBLOCK);
	n = read(fd, buf, sizeof buf);
	printf("reopened, data dropped: %zd %s\n", n, n < 0 ? err() : "");
	char link[64], path[256];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof path - 1);
	path[n > 0 ? n : 0] = 0;
	printf("/proc/self/fd names the path: %d\n", strcmp(path, at("f")) == 0);
	close(fd);
}

// blocking opens the FIFO in one process for reading and in a child for
// writing, the child first or second.
static void blocking(int childFirst) {
	pid_t pid = fork();
	if (pid == 0) {
		if (!childFirst)
			usleep(100 * 1000); // the parent is blocked in open by now
		int w = open(at("f"), O_WRONLY);
		if (w < 0)
			_exit(1);
		write(w, "from child", 10);
		close(w);
		_exit(0);
	}
	if (childFirst)
		usleep(100 * 1000); // the child is blocked in open by now (or soon)
	int r = open(at("f"), O_RDONLY);
	char buf[32];
	ssize_t n, got = 0;
	while ((n = read(r, buf + got, sizeof buf - got)) > 0)
		got += n;
	close(r);
	int status;
	waitpid(pid, &status, 0);
	printf("blocking open, %s first: read %.*s, child status %d\n", childFirst ? "writer" : "reader",
	       (int)got, buf, WEXITSTATUS(status));
}

static void interrupted(void) {
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	int fd = open(at("g"), O_RDONLY);
	printf("blocked open, signal without SA_RESTART: %s\n", fd >= 0 ? "ok" : err());
	alarm(0);
	// The interrupted reader is gone: a nonblocking writer finds none.
	fd = open(at("g"), O_WRONLY | O_NONBLOCK);
	printf("then open writer nonblock: %s\n", fd >= 0 ? "ok" : err());
}

static void unlinked(void) {
	int r = open(at("h"), O_RDONLY | O_NONBLOCK);
	int w = open(at("h"), O_WRONLY);
	CHECK("unlink while open", unlink(at("h")));
	printf("write after unlink: %zd\n", write(w, "still", 5));
	char buf[8];
	ssize_t n = read(r, buf, sizeof buf);
	printf("read after unlink: %zd %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	close(r);
	close(w);
	CHECK("open after unlink", open(at("h"), O_RDONLY | O_NONBLOCK));
}

static void shell_style(void) {
	// Two processes that open the FIFO the way `cmd > fifo & cat fifo`
	// does, with several writes.
	pid_t pid = fork();
	if (pid == 0) {
		int w = open(at("g"), O_WRONLY);
		for (int i = 0; i < 100; i++)
			dprintf(w, "line %d\n", i);
		_exit(0);
	}
	FILE *f = fopen(at("g"), "r");
	char line[32];
	int lines = 0;
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	waitpid(pid, NULL, 0);
	printf("lines through the FIFO: %d\n", lines);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	strcpy(dir, "/tmp/fifosXXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	make_and_stat();
	nonblocking();
	rdwr();
	blocking(0);
	blocking(1);
	interrupted();
	unlinked();
	shell_style();
	const char *names[] = {"f", "g", "r", "r0"};
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(at(names[i]));
	CHECK("rmdir", rmdir(dir));
	return 0;
}
