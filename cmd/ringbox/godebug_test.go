package main

import (
	"slices"
	"testing"
)

func TestAsyncPreemptOff(t *testing.T) {
	for gd, want := range map[string]bool{
		"":                                    false,
		"asyncpreemptoff=1":                   true,
		"gctrace=1,asyncpreemptoff=1":         true,
		"asyncpreemptoff=1,asyncpreemptoff=0": false,
		"asyncpreemptoff=0":                   false,
		" asyncpreemptoff=1 , madvdontneed=1": true,
		"xasyncpreemptoff=1":                  false,
	} {
		if got := asyncPreemptOff(gd); got != want {
			t.Errorf("asyncPreemptOff(%q) = %v, want %v", gd, got, want)
		}
	}
}

// TestProgramGodebug: after keepPreemption's re-exec the program gets the
// GODEBUG ringbox was given, and not ringbox's marker.
func TestProgramGodebug(t *testing.T) {
	host := []string{"PATH=/bin", "GODEBUG=asyncpreemptoff=1,asyncpreemptoff=0", programGodebugEnv + "=asyncpreemptoff=1"}
	env, err := programEnv(&runOpts{}, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(env, "GODEBUG=asyncpreemptoff=1") {
		t.Errorf("program environment %q lacks the original GODEBUG", env)
	}
	for _, e := range env {
		if len(e) > len(programGodebugEnv) && e[:len(programGodebugEnv)] == programGodebugEnv {
			t.Errorf("program environment has %q", e)
		}
	}
	// Without the marker, GODEBUG passes as it is.
	env, _ = programEnv(&runOpts{}, []string{"GODEBUG=gctrace=1"}, nil)
	if !slices.Contains(env, "GODEBUG=gctrace=1") {
		t.Errorf("program environment %q", env)
	}
}
