#include <gtest/gtest.h>

#include <linux/dstor.h>

#include "progress.hpp"
#include "show.hpp"
#include "sync_sample.hpp"
#include "uuid_sample.hpp"
#include "validate.hpp"

using namespace dstor;
using json = nlohmann::json;

namespace {

Endpoint ep(const char* text) {
    auto r = parse_endpoint(text);
    EXPECT_TRUE(r.ok());
    return *r;
}

std::vector<ExportInfo> sample_exports() {
    ExportInfo e;
    e.name = "disk1";
    e.device = "/dev/vdb";
    e.listen = ep("192.0.2.1:7420");
    e.read_only = false;
    e.size = 1ULL << 30;
    e.block_size = 512;
    e.sessions = 2;
    e.stats.reads = 10;
    e.stats.writes = 5;
    e.stats.flushes = 1;
    e.stats.discards = 0;
    e.stats.write_zeroes = 0;
    e.stats.read_bytes = 40960;
    e.stats.write_bytes = 20480;
    e.stats.errors = 0;
    e.stats.inflight = 3;

    ExportInfo partial; // an older kernel, or a sparse reply
    partial.name = "ro";
    partial.read_only = true;
    partial.stats.reads = 1;
    return {e, partial};
}

std::vector<ImportInfo> sample_imports() {
    ImportInfo i;
    i.index = 0;
    i.name = "disk1";
    i.peer = ep("[2001:db8::1]:7420");
    i.read_only = true;
    i.size = 4096;
    i.block_size = 4096;
    i.connections = 4;
    i.connected = 4;
    i.state = DSTOR_STATE_CONNECTED;
    i.timers.timeout = 30;
    i.timers.retries = 5;
    i.timers.reconnect_min = 1;
    i.timers.reconnect_max = 30;
    i.timers.keepalive = 5;
    i.timers.dead_after = 15;
    i.stats.writes = 7;
    i.stats.resent = 2;
    i.stats.timeouts = 1;
    i.stats.reconnects = 3;
    i.stats.keepalives = 40;

    ImportInfo old; // an older kernel: no connected, no timers
    old.index = 3;
    old.name = "disk2";
    old.connections = 2;
    old.state = DSTOR_STATE_RECONNECTING;
    return {i, old};
}

using samples::sample_root;
using samples::sample_sync;
const char* const root_hex = samples::sample_root_hex;

ExportInfo mcast_export() {
    ExportInfo e;
    e.name = "golden";
    e.device = "/dev/vdb";
    e.read_only = true;
    e.size = 16ULL << 20;
    e.block_size = 512;
    e.sessions = 0;
    McastInfo m;
    m.ifindex = 2;
    m.interface = "eth0";
    m.rate = 200000000;
    m.block_size = 16384;
    m.querier = true;
    m.epoch = 0x0123456789abcdefULL;
    m.root = sample_root();
    m.blocks = 1024;
    m.listened = 3;
    m.state = DSTOR_MC_STATE_SERVING;
    e.mcast = m;
    e.stats.mc_packets = 100;
    e.stats.mc_bytes = 102400;
    e.stats.mc_blocks = 6;
    e.stats.mld_reports = 5;
    e.stats.mld_bad = 1;
    e.stats.mc_queries = 2;
    return e;
}

// Just added, in another namespace: nothing known but the interface index.
SyncInfo waiting_sync() {
    SyncInfo y;
    y.index = 0;
    y.name = "g";
    y.mcast.ifindex = 9;
    y.state = DSTOR_SYNC_STATE_WAITING;
    return y;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items())
        keys.push_back(k);
    return keys;
}

} // namespace

TEST(ShowJson, ExactDocument) {
    const auto doc = show_json(sample_exports(), sample_imports());
    const json expected = json::parse(R"({
      "exports": [
        {"name": "disk1", "device": "/dev/vdb", "listen": "192.0.2.1:7420", "read_only": false,
         "size": 1073741824, "block_size": 512, "sessions": 2,
         "stats": {"reads": 10, "writes": 5, "flushes": 1, "discards": 0, "write_zeroes": 0,
                   "read_bytes": 40960, "write_bytes": 20480, "errors": 0, "inflight": 3}},
        {"name": "ro", "read_only": true, "stats": {"reads": 1}}
      ],
      "imports": [
        {"index": 0, "device": "/dev/dstor0", "name": "disk1", "peer": "[2001:db8::1]:7420",
         "read_only": true, "size": 4096, "block_size": 4096, "connections": 4, "connected": 4,
         "state": "connected",
         "timers": {"timeout": 30, "retries": 5, "reconnect_min": 1, "reconnect_max": 30,
                    "keepalive": 5, "dead_after": 15},
         "stats": {"writes": 7, "resent": 2, "timeouts": 1, "reconnects": 3, "keepalives": 40}},
        {"index": 3, "device": "/dev/dstor3", "name": "disk2", "read_only": false,
         "connections": 2, "state": "reconnecting", "timers": {}, "stats": {}}
      ],
      "syncs": []
    })");
    EXPECT_EQ(json::parse(doc.dump()), expected) << doc.dump(2);
}

TEST(ShowJson, KeyOrderFollowsTheSpec) {
    const auto doc = show_json(sample_exports(), sample_imports());
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc["exports"][0].items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"name", "device", "listen", "read_only", "size",
                                              "block_size", "sessions", "stats"}));
    keys.clear();
    for (const auto& [k, v] : doc["imports"][0].items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"index", "device", "name", "peer", "read_only",
                                              "size", "block_size", "connections", "connected",
                                              "state", "timers", "stats"}));
    keys.clear();
    for (const auto& [k, v] : doc["imports"][0]["timers"].items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"timeout", "retries", "reconnect_min",
                                              "reconnect_max", "keepalive", "dead_after"}));
    keys.clear();
    for (const auto& [k, v] : doc["imports"][0]["stats"].items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"writes", "resent", "timeouts", "reconnects",
                                              "keepalives"}));
}

TEST(ShowJson, Empty) {
    EXPECT_EQ(show_json({}, {}).dump(), R"({"exports":[],"imports":[],"syncs":[]})");
}

TEST(ShowJson, InvalidUtf8DoesNotThrow) {
    ExportInfo e;
    e.name = "x";
    e.device = "/dev/\xff\xfe";
    const auto doc = show_json({e}, {});
    std::string text;
    EXPECT_NO_THROW(text =
                        doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    EXPECT_TRUE(json::accept(text));
}

TEST(ShowText, Blocks) {
    const std::string out = format_show(sample_exports(), sample_imports());
    const std::string expected = "export: disk1\n"
                                 "  device: /dev/vdb\n"
                                 "  listen: 192.0.2.1:7420\n"
                                 "  access: read-write\n"
                                 "  size: 1.00 GiB (1073741824 bytes), block size 512\n"
                                 "  sessions: 2\n"
                                 "  requests: 10 reads, 5 writes, 1 flushes, 0 discards, "
                                 "0 write-zeroes\n"
                                 "  transfer: 40.00 KiB read, 20.00 KiB written\n"
                                 "  status: 0 errors, 3 in flight\n"
                                 "\n"
                                 "export: ro\n"
                                 "  access: read-only\n"
                                 "  requests: 1 reads\n"
                                 "\n"
                                 "import: /dev/dstor0\n"
                                 "  export: disk1@[2001:db8::1]:7420\n"
                                 "  state: connected\n"
                                 "  access: read-only\n"
                                 "  connections: 4/4 connected\n"
                                 "  timers: timeout 30 s, retries 5, reconnect 1-30 s, "
                                 "keepalive 5 s, dead after 15 s\n"
                                 "  size: 4.00 KiB (4096 bytes), block size 4096\n"
                                 "  requests: 7 writes\n"
                                 "  recovery: 2 resent, 1 timeouts, 3 reconnects, 40 keepalives\n"
                                 "\n"
                                 "import: /dev/dstor3\n"
                                 "  export: disk2\n"
                                 "  state: reconnecting\n"
                                 "  access: read-write\n"
                                 "  connections: 2\n";
    EXPECT_EQ(out, expected);
}

TEST(ShowText, ExportsHaveNoRecoveryLine) {
    // The kernel sends every counter for exports too; the import-only ones
    // stay in the JSON but are not printed for exports.
    ExportInfo e;
    e.name = "x";
    e.stats.resent = 0;
    e.stats.keepalives = 0;
    EXPECT_EQ(format_show({e}, {}), "export: x\n  access: read-write\n");
    EXPECT_EQ(show_json({e}, {})["exports"][0]["stats"].dump(), R"({"resent":0,"keepalives":0})");
}

TEST(ShowText, PartialTimersAndConnected) {
    ImportInfo i;
    i.index = 1;
    i.name = "d";
    i.connected = 0;
    i.timers.reconnect_max = 60;
    i.timers.retries = 0;
    i.stats.reconnects = 9;
    EXPECT_EQ(format_show({}, {i}), "import: /dev/dstor1\n"
                                    "  export: d\n"
                                    "  state: unknown\n"
                                    "  access: read-write\n"
                                    "  connections: 0 connected\n"
                                    "  timers: retries 0, reconnect up to 60 s\n"
                                    "  recovery: 9 reconnects\n");
    i.timers = Timers{};
    i.timers.reconnect_min = 2;
    EXPECT_NE(format_show({}, {i}).find("  timers: reconnect from 2 s\n"), std::string::npos);
}

TEST(ShowText, EmptyPrintsNothing) {
    EXPECT_EQ(format_show({}, {}), "");
}

TEST(ShowText, HumanBytes) {
    EXPECT_EQ(human_bytes(0), "0 B");
    EXPECT_EQ(human_bytes(1023), "1023 B");
    EXPECT_EQ(human_bytes(1024), "1.00 KiB");
    EXPECT_EQ(human_bytes(1536), "1.50 KiB");
    EXPECT_EQ(human_bytes(10ULL << 20), "10.00 MiB");
    EXPECT_EQ(human_bytes(3ULL << 40), "3.00 TiB");
    EXPECT_EQ(human_bytes(UINT64_MAX), "16.00 EiB");
}

TEST(ShowText, StateNames) {
    EXPECT_EQ(state_name(DSTOR_STATE_CONNECTED), "connected");
    EXPECT_EQ(state_name(DSTOR_STATE_RECONNECTING), "reconnecting");
    EXPECT_EQ(state_name(DSTOR_STATE_FAILED), "failed");
    EXPECT_EQ(state_name(DSTOR_STATE_DELETING), "deleting");
    EXPECT_EQ(state_name(0), "unknown");
    EXPECT_EQ(state_name(77), "unknown");
    EXPECT_EQ(state_name(std::nullopt), "unknown");
}

TEST(ShowText, McastExport) {
    EXPECT_EQ(format_show({mcast_export()}, {}),
              "export: golden\n"
              "  device: /dev/vdb\n"
              "  access: read-only\n"
              "  size: 16.00 MiB (16777216 bytes), block size 512\n"
              "  sessions: 0\n"
              "  multicast: eth0, rate 200Mbit/s, block size 16K, querier\n"
              "  multicast state: serving, 1024 blocks, 3 channels listened, "
              "epoch 0123456789abcdef\n"
              "  multicast root: " +
                  std::string(root_hex) +
                  "\n"
                  "  multicast sent: 100 packets, 100.00 KiB, 6 blocks; "
                  "MLD: 5 reports, 1 ignored, 2 queries\n");

    // Hashing, its interface not known in this namespace.
    ExportInfo e;
    e.name = "g2";
    e.read_only = true;
    e.mcast = McastInfo{};
    e.mcast->ifindex = 7;
    e.mcast->state = DSTOR_MC_STATE_HASHING;
    EXPECT_EQ(format_show({e}, {}), "export: g2\n"
                                    "  access: read-only\n"
                                    "  multicast: ifindex 7\n"
                                    "  multicast state: hashing\n");
}

TEST(ShowJson, McastExport) {
    const auto doc = show_json({mcast_export()}, {});
    const json expected = json::parse(R"({
      "name": "golden", "device": "/dev/vdb", "read_only": true, "size": 16777216,
      "block_size": 512, "sessions": 0,
      "mcast": {"interface": "eth0", "ifindex": 2, "rate": 200000000, "block_size": 16384,
                "querier": true, "state": "serving", "blocks": 1024, "listened": 3,
                "epoch": "0123456789abcdef",
                "root": "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"},
      "stats": {"mc_packets": 100, "mc_bytes": 102400, "mc_blocks": 6, "mld_reports": 5,
                "mld_bad": 1, "mc_queries": 2}
    })");
    EXPECT_EQ(json::parse(doc["exports"][0].dump()), expected) << doc.dump(2);
    EXPECT_EQ(keys_of(doc["exports"][0]["mcast"]),
              (std::vector<std::string>{"interface", "ifindex", "rate", "block_size", "querier",
                                        "state", "blocks", "listened", "epoch", "root"}));

    // A TCP export has no "mcast"; a hashing one has what is known.
    EXPECT_FALSE(show_json(sample_exports(), {})["exports"][0].contains("mcast"));
    ExportInfo e;
    e.name = "g2";
    e.mcast = McastInfo{};
    e.mcast->ifindex = 7;
    e.mcast->state = DSTOR_MC_STATE_HASHING;
    EXPECT_EQ(show_json({e}, {})["exports"][0]["mcast"].dump(),
              R"({"ifindex":7,"querier":false,"state":"hashing"})");
}

TEST(ShowText, Syncs) {
    EXPECT_EQ(format_show({}, {}, {sample_sync(), waiting_sync()}),
              "sync: 4\n"
              "  export: golden\n"
              "  target: /dev/sdb\n"
              "  interface: eth0\n"
              "  state: receiving\n"
              "  key: 0102030405060708\n"
              "  size: 16.00 MiB (16777216 bytes), block size 16384\n"
              "  tree: 1024 blocks, epoch 0123456789abcdef\n"
              "  merkle root: " +
                  std::string(root_hex) +
                  "\n"
                  "  blocks: 1024 total, 256 already good, 300 received, 298 verified, "
                  "2 bad hashes\n"
                  "  progress: 554/1024 done (54%), 4.69 MiB received, elapsed 12.3 s, "
                  "398.2 kB/s, ETA 0:20\n"
                  "  packets: 4800 received, 7 dropped, 12 channels joined\n"
                  "\n"
                  "sync: 0\n"
                  "  export: g\n"
                  "  interface: ifindex 9\n"
                  "  state: waiting\n");

    // Datagrams its socket dropped are told only when there were some.
    SyncInfo drops = sample_sync();
    drops.stats.sync_rcv_drops = 0;
    EXPECT_NE(format_show({}, {}, {drops}).find(
                  "  packets: 4800 received, 7 dropped, 12 channels joined\n"),
              std::string::npos);
    drops.stats.sync_rcv_drops = 31;
    EXPECT_NE(format_show({}, {}, {drops}).find(
                  "  packets: 4800 received, 7 dropped, 31 lost to a full receive buffer, "
                  "12 channels joined\n"),
              std::string::npos)
        << format_show({}, {}, {drops});
    EXPECT_EQ(show_json({}, {}, {drops})["syncs"][0]["stats"]["sync_rcv_drops"], 31);

    // Syncs come after exports and imports; done ones have no ETA.
    SyncInfo done = sample_sync();
    done.state = DSTOR_SYNC_STATE_DONE;
    done.stats.sync_verified = 768;
    const std::string out = format_show(sample_exports(), sample_imports(), {done});
    EXPECT_NE(out.find("  connections: 2\n\nsync: 4\n"), std::string::npos) << out;
    EXPECT_NE(out.find("  progress: 1024/1024 done (100%), 4.69 MiB received, elapsed 12.3 s, "
                       "398.2 kB/s\n"),
              std::string::npos)
        << out;
}

TEST(ShowText, PeriodicSyncRounds) {
    SyncInfo y = sample_sync();
    y.every = 10;
    y.scrub = 20;
    y.stats.sync_rounds = 4;
    y.stats.sync_rounds_failed = 1;
    y.stats.sync_repaired = 13;
    y.stats.sync_corrupt = 5;
    y.last_round_ms = 2500;
    y.last_repaired = 5;
    y.last_corrupt = 5;
    std::string out = format_show({}, {}, {y});
    EXPECT_NE(out.find("  rounds: every 10s, scrub every 20s, 4 converged, 1 failed, 13 blocks "
                       "repaired, 5 found corrupt by scrubs\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("  last round: 2.5 s ago, 5 blocks repaired, scrubbed: 5 corrupt\n"),
              std::string::npos)
        << out;
    // A round without a scrub: nothing about corruption; none repaired: equal.
    y.last_repaired = 0;
    y.last_corrupt.reset();
    out = format_show({}, {}, {y});
    EXPECT_NE(out.find("  last round: 2.5 s ago, equal\n"), std::string::npos) << out;
}

TEST(ShowJson, Syncs) {
    const auto doc = show_json({}, {}, {sample_sync(), waiting_sync()});
    const json expected = json::parse(R"([
      {"index": 4, "name": "golden", "target": "/dev/sdb", "interface": "eth0", "ifindex": 2,
       "state": "receiving", "size": 16777216, "block_size": 16384, "blocks": 1024,
       "epoch": "0123456789abcdef",
       "root": "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
       "elapsed_ms": 12345, "bytes_per_second": 398153, "eta_seconds": 20,
       "key_id": "0102030405060708",
       "stats": {"sync_blocks": 1024, "sync_good": 256, "sync_received": 300,
                 "sync_verified": 298, "sync_hash_bad": 2, "sync_bytes": 4915200,
                 "sync_packets": 4800, "sync_packets_bad": 7, "sync_channels": 12}},
      {"index": 0, "name": "g", "ifindex": 9, "state": "waiting", "stats": {}}
    ])");
    EXPECT_EQ(json::parse(doc["syncs"].dump()), expected) << doc.dump(2);
    EXPECT_EQ(
        keys_of(doc["syncs"][0]),
        (std::vector<std::string>{"index", "name", "target", "interface", "ifindex", "state",
                                  "size", "block_size", "blocks", "epoch", "root", "elapsed_ms",
                                  "bytes_per_second", "eta_seconds", "key_id", "stats"}));
    EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"exports", "imports", "syncs"}));
    ModuleInfo crypto_only; // an older module: no session limits
    crypto_only.workers = 4;
    crypto_only.queued = 0;
    EXPECT_EQ(keys_of(show_json({}, {}, {}, crypto_only)),
              (std::vector<std::string>{"exports", "imports", "syncs", "crypto"}));
}

TEST(ShowText, StateNamesOfMulticast) {
    const std::pair<std::uint32_t, const char*> syncs[] = {
        {DSTOR_SYNC_STATE_WAITING, "waiting"},
        {DSTOR_SYNC_STATE_TREE, "tree"},
        {DSTOR_SYNC_STATE_HASHING, "hashing"},
        {DSTOR_SYNC_STATE_RECEIVING, "receiving"},
        {DSTOR_SYNC_STATE_VERIFYING, "verifying"},
        {DSTOR_SYNC_STATE_DONE, "done"},
        {DSTOR_SYNC_STATE_FAILED, "failed"},
        {0, "unknown"},
        {99, "unknown"},
    };
    for (const auto& [state, name] : syncs)
        EXPECT_EQ(sync_state_name(state), name);
    EXPECT_EQ(sync_state_name(std::nullopt), "unknown");
    EXPECT_EQ(mc_state_name(DSTOR_MC_STATE_HASHING), "hashing");
    EXPECT_EQ(mc_state_name(DSTOR_MC_STATE_SERVING), "serving");
    EXPECT_EQ(mc_state_name(DSTOR_MC_STATE_FAILED), "failed");
    EXPECT_EQ(mc_state_name(0), "unknown");
    EXPECT_EQ(mc_state_name(std::nullopt), "unknown");
}

TEST(ShowText, NameInterfaces) {
    // Names come from this namespace; an index without an interface stays unnamed.
    std::vector<ExportInfo> exports = sample_exports();
    exports.push_back(mcast_export());
    exports.back().mcast->interface.reset();
    exports.back().mcast->ifindex = 1; // lo
    std::vector<SyncInfo> syncs = {waiting_sync()};
    syncs[0].mcast.ifindex = 0x7ffffff0;
    name_interfaces(exports, syncs);
    EXPECT_FALSE(exports[0].mcast);
    EXPECT_EQ(exports.back().mcast->interface, interface_name(1));
    EXPECT_FALSE(syncs[0].mcast.interface);
}

// ---- session limits, identities and reasons ----------------------------------

namespace {

using samples::sample_uuid;
using samples::sample_uuid_text;
const char* const uuid_differs = "the export is not the one this import was made of (another "
                                 "export under that name: its uuid differs)";

ExportInfo limited_export() {
    ExportInfo e;
    e.name = "d0";
    e.listen = ep("192.0.2.1:7420");
    e.uuid = sample_uuid;
    e.sessions = 3;
    e.max_sessions = 4096;
    e.stats.sessions_reaped = 0;
    e.stats.sessions_refused = 0;
    e.stats.auth_failures = 1;
    return e;
}

ImportInfo failed_import() {
    ImportInfo i;
    i.index = 2;
    i.name = "d0";
    i.peer = ep("192.0.2.1:7420");
    i.uuid = sample_uuid;
    i.connections = 2;
    i.connected = 0;
    i.state = DSTOR_STATE_FAILED;
    i.reason = uuid_differs;
    return i;
}

ModuleInfo module_info() {
    ModuleInfo m;
    m.workers = 4;
    m.queued = 0;
    m.pooled = 1234;
    m.max_sessions = 4096;
    m.max_host_sessions = 16384;
    return m;
}

} // namespace

TEST(ShowText, ExportUuidAndSessions) {
    EXPECT_EQ(format_show({limited_export()}, {}),
              "export: d0\n"
              "  listen: 192.0.2.1:7420\n"
              "  uuid: " +
                  std::string(sample_uuid_text) +
                  "\n"
                  "  access: read-write\n"
                  "  sessions: 3 (max 4096), 0 reaped, 0 refused\n"
                  "  security: 1 auth failures\n");

    // Only what the kernel sent.
    ExportInfo e = limited_export();
    e.stats = Stats{};
    e.stats.sessions_refused = 7;
    EXPECT_NE(format_show({e}, {}).find("  sessions: 3 (max 4096), 7 refused\n"),
              std::string::npos);
    e.sessions.reset();
    EXPECT_NE(format_show({e}, {}).find("  sessions: max 4096, 7 refused\n"), std::string::npos);
    e.max_sessions.reset();
    e.stats = Stats{};
    EXPECT_EQ(format_show({e}, {}).find("sessions"), std::string::npos);
}

TEST(ShowText, ImportUuidAndReason) {
    EXPECT_EQ(format_show({}, {failed_import()}), "import: /dev/dstor2\n"
                                                  "  export: d0@192.0.2.1:7420\n"
                                                  "  export uuid: " +
                                                      std::string(sample_uuid_text) +
                                                      "\n"
                                                      "  state: failed (" +
                                                      uuid_differs +
                                                      ")\n"
                                                      "  access: read-write\n"
                                                      "  connections: 0/2 connected\n");

    ImportInfo reconnecting = failed_import();
    reconnecting.state = DSTOR_STATE_RECONNECTING;
    reconnecting.reason = "nothing heard from the peer";
    EXPECT_NE(format_show({}, {reconnecting})
                  .find("  state: reconnecting (nothing heard from the peer)\n"),
              std::string::npos);
    reconnecting.reason.reset();
    EXPECT_NE(format_show({}, {reconnecting}).find("  state: reconnecting\n"), std::string::npos);
}

TEST(ShowText, ModuleBlock) {
    EXPECT_EQ(format_show({}, {}, {}, module_info()),
              "crypto: workers 4, queued 0, pooled 1234\n"
              "limits: max-sessions 4096 per export, max-host-sessions 16384 per peer address\n");
    // Before the exports, a blank line between.
    EXPECT_EQ(
        format_show({limited_export()}, {}, {}, module_info()).find("address\n\nexport: d0\n"),
        std::string("crypto: workers 4, queued 0, pooled 1234\nlimits: max-sessions 4096 per export, "
                    "max-host-sessions 16384 per peer ")
            .size());

    ModuleInfo old; // an older module: the crypto pool only
    old.workers = 2;
    EXPECT_EQ(format_show({}, {}, {}, old), "crypto: workers 2\n");
    ModuleInfo limits;
    limits.max_host_sessions = 8;
    EXPECT_EQ(format_show({}, {}, {}, limits), "limits: max-host-sessions 8 per peer address\n");
    EXPECT_EQ(format_show({}, {}, {}, ModuleInfo{}), "");
}

TEST(ShowJson, UuidLimitsAndReason) {
    const auto doc = show_json({limited_export()}, {failed_import()}, {}, module_info());
    const json expected = json::parse(R"x({
      "exports": [
        {"name": "d0", "listen": "192.0.2.1:7420",
         "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e", "read_only": false,
         "sessions": 3, "max_sessions": 4096,
         "stats": {"auth_failures": 1, "sessions_reaped": 0, "sessions_refused": 0}}
      ],
      "imports": [
        {"index": 2, "device": "/dev/dstor2", "name": "d0", "peer": "192.0.2.1:7420",
         "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e", "read_only": false,
         "connections": 2, "connected": 0, "state": "failed",
         "reason": "the export is not the one this import was made of (another export under that name: its uuid differs)",
         "timers": {}, "stats": {}}
      ],
      "syncs": [],
      "crypto": {"workers": 4, "queued": 0, "pooled": 1234},
      "limits": {"max_sessions": 4096, "max_host_sessions": 16384}
    })x");
    EXPECT_EQ(json::parse(doc.dump()), expected) << doc.dump(2);
    EXPECT_EQ(keys_of(doc),
              (std::vector<std::string>{"exports", "imports", "syncs", "crypto", "limits"}));
    EXPECT_EQ(keys_of(doc["exports"][0]),
              (std::vector<std::string>{"name", "listen", "uuid", "read_only", "sessions",
                                        "max_sessions", "stats"}));
    EXPECT_EQ(keys_of(doc["imports"][0]),
              (std::vector<std::string>{"index", "device", "name", "peer", "uuid", "read_only",
                                        "connections", "connected", "state", "reason", "timers",
                                        "stats"}));
    EXPECT_EQ(keys_of(doc["limits"]),
              (std::vector<std::string>{"max_sessions", "max_host_sessions"}));

    // No reason while connected; no "limits" from a module without them.
    ImportInfo up = failed_import();
    up.state = DSTOR_STATE_CONNECTED;
    up.reason.reset();
    EXPECT_FALSE(show_json({}, {up})["imports"][0].contains("reason"));
    ModuleInfo old;
    old.workers = 1;
    EXPECT_FALSE(show_json({}, {}, {}, old).contains("limits"));
}
