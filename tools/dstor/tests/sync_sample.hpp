// A sync as the kernel reports it in the middle of receiving, shared by the
// tests of `dstor show` and of the progress of `dstor sync --wait`.
#pragma once

#include <linux/dstor.h>

#include "model.hpp"

namespace dstor::samples {

// Bytes 0xa0, 0xa1, ... 0xbf.
inline McastRoot sample_root() {
    McastRoot r{};
    for (std::size_t i = 0; i < r.size(); i++)
        r[i] = static_cast<std::uint8_t>(0xa0 + i);
    return r;
}

inline const char* const sample_root_hex =
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

// Sync 4 of "golden" on eth0 (ifindex 2) into /dev/sdb: 1024 blocks of
// 16 KiB, 256 already good, 298 verified, 4915200 bytes in 12.345 s.
inline SyncInfo sample_sync() {
    SyncInfo y;
    y.index = 4;
    y.name = "golden";
    y.device = "/dev/sdb";
    y.mcast.ifindex = 2;
    y.mcast.interface = "eth0";
    y.mcast.block_size = 16384;
    y.mcast.blocks = 1024;
    y.mcast.epoch = 0x0123456789abcdefULL;
    y.mcast.root = sample_root();
    y.size = 16ULL << 20;
    y.state = DSTOR_SYNC_STATE_RECEIVING;
    y.elapsed_ms = 12345;
    y.key_id = KeyId{1, 2, 3, 4, 5, 6, 7, 8};
    y.stats.sync_blocks = 1024;
    y.stats.sync_good = 256;
    y.stats.sync_received = 300;
    y.stats.sync_verified = 298;
    y.stats.sync_hash_bad = 2;
    y.stats.sync_bytes = 4915200;
    y.stats.sync_packets = 4800;
    y.stats.sync_packets_bad = 7;
    y.stats.sync_channels = 12;
    return y;
}

} // namespace dstor::samples
