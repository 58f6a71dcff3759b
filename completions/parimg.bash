# bash completion for parimg(1): subcommands, then each subcommand's long
# options, read from "parimg --help" and "parimg CMD --help" so that they never
# fall out of step with the binary.
_parimg()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} words
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$("$prog" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
		COMPREPLY=($(compgen -W "$words --help --version" -- "$cur"))
		return
	fi
	case $cur in
	-*)
		words=$("$prog" "${COMP_WORDS[1]}" --help 2>/dev/null |
			grep -o -- '--[a-z][a-z-]*' | sort -u)
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
}
complete -o filenames -F _parimg parimg
