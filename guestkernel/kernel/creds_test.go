package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetIDRules(t *testing.T) {
	user := func() *ThreadGroup {
		return &ThreadGroup{creds: Creds{UID: 1000, EUID: 1000, SUID: 1000, GID: 100, EGID: 100, SGID: 100, Caps: UserCaps()}}
	}
	root := func() *ThreadGroup {
		return &ThreadGroup{creds: Creds{Caps: RootCaps()}}
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

// TestCapabilityRules: set*id, capset, the bounding and ambient sets, and
// execve follow Linux's rules.
func TestCapabilityRules(t *testing.T) {
	caps := func(tg *ThreadGroup) [5]uint64 {
		c := tg.Caps()
		return [5]uint64{c.Effective, c.Permitted, c.Inheritable, c.Bounding, c.Ambient}
	}
	root := func() *ThreadGroup { return &ThreadGroup{creds: Creds{Caps: RootCaps()}} }

	// Effective root leaving 0 loses the effective set, and back again
	// regains it from the permitted set.
	tg := root()
	if err := tg.SetResUID(NoChange, 1000, NoChange); err != nil {
		t.Fatal(err)
	}
	if got := caps(tg); got != [5]uint64{0, AllCaps, 0, AllCaps, 0} {
		t.Errorf("euid 1000: %x", got)
	}
	if err := tg.SetResUID(NoChange, 0, NoChange); err != nil {
		t.Fatal(err)
	}
	if got := caps(tg); got != [5]uint64{AllCaps, AllCaps, 0, AllCaps, 0} {
		t.Errorf("euid 0 again: %x", got)
	}
	// Leaving every 0 loses permitted and effective, and with them
	// CAP_SETUID: no way back.
	if err := tg.SetUID(1000); err != nil {
		t.Fatal(err)
	}
	if got := caps(tg); got != [5]uint64{0, 0, 0, AllCaps, 0} {
		t.Errorf("setuid(1000): %x", got)
	}
	if err := tg.SetUID(0); err != unix.EPERM {
		t.Errorf("setuid(0) after: %v", err)
	}

	// capset: shrink, never grow.
	tg = root()
	chown, kill := uint64(1)<<CapChown, uint64(1)<<5
	if !tg.SetCaps(chown, chown|kill, kill) {
		t.Fatal("shrinking refused")
	}
	if tg.SetCaps(chown, chown|kill|1<<CapSetUID, 0) {
		t.Error("a permitted capability regained")
	}
	if tg.SetCaps(kill|1<<CapSetUID, chown|kill, 0) {
		t.Error("an effective capability outside the permitted set")
	}
	if tg.DropBounding(CapChown) {
		t.Error("bounding drop without CAP_SETPCAP")
	}
	// Ambient: only what is permitted and inheritable.
	if tg.SetAmbient(CapChown, true) {
		t.Error("ambient CAP_CHOWN without it inheritable")
	}
	if !tg.SetAmbient(5, true) || tg.Caps().Ambient != kill {
		t.Error("ambient CAP_KILL")
	}
	// execve as root: permitted = inheritable | bounding | ambient, the
	// ambient set kept.
	tg.ExecCaps()
	if got := caps(tg); got != [5]uint64{AllCaps, AllCaps, kill, AllCaps, kill} {
		t.Errorf("root execve: %x", got)
	}
	// execve as a user: the ambient set becomes permitted and effective.
	u := &ThreadGroup{creds: Creds{UID: 1, EUID: 1, SUID: 1, Caps: CapSets{Permitted: kill, Inheritable: kill, Ambient: kill, Bounding: AllCaps}}}
	u.ExecCaps()
	if got := caps(u); got != [5]uint64{kill, kill, kill, AllCaps, kill} {
		t.Errorf("user execve with ambient CAP_KILL: %x", got)
	}
	set, unknown := ParseCaps([]string{"CAP_CHOWN", "kill", "CAP_NOPE"})
	if set != chown|kill || len(unknown) != 1 {
		t.Errorf("ParseCaps: %x %v", set, unknown)
	}
}
