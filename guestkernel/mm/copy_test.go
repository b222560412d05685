package mm

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyRoundTripAcrossPages(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	data := fill(int(pages(2))+300, 8)
	n, err := m.CopyOut(base+pages(1)-100, data)
	require.NoError(t, err)
	assert.Equal(t, len(data), n)
	assert.Equal(t, []uintptr{base, base + pages(1), base + pages(2), base + pages(3)}, populated(m, 0, UserEnd), "only the touched pages")

	got := make([]byte, len(data))
	n, err = m.CopyIn(base+pages(1)-100, got)
	require.NoError(t, err)
	assert.Equal(t, len(data), n)
	assert.Equal(t, data, got)

	n, err = m.ZeroOut(base+pages(1), 10)
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	_, err = m.CopyIn(base+pages(1)-100, got)
	require.NoError(t, err)
	clear(data[100:110])
	assert.Equal(t, data, got)

	require.NoError(t, m.CopyOutUint64(base+pages(1)-4, 0x1122334455667788))
	v, err := m.CopyInUint64(base + pages(1) - 4)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x1122334455667788), v)
	b := make([]byte, 8)
	_, err = m.CopyIn(base+pages(1)-4, b)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, b, "little endian")
	mustCheck(t, m)
}

func TestCopyReadsUnpopulatedAsZero(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), ro, true)
	got := fill(100, 1)
	n, err := m.CopyIn(base+pages(1)-50, got)
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	assert.Equal(t, make([]byte, 100), got)
	mustCheck(t, m)
}

func TestCopyPartialIntoUnmapped(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	data := fill(300, 2)
	n, err := m.CopyOut(base+pages(2)-100, data)
	assert.ErrorIs(t, err, EFAULT)
	assert.Equal(t, 100, n, "the bytes before the hole are written")
	got := make([]byte, 300)
	n, err = m.CopyIn(base+pages(2)-100, got)
	assert.ErrorIs(t, err, EFAULT)
	assert.Equal(t, 100, n)
	assert.Equal(t, data[:100], got[:100])
	n, err = m.ZeroOut(base+pages(2)-10, 20)
	assert.ErrorIs(t, err, EFAULT)
	assert.Equal(t, 10, n)

	// Starting in the hole: nothing.
	n, err = m.CopyIn(base+pages(2), got)
	assert.ErrorIs(t, err, EFAULT)
	assert.Zero(t, n)
	_, err = m.CopyInUint64(base + pages(2) - 4)
	assert.ErrorIs(t, err, EFAULT)
	assert.ErrorIs(t, m.CopyOutUint64(base+pages(2)-4, 1), EFAULT)
	mustCheck(t, m)
}

func TestCopyPermissions(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pageSize, ro, true)
	mmapAnon(t, m, base+pages(1), pageSize, rw, true)
	mmapAnon(t, m, base+pages(2), pageSize, 0, true)
	mmapAnon(t, m, base+pages(3), pageSize, ProtWrite, true)

	n, err := m.CopyOut(base, []byte("x"))
	assert.ErrorIs(t, err, EFAULT, "read-only")
	assert.Zero(t, n)
	n, err = m.CopyOut(base+pages(1)+pageSize-2, []byte("abcd"))
	assert.ErrorIs(t, err, EFAULT, "into PROT_NONE")
	assert.Equal(t, 2, n)
	_, err = m.CopyIn(base+pages(2), make([]byte, 1))
	assert.ErrorIs(t, err, EFAULT, "PROT_NONE")
	assert.Empty(t, populated(m, base+pages(2), base+pages(3)))

	// On x86 a writable page is readable: the program can read it, so
	// can the kernel on its behalf.
	_, err = m.CopyOut(base+pages(3), []byte("wo"))
	require.NoError(t, err)
	got := make([]byte, 2)
	_, err = m.CopyIn(base+pages(3), got)
	require.NoError(t, err)
	assert.Equal(t, "wo", string(got))
	res, _, err := m.HandleFault(base+pages(3), false, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res)
	mustCheck(t, m)
}

func TestCopyAddressOverflow(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, UserEnd-pages(1), pageSize, rw, true)
	buf := make([]byte, 16)
	for _, addr := range []uintptr{UserEnd - 8, UserEnd, UserEnd + 8, 1 << 47, ^uintptr(0) - 7, ^uintptr(0)} {
		n, err := m.CopyIn(addr, buf)
		assert.ErrorIs(t, err, EFAULT, "%#x", addr)
		assert.Zero(t, n)
		n, err = m.CopyOut(addr, buf)
		assert.ErrorIs(t, err, EFAULT, "%#x", addr)
		assert.Zero(t, n)
		n, err = m.ZeroOut(addr, len(buf))
		assert.ErrorIs(t, err, EFAULT, "%#x", addr)
		assert.Zero(t, n)
		if addr >= UserEnd {
			_, err = m.CopyInString(addr, 100)
			assert.ErrorIs(t, err, EFAULT, "%#x", addr)
		}
	}
	n, err := m.ZeroOut(base, -1)
	assert.ErrorIs(t, err, EFAULT)
	assert.Zero(t, n)
	// The last bytes below UserEnd are fine.
	n, err = m.CopyOut(UserEnd-16, buf)
	assert.NoError(t, err)
	assert.Equal(t, 16, n)
	// A string running into UserEnd is a fault, not a wrap-around.
	_, err = m.CopyOut(UserEnd-4, []byte("abcd"))
	require.NoError(t, err)
	_, err = m.CopyInString(UserEnd-4, 100)
	assert.ErrorIs(t, err, EFAULT)
	// Zero-length accesses succeed anywhere.
	n, err = m.CopyIn(^uintptr(0), nil)
	assert.NoError(t, err)
	assert.Zero(t, n)
	mustCheck(t, m)
}

func TestCopyInString(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(3), rw, true)
	_, err := m.CopyOut(base, []byte("hello\x00world"))
	require.NoError(t, err)
	s, err := m.CopyInString(base, 100)
	require.NoError(t, err)
	assert.Equal(t, "hello", s)
	s, err = m.CopyInString(base, math.MaxInt)
	require.NoError(t, err, "no limit")
	assert.Equal(t, "hello", s)
	s, err = m.CopyInString(base+5, 100)
	require.NoError(t, err)
	assert.Equal(t, "", s)
	s, err = m.CopyInString(base, 5)
	require.NoError(t, err)
	assert.Equal(t, "hello", s, "max bytes, excluding the NUL")
	_, err = m.CopyInString(base, 4)
	assert.ErrorIs(t, err, ErrStringTooLong)

	// Across a page boundary, longer than a page.
	long := strings.Repeat("abcdefgh", 700) // 5600 bytes
	_, err = m.CopyOut(base+pages(1)-10, append([]byte(long), 0))
	require.NoError(t, err)
	s, err = m.CopyInString(base+pages(1)-10, 10000)
	require.NoError(t, err)
	assert.Equal(t, long, s)
	_, err = m.CopyInString(base+pages(1)-10, len(long)-1)
	assert.ErrorIs(t, err, ErrStringTooLong)
	s, err = m.CopyInString(base+pages(1)-10, len(long))
	require.NoError(t, err)
	assert.Equal(t, long, s)

	// No NUL at all within max: too long, even though memory goes on.
	_, err = m.ZeroOut(base, int(pages(3)))
	require.NoError(t, err)
	_, err = m.CopyOut(base, []byte(strings.Repeat("z", int(pages(3)))))
	require.NoError(t, err)
	_, err = m.CopyInString(base, 1000)
	assert.ErrorIs(t, err, ErrStringTooLong)
	_, err = m.CopyInString(base, -1)
	assert.ErrorIs(t, err, ErrStringTooLong)
	// ... and EFAULT when memory ends first.
	_, err = m.CopyInString(base, int(pages(4)))
	assert.ErrorIs(t, err, EFAULT)
	mustCheck(t, m)
}

func TestCopyInStringEndsAtPageEnd(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(1), ro, true) // the next page is unmapped
	require.NoError(t, m.Mprotect(base, pageSize, rw))
	str := strings.Repeat("p", 99)
	_, err := m.CopyOut(base+pages(1)-100, append([]byte(str), 0))
	require.NoError(t, err)
	s, err := m.CopyInString(base+pages(1)-100, 4096)
	require.NoError(t, err, "the NUL is the last byte of the page: the next page is never read")
	assert.Equal(t, str, s)
	s, err = m.CopyInString(base+pages(1)-1, 4096)
	require.NoError(t, err)
	assert.Equal(t, "", s)

	// Without the NUL, the read runs into the hole.
	_, err = m.CopyOut(base+pages(1)-1, []byte("p"))
	require.NoError(t, err)
	_, err = m.CopyInString(base+pages(1)-100, 4096)
	assert.ErrorIs(t, err, EFAULT)
	// Unless max stops it first.
	_, err = m.CopyInString(base+pages(1)-100, 99)
	assert.ErrorIs(t, err, ErrStringTooLong)
	_, err = m.CopyInString(base+pages(1), 10)
	assert.ErrorIs(t, err, EFAULT)
}

func TestCopyInStringPermissions(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	_, err := m.CopyOut(base+pages(1)-3, []byte("abcdef\x00"))
	require.NoError(t, err)
	require.NoError(t, m.Mprotect(base+pages(1), pageSize, 0))
	_, err = m.CopyInString(base+pages(1)-3, 100)
	assert.ErrorIs(t, err, EFAULT, "the rest of the string is PROT_NONE")
	require.NoError(t, m.Mprotect(base+pages(1), pageSize, ro))
	s, err := m.CopyInString(base+pages(1)-3, 100)
	require.NoError(t, err)
	assert.Equal(t, "abcdef", s)
}
