# bash completion for privaudit (installed as
# share/bash-completion/completions/privaudit).
#
# The subcommands and options are read from the program's own --help, so
# the completion offers exactly what the installed version accepts. Only
# bash builtins are used (no bash-completion helpers), so it also works
# when sourced on its own.

_privaudit_help()
{
	"$1" ${2:+"$2"} --help 2>/dev/null
}

# Long option names of a subcommand.
_privaudit_options()
{
	_privaudit_help "$1" "$2" | sed -n 's/^ *\(-[a-z], \)\{0,1\}\(--[a-z0-9-]*\).*/\2/p'
}

# The placeholder after an option in --help: FILE, DIR, IFACE, N, ...
_privaudit_option_argument()
{
	_privaudit_help "$1" "$2" | sed -n "s/^ *\(-[a-z], \)\{0,1\}$3 \([A-Z]*\) .*/\2/p"
}

_privaudit()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]} cmd="" i
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$(_privaudit_help "$prog" | sed -n 's/^  privaudit \([a-z]*\) .*/\1/p') --help --version" -- "$cur"))
		return
	fi
	if [[ $prev == -[a-z] ]]; then # -i is --interface
		prev=$(_privaudit_help "$prog" "$cmd" | sed -n "s/^ *$prev, \(--[a-z0-9-]*\).*/\1/p")
	fi
	if [[ $prev == -* && $COMP_CWORD -gt 2 ]]; then
		case $(_privaudit_option_argument "$prog" "$cmd" "$prev") in
		DIR) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
		FILE) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
		IFACE) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
		USER) COMPREPLY=($(compgen -u -- "$cur")); return ;;
		?*) return ;; # a number, a time, a filter: nothing to offer
		esac
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_privaudit_options "$prog" "$cmd")" -- "$cur"))
		return
	fi
	compopt -o filenames 2>/dev/null
	case $cmd in
	verify|report) COMPREPLY=($(compgen -d -- "$cur")) ;;
	*) COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}
complete -F _privaudit privaudit
