#include <gtest/gtest.h>

#include <linux/dstor.h>

#include "show.hpp"

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
      ]
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
    EXPECT_EQ(show_json({}, {}).dump(), R"({"exports":[],"imports":[]})");
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
