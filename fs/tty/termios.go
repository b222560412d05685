package tty

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Indices of the control characters (Cc), as on Linux x86-64.
const (
	VINTR    = 0
	VQUIT    = 1
	VERASE   = 2
	VKILL    = 3
	VEOF     = 4
	VTIME    = 5
	VMIN     = 6
	VSTART   = 8
	VSTOP    = 9
	VSUSP    = 10
	VEOL     = 11
	VREPRINT = 12
	VWERASE  = 14
	VLNEXT   = 15
	VEOL2    = 16
	NCCS     = 19
)

// Sizes of the kernel ABI's termios structures.
const (
	TermiosSize  = 36 // struct termios (TCGETS)
	Termios2Size = 44 // struct termios2 (TCGETS2): plus c_ispeed, c_ospeed
)

// Termios is the kernel's struct termios2.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	Cc                         [NCCS]uint8
	Ispeed, Ospeed             uint32
}

// DefaultTermios is what a new pty starts with (Linux's tty_std_termios:
// cooked mode, echo, signals, 38400 baud).
func DefaultTermios() Termios {
	t := Termios{
		Iflag:  unix.ICRNL | unix.IXON | unix.IUTF8,
		Oflag:  unix.OPOST | unix.ONLCR,
		Cflag:  unix.B38400 | unix.CS8 | unix.CREAD | unix.HUPCL,
		Lflag:  unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHOCTL | unix.ECHOKE | unix.IEXTEN,
		Ispeed: 38400, Ospeed: 38400,
	}
	copy(t.Cc[:], []uint8{3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0})
	return t
}

// Encode returns the termios in the ABI layout: 36 bytes (termios) or 44
// (termios2) as n says.
func (t *Termios) Encode(n int) []byte {
	b := make([]byte, Termios2Size)
	le := binary.LittleEndian
	le.PutUint32(b[0:], t.Iflag)
	le.PutUint32(b[4:], t.Oflag)
	le.PutUint32(b[8:], t.Cflag)
	le.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:36], t.Cc[:])
	le.PutUint32(b[36:], t.Ispeed)
	le.PutUint32(b[40:], t.Ospeed)
	return b[:n]
}

// DecodeTermios reads a termios (36 bytes) or termios2 (44 bytes). From a
// plain termios the speeds follow the baud bits of Cflag.
func DecodeTermios(b []byte) Termios {
	le := binary.LittleEndian
	t := Termios{Iflag: le.Uint32(b[0:]), Oflag: le.Uint32(b[4:]), Cflag: le.Uint32(b[8:]),
		Lflag: le.Uint32(b[12:]), Line: b[16]}
	copy(t.Cc[:], b[17:36])
	if len(b) >= Termios2Size {
		t.Ispeed, t.Ospeed = le.Uint32(b[36:]), le.Uint32(b[40:])
	} else {
		s := baudOf(t.Cflag)
		t.Ispeed, t.Ospeed = s, s
	}
	return t
}

// baudOf maps the CBAUD bits to a speed.
func baudOf(cflag uint32) uint32 {
	speeds := map[uint32]uint32{unix.B0: 0, unix.B50: 50, unix.B75: 75, unix.B110: 110, unix.B134: 134,
		unix.B150: 150, unix.B200: 200, unix.B300: 300, unix.B600: 600, unix.B1200: 1200, unix.B1800: 1800,
		unix.B2400: 2400, unix.B4800: 4800, unix.B9600: 9600, unix.B19200: 19200, unix.B38400: 38400,
		unix.B57600: 57600, unix.B115200: 115200, unix.B230400: 230400}
	if s, ok := speeds[cflag&unix.CBAUD]; ok {
		return s
	}
	return 38400
}
