// numa: the NUMA memory-policy calls on a machine of one node, as the
// sandbox is: get_mempolicy's mode and nodes (MPOL_F_MEMS_ALLOWED,
// MPOL_F_ADDR, MPOL_F_NODE), set_mempolicy's modes and checks (no node,
// a node that does not exist, bad modes and flags), the policy a thread
// inherits, and mbind on a mapping and on a hole. Its expected output is
// the sandbox's (e2e golden): a host may have more nodes.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_LOCAL 4
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4

static const char *en(long r) {
	static char buf[32];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	return strerrorname_np(errno);
}

static long get(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags) {
	return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}
static long set(int mode, unsigned long *mask, unsigned long maxnode) {
	return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}

static void show(const char *what) {
	int mode = -1;
	unsigned long mask[2] = {~0ul, ~0ul};
	long r = get(&mode, mask, 128, NULL, 0);
	printf("%s: %s mode=%d mask=%lx,%lx\n", what, en(r), mode, mask[0], mask[1]);
}

static void *thread(void *arg) {
	show("in a new thread");
	return NULL;
}

int main(void) {
	show("at start");
	int mode = -1;
	unsigned long mask[2] = {~0ul, ~0ul};
	printf("mems allowed: %s", en(get(&mode, mask, 128, NULL, MPOL_F_MEMS_ALLOWED)));
	printf(" mode=%d mask=%lx\n", mode, mask[0]);
	printf("numa_available probe: %s\n", en(get(NULL, NULL, 0, NULL, 0)));
	printf("bad flags: %s\n", en(get(&mode, NULL, 0, NULL, 8)));
	printf("an address without MPOL_F_ADDR: %s\n", en(get(&mode, NULL, 0, &mode, 0)));
	printf("MPOL_F_MEMS_ALLOWED with MPOL_F_NODE: %s\n", en(get(&mode, NULL, 0, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE)));
	printf("MPOL_F_NODE under the default policy: %s\n", en(get(&mode, NULL, 0, NULL, MPOL_F_NODE)));
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	mode = -1;
	printf("MPOL_F_ADDR: %s", en(get(&mode, NULL, 0, p, MPOL_F_ADDR)));
	printf(" mode=%d\n", mode);
	mode = -1;
	printf("MPOL_F_ADDR|MPOL_F_NODE: %s", en(get(&mode, NULL, 0, p, MPOL_F_ADDR | MPOL_F_NODE)));
	printf(" node=%d\n", mode);
	munmap(p + 4096, 4096);
	printf("MPOL_F_ADDR of a hole: %s\n", en(get(&mode, NULL, 0, p + 4096, MPOL_F_ADDR)));

	unsigned long node0 = 1, node1 = 2, none = 0;
	printf("bind to node 0: %s\n", en(set(MPOL_BIND, &node0, 64)));
	show("after bind");
	printf("bind to node 1: %s\n", en(set(MPOL_BIND, &node1, 64)));
	printf("bind to no node: %s\n", en(set(MPOL_BIND, &none, 64)));
	printf("interleave with static nodes: %s\n", en(set(MPOL_INTERLEAVE | MPOL_F_STATIC_NODES, &node0, 64)));
	show("after interleave");
	mode = -1;
	printf("MPOL_F_NODE under interleave: %s", en(get(&mode, NULL, 0, NULL, MPOL_F_NODE)));
	printf(" node=%d\n", mode);
	pthread_t th;
	pthread_create(&th, NULL, thread, NULL);
	pthread_join(th, NULL);
	printf("static and relative: %s\n", en(set(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &node0, 64)));
	printf("mode 99: %s\n", en(set(99, NULL, 0)));
	printf("default with a node: %s\n", en(set(MPOL_DEFAULT, &node0, 64)));
	printf("preferred with no node: %s\n", en(set(MPOL_PREFERRED, NULL, 0)));
	show("after preferred");
	printf("local: %s\n", en(set(MPOL_LOCAL, NULL, 0)));
	printf("a mask past a page of bits: %s\n", en(set(MPOL_BIND, &node0, 4096 * 8 + 2)));
	printf("default: %s\n", en(set(MPOL_DEFAULT, NULL, 0)));
	show("at the end");

	printf("mbind the page: %s\n", en(syscall(SYS_mbind, p, 4096, MPOL_BIND, &node0, 64, 0)));
	printf("mbind over the hole: %s\n", en(syscall(SYS_mbind, p, 8192, MPOL_BIND, &node0, 64, 0)));
	printf("mbind unaligned: %s\n", en(syscall(SYS_mbind, p + 1, 4096, MPOL_BIND, &node0, 64, 0)));
	printf("mbind bad flags: %s\n", en(syscall(SYS_mbind, p, 4096, MPOL_BIND, &node0, 64, 8)));
	return 0;
}
