#!/bin/bash
set -u
source "$(dirname "$0")/../lib.sh"
ktap_header; ktap_plan 1
echo "WARNING: test" > /dev/kmsg
ktap_ok "wrote a fake warning"
ktap_finish
