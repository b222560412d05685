package nat

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Rule is one --allow-net entry: destinations in Prefix, on Port (0: any
// port).
type Rule struct {
	Prefix netip.Prefix
	Port   uint16
	// Text is the entry as the user wrote it, for logs.
	Text string
}

// Lookup resolves a host name on the host (net.DefaultResolver's
// LookupNetIP in ringbox; a table in tests).
type Lookup func(name string) ([]netip.Addr, error)

// ParseRule parses HOST|CIDR[:PORT]: an address (1.2.3.4, [::1] with a
// port), a CIDR (10.0.0.0/8, [fd00::/8]:443) or a host name, which lookup
// resolves now (a rule per address it has). An IPv6 address or CIDR with
// a port goes in brackets.
func ParseRule(s string, lookup Lookup) ([]Rule, error) {
	host, port := s, uint16(0)
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return nil, fmt.Errorf("--allow-net %q: no closing ]", s)
		}
		host = s[1:end]
		switch rest := s[end+1:]; {
		case rest == "":
		case strings.HasPrefix(rest, ":"):
			p, err := parsePort(rest[1:])
			if err != nil {
				return nil, fmt.Errorf("--allow-net %q: %v", s, err)
			}
			port = p
		default:
			return nil, fmt.Errorf("--allow-net %q: want [ADDRESS]:PORT", s)
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 && strings.Count(s, ":") == 1 {
		p, err := parsePort(s[i+1:])
		if err != nil {
			return nil, fmt.Errorf("--allow-net %q: %v", s, err)
		}
		host, port = s[:i], p
	}
	if host == "" {
		return nil, fmt.Errorf("--allow-net %q: no host, address or CIDR", s)
	}
	if strings.Contains(host, "/") {
		p, err := netip.ParsePrefix(host)
		if err != nil {
			return nil, fmt.Errorf("--allow-net %q: %v", s, err)
		}
		return []Rule{{Prefix: unmapPrefix(p.Masked()), Port: port, Text: s}}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return []Rule{{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: port, Text: s}}, nil
	}
	if !validHostName(host) {
		return nil, fmt.Errorf("--allow-net %q: not an address, a CIDR or a host name", s)
	}
	if lookup == nil {
		return nil, fmt.Errorf("--allow-net %q: host names cannot be resolved here", s)
	}
	addrs, err := lookup(host)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("--allow-net %q: cannot resolve %s on the host: %v", s, host, err)
	}
	var rules []Rule
	for _, a := range addrs {
		a = a.Unmap()
		rules = append(rules, Rule{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: port, Text: s})
	}
	return rules, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q (want 1-65535)", s)
	}
	return uint16(n), nil
}

func validHostName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Policy decides which host destinations the sandbox may reach.
//
// Without rules: public unicast addresses, any port. Loopback, private
// (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10),
// link-local (169.254/16 with the cloud metadata address, fe80::/10),
// multicast, broadcast and unspecified addresses are refused.
//
// With rules (--allow-net given at least once): only what a rule names,
// and nothing else, public or not.
type Policy struct {
	Rules []Rule
}

// Allowed says whether the sandbox may reach dst, and if not, why.
func (p *Policy) Allowed(dst netip.AddrPort) (bool, string) {
	a := dst.Addr().Unmap()
	if len(p.Rules) == 0 {
		if why := notPublic(a); why != "" {
			return false, why + " (name it with --allow-net to allow it)"
		}
		return true, ""
	}
	for _, r := range p.Rules {
		if r.Prefix.Contains(a) && (r.Port == 0 || r.Port == dst.Port()) {
			return true, ""
		}
	}
	return false, "no --allow-net rule names it"
}

var (
	shared    = netip.MustParsePrefix("100.64.0.0/10")
	benchmark = netip.MustParsePrefix("198.18.0.0/15")
	reserved4 = netip.MustParsePrefix("240.0.0.0/4")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
)

// notPublic says why a is not a public unicast address ("" if it is).
func notPublic(a netip.Addr) string {
	switch {
	case !a.IsValid() || a.IsUnspecified() || thisNet.Contains(a):
		return "an unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "a multicast address"
	case a.IsPrivate() || shared.Contains(a) || benchmark.Contains(a):
		return "a private address"
	case reserved4.Contains(a) || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "a reserved address"
	case nat64.Contains(a):
		// 64:ff9b::a.b.c.d reaches a.b.c.d: judge that.
		b := a.As16()
		return notPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case !a.IsGlobalUnicast():
		return "not a unicast address"
	}
	return ""
}
