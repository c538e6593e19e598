#!/bin/bash
set -u
source "$(dirname "$0")/../lib.sh"
ktap_header; ktap_plan 2
ktap_ok "first"
at_exit 'echo cleanup-ran >/dev/kmsg'
sleep 100
ktap_ok "never"
ktap_finish
