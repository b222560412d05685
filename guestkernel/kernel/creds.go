package kernel

import (
	"slices"

	"golang.org/x/sys/unix"
)

// The set*id rules, as Linux applies them to a process without
// CAP_SETUID/CAP_SETGID (caps.go): with them, any ID. Credentials are
// per process here (glibc makes every thread change them together
// anyway).

// NoChange is the -1 of setre*id and setres*id: keep that ID.
const NoChange = ^uint32(0)

// NGroupsMax bounds the supplementary groups (NGROUPS_MAX).
const NGroupsMax = 65536

// idSet is a process's real, effective and saved user IDs, or group IDs.
type idSet struct{ r, e, s *uint32 }

func (c *Creds) uids() idSet { return idSet{&c.UID, &c.EUID, &c.SUID} }
func (c *Creds) gids() idSet { return idSet{&c.GID, &c.EGID, &c.SGID} }

// has reports whether id is one of the set's (an unprivileged process may
// switch to those only).
func (ids idSet) has(id uint32) bool { return id == *ids.r || id == *ids.e || id == *ids.s }

// setRes is setres[ug]id.
func (ids idSet) setRes(priv bool, r, e, s uint32) error {
	if !priv {
		for _, id := range []uint32{r, e, s} {
			if id != NoChange && !ids.has(id) {
				return unix.EPERM
			}
		}
	}
	for _, x := range []struct {
		id  uint32
		dst *uint32
	}{{r, ids.r}, {e, ids.e}, {s, ids.s}} {
		if x.id != NoChange {
			*x.dst = x.id
		}
	}
	return nil
}

// setRe is setre[ug]id: the real ID may become the effective one, the
// effective ID any of the three; when the real ID is set, or the effective
// one to other than the old real ID, the saved ID becomes the new
// effective ID.
func (ids idSet) setRe(priv bool, r, e uint32) error {
	if !priv {
		if r != NoChange && r != *ids.r && r != *ids.e {
			return unix.EPERM
		}
		if e != NoChange && !ids.has(e) {
			return unix.EPERM
		}
	}
	oldR := *ids.r
	if r != NoChange {
		*ids.r = r
	}
	if e != NoChange {
		*ids.e = e
	}
	if r != NoChange || e != NoChange && e != oldR {
		*ids.s = *ids.e
	}
	return nil
}

// set is set[ug]id: privileged, all three IDs; otherwise only the
// effective one, to the real or saved ID.
func (ids idSet) set(priv bool, id uint32) error {
	switch {
	case priv:
		*ids.r, *ids.e, *ids.s = id, id, id
	case id == *ids.r || id == *ids.s:
		*ids.e = id
	default:
		return unix.EPERM
	}
	return nil
}

// changeUIDs runs fn on the process's user IDs under its lock, with
// whether it holds CAP_SETUID, then applies the capability rules of a
// user change.
func (tg *ThreadGroup) changeUIDs(fn func(ids idSet, priv bool) error) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	r, e, s := c.UID, c.EUID, c.SUID
	if err := fn(c.uids(), c.HasCap(CapSetUID)); err != nil {
		return err
	}
	c.capsAfterSetUID(r, e, s)
	if c.EUID != e {
		tg.undumpable = true // Linux's commit_creds: suid_dumpable, 0
	}
	return nil
}

// changeGIDs runs fn on the process's group IDs under its lock, with
// whether it holds CAP_SETGID.
func (tg *ThreadGroup) changeGIDs(fn func(ids idSet, priv bool) error) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	e := tg.creds.EGID
	if err := fn(tg.creds.gids(), tg.creds.HasCap(CapSetGID)); err != nil {
		return err
	}
	if tg.creds.EGID != e {
		tg.undumpable = true
	}
	return nil
}

// SetResUID is setresuid (r, e, s may be NoChange).
func (tg *ThreadGroup) SetResUID(r, e, s uint32) error {
	return tg.changeUIDs(func(ids idSet, priv bool) error { return ids.setRes(priv, r, e, s) })
}

// SetResGID is setresgid.
func (tg *ThreadGroup) SetResGID(r, e, s uint32) error {
	return tg.changeGIDs(func(ids idSet, priv bool) error { return ids.setRes(priv, r, e, s) })
}

// SetReUID is setreuid.
func (tg *ThreadGroup) SetReUID(r, e uint32) error {
	return tg.changeUIDs(func(ids idSet, priv bool) error { return ids.setRe(priv, r, e) })
}

// SetReGID is setregid.
func (tg *ThreadGroup) SetReGID(r, e uint32) error {
	return tg.changeGIDs(func(ids idSet, priv bool) error { return ids.setRe(priv, r, e) })
}

// SetUID is setuid.
func (tg *ThreadGroup) SetUID(id uint32) error {
	return tg.changeUIDs(func(ids idSet, priv bool) error { return ids.set(priv, id) })
}

// SetGID is setgid.
func (tg *ThreadGroup) SetGID(id uint32) error {
	return tg.changeGIDs(func(ids idSet, priv bool) error { return ids.set(priv, id) })
}

// SetGroups replaces the supplementary groups (with CAP_SETGID only).
func (tg *ThreadGroup) SetGroups(groups []uint32) error {
	if len(groups) > NGroupsMax {
		return unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if !tg.creds.HasCap(CapSetGID) {
		return unix.EPERM
	}
	tg.creds.Groups = slices.Clone(groups)
	return nil
}
