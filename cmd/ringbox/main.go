package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"ringbox/vmm/confine"
)

// Version is the ringbox version.
const Version = "0.1.0"

// Exit statuses of ringbox itself (as docker/runc and shells use them).
const (
	exitUsage       = 2
	exitTimedOut    = 124 // --timeout, as timeout(1)
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

func main() {
	keepPreemption()
	// In ring0 mode every wake-up of a GC worker made from guest code is a
	// host syscall, a VM exit: collect less often than Go's default (the
	// kernel's own heap is small). GOGC in the environment still rules.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	st := realMain(os.Args[1:])
	// The confined child: the parent may leave now (vmm/confine).
	confine.ReportStatus(st)
	os.Exit(st)
}

// gcPercent is ringbox's GOGC: it halves the exits of a file-heavy run
// (ls -la /usr/bin: 14500 bounces at 100, 8900 at 400).
const gcPercent = 400

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
	if isOCICommandLine(args) {
		return ociMain(args)
	}
	cmd, err := parseCommandLine(args)
	switch {
	case err != nil:
		return err
	case cmd.help != "":
		fmt.Print(cmd.help)
		return nil
	case cmd.version:
		return versionCmd()
	case cmd.shell != "":
		fmt.Print(completionScript(cmd.shell))
		return nil
	}
	return runCmd(cmd.run)
}
