package kernel

import (
	"slices"

	"golang.org/x/sys/unix"
)

// The set*id rules, as Linux applies them to a process without
// CAP_SETUID/CAP_SETGID unless its effective user is 0 (the sandbox grants
// no capabilities beyond that: root in the sandbox may set any ID, as
// root in a user namespace may within it). Credentials are per process
// here (glibc makes every thread change them together anyway).

// NoChange is the -1 of setre*id and setres*id: keep that ID.
const NoChange = ^uint32(0)

// NGroupsMax bounds the supplementary groups (NGROUPS_MAX).
const NGroupsMax = 65536

func (c *Creds) privileged() bool { return c.EUID == 0 }

// allowed reports whether an unprivileged process may switch to id: it is
// one of its real, effective or saved IDs.
func allowed(id, r, e, s uint32) bool { return id == r || id == e || id == s }

// SetResUID is setresuid (r, e, s may be NoChange).
func (tg *ThreadGroup) SetResUID(r, e, s uint32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	if !c.privileged() {
		for _, id := range []uint32{r, e, s} {
			if id != NoChange && !allowed(id, c.UID, c.EUID, c.SUID) {
				return unix.EPERM
			}
		}
	}
	if r != NoChange {
		c.UID = r
	}
	if e != NoChange {
		c.EUID = e
	}
	if s != NoChange {
		c.SUID = s
	}
	return nil
}

// SetResGID is setresgid (privilege is still the effective user's).
func (tg *ThreadGroup) SetResGID(r, e, s uint32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	if !c.privileged() {
		for _, id := range []uint32{r, e, s} {
			if id != NoChange && !allowed(id, c.GID, c.EGID, c.SGID) {
				return unix.EPERM
			}
		}
	}
	if r != NoChange {
		c.GID = r
	}
	if e != NoChange {
		c.EGID = e
	}
	if s != NoChange {
		c.SGID = s
	}
	return nil
}

// SetReUID is setreuid: the real ID may become the effective one, the
// effective ID any of real, effective and saved; when the real ID is set,
// or the effective one set to other than the old real ID, the saved ID
// becomes the new effective ID.
func (tg *ThreadGroup) SetReUID(r, e uint32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	if !c.privileged() {
		if r != NoChange && r != c.UID && r != c.EUID {
			return unix.EPERM
		}
		if e != NoChange && !allowed(e, c.UID, c.EUID, c.SUID) {
			return unix.EPERM
		}
	}
	oldR := c.UID
	if r != NoChange {
		c.UID = r
	}
	if e != NoChange {
		c.EUID = e
	}
	if r != NoChange || e != NoChange && e != oldR {
		c.SUID = c.EUID
	}
	return nil
}

// SetReGID is setregid.
func (tg *ThreadGroup) SetReGID(r, e uint32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	if !c.privileged() {
		if r != NoChange && r != c.GID && r != c.EGID {
			return unix.EPERM
		}
		if e != NoChange && !allowed(e, c.GID, c.EGID, c.SGID) {
			return unix.EPERM
		}
	}
	oldR := c.GID
	if r != NoChange {
		c.GID = r
	}
	if e != NoChange {
		c.EGID = e
	}
	if r != NoChange || e != NoChange && e != oldR {
		c.SGID = c.EGID
	}
	return nil
}

// SetUID is setuid: privileged, all three IDs; otherwise only the
// effective one, to the real or saved ID.
func (tg *ThreadGroup) SetUID(id uint32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	switch {
	case c.privileged():
		c.UID, c.EUID, c.SUID = id, id, id
	case id == c.UID || id == c.SUID:
		c.EUID = id
	default:
		return unix.EPERM
	}
	return nil
}

// SetGID is setgid.
func (tg *ThreadGroup) SetGID(id uint32) error {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	switch {
	case c.privileged():
		c.GID, c.EGID, c.SGID = id, id, id
	case id == c.GID || id == c.SGID:
		c.EGID = id
	default:
		return unix.EPERM
	}
	return nil
}

// SetGroups replaces the supplementary groups (privileged only).
func (tg *ThreadGroup) SetGroups(groups []uint32) error {
	if len(groups) > NGroupsMax {
		return unix.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if !tg.creds.privileged() {
		return unix.EPERM
	}
	tg.creds.Groups = slices.Clone(groups)
	return nil
}
