// inotify: watches on a directory and on a file in it, and the events the
// program's own file operations raise (create, open, read, write, close,
// attributes, rename with its cookie, hard links, unlink with
// IN_DELETE_SELF and IN_IGNORED, mkdir and rmdir), IN_ONESHOT, IN_MASK_ADD,
// merging of repeated events, inotify_rm_watch, the errors, a short read
// buffer, FIONREAD, poll, and a blocking read woken by another process.
// File watchers (tail -f, node's fs.watch, build tools) rely on these.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int r) {
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EAGAIN: return "EAGAIN";
	case EBADF: return "EBADF";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENOTDIR: return "ENOTDIR";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", errno);
	return b;
}

static int ifd;
static int wdDir, wdFile;
static char dir[64];

static const char *wdName(int wd) {
	static char b[16];
	if (wd == wdDir)
		return "dir";
	if (wd == wdFile)
		return "file";
	snprintf(b, sizeof b, "wd%d", wd);
	return b;
}

static void maskName(uint32_t m, char *out) {
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
		{IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
		{IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
		{IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
		{IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"},
		{IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
	};
	out[0] = 0;
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (m & bits[i].bit) {
			if (out[0])
				strcat(out, "|");
			strcat(out, bits[i].name);
			m &= ~bits[i].bit;
		}
	}
	if (m)
		sprintf(out + strlen(out), "|0x%x", m);
}

// drain prints the queued events under a title; cookies print as the
// order in which they were first seen (0 stays 0).
static void drain(const char *title) {
	static uint32_t cookies[16];
	static int ncookies;
	char buf[4096] __attribute__((aligned(8)));
	printf("%s:\n", title);
	for (;;) {
		ssize_t n = read(ifd, buf, sizeof buf);
		if (n < 0) {
			if (errno != EAGAIN)
				printf("  read: %s\n", ename(-1));
			break;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			char m[256];
			maskName(e->mask, m);
			int c = 0;
			if (e->cookie) {
				for (c = 0; c < ncookies && cookies[c] != e->cookie; c++)
					;
				if (c == ncookies && ncookies < 16)
					cookies[ncookies++] = e->cookie;
				c++;
			}
			printf("  %s %s", wdName(e->wd), m);
			if (c)
				printf(" cookie#%d", c);
			if (e->len)
				printf(" \"%s\" (len %u)", e->name, e->len);
			printf("\n");
			p += sizeof *e + e->len;
		}
	}
}

static char *at(const char *name) {
	static char b[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
	return b[i];
}

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

// fdinfo prints the watches /proc/self/fdinfo lists, without the inode
// and device numbers.
static void fdinfo(void) {
	char p[64], line[256];
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", ifd);
	FILE *f = fopen(p, "r");
	if (!f) {
		printf("fdinfo: %s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned wd, mask;
		char *m = strstr(line, "mask:");
		if (sscanf(line, "inotify wd:%x", &wd) == 1 && m && sscanf(m, "mask:%x", &mask) == 1)
			printf("fdinfo: wd %s, mask 0x%x\n", wdName(wd), mask);
	}
	fclose(f);
}

int main(void) {
	char buf[64];
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	printf("inotify_init1: %s, cloexec %s\n", ename(ifd), (fcntl(ifd, F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
	printf("read of an empty queue: %s\n", ename(read(ifd, buf, sizeof buf)));
	printf("inotify_init1(bad flag): %s\n", ename(inotify_init1(1)));

	snprintf(dir, sizeof dir, "/tmp/ringbox-inotify-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	wdDir = inotify_add_watch(ifd, dir, IN_ALL_EVENTS);
	printf("watch the directory: %s\n", ename(wdDir));

	int fd = open(at("a"), O_CREAT | O_WRONLY | O_EXCL, 0644);
	write(fd, "hello", 5);
	write(fd, "hello", 5); // merged with the first MODIFY
	close(fd);
	drain("create and write a");

	wdFile = inotify_add_watch(ifd, at("a"), IN_ALL_EVENTS);
	printf("watch a: %s; again: same wd %s\n", ename(wdFile),
	       inotify_add_watch(ifd, at("a"), IN_ALL_EVENTS) == wdFile ? "yes" : "no");
	fd = open(at("a"), O_RDONLY);
	read(fd, buf, sizeof buf);
	read(fd, buf, sizeof buf); // EOF: no event
	close(fd);
	drain("open, read and close a");

	chmod(at("a"), 0600);
	truncate(at("a"), 2);
	struct timespec ts[2] = {{1, 0}, {2, 0}};
	utimensat(AT_FDCWD, at("a"), ts, 0);
	fd = open(at("a"), O_WRONLY | O_TRUNC);
	close(fd);
	drain("chmod, truncate, utimensat and O_TRUNC of a");

	rename(at("a"), at("b"));
	drain("rename a to b");
	link(at("b"), at("c"));
	drain("link c to b");
	unlink(at("c"));
	drain("unlink c");
	mkdir(at("sub"), 0755);
	fd = open(at("sub"), O_RDONLY | O_DIRECTORY);
	close(fd);
	rmdir(at("sub"));
	drain("mkdir, open and rmdir sub");
	symlink("b", at("sym"));
	close(open(at("sym"), O_RDONLY));
	drain("symlink sym to b, open it");
	close(creat(at("d"), 0644));
	rename(at("d"), at("b"));
	drain("rename d over b");
	printf("rm_watch of b's old wd: %s\n", ename(inotify_rm_watch(ifd, wdFile)));
	close(creat(at("x"), 0644));
	syscall(SYS_renameat2, AT_FDCWD, at("b"), AT_FDCWD, at("x"), RENAME_EXCHANGE);
	unlink(at("x"));
	drain("create x, exchange it with b, unlink x");
	unlink(at("sym"));
	drain("unlink sym");

	// A watch on the file only: its own events, no name.
	wdFile = inotify_add_watch(ifd, at("b"), IN_MODIFY | IN_CLOSE_WRITE);
	int wd2 = inotify_add_watch(ifd, at("b"), IN_ATTRIB | IN_MASK_ADD);
	printf("IN_MASK_ADD: same wd %s\n", wd2 == wdFile ? "yes" : "no");
	printf("IN_MASK_CREATE on a watched file: %s\n", ename(inotify_add_watch(ifd, at("b"), IN_OPEN | IN_MASK_CREATE)));
	inotify_rm_watch(ifd, wdDir);
	drain("rm_watch of the directory");
	fd = open(at("b"), O_WRONLY);
	write(fd, "x", 1);
	fchmod(fd, 0644);
	close(fd);
	drain("write and fchmod b, watched alone");
	unlink(at("b"));
	drain("unlink b");

	// IN_ONESHOT: one event, then the watch is gone.
	close(creat(at("e"), 0644));
	int wd3 = inotify_add_watch(ifd, at("e"), IN_OPEN | IN_ONESHOT);
	close(open(at("e"), O_RDONLY));
	close(open(at("e"), O_RDONLY));
	drain("IN_ONESHOT on e, opened twice");
	printf("rm_watch of the oneshot wd: %s\n", ename(inotify_rm_watch(ifd, wd3)));

	// Errors.
	printf("add_watch on a bad fd: %s\n", ename(inotify_add_watch(99, dir, IN_OPEN)));
	printf("add_watch on a pipe: %s\n", ename(inotify_add_watch(0, dir, IN_OPEN)));
	printf("add_watch with no events: %s\n", ename(inotify_add_watch(ifd, dir, 0)));
	printf("add_watch of a missing file: %s\n", ename(inotify_add_watch(ifd, at("nope"), IN_OPEN)));
	printf("IN_ONLYDIR on a file: %s\n", ename(inotify_add_watch(ifd, at("e"), IN_OPEN | IN_ONLYDIR)));
	printf("IN_MASK_ADD|IN_MASK_CREATE: %s\n", ename(inotify_add_watch(ifd, dir, IN_OPEN | IN_MASK_ADD | IN_MASK_CREATE)));
	printf("rm_watch of a bad wd: %s\n", ename(inotify_rm_watch(ifd, 12345)));
	printf("write to the inotify fd: %s\n", ename(write(ifd, "x", 1)));

	// Reading: a buffer too short for the event, FIONREAD, poll.
	wdDir = inotify_add_watch(ifd, dir, IN_CREATE);
	fdinfo();
	close(creat(at("a-longer-name"), 0644));
	int avail = -1;
	ioctl(ifd, FIONREAD, &avail);
	printf("FIONREAD: %d\n", avail);
	struct pollfd pfd = {.fd = ifd, .events = POLLIN};
	int pr = poll(&pfd, 1, 0);
	printf("poll: %d, revents 0x%x\n", pr, pfd.revents);
	printf("read into 16 bytes: %s\n", ename(read(ifd, buf, 16)));
	drain("the event that did not fit");
	printf("poll after: %d\n", poll(&pfd, 1, 0));

	// A blocking read, woken by a file another process makes.
	int bfd = inotify_init();
	inotify_add_watch(bfd, dir, IN_CREATE);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		msleep(100);
		close(creat(at("from-child"), 0644));
		_exit(0);
	}
	char big[256] __attribute__((aligned(8)));
	ssize_t n = read(bfd, big, sizeof big);
	struct inotify_event *e = (struct inotify_event *)big;
	printf("blocking read: %zd bytes, %s\n", n, n > 0 && (e->mask & IN_CREATE) ? e->name : "?");
	waitpid(pid, NULL, 0);
	close(bfd);

	unlink(at("e"));
	unlink(at("a-longer-name"));
	unlink(at("from-child"));
	rmdir(dir);
	close(ifd);
	return 0;
}
