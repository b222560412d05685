package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/netstack"
	"ringbox/netstack/netlink"
)

func init() {
	registerFamily(unix.AF_NETLINK, socketFamily{create: newNetlinkSocket})
}

// newNetlinkSocket makes a NETLINK_ROUTE socket that reports the
// sandbox's network stack.
func newNetlinkSocket(t *kernel.Task, typ, protocol int) (netstack.Socket, error) {
	if err := netlink.ValidArgs(typ, protocol); err != nil {
		return nil, err
	}
	st, err := inetStackOf(t.K)
	if err != nil {
		return nil, unix.ENOMEM
	}
	return netlink.New(st, typ, sockCtx{t}.Cred()), nil
}
