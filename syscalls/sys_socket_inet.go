package syscalls

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/netstack"
	"ringbox/netstack/inet"
)

func init() {
	registerFamily(unix.AF_INET, socketFamily{create: newInetSocket(unix.AF_INET)})
	registerFamily(unix.AF_INET6, socketFamily{create: newInetSocket(unix.AF_INET6)})
}

// inetStacks holds each kernel's network stack (one sandbox, one stack),
// made on the first internet socket.
var inetStacks sync.Map // *kernel.Kernel -> *inetStack

type inetStack struct {
	once sync.Once
	st   *inet.Stack
	err  error
}

// SetNetwork gives the sandbox of k the stack st (--net=sandbox, or
// --publish), before its first socket. Without it the first internet
// socket makes a loopback-only stack (--net=none).
func SetNetwork(k *kernel.Kernel, st *inet.Stack) {
	is := &inetStack{st: st}
	is.once.Do(func() {})
	inetStacks.Store(k, is)
}

// ProcNet writes /proc/net/NAME for the sandbox of k (kernel.NetProc).
func ProcNet(k *kernel.Kernel) func(name string) string {
	return func(name string) string {
		if name == "unix" {
			return unixNamespace(k).ProcNet()
		}
		st, err := inetStackOf(k)
		if err != nil {
			return ""
		}
		text, _ := st.ProcNet(name)
		return text
	}
}

// inetStackOf returns the sandbox's stack: the one SetNetwork gave, else
// (--net=none) a loopback-only one.
func inetStackOf(k *kernel.Kernel) (*inet.Stack, error) {
	v, _ := inetStacks.LoadOrStore(k, &inetStack{})
	is := v.(*inetStack)
	is.once.Do(func() { is.st, is.err = inet.NewLoopback() })
	return is.st, is.err
}

func newInetSocket(fam int) func(t *kernel.Task, typ, protocol int) (netstack.Socket, error) {
	return func(t *kernel.Task, typ, protocol int) (netstack.Socket, error) {
		proto, err := inet.ValidArgs(fam, typ, protocol)
		if err != nil {
			logOnce(t, fmt.Sprintf("socket(%d, %d, %d): %v", fam, typ, protocol, err))
			return nil, err
		}
		st, err := inetStackOf(t.K)
		if err != nil {
			t.K.Log.Error("network stack", "err", err)
			return nil, unix.ENOMEM
		}
		s, err := st.New(fam, typ, proto, sockCtx{t}.Cred())
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Interface ioctls (any socket answers them, as Linux's).
const (
	siocgifname    = 0x8910
	siocgifconf    = 0x8912
	siocgifflags   = 0x8913
	siocgifaddr    = 0x8915
	siocgifnetmask = 0x891b
	siocgifmtu     = 0x8921
	siocgifhwaddr  = 0x8927
	siocgifindex   = 0x8933
	siocgiftxqlen  = 0x8942
	ifreqSize      = 40
	ifNameSize     = 16
)

// ifIoctl answers the SIOCGIF* ioctls from the sandbox's interfaces; ok
// is false for other requests.
func ifIoctl(t *kernel.Task, req uint, arg uintptr) (ok bool, err error) {
	switch req {
	case siocgifname, siocgifconf, siocgifflags, siocgifaddr, siocgifnetmask, siocgifmtu, siocgifhwaddr, siocgifindex, siocgiftxqlen:
	default:
		return false, nil
	}
	st, err := inetStackOf(t.K)
	if err != nil {
		return true, unix.ENODEV
	}
	ifs := st.Interfaces()
	if req == siocgifconf {
		return true, ifConf(t, ifs, arg)
	}
	var r [ifreqSize]byte
	if _, err := t.MM.CopyIn(arg, r[:]); err != nil {
		return true, unix.EFAULT
	}
	le := binary.LittleEndian
	var ifc *inet.Interface
	if req == siocgifname {
		idx := int(int32(le.Uint32(r[ifNameSize:])))
		for i := range ifs {
			if ifs[i].Index == idx {
				ifc = &ifs[i]
			}
		}
	} else {
		name := r[:ifNameSize]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		for i := range ifs {
			if ifs[i].Name == string(name) {
				ifc = &ifs[i]
			}
		}
	}
	if ifc == nil {
		return true, unix.ENODEV
	}
	u := r[ifNameSize:]
	clear(u)
	switch req {
	case siocgifname:
		clear(r[:ifNameSize])
		copy(r[:ifNameSize-1], ifc.Name)
	case siocgifindex:
		le.PutUint32(u, uint32(ifc.Index))
	case siocgifflags:
		le.PutUint16(u, uint16(ifc.Flags))
	case siocgifmtu:
		le.PutUint32(u, ifc.MTU)
	case siocgiftxqlen:
		le.PutUint32(u, 1000) // as netlink's IFLA_TXQLEN
	case siocgifhwaddr:
		le.PutUint16(u, 772) // ARPHRD_LOOPBACK, a zero address
	case siocgifaddr, siocgifnetmask:
		p, found := ipv4Of(ifc)
		if !found {
			return true, unix.EADDRNOTAVAIL
		}
		le.PutUint16(u, unix.AF_INET)
		if req == siocgifaddr {
			copy(u[4:8], p.Addr)
		} else {
			binary.BigEndian.PutUint32(u[4:8], ^uint32(0)<<(32-p.Len))
		}
	}
	if _, err := t.MM.CopyOut(arg, r[:]); err != nil {
		return true, unix.EFAULT
	}
	return true, nil
}

func ipv4Of(ifc *inet.Interface) (inet.Prefix, bool) {
	for _, p := range ifc.Addrs {
		if len(p.Addr) == 4 {
			return p, true
		}
	}
	return inet.Prefix{}, false
}

// ifConf is SIOCGIFCONF: an ifreq with the IPv4 address of each
// interface that has one, as many as fit; with a NULL buffer, the length
// needed.
func ifConf(t *kernel.Task, ifs []inet.Interface, arg uintptr) error {
	var c [16]byte
	if _, err := t.MM.CopyIn(arg, c[:]); err != nil {
		return unix.EFAULT
	}
	le := binary.LittleEndian
	space := int(int32(le.Uint32(c[:])))
	buf := uintptr(le.Uint64(c[8:]))
	var out []byte
	for i := range ifs {
		p, ok := ipv4Of(&ifs[i])
		if !ok {
			continue
		}
		var r [ifreqSize]byte
		copy(r[:ifNameSize-1], ifs[i].Name)
		le.PutUint16(r[ifNameSize:], unix.AF_INET)
		copy(r[ifNameSize+4:], p.Addr)
		if buf != 0 && len(out)+ifreqSize > space {
			break
		}
		out = append(out, r[:]...)
	}
	if buf != 0 && len(out) > 0 {
		if _, err := t.MM.CopyOut(buf, out); err != nil {
			return unix.EFAULT
		}
	}
	le.PutUint32(c[:], uint32(len(out)))
	if _, err := t.MM.CopyOut(arg, c[:4]); err != nil {
		return unix.EFAULT
	}
	return nil
}
