package inet

import (
	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// errno is the errno Linux returns where tcpip returns err (nil for nil).
func errno(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	switch err.(type) {
	case *tcpip.ErrWouldBlock:
		return sys.EAGAIN
	case *tcpip.ErrConnectStarted:
		return sys.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		return sys.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return sys.EISCONN
	case *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue,
		*tcpip.ErrInvalidPortRange, *tcpip.ErrMalformedHeader:
		return sys.EINVAL
	case *tcpip.ErrAddressFamilyNotSupported:
		return sys.EAFNOSUPPORT
	case *tcpip.ErrBadAddress, *tcpip.ErrBadBuffer:
		return sys.EFAULT
	case *tcpip.ErrBadLocalAddress:
		return sys.EADDRNOTAVAIL
	case *tcpip.ErrBroadcastDisabled, *tcpip.ErrNotPermitted:
		return sys.EACCES
	case *tcpip.ErrClosedForReceive:
		return sys.ENOTCONN
	case *tcpip.ErrClosedForSend:
		return sys.EPIPE
	case *tcpip.ErrConnectionAborted, *tcpip.ErrAborted:
		return sys.ECONNABORTED
	case *tcpip.ErrConnectionRefused:
		return sys.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return sys.ECONNRESET
	case *tcpip.ErrDestinationRequired:
		return sys.EDESTADDRREQ
	case *tcpip.ErrMessageTooLong:
		return sys.EMSGSIZE
	case *tcpip.ErrNetworkUnreachable, *tcpip.ErrNoNet:
		return sys.ENETUNREACH
	case *tcpip.ErrHostUnreachable:
		return sys.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return sys.EHOSTDOWN
	case *tcpip.ErrNoBufferSpace:
		return sys.ENOBUFS
	case *tcpip.ErrNoPortAvailable:
		return sys.EAGAIN
	case *tcpip.ErrPortInUse, *tcpip.ErrDuplicateAddress:
		return sys.EADDRINUSE
	case *tcpip.ErrNotConnected:
		return sys.ENOTCONN
	case *tcpip.ErrNotSupported, *tcpip.ErrQueueSizeNotSupported:
		return sys.EOPNOTSUPP
	case *tcpip.ErrTimeout:
		return sys.ETIMEDOUT
	case *tcpip.ErrUnknownDevice, *tcpip.ErrUnknownNICID, *tcpip.ErrInvalidNICID:
		return sys.ENODEV
	case *tcpip.ErrUnknownProtocol:
		return sys.EPROTONOSUPPORT
	case *tcpip.ErrUnknownProtocolOption:
		return sys.ENOPROTOOPT
	case *tcpip.ErrEndpointBusy:
		return sys.EBUSY
	case *tcpip.ErrNoSuchFile:
		return sys.ENOENT
	}
	return sys.EINVAL
}
