#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bash completion (completion/dstor.bash) against the built tool:
# test_completion.sh DSTOR COMPLETION. `show --json` is answered by a
# stand-in with two exports and an import, so names need no module.
set -u
real=$(realpath "$1") script=$2
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/dstor" <<EOS
#!/bin/sh
if [ "\$*" = "show --json" ]; then
	echo '{"exports":[{"name":"data","acl":[{"name":"nested"}],"stats":{"reads":1}},{"name":"logs"}],"imports":[{"name":"remote","device":"/dev/dstor0"}],"syncs":[]}'
	exit 0
fi
exec "$real" "\$@"
EOS
chmod +x "$tmp/dstor"
_dstor_cmd=$tmp/dstor
# shellcheck source=/dev/null
source "$script"

# expect "WANTED" WORD...: the completions of the last WORD, sorted.
expect() {
	local want=$1 got
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_dstor
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
	if [ "$got" = "$want" ]; then
		echo "ok: $* -> $got"
	else
		echo "FAIL: $* -> '$got', wanted '$want'"
		fails=$((fails + 1))
	fi
}

expect "set show showconf sync" dstor s
expect "import" dstor im
expect "add del set" dstor import ""
expect "--keepalive --key" dstor import add --k
expect "--device" dstor export add x --de
expect "crypto-workers" dstor set cr
expect "add del list" dstor acl ""
expect "set show showconf sync" dstor help s
# Names of the running objects, only at the top level of their list.
expect "data logs" dstor export del ""
expect "logs" dstor export set l
expect "remote" dstor import del ""
expect "data logs" dstor acl list ""
# Values: interfaces, files; nothing after an option whose value is free.
expect "lo" dstor sync x --mcast l
touch "$tmp/key.a" "$tmp/key.b"
expect "$tmp/key.a $tmp/key.b" dstor import add x --key "$tmp/key."
expect "" dstor import add x --timeout ""
# dstor index: export names and files, directories for --store, the
# compression algorithms.
# (in $tmp, where the stand-in "dstor" is the only file starting with d)
mkdir "$tmp/st.d"
cd "$tmp" || exit 1
expect "data dstor" dstor index d
cd - >/dev/null || exit 1
expect "$tmp/key.a $tmp/key.b" dstor index "$tmp/key."
expect "$tmp/st.d" dstor index x --caibx y --store "$tmp/st"
expect "xz" dstor index x --compression x
expect "--caibx --compression" dstor index x --c
# (the options' lines only: the footer names casync's --seed)
all=$("$real" index --help | awk '/^Options:$/ { on = 1; next } on && /^  -/' |
	grep -o -- '--[a-z-]*' | sort -u | xargs)
expect "$all" dstor index x --
# Every option `dstor import add --help` lists is offered.
all=$("$real" import add --help | grep -o -- '--[a-z-]*' | sort -u | xargs)
expect "$all" dstor import add --
[ $fails -eq 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
