package kernel

import (
	"strings"
)

// Capabilities, as Linux's (capabilities(7)), per process here like the
// other credentials. Root of the sandbox starts with all of them, other
// users with none but the bounding set; an OCI config gives its own sets.
// What they gate in this kernel: CAP_SETUID and CAP_SETGID the set*id
// calls and setgroups, CAP_SETPCAP the bounding set, CAP_DAC_OVERRIDE
// and CAP_DAC_READ_SEARCH the file permission checks; the rest are
// reported (capget, /proc/PID/status) and kept across fork, set*id and
// execve by Linux's rules.

// Capability numbers that the kernel checks.
const (
	CapChown                = 0
	CapDacOverride          = 1
	CapDacReadSearch        = 2
	CapFowner               = 3
	CapSetGID               = 6
	CapSetUID               = 7
	CapSetPCap              = 8
	CapSysChroot            = 18
	CapSysAdmin             = 21
	CapSysNice              = 23
	CapSysResource          = 24
	CapLast                 = 40 // CAP_CHECKPOINT_RESTORE
	AllCaps          uint64 = 1<<(CapLast+1) - 1
)

// CapSets are a process's capability sets, one bit per capability.
type CapSets struct {
	Effective, Permitted, Inheritable, Bounding, Ambient uint64
}

// RootCaps are the sets of a process of user 0: everything, nothing
// inheritable.
func RootCaps() CapSets {
	return CapSets{Effective: AllCaps, Permitted: AllCaps, Bounding: AllCaps}
}

// UserCaps are the sets of another user's process: only the bounding set.
func UserCaps() CapSets { return CapSets{Bounding: AllCaps} }

// HasCap reports whether cap is in the effective set.
func (c *Creds) HasCap(cap int) bool { return c.Caps.Effective&(1<<cap) != 0 }

// capNames are the CAP_* names by number.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// ParseCaps turns CAP_* names (any case, with or without the CAP_
// prefix) into a set; unknown lists the names it does not know.
func ParseCaps(names []string) (set uint64, unknown []string) {
	for _, n := range names {
		u := strings.ToUpper(n)
		if !strings.HasPrefix(u, "CAP_") {
			u = "CAP_" + u
		}
		found := false
		for i, c := range capNames {
			if c == u {
				set |= 1 << i
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, n)
		}
	}
	return set, unknown
}

// capsAfterSetUID applies Linux's rules for a change of user IDs:
// losing every user 0 drops the effective and ambient sets, and the
// permitted set unless KeepCaps (PR_SET_KEEPCAPS); an effective user
// leaving 0 drops the effective set, and one becoming 0 gets the
// permitted set as effective.
func (c *Creds) capsAfterSetUID(oldR, oldE, oldS uint32) {
	hadRoot := oldR == 0 || oldE == 0 || oldS == 0
	if hadRoot && c.UID != 0 && c.EUID != 0 && c.SUID != 0 {
		if !c.KeepCaps {
			c.Caps.Permitted = 0
		}
		c.Caps.Effective, c.Caps.Ambient = 0, 0
	}
	switch {
	case oldE == 0 && c.EUID != 0:
		c.Caps.Effective = 0
	case oldE != 0 && c.EUID == 0:
		c.Caps.Effective = c.Caps.Permitted
	}
}

// capsAfterExec applies Linux's execve rules for a file without file
// capabilities: for user 0 (real or effective) the file counts as having
// them all, so permitted becomes inheritable, bounding and ambient, and
// effective the same when the effective user is 0; for others the
// ambient set is permitted and effective. KeepCaps is cleared.
func (c *Creds) capsAfterExec() {
	c.KeepCaps = false
	if c.UID == 0 || c.EUID == 0 {
		c.Caps.Permitted = (c.Caps.Inheritable | c.Caps.Bounding | c.Caps.Ambient) & AllCaps
		c.Caps.Effective = c.Caps.Ambient
		if c.EUID == 0 {
			c.Caps.Effective = c.Caps.Permitted
		}
		return
	}
	c.Caps.Permitted = c.Caps.Ambient
	c.Caps.Effective = c.Caps.Ambient
}

// SetKeepCaps is PR_SET_KEEPCAPS.
func (tg *ThreadGroup) SetKeepCaps(on bool) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.creds.KeepCaps = on
}

// Caps returns the process's capability sets.
func (tg *ThreadGroup) Caps() CapSets {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.creds.Caps
}

// SetCaps is capset for the process: the permitted set can only shrink,
// the effective set must lie in the new permitted one, and the
// inheritable set may gain only what the old permitted set holds (with
// CAP_SETPCAP: anything) within the bounding set. Ambient capabilities
// no longer both permitted and inheritable are lowered.
func (tg *ThreadGroup) SetCaps(eff, prm, inh uint64) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds.Caps
	allowedInh := c.Inheritable | c.Permitted
	if tg.creds.HasCap(CapSetPCap) {
		allowedInh = AllCaps
	}
	if prm&^c.Permitted != 0 || eff&^prm != 0 || inh&^allowedInh != 0 || inh&^(c.Inheritable|c.Bounding) != 0 {
		return false
	}
	c.Effective, c.Permitted, c.Inheritable = eff, prm, inh
	c.Ambient &= prm & inh
	return true
}

// DropBounding removes cap from the bounding set (PR_CAPBSET_DROP; the
// caller needs CAP_SETPCAP).
func (tg *ThreadGroup) DropBounding(cap int) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if !tg.creds.HasCap(CapSetPCap) {
		return false
	}
	tg.creds.Caps.Bounding &^= 1 << cap
	return true
}

// SetAmbient raises or lowers cap in the ambient set (PR_CAP_AMBIENT); a
// raise needs cap both permitted and inheritable. cap < 0 clears the set.
func (tg *ThreadGroup) SetAmbient(cap int, raise bool) bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds.Caps
	switch {
	case cap < 0:
		c.Ambient = 0
	case !raise:
		c.Ambient &^= 1 << cap
	case c.Permitted&(1<<cap) == 0 || c.Inheritable&(1<<cap) == 0:
		return false
	default:
		c.Ambient |= 1 << cap
	}
	return true
}

// ExecCaps applies the execve rules to the process's capabilities.
func (tg *ThreadGroup) ExecCaps() { tg.ExecCreds(NoChange, NoChange) }

// ExecCreds applies an execve's credentials: euid and egid, unless
// NoChange, become the effective IDs (a set-user-ID or set-group-ID
// file's owner), the saved IDs become the effective ones, as Linux
// always does on exec, and the capability sets follow the exec rules
// (ambient ones are lost to a file that changed the IDs).
func (tg *ThreadGroup) ExecCreds(euid, egid uint32) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	c := &tg.creds
	if euid != NoChange && euid != c.EUID || egid != NoChange && egid != c.EGID {
		c.Caps.Ambient = 0
	}
	if euid != NoChange {
		c.EUID = euid
	}
	if egid != NoChange {
		c.EGID = egid
	}
	c.SUID, c.SGID = c.EUID, c.EGID
	c.capsAfterExec()
}

// CapNames lists the capability names the kernel knows, by number.
func CapNames() []string { return append([]string(nil), capNames...) }
