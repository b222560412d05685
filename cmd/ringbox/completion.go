package main

import (
	"fmt"
	"strings"
)

// completionScript is `ringbox completion SHELL`: a script made from the
// same flag table as the parser and the help.
func completionScript(shell string) string {
	if shell == "zsh" {
		return zshCompletion()
	}
	return bashCompletion()
}

// bashKind is what __ringbox_kind prints for a flag: bool, none (a value
// with nothing to complete), env, file, dir, mount or words:W1 W2...
func bashKind(f *runFlag) string {
	switch {
	case f.arg == "":
		return "bool"
	case f.words != nil:
		return "words:" + strings.Join(f.words, " ")
	case f.comp == compNone:
		return "none"
	}
	return f.comp
}

func bashCompletion() string {
	var kinds strings.Builder
	var names []string
	for _, f := range runFlags {
		pat := "--" + f.long
		names = append(names, pat)
		if f.short != "" {
			pat = "-" + f.short + "|" + pat
			names = append(names, "-"+f.short)
		}
		fmt.Fprintf(&kinds, "        %s) echo '%s' ;;\n", pat, bashKind(f))
	}
	return `# bash completion for ringbox: source <(ringbox completion bash)

# __ringbox_kind FLAG: what the value of FLAG is (see bashKind in
# cmd/ringbox/completion.go); nothing for an unknown flag.
__ringbox_kind() {
    case $1 in
` + kinds.String() + `    esac
}

# __ringbox_reply CANDIDATES...: COMPREPLY without $keep, the part of the
# word before the last character of COMP_WORDBREAKS (bash replaces only the
# rest).
__ringbox_reply() {
    local x
    COMPREPLY=()
    for x; do COMPREPLY+=("${x#"$keep"}"); done
}

# __ringbox_value KIND PREFIX VALUE: complete VALUE, a flag's value that
# follows PREFIX in the word.
__ringbox_value() {
    local kind=$1 pre=$2 v=$3
    local -a c=()
    case $kind in
        env) [[ $v == *=* ]] || mapfile -t c < <(compgen -e -- "$v") ;;
        file) compopt -o filenames 2>/dev/null; mapfile -t c < <(compgen -f -- "$v") ;;
        dir) compopt -o filenames 2>/dev/null; mapfile -t c < <(compgen -d -- "$v") ;;
        mount)
            pre+=${v%"${v##*:}"}
            case ${v//[^:]/} in
                ::) mapfile -t c < <(compgen -W 'ro rw' -- "${v##*:}") ;;
                *) compopt -o filenames 2>/dev/null; mapfile -t c < <(compgen -d -- "${v##*:}") ;;
            esac ;;
        words:*) mapfile -t c < <(compgen -W "${kind#words:}" -- "$v") ;;
    esac
    __ringbox_reply "${c[@]/#/$pre}"
}

# __ringbox_run FIRST: the words of run from index FIRST.
__ringbox_run() {
    local i=$1 a k prog=
    while (( i < n )); do
        a=${w[i]}
        if [[ $a == -- ]]; then prog=$((i + 1)); break; fi
        if [[ $a != -?* ]]; then prog=$i; break; fi
        k=$(__ringbox_kind "$a")
        [[ -n $k && $k != bool ]] && ((i++))
        ((i++))
    done
    if [[ -n $prog ]]; then
        if (( n == prog )); then
            local -a c
            mapfile -t c < <(compgen -c -- "$cur"; [[ $cur == */* ]] && compgen -f -- "$cur")
            compopt -o filenames 2>/dev/null
            __ringbox_reply "${c[@]}"
        else
            compopt -o default 2>/dev/null
            COMPREPLY=()
        fi
        return
    fi
    if (( i > n )); then
        __ringbox_value "$(__ringbox_kind "${w[n-1]}")" "" "$cur"
        return
    fi
    case $cur in
        --*=*)
            __ringbox_value "$(__ringbox_kind "${cur%%=*}")" "${cur%%=*}=" "${cur#*=}" ;;
        -?*)
            k=$(__ringbox_kind "${cur:0:2}")
            if [[ ${#cur} -gt 2 && $cur != --* && -n $k && $k != bool ]]; then
                a=${cur:2}
                if [[ $a == =* ]]; then
                    __ringbox_value "$k" "${cur:0:3}" "${a:1}"
                else
                    __ringbox_value "$k" "${cur:0:2}" "$a"
                fi
            else
                __ringbox_reply $(compgen -W '` + strings.Join(names, " ") + ` --' -- "$cur")
            fi ;;
        -)
            __ringbox_reply $(compgen -W '` + strings.Join(names, " ") + ` --' -- "$cur") ;;
        *)
            local -a c
            mapfile -t c < <(compgen -c -- "$cur"; [[ $cur == */* ]] && compgen -f -- "$cur")
            compopt -o filenames 2>/dev/null
            __ringbox_reply "${c[@]}" ;;
    esac
}

_ringbox() {
    # w: the words up to the cursor, split at white space only (COMP_WORDS
    # also splits at = and :); cur: the last, n: its index.
    local line=${COMP_LINE:0:COMP_POINT}
    local -a w
    read -ra w <<< "$line"
    [[ ${#w[@]} -eq 0 || $line == *[[:space:]] ]] && w+=("")
    local n=$(( ${#w[@]} - 1 ))
    local cur=${w[n]} bw=${COMP_WORDS[COMP_CWORD]} keep=
    [[ $cur == *"$bw" ]] && keep=${cur%"$bw"}
    local i=1
    while (( i < n )) && [[ ${w[i]} == -* ]]; do ((i++)); done
    if (( i == n )); then
        __ringbox_reply $(compgen -W 'run version completion help --help --version' -- "$cur")
        return
    fi
    (( n == i + 1 )) || [[ ${w[i]} == run ]] || return
    case ${w[i]} in
        run) __ringbox_run $((i + 1)) ;;
        help) __ringbox_reply $(compgen -W 'run version completion help' -- "$cur") ;;
        completion) __ringbox_reply $(compgen -W 'bash zsh --help' -- "$cur") ;;
        version) __ringbox_reply $(compgen -W '--help' -- "$cur") ;;
    esac
}

complete -F _ringbox ringbox
`
}

// zshQuote escapes s for a single-quoted _arguments spec part; inBrackets
// also escapes the brackets that end a description, and colons otherwise.
func zshQuote(s string, inBrackets bool) string {
	s = strings.ReplaceAll(s, `'`, `'\''`)
	if inBrackets {
		return strings.NewReplacer("[", `\[`, "]", `\]`).Replace(s)
	}
	return strings.ReplaceAll(s, ":", `\:`)
}

func zshAction(f *runFlag) string {
	switch {
	case f.words != nil:
		return "(" + strings.Join(f.words, " ") + ")"
	case f.comp == compEnv:
		return `_parameters -g "*export*"`
	case f.comp == compFile:
		return "_files"
	case f.comp == compDir, f.comp == compMount:
		return "_files -/"
	}
	return " "
}

func zshCompletion() string {
	var specs strings.Builder
	for _, f := range runFlags {
		desc := "[" + zshQuote(strings.TrimSuffix(f.usage, " (repeatable)"), true) + "]"
		var forms []string
		if f.short != "" {
			forms = append(forms, "-"+f.short)
		}
		forms = append(forms, "--"+f.long)
		prefix := ""
		switch {
		case f.set == nil: // --help: nothing else with it
			prefix = "'(- *)'"
		case f.repeatable():
			prefix = "'*'"
		case len(forms) > 1:
			prefix = "'(" + strings.Join(forms, " ") + ")'"
		}
		if f.arg != "" {
			if f.short != "" {
				forms[0] += "+"
			}
			forms[len(forms)-1] += "="
		}
		names := forms[0]
		if len(forms) > 1 {
			names = "{" + strings.Join(forms, ",") + "}"
		}
		arg := ""
		if f.arg != "" {
			arg = ":" + zshQuote(f.arg, false) + ":" + zshQuote(zshAction(f), false)
		}
		fmt.Fprintf(&specs, "    %s%s'%s%s' \\\n", prefix, names, desc, arg)
	}
	return `#compdef ringbox
# zsh completion for ringbox: source <(ringbox completion zsh) after
# compinit, or save it as _ringbox in a directory of $fpath.
compdef _ringbox ringbox

_ringbox_run() {
  _arguments -S -A '-*' \
` + specs.String() + `    '(-)*::command:_normal'
}

_ringbox() {
  local curcontext=$curcontext state line
  typeset -A opt_args
  _arguments -C \
    '(- *)'{-h,--help}'[print the help]' \
    '(- *)--version[print the version and the KVM backend]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command)
      local -a cmds=(
        'run:run PROGRAM in a new sandbox'
        'version:print the version and the KVM backend'
        'completion:print a shell completion script'
        'help:print the help of a command'
      )
      _describe -t commands 'ringbox command' cmds ;;
    argument)
      curcontext=${curcontext%:*:*}:ringbox-$words[1]:
      case $words[1] in
        run) _ringbox_run ;;
        help) _arguments '1:command:(run version completion help)' ;;
        completion) _arguments '(- *)'{-h,--help}'[print the help]' '1:shell:(bash zsh)' ;;
        version) _arguments '(- *)'{-h,--help}'[print the help]' ;;
      esac ;;
  esac
}

if [[ $funcstack[1] == _ringbox ]]; then
  _ringbox "$@"
fi
`
}
