#!/bin/bash
echo "TAP version 13"; echo "1..1"; echo c > /proc/sysrq-trigger; echo "ok 1 survived"
