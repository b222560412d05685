// Package tty implements pseudo-terminals: a master and a slave end joined
// by a line discipline with termios settings, as Linux's pty driver and
// n_tty do. Input written to the master is processed (ICRNL, signals from
// the INTR, QUIT and SUSP characters, canonical line editing with ERASE,
// WERASE, KILL and EOF, echo with ECHOE, ECHOK and ECHOCTL) and read by
// the slave; output written to the slave is processed (OPOST, ONLCR) and
// read by the master. Reads and writes never block: they return EAGAIN,
// and the syscall layer waits on the end's queue (fs.Waitable).
//
// The terminal knows its session and foreground process group as plain
// IDs; the rules of the controlling terminal and of job control live in
// the syscall layer, which owns the processes. Signals the line
// discipline generates go to the foreground group through the hook set
// with SetSession.
package tty
