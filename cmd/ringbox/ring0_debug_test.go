package main

import (
	"runtime"
	"testing"
	"time"
)

func TestRing0Debug(t *testing.T) {
	for i := 0; i < 3; i++ {
		err := runCmd([]string{"--platform=kvm", "--", "/tmp/min"})
		t.Logf("run %d: %v", i, err)
		for j := 0; j < 5; j++ {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
	}
}
