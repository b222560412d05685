package tmpfs

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Options are a tmpfs's own mount options, as Linux's tmpfs takes them:
// size=, nr_inodes=, mode=, uid= and gid=.
type Options struct {
	// Size is the data limit in bytes; 0 leaves the default.
	Size int64
	// MaxNodes bounds the inodes (0: DefaultMaxNodes).
	MaxNodes int64
	// Mode is the root directory's permission bits (0o1777 by default).
	Mode uint32
	// UID and GID own the root directory and what is made in it.
	UID, GID uint32
}

// ParseOptions reads a comma-separated option list. size= takes bytes
// with an optional k, m or g (any case), or a percentage of whole when
// whole is not 0; nr_inodes= the same without the percentage; mode= is
// octal. A word that is not tmpfs's own (rw, noexec ...) is handed to
// other, whose error is returned; without other it is EINVAL, as Linux's
// tmpfs refuses what it does not know.
func ParseOptions(list string, whole int64, other func(opt string) error) (Options, error) {
	o := Options{Mode: 0o1777}
	for _, opt := range strings.Split(list, ",") {
		k, v, _ := strings.Cut(opt, "=")
		var err error
		switch k {
		case "":
		case "size":
			o.Size, err = ParseSize(v, whole)
		case "nr_inodes":
			o.MaxNodes, err = ParseSize(v, 0)
		case "mode":
			var m uint64
			m, err = strconv.ParseUint(v, 8, 32)
			if m > 0o7777 {
				err = unix.EINVAL
			}
			o.Mode = uint32(m)
		case "uid", "gid":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			if k == "uid" {
				o.UID = uint32(n)
			} else {
				o.GID = uint32(n)
			}
		default:
			if other == nil {
				return Options{}, unix.EINVAL
			}
			if err := other(opt); err != nil {
				return Options{}, err
			}
		}
		if err != nil {
			return Options{}, unix.EINVAL
		}
	}
	return o, nil
}

// ParseSize parses a size: a number with k, m or g (or K, M, G), or, when
// whole is not 0, a percentage of it. EINVAL for anything else, or past
// 2^62.
func ParseSize(s string, whole int64) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "%") && whole > 0:
		p, err := strconv.ParseUint(strings.TrimSuffix(s, "%"), 10, 16)
		if err != nil || p > 100 {
			return 0, unix.EINVAL
		}
		return whole/100*int64(p) + whole%100*int64(p)/100, nil
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "g"), strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || n > uint64(1<<62)/uint64(mult) {
		return 0, unix.EINVAL
	}
	return int64(n) * mult, nil
}

// NewWith makes a tmpfs with options o; size is the data limit when
// o.Size is 0.
func NewWith(o Options, size int64) *FS {
	if o.Size != 0 {
		size = o.Size
	}
	f := New(size)
	if o.MaxNodes > 0 {
		f.SetMaxNodes(o.MaxNodes)
	}
	f.SetOwner(o.UID, o.GID)
	if mu, ok := f.Root().(fs.Mutable); ok {
		mu.Chmod(o.Mode) // a root directory always takes its mode
	}
	return f
}
