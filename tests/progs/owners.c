// owners: who owns what is made, and chown(2), as root and as a user:
// new files, directories, symlinks, FIFOs and sockets belong to their
// creator's effective user and group (the directory's group under a
// set-group-ID directory, which passes the bit to subdirectories); a
// user reads back what it made with umask 077, changes its mode, and
// gives it to one of its groups but not to another user or group; chown
// clears the set-ID bits of a file; a sticky directory keeps users from
// removing or renaming each other's files; a path through a directory
// the user may not search is EACCES. Run as root, in a new
// directory under argv[1] (default /tmp); with argv[2] "host" (a host
// directory bound into the sandbox, whose files never carry a set-ID
// bit), without the set-group-ID file.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static const char *en(int e) {
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}
#define RES(call) ((call) < 0 ? en(errno) : "ok")

static char *at(const char *name) {
	static char b[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
	return b[i];
}

// show prints a name's owner and mode (the permission and set-ID bits).
static void show(const char *name) {
	struct stat st;
	if (lstat(at(name), &st) < 0)
		printf("  %s: %s\n", name, en(errno));
	else
		printf("  %s: %d:%d %04o\n", name, (int)st.st_uid, (int)st.st_gid, st.st_mode & 07777);
}

static int make(const char *name, mode_t mode) {
	int fd = open(at(name), O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -1;
	write(fd, "data", 4);
	close(fd);
	return 0;
}

static const char *readback(const char *name) {
	static char b[16];
	int fd = open(at(name), O_RDONLY);
	if (fd < 0)
		return en(errno);
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n < 0 ? 0 : n] = 0;
	return b;
}

// user is what uid 1000 (groups 1000 and 2000) does.
static void user(void) {
	gid_t groups[] = {2000};
	// Opened as root: the link /proc/self/fd/N leads to the file itself,
	// not through the 0700 directory it lies in (a magic link).
	int privfd = open(at("priv/f"), O_RDONLY);
	if (setgroups(1, groups) || setgid(1000) || setuid(1000)) {
		printf("dropping to the user: %s\n", en(errno));
		_exit(1);
	}
	// A process that changed its IDs is not dumpable: its /proc files
	// are root's, its old self may not trace it; until it says so.
	struct stat ps;
	stat("/proc/self/status", &ps);
	printf("user dumpable %d, /proc/self/status owned by %d", prctl(PR_GET_DUMPABLE), (int)ps.st_uid);
	// Its own descriptors it still lists (closefrom does).
	DIR *fds = opendir("/proc/self/fd");
	int nfd = 0;
	while (fds && readdir(fds))
		nfd++;
	printf(", lists /proc/self/fd: %s", fds && nfd > 3 ? "yes" : en(errno));
	if (fds)
		closedir(fds);
	printf(", /proc/self/environ: %s", RES(open("/proc/self/environ", O_RDONLY)));
	prctl(PR_SET_DUMPABLE, 1);
	stat("/proc/self/status", &ps);
	printf("; after PR_SET_DUMPABLE %d, by %d\n", prctl(PR_GET_DUMPABLE), (int)ps.st_uid);
	umask(077);
	const char *r = RES(make("u", 0666));
	printf("user creates u: %s, reads back %s\n", r, readback("u"));
	show("u");
	printf("user chmod u 640: %s\n", RES(chmod(at("u"), 0640)));
	printf("user chown u to 1001: %s\n", RES(chown(at("u"), 1001, -1)));
	printf("user chown u to group 2000: %s\n", RES(chown(at("u"), -1, 2000)));
	printf("user chown u to group 3000: %s\n", RES(chown(at("u"), -1, 3000)));
	printf("user chown u to itself: %s\n", RES(chown(at("u"), 1000, -1)));
	show("u");
	printf("user chown root's r0 to its group: %s\n", RES(chown(at("r0"), -1, 1000)));
	printf("user mkdir ud: %s", RES(mkdir(at("ud"), 0777)));
	printf(", creates ud/f: %s\n", RES(make("ud/f", 0644)));
	show("ud");
	show("ud/f");
	printf("user symlink: %s", RES(symlink("u", at("ul"))));
	printf(", fifo: %s\n", RES(mkfifo(at("uf"), 0666)));
	show("ul");
	show("uf");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", at("us"));
	printf("user binds us: %s\n", RES(bind(s, (struct sockaddr *)&sa, sizeof sa)));
	close(s);
	show("us");
	printf("user in the set-group-ID directory: %s", RES(make("sg/f", 0644)));
	printf(", mkdir: %s\n", RES(mkdir(at("sg/d"), 0755)));
	show("sg/f");
	show("sg/d");
	// Search permission on the directories of a path.
	struct stat st;
	printf("user opens priv/f: %s", RES(open(at("priv/f"), O_RDONLY)));
	printf(", stats it: %s", RES(stat(at("priv/f"), &st)));
	printf(", priv/../r0: %s", RES(stat(at("priv/../r0"), &st)));
	printf(", chdir priv: %s\n", RES(chdir(at("priv"))));
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", privfd);
	printf("user reopens priv/f by /proc/self/fd/N: %s", RES(open(link, O_RDONLY)));
	printf(", stats it: %s\n", RES(stat(link, &st)));
	int fd = open(at("xonly/f"), O_RDONLY);
	printf("user opens xonly/f: %s", fd < 0 ? en(errno) : "ok");
	if (fd >= 0)
		close(fd);
	printf(", lists xonly: %s\n", RES(open(at("xonly"), O_RDONLY | O_DIRECTORY)));
	// The sticky directory (dir is 1777).
	printf("user unlinks root's file: %s", RES(unlink(at("rootfile"))));
	printf(", renames it: %s\n", RES(rename(at("rootfile"), at("mine"))));
	printf("user renames over root's file: %s\n", RES(rename(at("ul"), at("rootfile"))));
	printf("user unlinks its own: %s\n", RES(unlink(at("uf"))));
	_exit(0);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(dir, sizeof dir, "%s/ownersXXXXXX", argc > 1 ? argv[1] : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	umask(022);
	chmod(dir, 01777);
	printf("root creates r0: %s\n", RES(make("r0", 0644)));
	show("r0");
	make("r", 06755);
	chmod(at("r"), 06755);
	printf("chown r to 1000:1000: %s\n", RES(chown(at("r"), 1000, 1000)));
	show("r");
	chmod(at("r"), 06755);
	printf("chown r's group only: %s\n", RES(chown(at("r"), -1, 1000)));
	show("r");
	int host = argc > 2 && strcmp(argv[2], "host") == 0;
	if (!host) {
		chmod(at("r"), 02745); // set-group-ID without group execute stays
		chown(at("r"), 1000, -1);
		show("r");
	}
	printf("chown -1 -1: %s\n", RES(chown(at("r"), -1, -1)));
	symlink("r", at("rl"));
	printf("lchown rl: %s\n", RES(lchown(at("rl"), 1000, 1000)));
	show("rl");
	if (!host)
		show("r");
	mkdir(at("sg"), 0777);
	chown(at("sg"), 0, 3000);
	chmod(at("sg"), 02777);
	make("rootfile", 0666);
	mkdir(at("priv"), 0700);
	make("priv/f", 0644);
	mkdir(at("xonly"), 0711);
	make("xonly/f", 0644);

	// Made with mode 0, then given a mode (dpkg unpacks so): in a host
	// tree, a file ringbox itself may not open.
	printf("mkdir z0 mode 0: %s", RES(mkdir(at("z0"), 0)));
	printf(", chmod 755: %s", RES(chmod(at("z0"), 0755)));
	printf(", creates z0/f mode 0: %s", RES(make("z0/f", 0)));
	printf(", chmod 644: %s\n", RES(chmod(at("z0/f"), 0644)));
	show("z0");
	show("z0/f");

	pid_t p = fork();
	if (p == 0)
		user();
	int status;
	waitpid(p, &status, 0);
	printf("user exit %d\n", WEXITSTATUS(status));
	printf("root reads u: %s", readback("u"));
	printf(", removes it: %s\n", RES(unlink(at("u"))));

	const char *names[] = {"sg/d", "sg/f", "ud/f", "ud", "sg", "r0", "r", "rl", "ul", "uf", "us", "rootfile", "mine",
			       "priv/f", "priv", "xonly/f", "xonly", "z0/f", "z0"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (unlink(at(names[i])) < 0)
			rmdir(at(names[i]));
	printf("rmdir: %s\n", RES(rmdir(dir)));
	return 0;
}
