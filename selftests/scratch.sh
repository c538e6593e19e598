#!/bin/bash
set -u
source "$(dirname "$0")/lib.sh"
ns_pair_setup
in_ex dstor export add d0 --device /dev/ram0 --listen "$EX_IP4:7420"
dev=$(in_im dstor import add d0 --peer "$EX_IP4:7420" --connections 2)
dd if=/dev/urandom of=/dev/ram0 bs=1M count=64 oflag=direct status=none
for bs in 256k 1M; do
  s=$(date +%s.%N); dd if=$dev of=/dev/null bs=$bs count=$((64*1024*1024/$(numfmt --from=iec $bs 2>/dev/null || echo 262144))) iflag=direct status=none; e=$(date +%s.%N)
  echo "read bs=$bs: $(echo "$s $e" | awk '{printf "%.2f s", $2-$1}')"
done
fio --name=rr --filename=$dev --rw=randread --bs=4k --size=32M --direct=1 --ioengine=libaio --iodepth=16 --runtime=8 --time_based --output-format=terse --terse-version=3 | awk -F';' '{print "4k randread IOPS", $8}'
fio --name=sr --filename=$dev --rw=read --bs=128k --size=32M --direct=1 --ioengine=libaio --iodepth=8 --runtime=8 --time_based --output-format=terse --terse-version=3 | awk -F';' '{print "128k read KB/s", $7}'
fio --name=sw --filename=$dev --rw=write --bs=128k --size=32M --direct=1 --ioengine=libaio --iodepth=8 --runtime=8 --time_based --output-format=terse --terse-version=3 | awk -F';' '{print "128k write KB/s", $48}'
