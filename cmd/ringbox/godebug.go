package main

import (
	"os"
	"strings"
	"syscall"
)

// programGodebugEnv carries the GODEBUG ringbox was started with, for the
// program, when ringbox had to change it for itself.
const programGodebugEnv = "RINGBOX_PROGRAM_GODEBUG"

// keepPreemption re-executes ringbox when GODEBUG turns Go's asynchronous
// preemption off: ring0 mode needs it to stop a program that spins
// (docs/ring0-mode.md). ringbox then runs with it on, and the program
// still gets the GODEBUG it was given (programEnv).
func keepPreemption() {
	gd, ok := os.LookupEnv("GODEBUG")
	if !ok || !asyncPreemptOff(gd) {
		return
	}
	if _, again := os.LookupEnv(programGodebugEnv); again {
		return
	}
	env := []string{programGodebugEnv + "=" + gd}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "GODEBUG=") {
			e += ",asyncpreemptoff=0" // the last setting wins
		}
		env = append(env, e)
	}
	// Should the exec fail, ringbox runs on as it is.
	syscall.Exec("/proc/self/exe", os.Args, env)
}

// asyncPreemptOff reports whether GODEBUG setting list gd turns
// asynchronous preemption off (its last asyncpreemptoff wins).
func asyncPreemptOff(gd string) bool {
	off := false
	for _, kv := range strings.Split(gd, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "asyncpreemptoff="); ok {
			off = v != "0"
		}
	}
	return off
}

// programGodebug returns the environment entry k=v as the program gets
// it: GODEBUG as ringbox was given it, and nothing of programGodebugEnv.
func programGodebug(k, v string, host []string) (string, bool) {
	switch k {
	case programGodebugEnv:
		return "", false
	case "GODEBUG":
		for _, e := range host {
			if orig, ok := strings.CutPrefix(e, programGodebugEnv+"="); ok {
				return orig, true
			}
		}
	}
	return v, true
}
