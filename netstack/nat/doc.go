// Package nat is the sandbox's way out with --net=sandbox: a second
// tcpip stack, the gateway, on the far end of the sandbox stack's eth0.
// Every TCP connection and UDP flow the program starts to an address off
// the sandbox arrives at the gateway (it takes all destinations), which
// checks the Policy (--allow-net), dials a host socket with the host's
// network, and relays bytes or datagrams between the two, the way slirp
// and gvisor-tap-vsock do. A refused TCP connect gets a reset
// (ECONNREFUSED), a refused UDP flow an ICMP port unreachable.
//
// The gateway's address stands for two host services: port 53 is the
// host's resolver (DNS), and other ports are the host's loopback, on the
// ports an --allow-net rule names.
//
// Port (--publish) goes the other way: a host listener on 127.0.0.1
// whose connections are relayed to a port in the sandbox.
//
// The program never holds a host socket: host sockets live in ringbox's
// Go code only, and what they carry crosses into the sandbox as bytes.
package nat
