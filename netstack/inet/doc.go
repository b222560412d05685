// Package inet is the sandbox's internet sockets: AF_INET and AF_INET6
// TCP, UDP and ICMP echo ("ping") sockets on gVisor's tcpip stack (the
// library, not its sentry).
//
// Each sandbox has one Stack. With --net=none (the default) it has one
// interface, the loopback "lo" with 127.0.0.1/8 and ::1/128, and no link
// to the outside: nothing sent on it leaves the sandbox, and the program
// never gets a host socket.
//
// A Socket is a tcpip endpoint behind the netstack.Socket interface: its
// operations never block (tcpip's ErrWouldBlock is EAGAIN; a connect that
// has started is EINPROGRESS), and the syscall layer does the waiting on
// the socket's own wait queue, which the endpoint's queue notifies. Errors
// are tcpip's, translated to the errno Linux returns (errors.go); socket
// options map onto the endpoint's options (opts.go).
package inet
