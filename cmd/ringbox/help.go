package main

import (
	"fmt"
	"strings"
)

// commandHelp is the help of `ringbox help NAME`.
func commandHelp(name string) (string, bool) {
	switch name {
	case "run":
		return runHelp(), true
	case "version":
		return versionHelp(), true
	case "completion":
		return completionHelp(), true
	case "help":
		return mainHelp(), true
	}
	return "", false
}

func mainHelp() string {
	var b strings.Builder
	b.WriteString(`ringbox runs a Linux x86-64 program in a KVM virtual machine, under an
application kernel written in Go.

Usage:
  ringbox run [FLAGS] [--] PROGRAM [ARGS...]   run PROGRAM in a new sandbox
  ringbox version                              print the version and the KVM backend
  ringbox completion bash|zsh                  print a shell completion script
  ringbox help [COMMAND]                       print the help of COMMAND
  ringbox [--root DIR] COMMAND ...             the OCI runtime commands (docs/oci.md): create,
                                               start, state, exec, kill, pause, resume, update,
                                               delete, run, ps, list, spec, features

Flags of ringbox run:

`)
	writeRunFlags(&b)
	b.WriteString("\n")
	b.WriteString(runExamples)
	b.WriteString("\nMore: ringbox run --help (the environment, exit statuses).\n")
	return b.String()
}

func runHelp() string {
	var b strings.Builder
	b.WriteString(`Usage: ringbox run [FLAGS] [--] PROGRAM [ARGS...]

Runs PROGRAM in a new sandbox: a KVM virtual machine under ringbox's own
kernel. It sees the host's / read-only, under an in-memory writable layer
(writes never reach the host). Flags come first, in any order; the first
argument that is not a flag, or the one after --, is PROGRAM: the rest are
its arguments. PROGRAM without a slash is looked up in the program's PATH.

`)
	writeRunFlags(&b)
	b.WriteString(`
Environment: the program gets ringbox's own environment, then the
--env-file lines, then the -e values (these win), less the --unsetenv
names. Use --clearenv to start from a minimal one instead (PATH, HOME,
HOSTNAME, and TERM with -t) when running untrusted code on a CI runner
whose environment holds secrets, with -e K to pass a chosen few.

Exit status: the program's; 128+n if it died of signal n; 125 if ringbox
failed; 126 if PROGRAM cannot be executed; 127 if it is not found; 2 for a
bad command line.

ringbox itself runs confined: new namespaces, an empty root, no
capabilities, a seccomp filter (--debug lists the layers; --no-confine,
which drops them all, is for debugging).

`)
	b.WriteString(runExamples)
	return b.String()
}

const runExamples = `Examples:
  ringbox run -- ls -la /etc
  ringbox run -it -- bash
  ringbox run -v "$PWD:/src" -w /src -e CFLAGS=-O2 make -j4
  ringbox run --clearenv -e PATH -e HOME=/tmp --env-file ci.env -- ./untrusted-tool
  ringbox run -m 2G --pids 256 --read-only python3 -c 'print(6*7)'
  ringbox run --net=sandbox -- curl -sI https://example.com
  ringbox run --net=sandbox --allow-net 127.0.0.1:5432 -- psql -h 10.0.2.2
  ringbox run -p 8080:8000 -- python3 -m http.server 8000
  ringbox run --strace --platform=kvm-exit -- /bin/true
`

// writeRunFlags writes run's flags by group, one line each.
func writeRunFlags(b *strings.Builder) {
	left := func(f *runFlag) string {
		s := "    "
		if f.short != "" {
			s = "-" + f.short + ", "
		}
		s += "--" + f.long
		if f.arg != "" {
			s += " " + f.arg
		}
		return s
	}
	width := 0
	for _, f := range runFlags {
		width = max(width, len(left(f)))
	}
	for i, g := range flagGroups {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "%s:\n", g)
		for _, f := range runFlags {
			if f.group != g {
				continue
			}
			line := fmt.Sprintf("  %-*s  %s", width, left(f), f.usage)
			if f.def != nil {
				line += " (default: " + f.def() + ")"
			}
			b.WriteString(line + "\n")
		}
	}
}

func versionHelp() string {
	return `Usage: ringbox version

Prints ringbox's version and the KVM backend it finds here: pvm, x86
(VMX/SVM) or none (with the reason, and how to try ringbox anyway).
ringbox --version does the same.
`
}

func completionHelp() string {
	return `Usage: ringbox completion bash|zsh

Prints a script that completes ringbox's commands, flags and their values
in bash or zsh. Load it in the running shell:

  source <(ringbox completion bash)      # bash
  source <(ringbox completion zsh)       # zsh

or for every new shell:

  ringbox completion bash > /etc/bash_completion.d/ringbox
  ringbox completion zsh > "${fpath[1]}/_ringbox"
`
}
