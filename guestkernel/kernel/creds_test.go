package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetIDRules(t *testing.T) {
	user := func() *ThreadGroup {
		return &ThreadGroup{creds: Creds{UID: 1000, EUID: 1000, SUID: 1000, GID: 100, EGID: 100, SGID: 100}}
	}
	root := func() *ThreadGroup {
		return &ThreadGroup{creds: Creds{}}
	}
	check := func(name string, err, want error, tg *ThreadGroup, uids [3]uint32) {
		t.Helper()
		if err != want {
			t.Errorf("%s: err %v, want %v", name, err, want)
		}
		c := tg.Creds()
		if got := [3]uint32{c.UID, c.EUID, c.SUID}; got != uids {
			t.Errorf("%s: uids %v, want %v", name, got, uids)
		}
	}

	tg := user()
	check("user setuid(0)", tg.SetUID(0), unix.EPERM, tg, [3]uint32{1000, 1000, 1000})
	check("user setresuid to a foreign id", tg.SetResUID(NoChange, 4321, NoChange), unix.EPERM, tg, [3]uint32{1000, 1000, 1000})
	check("user setresgid to a foreign id", tg.SetResGID(7, NoChange, NoChange), unix.EPERM, tg, [3]uint32{1000, 1000, 1000})
	check("user setgroups", tg.SetGroups(nil), unix.EPERM, tg, [3]uint32{1000, 1000, 1000})

	tg = root()
	check("root setresuid", tg.SetResUID(1, 2, 3), nil, tg, [3]uint32{1, 2, 3})
	// Now unprivileged (effective 2): may move among 1, 2, 3 only.
	check("setreuid real to the saved id", tg.SetReUID(3, 1), unix.EPERM, tg, [3]uint32{1, 2, 3})
	// Real to the old effective: the saved ID follows the new effective.
	check("setreuid to its own ids", tg.SetReUID(2, 1), nil, tg, [3]uint32{2, 1, 1})
	check("setuid to the real id", tg.SetUID(2), nil, tg, [3]uint32{2, 2, 1})

	tg = root()
	check("root setuid", tg.SetUID(5), nil, tg, [3]uint32{5, 5, 5})
	if err := tg.SetGID(6); err != unix.EPERM {
		t.Errorf("setgid after dropping root: %v, want EPERM", err)
	}
	tg = root()
	if err := tg.SetGroups([]uint32{1, 2}); err != nil || len(tg.Creds().Groups) != 2 {
		t.Errorf("root setgroups: %v %v", err, tg.Creds().Groups)
	}
	if err := tg.SetGroups(make([]uint32, NGroupsMax+1)); err != unix.EINVAL {
		t.Errorf("too many groups: %v", err)
	}
}
