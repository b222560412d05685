package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Version is the ringbox version.
const Version = "0.1.0"

// Exit statuses of ringbox itself (as docker/runc and shells use them).
const (
	exitUsage       = 2
	exitSandbox     = 125
	exitCannotExec  = 126
	exitNotFound    = 127
	exitSignalsBase = 128
)

// exitError carries an exit status and a one-line message.
type exitError struct {
	status int
	msg    string
}

func (e *exitError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &exitError{status: status, msg: fmt.Sprintf(format, args...)}
}

func usage() string {
	return `usage: ringbox run [--strace] [--debug] [--platform=kvm|kvm-exit] [--backend=auto|pvm|x86]
                   [--memory=SIZE] [--pids=N] [--cpus=N] [--env K=V]... -- PROGRAM [ARGS...]
       ringbox version`
}

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) int {
	err := dispatch(args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(os.Stderr, "ringbox: %s\n", oneLine(ee.msg))
		}
		return ee.status
	}
	fmt.Fprintf(os.Stderr, "ringbox: %s\n", oneLine(err.Error()))
	return exitSandbox
}

// oneLine keeps an error message on one line.
func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

func dispatch(args []string) error {
	if len(args) == 0 {
		return fail(exitUsage, "missing command; %s", strings.ReplaceAll(usage(), "\n", " "))
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:])
	case "version", "--version":
		return versionCmd()
	case "help", "-h", "--help":
		fmt.Println(usage())
		return nil
	}
	return fail(exitUsage, "unknown command %q (want run or version)", args[0])
}
