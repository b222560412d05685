package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tmpfs"
)

// maxHostsFile bounds the root's /etc/hosts read for the sandbox's.
const maxHostsFile = 1 << 20

// hostsWithName returns hosts (an /etc/hosts) with a line for name at
// 127.0.1.1, as Debian's installer writes one, unless a line names it
// already: the sandbox's hostname resolves, as a container's does (sudo,
// Java's getLocalHost, hostname -f).
func hostsWithName(hosts []byte, name string) []byte {
	sc := bufio.NewScanner(bytes.NewReader(hosts))
	sc.Buffer(nil, maxHostsFile)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		for _, n := range f[min(1, len(f)):] {
			if strings.EqualFold(n, name) {
				return hosts
			}
		}
	}
	out := append([]byte(nil), hosts...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, "127.0.1.1\t"+name+"\n"...)
}

// showHosts mounts the sandbox's /etc/hosts over the root's: the root's
// (read inside the sandbox's tree) with the hostname added, in memory
// and writable, as Docker's. A root without /etc/hosts as a regular file
// goes without; nothing changes when it names the host already.
func showHosts(v *fs.VFS, name string) (bool, error) {
	d, err := v.Resolve(v.Root(), v.Root(), "/etc/hosts", true)
	if err != nil {
		return false, nil
	}
	st, err := d.Node().Stat()
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxHostsFile {
		return false, nil
	}
	f, err := d.Node().Open(unix.O_RDONLY)
	if err != nil {
		return false, nil
	}
	hosts, err := io.ReadAll(io.NewSectionReader(preader{f}, 0, maxHostsFile))
	f.Release()
	if err != nil {
		return false, nil
	}
	with := hostsWithName(hosts, name)
	if len(with) == len(hosts) {
		return false, nil
	}
	t := tmpfs.New(maxHostsFile * 2)
	_, w, err := t.Root().(fs.Creator).Create("hosts", unix.O_WRONLY, 0o644)
	if err != nil {
		return false, err
	}
	_, err = w.Write(with)
	w.Release()
	if err != nil {
		return false, err
	}
	node, err := t.Root().Lookup("hosts")
	if err != nil {
		return false, err
	}
	return true, v.MountWith("/etc/hosts", fileFS{node}, false, fs.NoSuid|fs.NoDev)
}

// preader adapts an fs.Impl's Pread to io.ReaderAt.
type preader struct{ f fs.Impl }

func (p preader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.f.Pread(b, off)
	if n == 0 && err == nil && len(b) > 0 {
		return 0, io.EOF
	}
	return n, err
}
