package hostmaps

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	m, ok := Parse("7ffd0000a000-7ffd0000c000 r-xp 00000000 00:00 0                          [vdso]")
	require.True(t, ok)
	require.Equal(t, Mapping{0x7ffd0000a000, 0x7ffd0000c000, "r-xp", "[vdso]"}, m)
	require.True(t, m.Exec())
	m, ok = Parse("00400000-00401000 r--p 00000000 fd:01 123 /tmp/a file with spaces")
	require.True(t, ok)
	require.Equal(t, "/tmp/a file with spaces", m.Name)
	require.False(t, m.Exec())
	m, ok = Parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0")
	require.True(t, ok)
	require.Empty(t, m.Name)
	for _, bad := range []string{
		"", "garbage line", "Size:                  4 kB", "VmFlags: rd ex mr mw me dw",
		"00401000-00400000 r-xp 00000000 fd:01 123 /x", // reversed
		"00400000-00400000 r-xp 00000000 fd:01 123 /x", // empty
		"00400000 r-xp 00000000 fd:01 123 /x",
		"0040000g-00401000 r-xp 00000000 fd:01 123 /x",
		"00400000-00401000 rx 00000000 fd:01 123 /x",
	} {
		_, ok := Parse(bad)
		require.False(t, ok, "%q", bad)
	}
}

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "smaps")
	require.NoError(t, os.WriteFile(p, []byte(`00400000-00401000 r--p 00000000 fd:01 123 /usr/bin/ringbox
Size:                  4 kB
Anonymous:             0 kB
00401000-00a00000 r-xp 00001000 fd:01 123 /usr/bin/ringbox
`), 0o600))
	ms, err := Read(p)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	m, ok := Find(ms, 0x401234)
	require.True(t, ok)
	require.Equal(t, uintptr(0x401000), m.Start)
	_, ok = Find(ms, 0x10)
	require.False(t, ok)
	_, err = Read(filepath.Join(t.TempDir(), "none"))
	require.Error(t, err)
}

func TestSelfHoldsOurCode(t *testing.T) {
	ms, err := Self()
	require.NoError(t, err)
	m, ok := Find(ms, reflect.ValueOf(Self).Pointer())
	require.True(t, ok)
	require.True(t, m.Exec())
}
