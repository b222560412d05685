/* Shared mappings that outlive their descriptor: a /dev/shm file and a
 * memfd mapped MAP_SHARED, closed, then used (also across fork); POSIX
 * named semaphores (sem_open maps its file and closes it at once), posted
 * by a child and waited for by the parent. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(int ok, const char *what) {
	if (!ok) {
		perror(what);
		exit(1);
	}
}

static char *map_closed(int fd, const char *what) {
	check(ftruncate(fd, 4096) == 0, "ftruncate");
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(p != MAP_FAILED, "mmap");
	check(close(fd) == 0, "close");
	strcpy(p, what);
	return p;
}

int main(void) {
	int fd = open("/dev/shm/ringbox-semopen", O_RDWR | O_CREAT | O_EXCL, 0600);
	check(fd >= 0, "open /dev/shm");
	check(unlink("/dev/shm/ringbox-semopen") == 0, "unlink");
	char *a = map_closed(fd, "shm file");
	char *b = map_closed(memfd_create("m", 0), "memfd");
	pid_t pid = fork();
	check(pid >= 0, "fork");
	if (pid == 0) {
		strcat(a, " + child");
		strcat(b, " + child");
		_exit(0);
	}
	int st;
	check(waitpid(pid, &st, 0) == pid, "waitpid");
	printf("%s; %s; child status %d\n", a, b, WEXITSTATUS(st));
	check(munmap(a, 4096) == 0 && munmap(b, 4096) == 0, "munmap");

	sem_unlink("/ringbox-semopen");
	sem_t *s = sem_open("/ringbox-semopen", O_CREAT | O_EXCL, 0600, 0);
	check(s != SEM_FAILED, "sem_open");
	for (int i = 0; i < 3; i++) {
		pid = fork();
		check(pid >= 0, "fork");
		if (pid == 0) {
			sem_t *c = sem_open("/ringbox-semopen", 0);
			check(c != SEM_FAILED, "sem_open in the child");
			check(sem_post(c) == 0, "sem_post");
			_exit(0);
		}
	}
	for (int i = 0; i < 3; i++)
		check(sem_wait(s) == 0, "sem_wait");
	while (wait(NULL) > 0)
		;
	int v = -1;
	check(sem_getvalue(s, &v) == 0, "sem_getvalue");
	printf("three posts waited for, value now %d\n", v);
	check(sem_trywait(s) == -1, "sem_trywait on zero");
	printf("sem_trywait on zero: %s\n", strerror(errno));
	check(sem_close(s) == 0 && sem_unlink("/ringbox-semopen") == 0, "sem_unlink");
	printf("unlinked: %s\n", sem_open("/ringbox-semopen", 0) == SEM_FAILED ? strerror(errno) : "still there");
	return 0;
}
