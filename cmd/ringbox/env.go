package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The program's environment (README "Set up and run"): ringbox's own
// environment, or nothing with --clearenv; then the --env-file lines, file
// by file; then the -e values; then the --unsetenv removals. As in docker,
// -e wins over --env-file whatever their order, and K alone (in either)
// copies K from ringbox's environment, or sets nothing when K is not there.
// A later value of a variable replaces an earlier one in place.

// checkEnvName checks a variable name given alone (-e K, --unsetenv K).
func checkEnvName(k string) error {
	switch {
	case k == "":
		return fmt.Errorf("empty variable name")
	case strings.ContainsRune(k, '='):
		return fmt.Errorf("variable name %s contains '='", quoteArg(k))
	case strings.ContainsRune(k, 0):
		return fmt.Errorf("variable name %s contains a NUL byte", quoteArg(k))
	}
	return nil
}

// checkEnvEntry checks a -e value: K=V, or K alone.
func checkEnvEntry(e string) error {
	k, v, hasV := strings.Cut(e, "=")
	if k == "" {
		return fmt.Errorf("want K=V or K, got %s", quoteArg(e))
	}
	if err := checkEnvName(k); err != nil {
		return err
	}
	if hasV && strings.ContainsRune(v, 0) {
		return fmt.Errorf("the value of %s contains a NUL byte", quoteArg(k))
	}
	return nil
}

// envBuilder is an environment with each variable once, in first-set order.
type envBuilder struct {
	list  []string
	index map[string]int
}

func (b *envBuilder) set(k, v string) {
	if b.index == nil {
		b.index = map[string]int{}
	}
	e := k + "=" + v
	if i, ok := b.index[k]; ok {
		b.list[i] = e
		return
	}
	b.index[k] = len(b.list)
	b.list = append(b.list, e)
}

func (b *envBuilder) unset(k string) {
	i, ok := b.index[k]
	if !ok {
		return
	}
	b.list = append(b.list[:i], b.list[i+1:]...)
	delete(b.index, k)
	for j := i; j < len(b.list); j++ {
		name, _, _ := strings.Cut(b.list[j], "=")
		b.index[name] = j
	}
}

// apply applies one -e value or --env-file line (already checked).
func (b *envBuilder) apply(e string, host []string) {
	k, v, hasV := strings.Cut(e, "=")
	if !hasV {
		var ok bool
		if v, ok = envValue(host, k); !ok {
			return
		}
	}
	b.set(k, v)
}

// programEnv builds the program's environment from ringbox's own (host,
// as os.Environ gives it) and the flags; readFile reads an --env-file.
// Its errors are usage errors.
// defaultPath is the PATH of --clearenv, and the one used to find the
// program when its environment has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func programEnv(o *runOpts, host []string, readFile func(string) ([]byte, error)) ([]string, error) {
	var b envBuilder
	b.list = []string{} // an empty environment is not nil
	if !o.clearEnv {
		for _, e := range host {
			if k, v, ok := strings.Cut(e, "="); ok && k != "" {
				if v, ok := programGodebug(k, v, host); ok {
					b.set(k, v)
				}
			}
		}
	} else {
		// A minimal environment, as a login would give: the standard
		// PATH, HOME, HOSTNAME, and TERM with a terminal.
		b.set("PATH", defaultPath)
		uid := uint32(os.Getuid())
		if o.user.set {
			uid = o.user.uid
		}
		home := "/"
		if uid == 0 {
			home = "/root"
		}
		b.set("HOME", home)
		b.set("HOSTNAME", o.hostname)
		if o.tty {
			term := "xterm"
			for _, e := range host {
				if v, ok := strings.CutPrefix(e, "TERM="); ok && v != "" {
					term = v
				}
			}
			b.set("TERM", term)
		}
	}
	for _, name := range o.envFiles {
		data, err := readFile(name)
		if err != nil {
			return nil, runUsageErr("--env-file %s: %v", quoteArg(name), err)
		}
		lines, err := parseEnvFile(data)
		if err != nil {
			return nil, runUsageErr("--env-file %s: %v", quoteArg(name), err)
		}
		for _, e := range lines {
			b.apply(e, host)
		}
	}
	for _, e := range o.env {
		b.apply(e, host)
	}
	for _, k := range o.unsetEnv {
		b.unset(k)
	}
	return b.list, nil
}

// parseEnvFile reads docker's --env-file format: one K=V or K per line,
// leading white space ignored, blank lines and lines starting with #
// skipped; the value is taken as it is (no quotes, no expansion).
func parseEnvFile(data []byte) ([]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("not UTF-8 text")
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		k, _, _ := strings.Cut(line, "=")
		if strings.IndexFunc(k, unicode.IsSpace) >= 0 {
			return nil, fmt.Errorf("line %d: variable name %s contains white space", n, quoteArg(k))
		}
		if err := checkEnvEntry(line); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// envValue is the last value of key in env.
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(env[i], "="); k == key {
			return v, true
		}
	}
	return "", false
}
