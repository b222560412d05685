// Command ringbox runs a Linux x86-64 program inside a KVM virtual machine
// under ringbox's own application kernel.
//
//	ringbox run [FLAGS] [--] PROGRAM [ARGS...]
//	ringbox version
//	ringbox completion bash|zsh
//	ringbox help [COMMAND]
//
// `ringbox run --help` lists the flags. Exit status: the program's; 128+n
// when it died of signal n; 125 when ringbox itself failed; 126 when
// PROGRAM cannot be executed; 127 when it was not found; 2 for a bad
// command line.
//
// # The command line
//
// The parser is the standard library's strings and strconv over one table
// of flags (runFlags in cli.go), not the flag package nor a CLI library.
// The same table writes the grouped help and the bash and zsh completion
// scripts, so the three cannot disagree. Why not the flag package: it has
// no short/long pairs, takes -strace and --strace alike, and cannot attach
// a short flag's value (-eK=V). Why not spf13/cobra and pflag: pflag parses
// these forms, but the help's groups, the usage errors (one line naming the
// help, exit status 2), docker's stop at the first non-flag argument and
// -e K's copy from ringbox's environment would all be written around it
// anyway; cobra's completion scripts call back into the binary on every Tab;
// and they would be ringbox's first dependencies beyond x/sys for about 200
// lines of code. A static script knows every flag, and completes values
// from the shell: variable names, files, directories, words.
//
// The flags come before PROGRAM, in any order; parsing stops at "--" or
// at the first argument that is not a flag, and the rest is the
// program's. Long flags are --name VALUE or --name=VALUE; short ones -n
// VALUE, -nVALUE or -n=VALUE; booleans take an optional =true or =false.
// Single-dash long flags (-strace) and combined short ones (-it) are
// errors that say so. -h or --help anywhere among the flags prints the help.
//
// # The environment
//
// env.go: ringbox's own environment (none with --clearenv), then the
// --env-file lines, then the -e values, then the --unsetenv removals; each
// variable once, a later value replacing an earlier one in place.
package main
