package syscalls

import (
	"math"
	"math/big"
	"testing"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/lock"
)

// posFile is an open file at a fixed position and size.
type posFile struct{ pos, size int64 }

func (p posFile) Read([]byte) (int, error)          { return 0, nil }
func (p posFile) Write([]byte) (int, error)         { return 0, nil }
func (p posFile) Pread([]byte, int64) (int, error)  { return 0, nil }
func (p posFile) Pwrite([]byte, int64) (int, error) { return 0, nil }
func (p posFile) Seek(int64, int) (int64, error)    { return p.pos, nil }
func (p posFile) Stat() (unix.Stat_t, error)        { return unix.Stat_t{Size: p.size}, nil }
func (p posFile) IsTerminal() bool                  { return false }
func (p posFile) Poll(int16, int) (int16, error)    { return 0, nil }
func (p posFile) Release()                          {}

// FuzzLockRange checks lockRange against Linux's flock_to_posix_lock,
// computed in big integers: the byte range [lo, hi) it accepts is the
// one Linux locks, every offset in it a valid off_t, and what Linux
// refuses it refuses with the same error.
func FuzzLockRange(f *testing.F) {
	f.Add(int64(0), int64(0), 0, int64(0), int64(0))
	f.Add(int64(10), int64(100), unix.SEEK_CUR, int64(-20), int64(-5))
	f.Add(int64(0), int64(1), unix.SEEK_SET, int64(1), int64(math.MaxInt64))
	f.Add(int64(5), int64(math.MaxInt64), unix.SEEK_END, int64(math.MinInt64), int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, pos, size int64, whence int, start, length int64) {
		if pos < 0 || size < 0 {
			return
		}
		file := fs.NewFile(posFile{pos, size}, unix.O_RDWR)
		lo, hi, err := lockRange(file, whence, start, length)

		var base int64
		switch whence {
		case unix.SEEK_SET:
		case unix.SEEK_CUR:
			base = pos
		case unix.SEEK_END:
			base = size
		default:
			if err != unix.EINVAL {
				t.Fatalf("whence %d: %v, want EINVAL", whence, err)
			}
			return
		}
		maxOff := big.NewInt(math.MaxInt64)
		s := new(big.Int).Add(big.NewInt(base), big.NewInt(start))
		var wantLo, wantHi *big.Int // [lo, hi)
		wantErr := error(nil)
		switch {
		case s.Cmp(maxOff) > 0:
			wantErr = unix.EOVERFLOW
		case s.Sign() < 0 && length >= 0:
			wantErr = unix.EINVAL
		case length > 0:
			wantLo, wantHi = s, new(big.Int).Add(s, big.NewInt(length))
			if new(big.Int).Sub(wantHi, big.NewInt(1)).Cmp(maxOff) > 0 {
				wantErr = unix.EOVERFLOW
			}
		case length == 0:
			wantLo, wantHi = s, new(big.Int).SetUint64(lock.EOF)
		default:
			wantLo, wantHi = new(big.Int).Add(s, big.NewInt(length)), s
			if wantLo.Sign() < 0 || s.Sign() < 0 {
				wantErr = unix.EINVAL
			}
		}
		if wantErr != nil {
			if err == nil {
				t.Fatalf("base %d start %d len %d: [%d, %d), want %v", base, start, length, lo, hi, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("base %d start %d len %d: %v, want [%v, %v)", base, start, length, err, wantLo, wantHi)
		}
		if new(big.Int).SetUint64(lo).Cmp(wantLo) != 0 || new(big.Int).SetUint64(hi).Cmp(wantHi) != 0 || lo >= hi && length != 0 {
			t.Fatalf("base %d start %d len %d: [%d, %d), want [%v, %v)", base, start, length, lo, hi, wantLo, wantHi)
		}
	})
}
