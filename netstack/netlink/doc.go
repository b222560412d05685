// Package netlink is the sandbox's AF_NETLINK sockets: NETLINK_ROUTE,
// enough for getifaddrs, if_nameindex and `ip addr`/`ip route` to list
// the sandbox's interfaces, addresses and routes (RTM_GETLINK, GETADDR
// and GETROUTE, dumped or asked for one). Nothing can be changed through
// it: other requests are answered with EOPNOTSUPP (NLMSG_ERROR).
//
// A socket answers each request at once: the replies of one request are
// one datagram on its receive queue, as Linux packs a small dump.
package netlink
