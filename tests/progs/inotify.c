// inotify: watches on a directory and on a file in it, and the events the
// program's own file operations raise (create, open, read, write, close,
// attributes: chmod, truncate, utimensat by which times it sets, chown and
// its kin; rename with its cookie, none between two names of one file, a
// directory renamed over another; hard links, unlink with IN_DELETE_SELF
// and IN_IGNORED, mkdir and rmdir), IN_ONESHOT, IN_MASK_ADD, merging of
// repeated events, inotify_rm_watch, the errors, a short read buffer,
// FIONREAD, poll, an edge-triggered epoll woken by every event queued, a
// full queue (one IN_Q_OVERFLOW, events queued after it once a read made
// room), and a blocking read woken by another process. Also path calls on
// a /proc/self/fd link to a pipe (statfs, truncate, chdir, link). File
// watchers (tail -f, node's fs.watch, build tools) rely on these.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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
	case EXDEV: return "EXDEV";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", errno);
	return b;
}

static int ifd;
static int wdDir, wdFile, wdD1, wdD2;
static char dir[64];

static const char *wdName(int wd) {
	static char b[16];
	if (wd == wdDir)
		return "dir";
	if (wd == wdFile)
		return "file";
	if (wd == wdD1)
		return "d1";
	if (wd == wdD2)
		return "d2";
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

static int cmpLine(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// drainAs prints the queued events under a title (sorted if sorted);
// cookies print as the order in which they were first seen (0 stays 0).
static void drainAs(const char *title, int sorted) {
	static uint32_t cookies[16];
	static int ncookies;
	char buf[4096] __attribute__((aligned(8)));
	char *lines[64];
	int nlines = 0;
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
			char line[512];
			int l = snprintf(line, sizeof line, "  %s %s", wdName(e->wd), m);
			if (c)
				l += snprintf(line + l, sizeof line - l, " cookie#%d", c);
			if (e->len)
				snprintf(line + l, sizeof line - l, " \"%s\" (len %u)", e->name, e->len);
			if (sorted && nlines < 64)
				lines[nlines++] = strdup(line);
			else
				printf("%s\n", line);
			p += sizeof *e + e->len;
		}
	}
	qsort(lines, nlines, sizeof lines[0], cmpLine);
	for (int i = 0; i < nlines; i++) {
		printf("%s\n", lines[i]);
		free(lines[i]);
	}
}

static void drain(const char *title) { drainAs(title, 0); }

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
	struct timespec atimeOnly[2] = {{3, 0}, {0, UTIME_OMIT}}, mtimeOnly[2] = {{0, UTIME_OMIT}, {4, 0}};
	struct timespec neither[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	utimensat(AT_FDCWD, at("a"), atimeOnly, 0);
	utimensat(AT_FDCWD, at("a"), mtimeOnly, 0);
	utimensat(AT_FDCWD, at("a"), neither, 0);
	printf("utimensat of a missing file, both UTIME_OMIT: %s\n", ename(utimensat(AT_FDCWD, at("nope"), neither, 0)));
	drain("chmod, truncate, utimensat of a (both times, atime, mtime, neither)");
	// Linux 6.1 raised O_TRUNC's MODIFY before OPEN, 6.18 after: sorted.
	fd = open(at("a"), O_WRONLY | O_TRUNC);
	close(fd);
	drainAs("O_TRUNC of a (sorted)", 1);

	// chown and its kin: IN_ATTRIB, none when uid and gid are both -1.
	// Root only (the sandbox gives others EPERM, as without CAP_CHOWN).
	if (geteuid() == 0) {
		chown(at("a"), 0, 0);
		chown(at("a"), -1, -1);
		lchown(at("a"), -1, 0);
		symlink("a", at("l"));
		lchown(at("l"), 0, 0);
		chown(at("l"), 0, 0);
		fchownat(AT_FDCWD, at("l"), 0, -1, AT_SYMLINK_NOFOLLOW);
		fd = open(at("a"), O_RDONLY);
		fchown(fd, 0, 0);
		fchown(fd, -1, -1);
		fchownat(fd, "", 0, 0, AT_EMPTY_PATH);
		printf("chown, lchown of a missing file: %s, %s; fchownat(fd, \"\", 0): %s\n",
		       ename(chown(at("nope"), 0, 0)), ename(lchown(at("nope"), 0, 0)), ename(fchownat(fd, "", 0, 0, 0)));
		close(fd);
		unlink(at("l"));
		drain("chown, lchown, fchownat, fchown of a and of a symlink l to it");
	} else {
		printf("chown: not root, skipped\n");
	}

	// Two names of one file: rename between them changes nothing and
	// raises nothing.
	link(at("a"), at("a2"));
	drain("link a2 to a");
	printf("rename a onto a2: %s\n", ename(rename(at("a"), at("a2"))));
	printf("rename a onto itself: %s\n", ename(rename(at("a"), at("a"))));
	printf("exchange a and a2: %s\n",
	       ename(syscall(SYS_renameat2, AT_FDCWD, at("a"), AT_FDCWD, at("a2"), RENAME_EXCHANGE)));
	drain("renames between two names of a");
	unlink(at("a2"));
	drain("unlink a2");

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
	// A directory renamed over another: the one replaced hears
	// IN_ATTRIB|IN_ISDIR, then IN_DELETE_SELF; IN_MOVE_SELF and
	// IN_DELETE_SELF never carry IN_ISDIR.
	mkdir(at("d1"), 0755);
	mkdir(at("d2"), 0755);
	wdD1 = inotify_add_watch(ifd, at("d1"), IN_ALL_EVENTS);
	wdD2 = inotify_add_watch(ifd, at("d2"), IN_ALL_EVENTS);
	drain("mkdir d1 and d2, watched");
	rename(at("d1"), at("d2"));
	drain("rename d1 over d2");
	rmdir(at("d2"));
	drain("rmdir d2 (d1 moved)");
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

	// Path calls on a /proc/self/fd link to a pipe (no file system file).
	int pp[2];
	pipe(pp);
	char ppath[64];
	struct statfs sfs;
	snprintf(ppath, sizeof ppath, "/proc/self/fd/%d", pp[0]);
	printf("a pipe's /proc/self/fd link: statfs %s, truncate %s, chdir %s, link %s\n", ename(statfs(ppath, &sfs)),
	       ename(truncate(ppath, 0)), ename(chdir(ppath)),
	       ename(linkat(AT_FDCWD, ppath, AT_FDCWD, at("plink"), AT_SYMLINK_FOLLOW)));
	close(pp[0]);
	close(pp[1]);

	// Edge-triggered epoll: every event queued wakes it, a merged one
	// does not.
	int efd = inotify_init1(IN_NONBLOCK);
	inotify_add_watch(efd, at("e"), IN_OPEN | IN_CLOSE_NOWRITE);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	int e1 = open(at("e"), O_RDONLY);
	int n1 = epoll_wait(ep, &ev, 1, 0);
	int n2 = epoll_wait(ep, &ev, 1, 0);
	close(e1);
	int n3 = epoll_wait(ep, &ev, 1, 0);
	e1 = open(at("e"), O_RDONLY);
	int n4 = epoll_wait(ep, &ev, 1, 0);
	int e2 = open(at("e"), O_RDONLY);
	int n5 = epoll_wait(ep, &ev, 1, 0);
	printf("edge-triggered epoll: an event %d, nothing new %d, a second event %d, a third %d, one merged into it %d\n",
	       n1, n2, n3, n4, n5);
	close(e1);
	close(e2);
	close(ep);
	close(efd);

	// A full queue: one IN_Q_OVERFLOW; once a read made room, events are
	// queued after it until the queue is full again (no second marker).
	int qfd = inotify_init1(IN_NONBLOCK);
	int qf = open(at("e"), O_RDWR);
	inotify_add_watch(qfd, at("e"), IN_MODIFY | IN_ACCESS);
	int prev = -1, qavail = 0;
	for (int i = 0; i < (1 << 20); i++) {
		pwrite(qf, "x", 1, 0);
		pread(qf, buf, 1, 0);
		if (i % 256 == 255) {
			ioctl(qfd, FIONREAD, &qavail);
			if (qavail == prev)
				break;
			prev = qavail;
		}
	}
	char qbuf[65536] __attribute__((aligned(8)));
	ssize_t qn = read(qfd, qbuf, 10 * sizeof(struct inotify_event));
	for (int i = 0; i < 10; i++) {
		pwrite(qf, "x", 1, 0);
		pread(qf, buf, 1, 0);
	}
	int markers = 0, after = 0, modifyAccess = 1;
	for (;;) {
		ssize_t n = read(qfd, qbuf, sizeof qbuf);
		if (n <= 0)
			break;
		for (char *p = qbuf; p < qbuf + n; p += sizeof(struct inotify_event)) {
			struct inotify_event *qe = (struct inotify_event *)p;
			if (qe->mask == IN_Q_OVERFLOW && qe->wd == -1)
				markers++;
			else if (markers)
				after++;
			if (qe->mask != IN_Q_OVERFLOW && qe->mask != IN_MODIFY && qe->mask != IN_ACCESS)
				modifyAccess = 0;
		}
	}
	printf("full queue: first read %zd bytes, %d IN_Q_OVERFLOW, %d events after it, the others MODIFY and ACCESS %s\n",
	       qn, markers, after, modifyAccess ? "yes" : "no");
	close(qf);
	close(qfd);

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
