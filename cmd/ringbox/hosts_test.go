package main

import "testing"

func TestHostsWithName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1\tlocalhost\n", "127.0.0.1\tlocalhost\n127.0.1.1\tbox\n"},
		{"127.0.0.1 localhost", "127.0.0.1 localhost\n127.0.1.1\tbox\n"},
		{"", "127.0.1.1\tbox\n"},
		{"10.0.0.2 web BOX.example box # here\n", "10.0.0.2 web BOX.example box # here\n"},
		{"10.0.0.2 Box\n", "10.0.0.2 Box\n"},
		{"# box\nbox 1.2.3.4\n", "# box\nbox 1.2.3.4\n127.0.1.1\tbox\n"},
	} {
		if got := string(hostsWithName([]byte(c.in), "box")); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
