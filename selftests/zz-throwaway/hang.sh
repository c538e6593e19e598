#!/bin/bash
echo "TAP version 13"; echo "1..1"
printf '[generic]\nuser = root\ngroup = root\n[test]\nexportname = /dev/ram3\n' > /tmp/nbd.cfg
nbd-server -C /tmp/nbd.cfg || echo "# nbd-server failed"
sleep 1
nbd-client -N test 127.0.0.1 /dev/nbd0 || echo "# nbd-client failed"
for p in $(pidof nbd-server); do kill -STOP $p; done
echo "# server stopped; direct read from the test process itself"
mkdir -p /tmp/m; exec mount -t ext4 /dev/nbd0 /tmp/m
