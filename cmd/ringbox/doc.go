// Command ringbox runs a Linux x86-64 program inside a KVM virtual machine
// under ringbox's own application kernel.
//
//	ringbox run [flags] -- PROGRAM [ARGS...]
//	ringbox version
//
// Exit status: the program's; 128+n when it died of signal n; 125 when
// ringbox itself failed; 126 when PROGRAM cannot be executed; 127 when it
// was not found; 2 for a bad command line.
package main
