package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
)

// NUMA memory policies. The sandbox is one node, node 0, with all of its
// memory: set_mempolicy(2) checks its arguments as Linux does and keeps
// the mode (per thread, inherited) for get_mempolicy(2); mbind(2) checks
// its range and arguments, and every policy places pages where they go
// anyway. libnuma's numa_available(), numactl --show, the JVM's UseNUMA
// and databases that ask (MariaDB) see a machine with one node.
// migrate_pages and move_pages stay unimplemented (ENOSYS).

func init() {
	register(unix.SYS_GET_MEMPOLICY, sysGetMempolicy)
	register(unix.SYS_SET_MEMPOLICY, sysSetMempolicy)
	register(unix.SYS_MBIND, sysMbind)
}

// The modes and flags of linux/mempolicy.h.
const (
	mpolDefault       = 0
	mpolPreferred     = 1
	mpolBind          = 2
	mpolInterleave    = 3
	mpolLocal         = 4
	mpolPreferredMany = 5
	mpolWeightedInter = 6
	mpolMax           = 7

	mpolFStaticNodes   = 1 << 15
	mpolFRelativeNodes = 1 << 14
	mpolFNumaBalancing = 1 << 13
	mpolModeFlags      = mpolFStaticNodes | mpolFRelativeNodes | mpolFNumaBalancing

	mpolFNode        = 1 // get_mempolicy: the node, not the mode
	mpolFAddr        = 2 // get_mempolicy: the policy at an address
	mpolFMemsAllowed = 4 // get_mempolicy: the nodes the task may use

	mpolMFStrict  = 1 // mbind's flags
	mpolMFMove    = 2
	mpolMFMoveAll = 4
)

// readNodemask reads a nodemask of maxnode-1 bits (Linux drops one, as it
// always has) and reports whether node 0, the only one, is in it, and
// whether any node is.
func readNodemask(t *kernel.Task, addr, maxnode uintptr) (node0, any bool, err error) {
	if maxnode == 0 || addr == 0 {
		return false, false, nil
	}
	bits := maxnode - 1
	if bits == 0 {
		return false, false, nil
	}
	if bits > 4096*8 {
		return false, false, unix.EINVAL
	}
	words := (bits + 63) / 64
	buf := make([]byte, words*8)
	if _, err := t.MM.CopyIn(addr, buf); err != nil {
		return false, false, unix.EFAULT
	}
	for i := uintptr(0); i < words; i++ {
		w := binary.LittleEndian.Uint64(buf[i*8:])
		if i == words-1 && bits%64 != 0 {
			w &= 1<<(bits%64) - 1
		}
		any = any || w != 0
		if i == 0 {
			node0 = w&1 != 0
		}
	}
	return node0, any, nil
}

// checkPolicy checks a mode with its flags and nodemask, as
// set_mempolicy and mbind do, and returns the mode to keep.
func checkPolicy(t *kernel.Task, mode int, nmask, maxnode uintptr) (int, error) {
	flags := mode & mpolModeFlags
	m := mode &^ mpolModeFlags
	if mode < 0 || m >= mpolMax {
		return 0, unix.EINVAL
	}
	if flags&mpolFStaticNodes != 0 && flags&mpolFRelativeNodes != 0 {
		return 0, unix.EINVAL
	}
	if flags&mpolFNumaBalancing != 0 && m != mpolBind && m != mpolPreferredMany {
		return 0, unix.EINVAL
	}
	node0, any, err := readNodemask(t, nmask, maxnode)
	if err != nil {
		return 0, err
	}
	switch m {
	case mpolDefault:
		if any {
			return 0, unix.EINVAL
		}
		return mpolDefault, nil
	case mpolLocal:
		if any {
			return 0, unix.EINVAL
		}
		return mode, nil
	case mpolPreferred:
		if !any {
			return mpolLocal, nil // preferred with no node: local allocation
		}
	}
	if !node0 {
		return 0, unix.EINVAL // no node the sandbox has
	}
	return mode, nil
}

func sysSetMempolicy(t *kernel.Task, a Args) (uintptr, error) {
	mode, err := checkPolicy(t, int(int32(a[0])), a[1], a[2])
	if err != nil {
		return 0, err
	}
	t.Sched.SetMemPolicy(mode)
	return 0, nil
}

func sysGetMempolicy(t *kernel.Task, a Args) (uintptr, error) {
	modeAddr, nmask, maxnode, addr, flags := a[0], a[1], a[2], a[3], a[4]
	if flags&^(mpolFNode|mpolFAddr|mpolFMemsAllowed) != 0 {
		return 0, unix.EINVAL
	}
	if nmask != 0 && maxnode < 1 {
		return 0, unix.EINVAL
	}
	mode, nodes := 0, false
	switch {
	case flags&mpolFMemsAllowed != 0:
		if flags&(mpolFNode|mpolFAddr) != 0 {
			return 0, unix.EINVAL
		}
		nodes = true
	case flags&mpolFAddr != 0:
		if !t.MM.Mapped(addr&^(pageSize-1), 1) {
			return 0, unix.EFAULT
		}
		// Ranges keep no policy of their own (mbind's is not kept): the
		// default's, or with MPOL_F_NODE the node the page is on.
	case addr != 0:
		return 0, unix.EINVAL
	case flags&mpolFNode != 0:
		if t.Sched.MemPolicy()&^mpolModeFlags != mpolInterleave {
			return 0, unix.EINVAL
		}
		// The next interleave node: node 0.
	default:
		mode = t.Sched.MemPolicy()
		switch mode &^ mpolModeFlags {
		case mpolDefault, mpolLocal:
		default:
			nodes = true
		}
	}
	if modeAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(mode))
		if _, err := t.MM.CopyOut(modeAddr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	if nmask != 0 {
		size := (maxnode - 1 + 63) / 64 * 8
		if size > 4096 {
			return 0, unix.EINVAL
		}
		buf := make([]byte, size)
		if nodes && size > 0 {
			buf[0] = 1
		}
		if _, err := t.MM.CopyOut(nmask, buf); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

func sysMbind(t *kernel.Task, a Args) (uintptr, error) {
	start, length, flags := a[0], a[1], a[5]
	if start&(pageSize-1) != 0 || flags&^(mpolMFStrict|mpolMFMove|mpolMFMoveAll) != 0 {
		return 0, unix.EINVAL
	}
	if flags&mpolMFMoveAll != 0 {
		if c := t.TG.Creds(); !c.HasCap(kernel.CapSysNice) {
			return 0, unix.EPERM
		}
	}
	if _, err := checkPolicy(t, int(int32(a[2])), a[3], a[4]); err != nil {
		return 0, err
	}
	length = (length + pageSize - 1) &^ (pageSize - 1)
	if start+length < start {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	if !t.MM.Mapped(start, length) {
		return 0, unix.EFAULT
	}
	return 0, nil
}
