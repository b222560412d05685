package syscalls

import (
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

// inetStackOf returns the sandbox's stack: with --net=none (the only
// mode so far) the loopback-only one.
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
