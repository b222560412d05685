package procfs

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// These tests hold the formats against the host's own /proc (skipped
// where there is none).

func hostFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/" + name)
	if err != nil || len(b) == 0 {
		t.Skipf("no host /proc/self/%s: %v", name, err)
	}
	return string(b)
}

// TestHostMaps parses the host's maps and writes them back: byte for byte
// the same.
func TestHostMaps(t *testing.T) {
	host := hostFile(t, "maps")
	var maps []Mapping
	for _, line := range strings.Split(strings.TrimSuffix(host, "\n"), "\n") {
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 5, line)
		start, end, ok := strings.Cut(f[0], "-")
		require.True(t, ok)
		m := Mapping{Perms: f[1], Dev: f[3]}
		var err error
		m.Start, err = strconv.ParseUint(start, 16, 64)
		require.NoError(t, err)
		m.End, err = strconv.ParseUint(end, 16, 64)
		require.NoError(t, err)
		m.Offset, err = strconv.ParseUint(f[2], 16, 64)
		require.NoError(t, err)
		m.Inode, err = strconv.ParseUint(f[4], 10, 64)
		require.NoError(t, err)
		if len(f) > 5 {
			m.Path = strings.Join(f[5:], " ")
		}
		maps = append(maps, m)
	}
	assert.Equal(t, host, string(formatMaps(maps)))
}

// TestHostLimits parses the host's limits and writes them back.
func TestHostLimits(t *testing.T) {
	host := hostFile(t, "limits")
	lines := strings.Split(strings.TrimSuffix(host, "\n"), "\n")
	require.Len(t, lines, NumLimits+1)
	var lim [NumLimits]unix.Rlimit
	val := func(s string) uint64 {
		if s == "unlimited" {
			return RlimInfinity
		}
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		return v
	}
	for i, line := range lines[1:] {
		require.True(t, strings.HasPrefix(line, limitNames[i][0]), line)
		f := strings.Fields(line[25:])
		lim[i] = unix.Rlimit{Cur: val(f[0]), Max: val(f[1])}
	}
	assert.Equal(t, host, string(formatLimits(lim)))
}

// TestHostStatusOrder: the lines of status that the host has come in the
// host's order, in the host's shape.
func TestHostStatusOrder(t *testing.T) {
	host := hostFile(t, "status")
	hostKeys := map[string]int{}
	hostVals := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(host, "\n"), "\n") {
		k, v, _ := strings.Cut(line, ":\t")
		hostKeys[k] = i
		hostVals[k] = v
	}
	m, keys := statusMap(t, readPath(t, New(newFake()).Root(), "10/status"))
	last := -1
	for _, k := range keys {
		i, ok := hostKeys[k]
		if !ok {
			continue
		}
		assert.Greater(t, i, last, "%s out of the host's order", k)
		last = i
		if strings.HasSuffix(hostVals[k], " kB") {
			assert.Len(t, m[k], len(hostVals[k]), k)
		}
	}
	for _, k := range []string{"Name", "State", "Tgid", "Pid", "PPid", "Uid", "Gid", "VmRSS", "Threads", "SigBlk", "CapEff"} {
		assert.Contains(t, hostKeys, k)
	}
}

// TestHostStat: as many fields as the host's.
func TestHostStat(t *testing.T) {
	host := hostFile(t, "stat")
	hostFields := statFields(t, host)
	fields := statFields(t, readPath(t, New(newFake()).Root(), "10/stat"))
	assert.Len(t, fields, len(hostFields))
}

// TestHostMeminfo: the host's lines and ours have the number right-aligned
// at column 24 (when it fits), then " kB" where the host has it.
func TestHostMeminfo(t *testing.T) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skip(err)
	}
	check := func(text string) map[string]bool {
		units := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			k, rest, ok := strings.Cut(line, ":")
			require.True(t, ok, line)
			f := strings.Fields(rest)
			units[k] = len(f) == 2 && f[1] == "kB"
			if len(f[0]) <= 8 {
				assert.Equal(t, 24, strings.Index(line, f[0])+len(f[0]), line)
			}
		}
		return units
	}
	host := check(string(b))
	ours := check(readPath(t, New(newFake()).Root(), "meminfo"))
	n := 0
	for k, kb := range ours {
		if h, ok := host[k]; ok {
			assert.Equal(t, h, kb, k)
			n++
		}
	}
	assert.Greater(t, n, 20)
}
