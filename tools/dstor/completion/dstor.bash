# SPDX-License-Identifier: GPL-2.0
# bash completion for dstor(8).
#
# Objects, subcommands and options come from dstor's own --help, so the
# completion follows the tool without a list to keep in step. Values: files
# for FILE and PATH, directories for DIR, block devices for --device and
# --target, interfaces for IFACE, the algorithms of --compression, export
# and import names from `dstor show --json` (as root).

# _dstor_help WORD...: the help of `dstor WORD...`, or of dstor itself.
_dstor_help() {
	"${_dstor_cmd:-dstor}" "$@" --help 2>/dev/null
}

# _dstor_section SECTION: the first words of the lines listed under the
# help's "SECTION:" heading (objects, subcommands), from stdin.
_dstor_section() {
	awk -v s="$1:" '/^[A-Z][A-Za-z ]*:$/ { on = ($0 == s); next }
		on && /^  [a-z]/ { print $1 }'
}

# _dstor_options: "--long METAVAR" (or "--long") for each option, from stdin.
_dstor_options() {
	awk '/^[A-Z][A-Za-z ]*:$/ { on = ($0 == "Options:"); next }
		on && /^  -/ {
			n = split($1, f, ",")
			for (i = 1; i <= n; i++)
				if (f[i] ~ /^--/)
					print f[i], ($2 ~ /^[A-Z[]/ ? $2 : "")
		}'
}

# _dstor_names KIND: names of the running exports or imports (KIND).
_dstor_names() {
	"${_dstor_cmd:-dstor}" show --json 2>/dev/null |
		awk -v k="\"$1\":" '{
			# One JSON document: the names inside the "k":[...] array.
			i = index($0, k)
			if (!i)
				exit
			s = substr($0, i + length(k))
			depth = 0
			for (p = 1; p <= length(s); p++) {
				c = substr(s, p, 1)
				if (c == "[" || c == "{")
					depth++
				else if (c == "]" || c == "}") {
					if (--depth == 0 && c == "]")
						exit
				} else if (depth == 2 && substr(s, p, 8) == "\"name\":\"") {
					rest = substr(s, p + 8)
					print substr(rest, 1, index(rest, "\"") - 1)
				}
			}
		}'
}

_dstor() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' i w help subs opts meta
	local -a path=()

	((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# The object and subcommand typed so far.
	help=$(_dstor_help)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ $w == -* ]] && continue
		if [ ${#path[@]} -eq 0 ]; then
			subs=$(_dstor_section "Available objects" <<<"$help")
		else
			subs=$(_dstor_section Subcommands <<<"$help")
		fi
		if grep -qxF -- "$w" <<<"$subs"; then
			path+=("$w")
			help=$(_dstor_help "${path[@]}")
		fi
	done
	opts=$(_dstor_options <<<"$help")

	# The value of the option before the cursor.
	if [[ $prev == --* ]]; then
		meta=$(awk -v o="$prev" '$1 == o { print $2 }' <<<"$opts")
		if [ -n "$meta" ]; then
			case $prev:$meta in
			--device:* | --target:*)
				mapfile -t COMPREPLY < <(compgen -G "/dev/${cur#/dev/}*" |
					while read -r w; do [ -b "$w" ] && echo "$w"; done) ;;
			--compression:*)
				mapfile -t COMPREPLY < <(compgen -W "zstd xz none" -- "$cur") ;;
			*:FILE* | *:PATH*)
				mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
			*:DIR*)
				mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
			*:IFACE*)
				mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur") ;;
			esac
			return 0
		fi
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(awk '{ print $1 }' <<<"$opts")" -- "$cur")
		return 0
	fi
	case ${#path[@]}:${path[*]} in
	0:)
		subs=$(_dstor_section "Available objects" <<<"$help") ;;
	1:help)
		subs=$(_dstor_section "Available objects" <<<"$(_dstor_help)") ;;
	2:export\ set | 2:export\ del | 2:export\ rehash | 2:acl\ *)
		subs=$(_dstor_names exports) ;;
	2:import\ set | 2:import\ del)
		subs=$(_dstor_names imports) ;;
	1:index)
		# DEVICE|EXPORT: a path or a running export's name.
		mapfile -t COMPREPLY < <(compgen -W "$(_dstor_names exports)" -- "$cur"
			compgen -f -- "$cur")
		return 0 ;;
	*)
		subs=$(_dstor_section Subcommands <<<"$help") ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
	return 0
}
complete -F _dstor dstor
