#!/bin/bash
source "$(dirname "$0")/../lib.sh"
require_cmd no-such-command
