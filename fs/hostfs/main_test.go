package hostfs

import (
	"os"
	"testing"

	"ringbox/guestkernel/hostcall"
)

// TestMain runs hostfs's tests with the host I/O thread on, so every host
// call goes through guestkernel/hostcall's table (as in ring0 mode with
// --hostio=thread); the direct path is a plain syscall.
func TestMain(m *testing.M) {
	if err := hostcall.Start(hostcall.Policy{Worker: true}); err != nil {
		panic(err)
	}
	code := m.Run()
	if c := hostcall.Counters(); c["hostcall.worker"] == 0 && code == 0 {
		os.Stderr.WriteString("hostfs tests: no host call went through the host I/O thread\n")
		code = 1
	}
	os.Exit(code)
}
