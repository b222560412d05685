// sockopts: the errors of socket options a socket does not have, which
// differ by family and by direction as Linux's IP, IPv6, AF_UNIX and
// netlink layers give them, and netlink's own SOL_NETLINK options. (An
// unknown option number of a known level is left out: Linux 6.1 says
// EOPNOTSUPP where 6.18 says ENOPROTOOPT.)
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void p(const char *what, int r) { printf("%-42s %s\n", what, r < 0 ? strerrorname_np(errno) : "ok"); }

int main(void) {
	int one = 1;
	unsigned char b[64];
	socklen_t l;
	int u = socket(AF_INET, SOCK_DGRAM, 0), u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	int t = socket(AF_INET, SOCK_STREAM, 0), t6 = socket(AF_INET6, SOCK_STREAM, 0);
	int n = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), x = socket(AF_UNIX, SOCK_STREAM, 0);
	p("udp setsockopt TCP_NODELAY", setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, 4));
	p("udp6 setsockopt TCP_NODELAY", setsockopt(u6, IPPROTO_TCP, TCP_NODELAY, &one, 4));
	l = 64, p("udp getsockopt TCP_NODELAY", getsockopt(u, IPPROTO_TCP, TCP_NODELAY, b, &l));
	l = 64, p("udp6 getsockopt TCP_NODELAY", getsockopt(u6, IPPROTO_TCP, TCP_NODELAY, b, &l));
	l = 64, p("udp getsockopt level 999", getsockopt(u, 999, 1, b, &l));
	l = 64, p("udp6 getsockopt level 999", getsockopt(u6, 999, 1, b, &l));
	l = 64, p("tcp getsockopt level 999", getsockopt(t, 999, 1, b, &l));
	l = 64, p("tcp6 getsockopt level 999", getsockopt(t6, 999, 1, b, &l));
	l = 64, p("udp getsockopt IPV6_V6ONLY", getsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, b, &l));
	p("udp setsockopt IPV6_V6ONLY", setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &one, 4));
	p("udp setsockopt level 999", setsockopt(u, 999, 1, &one, 4));
	p("udp6 setsockopt level 999", setsockopt(u6, 999, 1, &one, 4));
	l = 64, p("unix getsockopt level 999", getsockopt(x, 999, 1, b, &l));
	p("unix setsockopt level 999", setsockopt(x, 999, 1, &one, 4));
	l = 64, p("unix getsockopt SOL_SOCKET 999", getsockopt(x, SOL_SOCKET, 999, b, &l));
	p("unix setsockopt SOL_SOCKET 999", setsockopt(x, SOL_SOCKET, 999, &one, 4));

	l = 64, p("netlink getsockopt SOL_NETLINK 99", getsockopt(n, SOL_NETLINK, 99, b, &l));
	p("netlink setsockopt SOL_NETLINK 99", setsockopt(n, SOL_NETLINK, 99, &one, 4));
	p("netlink setsockopt NETLINK_RX_RING", setsockopt(n, SOL_NETLINK, 6, &one, 4));
	l = 64, p("netlink getsockopt SOL_SOCKET 999", getsockopt(n, SOL_SOCKET, 999, b, &l));
	p("netlink set NETLINK_EXT_ACK 1", setsockopt(n, SOL_NETLINK, NETLINK_EXT_ACK, &one, 4));
	int v = -1;
	l = sizeof v, getsockopt(n, SOL_NETLINK, NETLINK_EXT_ACK, &v, &l);
	printf("netlink NETLINK_EXT_ACK: %d (len %u)\n", v, l);
	l = sizeof v, getsockopt(n, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &v, &l);
	printf("netlink NETLINK_GET_STRICT_CHK: %d\n", v);
	int g = 3, zero = 0;
	p("netlink ADD_MEMBERSHIP 3", setsockopt(n, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, 4));
	p("netlink ADD_MEMBERSHIP 0", setsockopt(n, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &zero, 4));
	unsigned int groups[2] = {0, 0};
	l = sizeof groups;
	p("netlink LIST_MEMBERSHIPS", getsockopt(n, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &l));
	printf("netlink memberships: %#x (len %u)\n", groups[0], l);
	p("netlink DROP_MEMBERSHIP 3", setsockopt(n, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &g, 4));
	l = sizeof groups, getsockopt(n, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &l);
	printf("netlink memberships after the drop: %#x\n", groups[0]);
	return 0;
}
