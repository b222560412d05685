package tmpfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	var others []string
	other := func(opt string) error {
		if opt == "bad" {
			return unix.EPERM
		}
		others = append(others, opt)
		return nil
	}
	o, err := ParseOptions("size=64m,mode=755,uid=7,gid=8,nr_inodes=1k,noexec,,ro", 0, other)
	require.NoError(t, err)
	assert.Equal(t, Options{Size: 64 << 20, MaxNodes: 1024, Mode: 0o755, UID: 7, GID: 8}, o)
	assert.Equal(t, []string{"noexec", "ro"}, others)

	o, err = ParseOptions("", 0, nil)
	require.NoError(t, err)
	assert.Equal(t, Options{Mode: 0o1777}, o, "the defaults")
	o, err = ParseOptions("size=25%", 4<<30, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1<<30), o.Size)

	for _, bad := range []string{"size=", "size=1x", "size=50%", "mode=8", "mode=17777", "uid=-1", "gid=4294967296",
		"nr_inodes=1%", "size=9999999999g", "noexec", "bad"} {
		_, err := ParseOptions(bad, 0, func(opt string) error {
			if opt == "noexec" {
				return nil
			}
			return unix.EINVAL
		})
		if bad == "noexec" {
			assert.NoError(t, err)
			continue
		}
		assert.Error(t, err, bad)
	}
	_, err = ParseOptions("noexec", 0, nil)
	assert.Equal(t, unix.EINVAL, err, "an unknown word without other")
}

func TestNewWith(t *testing.T) {
	f := NewWith(Options{Mode: 0o700, UID: 5, GID: 6}, 1<<20)
	st, err := f.Root().Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFDIR|0o700), st.Mode)
	assert.Equal(t, [2]uint32{5, 6}, [2]uint32{st.Uid, st.Gid})
}

// FuzzParseOptions: no option list panics, and what parses is in range.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"size=1g,mode=1777", "nr_inodes=10,uid=1", "size=100%", ",,=,", "mode=", "size=9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOptions(s, 1<<40, func(string) error { return nil })
		if err != nil {
			return
		}
		if o.Size < 0 || o.Size > 1<<62 || o.MaxNodes < 0 || o.Mode > 0o7777 {
			t.Fatalf("%q: %+v", s, o)
		}
	})
}
