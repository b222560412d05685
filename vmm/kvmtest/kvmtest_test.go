package kvmtest

import (
	"errors"
	"strings"
	"testing"
)

// fakeTB records how a test ended.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = true
	f.msg = args[0].(string)
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = true }

func TestSkipOrFail(t *testing.T) {
	why := errors.New("open /dev/kvm: no such file or directory")

	t.Setenv(RequireEnv, "")
	f := &fakeTB{}
	SkipOrFail(f, why)
	if !f.skipped || f.failed {
		t.Fatalf("without %s: skipped=%v failed=%v, want a skip", RequireEnv, f.skipped, f.failed)
	}
	for _, want := range []string{"no such file", "tools/x86lane/run"} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("skip message %q does not say %q", f.msg, want)
		}
	}
	if strings.Contains(f.msg, "\n") {
		t.Errorf("skip message is not one line: %q", f.msg)
	}

	t.Setenv(RequireEnv, "1")
	f = &fakeTB{}
	SkipOrFail(f, why)
	if !f.failed || f.skipped {
		t.Fatalf("with %s=1: skipped=%v failed=%v, want a failure", RequireEnv, f.skipped, f.failed)
	}
}
