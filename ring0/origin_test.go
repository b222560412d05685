package ring0

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHostCodeHoldsOurCode(t *testing.T) {
	text, vdso, err := HostCode()
	require.NoError(t, err)
	for _, f := range []any{HostCode, SwitchToUser, Leave, r0Addrs} {
		pc := uint64(reflect.ValueOf(f).Pointer())
		require.True(t, text.Contains(pc), "text %#x-%#x must hold %#x", text.Lo, text.Hi, pc)
	}
	require.False(t, text.Contains(0x10000000), "a low address is not ringbox's text")
	if vdso.Lo != 0 {
		require.Less(t, vdso.Lo, vdso.Hi)
		require.False(t, text.Contains(vdso.Lo))
	}
}

func TestParseHostCode(t *testing.T) {
	maps := `00400000-00401000 r--p 00000000 fd:01 123 /usr/bin/ringbox
00401000-00a00000 r-xp 00001000 fd:01 123 /usr/bin/ringbox
00a00000-00b00000 r--p 00600000 fd:01 123 /usr/bin/ringbox
7f0000000000-7f0000001000 r-xp 00000000 fd:01 9 /lib/x86_64-linux-gnu/libfoo.so
7ffd0000a000-7ffd0000c000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
garbage line
`
	p := filepath.Join(t.TempDir(), "maps")
	require.NoError(t, os.WriteFile(p, []byte(maps), 0o600))
	text, vdso, err := parseHostCode(p, 0x401234)
	require.NoError(t, err)
	require.Equal(t, CodeRange{0x401000, 0xa00000}, text)
	require.Equal(t, CodeRange{0x7ffd0000a000, 0x7ffd0000c000}, vdso)

	_, _, err = parseHostCode(p, 0x10)
	require.Error(t, err, "no mapping holds the PC")
}
