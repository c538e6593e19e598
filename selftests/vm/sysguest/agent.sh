#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dstor-agent: the syspair.sh guest's command channel. The host writes
# "ID BASE64" lines to the guest's second serial port (ttyS1); each is a
# shell command, run here as root. Its output comes back as "ID| LINE"
# lines and its exit status as "ID rc=N". At start: "agent ready BOOT_ID".
# Commands run one at a time; a command that must outlive its answer
# starts a unit of its own (systemd-run).
tty=/dev/ttyS1
stty -F $tty raw -echo 115200 || exit 1
exec 3<>$tty
echo "agent ready $(cat /proc/sys/kernel/random/boot_id)" >&3
while IFS=' ' read -r id b64 <&3; do
	[ -n "$id" ] && [ -n "$b64" ] || continue
	if cmd=$(printf '%s' "$b64" | base64 -d 2>/dev/null); then
		out=$(sh -c "$cmd" </dev/null 2>&1)
		rc=$?
	else
		out="agent: cannot decode the command"
		rc=254
	fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed "s/^/$id| /" >&3
	echo "$id rc=$rc" >&3
done
