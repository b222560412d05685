// sysvipc: System V shared memory, semaphores and message queues between
// processes: a segment shared by a parent and its children after fork and
// detached at exec, IPC_RMID while attached, SHM_RDONLY; semaphores as a
// lock across processes, SEM_UNDO releasing the lock of a child killed
// while holding it, blocked semop woken, timed out, interrupted and failed
// by removal; message queues with types, IPC_NOWAIT, MSG_NOERROR,
// MSG_EXCEPT, MSG_COPY, a full queue and blocked senders and receivers.
// Run as root natively, it first becomes nobody, so that the access checks
// are those of an unprivileged user, as in the sandbox.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static const char *ename(int e) {
	switch (e) {
	case 0: return "ok";
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EIDRM: return "EIDRM";
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case E2BIG: return "E2BIG";
	case ENOMSG: return "ENOMSG";
	case ERANGE: return "ERANGE";
	case EFBIG: return "EFBIG";
	case EFAULT: return "EFAULT";
	case ENOSPC: return "ENOSPC";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

// res reports a call's outcome: "ok" or the errno's name.
#define res(call) ((call) == -1 ? ename(errno) : "ok")

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(int ms) { usleep(ms * 1000); }

static int child_status(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

// wait_blocked waits until process pid sleeps (in the call it was
// started for), as /proc/PID/stat says.
static void wait_blocked(pid_t pid) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (double end = now() + 10; now() < end; msleep(2)) {
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *close = strrchr(buf, ')');
		if (close && close[1] == ' ' && close[2] == 'S')
			return;
	}
}

static unsigned long nattch(int id) {
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) == -1)
		return 999;
	return ds.shm_nattch;
}

static void shm_tests(void) {
	printf("== shm\n");
	int id = shmget(IPC_PRIVATE, 10000, 0600);
	char *p = shmat(id, NULL, 0);
	if (id < 0 || p == (void *)-1) {
		printf("shmget/shmat failed: %s\n", ename(errno));
		exit(1);
	}
	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	printf("size %zu, nattch %lu, mode %o, creator is me: %s, owner is me: %s\n", ds.shm_segsz,
	       ds.shm_nattch, ds.shm_perm.mode & 0777, ds.shm_cpid == getpid() ? "yes" : "no",
	       ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() ? "yes" : "no");
	printf("zero-filled: %s\n", p[0] == 0 && p[9999] == 0 ? "yes" : "no");

	// fork: the child has it attached too and writes; the parent sees.
	pid_t pid = fork();
	if (pid == 0) {
		strcpy(p + 5000, "written by the child");
		_exit(nattch(id) == 2 ? 0 : 2);
	}
	printf("child saw nattch 2: %s\n", child_status(pid) == 0 ? "yes" : "no");
	printf("parent reads: %s\n", p + 5000);
	printf("nattch after the child exited: %lu\n", nattch(id));

	// exec detaches: nattch drops while the exec'd child still runs.
	pid = fork();
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "5", (char *)NULL);
		_exit(127);
	}
	int detached = 0;
	for (double end = now() + 10; now() < end;) {
		if (nattch(id) == 1) {
			detached = waitpid(pid, NULL, WNOHANG) == 0;
			break;
		}
		msleep(2);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("detached at exec: %s\n", detached ? "yes" : "no");

	// Several children write their own part.
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			for (int j = 0; j < 1000; j++)
				p[1000 * i + j] = 'a' + i;
			_exit(0);
		}
	}
	for (int i = 0; i < 4; i++)
		child_status(kids[i]);
	int good = 1;
	for (int i = 0; i < 4000; i++)
		good &= p[i] == 'a' + i / 1000;
	printf("four children's writes seen: %s\n", good ? "yes" : "no");

	// SHM_RDONLY: no mprotect to writable, a write is SIGSEGV.
	char *ro = shmat(id, NULL, SHM_RDONLY);
	printf("read-only attach reads: %s\n", ro != (void *)-1 && strcmp(ro + 5000, "written by the child") == 0 ? "yes" : "no");
	printf("mprotect writable: %s\n", res(mprotect(ro, 4096, PROT_READ | PROT_WRITE)));
	pid = fork();
	if (pid == 0) {
		ro[0] = 1;
		_exit(0);
	}
	printf("child writing it: %s\n", child_status(pid) == 1000 + SIGSEGV ? "SIGSEGV" : "not killed");
	printf("shmdt read-only: %s", res(shmdt(ro)));
	printf(", nattch %lu\n", nattch(id));

	// shmat at a chosen address, SHM_RND, SHM_REMAP.
	char *want = (char *)0x500000000000;
	char *at = shmat(id, want, 0);
	printf("attach at a given address: %s\n", at == want ? "yes" : "no");
	printf("again there: %s\n", res((long)shmat(id, want, 0)));
	printf("again with SHM_REMAP: %s\n", shmat(id, want, SHM_REMAP) == want ? "ok" : ename(errno));
	printf("unaligned: %s\n", res((long)shmat(id, want + 1, 0)));
	char *rnd = shmat(id, want + (1 << 20) + 5, SHM_RND);
	printf("unaligned with SHM_RND: %s\n", rnd == want + (1 << 20) ? "rounded down" : ename(errno));
	printf("SHM_REMAP without an address: %s\n", res((long)shmat(id, NULL, SHM_REMAP)));
	printf("nattch %lu\n", nattch(id));
	printf("shmdt: %s", res(shmdt(want)));
	printf(" %s", res(shmdt(rnd)));
	printf(", unaligned %s", res(shmdt(want + 1)));
	printf(", nothing there %s\n", res(shmdt(want)));

	// Keys, IPC_EXCL, sizes.
	key_t key = 0x52420000 | (getpid() & 0xffff);
	int k1 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	printf("create with a key: %s\n", k1 >= 0 ? "ok" : ename(errno));
	printf("IPC_CREAT|IPC_EXCL again: %s\n", res(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)));
	printf("same key: %s\n", shmget(key, 100, 0) == k1 ? "same id" : ename(errno));
	printf("larger than it: %s\n", res(shmget(key, 8192, 0)));
	printf("size 0: %s\n", res(shmget(IPC_PRIVATE, 0, 0600)));
	printf("no such key: %s\n", res(shmget(key + 1, 4096, 0600)));

	// IPC_RMID while attached: the key goes, the data stays until the
	// last detach; it can still be attached by its id (Linux).
	char *kp = shmat(k1, NULL, 0);
	strcpy(kp, "still here");
	printf("IPC_RMID while attached: %s\n", res(shmctl(k1, IPC_RMID, NULL)));
	printf("key lookup now: %s\n", res(shmget(key, 4096, 0600)));
	shmctl(k1, IPC_STAT, &ds);
	printf("marked for destruction: %s, key now private: %s, nattch %lu\n", ds.shm_perm.mode & SHM_DEST ? "yes" : "no",
	       ds.shm_perm.__key == IPC_PRIVATE ? "yes" : "no", ds.shm_nattch);
	printf("data: %s\n", kp);
	char *kp2 = shmat(k1, NULL, 0);
	printf("attach by id after IPC_RMID: %s\n", kp2 != (void *)-1 && strcmp(kp2, "still here") == 0 ? "ok" : ename(errno));
	shmdt(kp2);
	shmdt(kp);
	printf("after the last detach: %s\n", res(shmctl(k1, IPC_STAT, &ds)));

	// A segment removed while unattached is gone at once.
	int k2 = shmget(IPC_PRIVATE, 4096, 0600);
	shmctl(k2, IPC_RMID, NULL);
	printf("attach a removed segment: %s\n", res((long)shmat(k2, NULL, 0)));

	// Access: a read-only segment cannot be attached read-write.
	int ro_id = shmget(IPC_PRIVATE, 4096, 0400);
	printf("read-write attach of a 0400 segment: %s\n", res((long)shmat(ro_id, NULL, 0)));
	char *rop = shmat(ro_id, NULL, SHM_RDONLY);
	printf("read-only attach of it: %s\n", rop != (void *)-1 ? "ok" : ename(errno));
	shmdt(rop);
	shmctl(ro_id, IPC_RMID, NULL);

	// IPC_SET: the mode changes.
	ds.shm_perm.mode = 0640;
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0640;
	printf("IPC_SET: %s", res(shmctl(id, IPC_SET, &ds)));
	shmctl(id, IPC_STAT, &ds);
	printf(", mode now %o\n", ds.shm_perm.mode & 0777);
	printf("bad id: %s", res(shmctl(-1, IPC_STAT, &ds)));
	printf(", bad command: %s", res(shmctl(id, 12345, &ds)));
	printf(", bad buffer: %s\n", res(shmctl(id, IPC_STAT, (void *)8)));

	// The segment outlives the processes' detach and goes with RMID.
	shmdt(p);
	printf("nattch after detach: %lu\n", nattch(id));
	printf("IPC_RMID: %s", res(shmctl(id, IPC_RMID, NULL)));
	printf(", then IPC_STAT: %s\n", res(shmctl(id, IPC_STAT, &ds)));
}

static int semval(int id, int n) { return semctl(id, n, GETVAL); }

static int op(int id, int num, int delta, int flags) {
	struct sembuf sb = {.sem_num = num, .sem_op = delta, .sem_flg = flags};
	return semop(id, &sb, 1);
}

static void on_alarm(int sig) { (void)sig; }

static void sem_tests(void) {
	printf("== sem\n");
	int id = semget(IPC_PRIVATE, 2, 0600);
	if (id < 0) {
		printf("semget failed: %s\n", ename(errno));
		exit(1);
	}
	struct semid_ds ds;
	union semun arg = {.buf = &ds};
	semctl(id, 0, IPC_STAT, arg);
	printf("nsems %lu, mode %o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777);
	arg.val = 1;
	printf("SETVAL: %s", res(semctl(id, 0, SETVAL, arg)));
	printf(", GETVAL %d\n", semval(id, 0));

	// A lock across processes guarding a counter in shared memory.
	int *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*counter = 0;
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			for (int j = 0; j < 300; j++) {
				if (op(id, 0, -1, SEM_UNDO) == -1)
					_exit(1);
				int v = *counter;
				if (j % 50 == 0)
					sched_yield();
				*counter = v + 1;
				if (op(id, 0, 1, SEM_UNDO) == -1)
					_exit(1);
			}
			_exit(0);
		}
	}
	int bad = 0;
	for (int i = 0; i < 4; i++)
		bad |= child_status(kids[i]);
	printf("counter under the lock: %d (children %s)\n", *counter, bad ? "failed" : "ok");
	printf("lock free again: %d\n", semval(id, 0));

	// SEM_UNDO: a child killed while holding the lock gives it back.
	int pfd[2];
	pipe(pfd);
	pid_t holder = fork();
	if (holder == 0) {
		op(id, 0, -1, SEM_UNDO);
		write(pfd[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	read(pfd[0], &c, 1);
	printf("lock held by the child: %d", semval(id, 0));
	printf(", IPC_NOWAIT: %s\n", res(op(id, 0, -1, IPC_NOWAIT)));
	kill(holder, SIGKILL);
	double t0 = now();
	int r = op(id, 0, -1, 0);
	printf("taken after the holder was killed: %s (quick: %s)\n", r == 0 ? "yes" : ename(errno), now() - t0 < 5 ? "yes" : "no");
	child_status(holder);
	op(id, 0, 1, 0);

	// GETNCNT and GETZCNT count blocked operations; SETVAL wakes them.
	pid_t w1 = fork();
	if (w1 == 0)
		_exit(op(id, 1, -1, 0) == 0 ? 0 : 1);
	pid_t w2 = fork();
	if (w2 == 0)
		_exit(op(id, 0, 0, 0) == 0 ? 0 : 1); // waits for zero
	int ncnt = 0, zcnt = 0;
	for (double end = now() + 10; now() < end && (ncnt != 1 || zcnt != 1); msleep(2)) {
		ncnt = semctl(id, 1, GETNCNT);
		zcnt = semctl(id, 0, GETZCNT);
	}
	printf("GETNCNT %d, GETZCNT %d\n", ncnt, zcnt);
	arg.val = 1;
	semctl(id, 1, SETVAL, arg);
	printf("waiter for a unit: %s\n", child_status(w1) == 0 ? "done" : "failed");
	op(id, 0, -1, 0);
	printf("waiter for zero: %s\n", child_status(w2) == 0 ? "done" : "failed");
	printf("values now: %d %d\n", semval(id, 0), semval(id, 1));

	// Several operations at once: all or none.
	struct sembuf two[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT}};
	printf("all-or-nothing: %s", res(semop(id, two, 2)));
	printf(", values %d %d\n", semval(id, 0), semval(id, 1));

	// A timeout, a signal (never restarted, SA_RESTART or not).
	struct timespec ts = {0, 50 * 1000 * 1000};
	t0 = now();
	r = semtimedop(id, &(struct sembuf){1, -1, 0}, 1, &ts);
	printf("semtimedop: %s after the timeout: %s\n", r == 0 ? "ok" : ename(errno), now() - t0 >= 0.045 ? "yes" : "no");
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 50000}, .it_interval = {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	printf("semop with a SA_RESTART handler's signal: %s\n", res(op(id, 1, -1, 0)));
	setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);

	// Limits and bad input.
	arg.val = 32768;
	printf("SETVAL 32768: %s\n", res(semctl(id, 0, SETVAL, arg)));
	arg.val = 32767;
	semctl(id, 0, SETVAL, arg);
	printf("past SEMVMX: %s\n", res(op(id, 0, 1, 0)));
	printf("no such semaphore: %s\n", res(op(id, 2, 1, 0)));
	struct sembuf many[501];
	memset(many, 0, sizeof many);
	printf("501 operations: %s\n", res(semop(id, many, 501)));
	printf("none: %s\n", res(semop(id, many, 0)));
	printf("bad pointer: %s\n", res(semop(id, (void *)8, 1)));
	printf("create with 0 semaphores: %s\n", res(semget(IPC_PRIVATE, 0, 0600)));
	unsigned short all[2] = {3, 4}, got[2];
	arg.array = all;
	printf("SETALL: %s", res(semctl(id, 0, SETALL, arg)));
	arg.array = got;
	semctl(id, 0, GETALL, arg);
	printf(", GETALL %d %d\n", got[0], got[1]);
	printf("GETVAL of semaphore 2: %s\n", res(semctl(id, 2, GETVAL)));

	// Removal fails a blocked operation with EIDRM.
	pid_t w = fork();
	if (w == 0)
		_exit(op(id, 1, -10, 0) == -1 && errno == EIDRM ? 0 : 1);
	for (double end = now() + 10; now() < end && semctl(id, 1, GETNCNT) != 1;)
		msleep(2);
	printf("IPC_RMID: %s\n", res(semctl(id, 0, IPC_RMID)));
	printf("the waiter got EIDRM: %s\n", child_status(w) == 0 ? "yes" : "no");
	printf("then: %s\n", res(op(id, 0, 1, 0)));
}

struct msg {
	long type;
	char text[64];
};

static int snd(int id, long type, const char *text, int flags) {
	struct msg m = {.type = type};
	strcpy(m.text, text);
	return msgsnd(id, &m, strlen(text), flags);
}

// rcv receives into a buffer of size bytes and returns the text, or the
// errno's name.
static const char *rcv(int id, long type, size_t size, int flags) {
	static struct msg m;
	static char out[96];
	memset(&m, 0, sizeof m);
	ssize_t n = msgrcv(id, &m, size, type, flags);
	if (n < 0)
		return ename(errno);
	snprintf(out, sizeof out, "%ld:%.*s", m.type, (int)n, m.text);
	return out;
}

static void msg_tests(void) {
	printf("== msg\n");
	int id = msgget(IPC_PRIVATE, 0600);
	if (id < 0) {
		printf("msgget failed: %s\n", ename(errno));
		exit(1);
	}
	snd(id, 3, "c1", 0);
	snd(id, 1, "a1", 0);
	snd(id, 2, "b1", 0);
	snd(id, 1, "a2", 0);
	snd(id, 3, "c2", 0);
	struct msqid_ds ds;
	msgctl(id, IPC_STAT, &ds);
	printf("qnum %lu, cbytes %lu, qbytes %lu, last sender is me: %s\n", (unsigned long)ds.msg_qnum,
	       (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes, ds.msg_lspid == getpid() ? "yes" : "no");
	printf("type 2: %s\n", rcv(id, 2, 64, IPC_NOWAIT));
	printf("not type 1: %s\n", rcv(id, 1, 64, IPC_NOWAIT | MSG_EXCEPT));
	printf("lowest type up to 3: %s\n", rcv(id, -3, 64, IPC_NOWAIT));
	printf("copy of message 1: %s\n", rcv(id, 1, 64, IPC_NOWAIT | MSG_COPY));
	printf("copy without IPC_NOWAIT: %s\n", rcv(id, 1, 64, MSG_COPY));
	printf("copy of message 9: %s\n", rcv(id, 9, 64, IPC_NOWAIT | MSG_COPY));
	printf("first: %s\n", rcv(id, 0, 64, IPC_NOWAIT));
	printf("first: %s\n", rcv(id, 0, 64, IPC_NOWAIT));
	printf("empty: %s\n", rcv(id, 0, 64, IPC_NOWAIT));

	snd(id, 7, "0123456789", 0);
	printf("too long for 4 bytes: %s\n", rcv(id, 0, 4, IPC_NOWAIT));
	printf("with MSG_NOERROR: %s\n", rcv(id, 0, 4, IPC_NOWAIT | MSG_NOERROR));
	printf("type 0: %s\n", res(snd(id, 0, "x", 0)));
	static struct {
		long type;
		char text[8193];
	} big = {.type = 1};
	printf("8193 bytes: %s\n", res(msgsnd(id, &big, 8193, 0)));
	printf("8192 bytes: %s\n", res(msgsnd(id, &big, 8192, IPC_NOWAIT)));
	printf("got back %ld bytes\n", (long)msgrcv(id, &big, 8192, 0, IPC_NOWAIT));
	printf("bad buffer: %s\n", res(msgsnd(id, (void *)8, 1, 0)));

	// A receiver waiting for a type gets it from another process.
	pid_t pid = fork();
	if (pid == 0) {
		const char *got = rcv(id, 5, 64, 0);
		_exit(strcmp(got, "5:hello") == 0 ? 0 : 1);
	}
	msleep(30);
	snd(id, 4, "other", 0);
	snd(id, 5, "hello", 0);
	printf("blocked receiver got its type: %s\n", child_status(pid) == 0 ? "yes" : "no");
	printf("the other stays: %s\n", rcv(id, 0, 64, IPC_NOWAIT));

	// A small queue: full, a blocked sender goes on when a receiver
	// makes room.
	msgctl(id, IPC_STAT, &ds);
	ds.msg_qbytes = 100;
	printf("lower msg_qbytes: %s\n", res(msgctl(id, IPC_SET, &ds)));
	int n = 0;
	while (snd(id, 1, "thirty bytes of text, exactly.", IPC_NOWAIT) == 0)
		n++;
	printf("fit: %d, then %s\n", n, ename(errno));
	pid = fork();
	if (pid == 0)
		_exit(snd(id, 2, "the blocked one", 0) == 0 ? 0 : 1);
	msleep(30);
	printf("sender blocked: %s\n", waitpid(pid, NULL, WNOHANG) == 0 ? "yes" : "no");
	rcv(id, 0, 64, 0);
	printf("sender done after a receive: %s\n", child_status(pid) == 0 ? "yes" : "no");
	printf("its message: %s\n", rcv(id, 2, 64, IPC_NOWAIT));
	ds.msg_qbytes = 16385;
	printf("msg_qbytes above MSGMNB: %s\n", res(msgctl(id, IPC_SET, &ds)));

	// A signal ends a blocked receive with EINTR (a handler ran).
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 50000}, .it_interval = {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	printf("blocked receive and a signal: %s\n", rcv(id, 99, 64, 0));
	setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);

	// Removal fails blocked receivers with EIDRM.
	pid = fork();
	if (pid == 0) {
		const char *got = rcv(id, 99, 64, 0);
		_exit(strcmp(got, "EIDRM") == 0 ? 0 : 1);
	}
	wait_blocked(pid);
	printf("IPC_RMID: %s\n", res(msgctl(id, IPC_RMID, NULL)));
	printf("the receiver got EIDRM: %s\n", child_status(pid) == 0 ? "yes" : "no");
	printf("then: %s\n", res(snd(id, 1, "x", IPC_NOWAIT)));

	key_t key = 0x52430000 | (getpid() & 0xffff);
	int k = msgget(key, IPC_CREAT | 0600);
	printf("keyed: %s", k >= 0 ? "ok" : ename(errno));
	printf(", again: %s", msgget(key, 0) == k ? "same" : "other");
	printf(", exclusive: %s", res(msgget(key, IPC_CREAT | IPC_EXCL)));
	printf(", removed: %s\n", res(msgctl(k, IPC_RMID, NULL)));
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() == 0) {
		// Natively as root: be an unprivileged user (the sandbox has no
		// setuid; it has no privileges either).
		if (setgroups(0, NULL) == 0 && setgid(65534) == 0)
			setuid(65534);
	}
	shm_tests();
	sem_tests();
	msg_tests();
	return 0;
}
