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
    i.state = DSTOR_STATE_CONNECTED;
    i.stats.writes = 7;
    return {i};
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
         "read_only": true, "size": 4096, "block_size": 4096, "connections": 4,
         "state": "connected", "stats": {"writes": 7}}
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
    EXPECT_EQ(keys,
              (std::vector<std::string>{"index", "device", "name", "peer", "read_only", "size",
                                        "block_size", "connections", "state", "stats"}));
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
                                 "  connections: 4\n"
                                 "  size: 4.00 KiB (4096 bytes), block size 4096\n"
                                 "  requests: 7 writes\n";
    EXPECT_EQ(out, expected);
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
    EXPECT_EQ(state_name(DSTOR_STATE_CONNECTING), "connecting");
    EXPECT_EQ(state_name(DSTOR_STATE_FAILED), "failed");
    EXPECT_EQ(state_name(DSTOR_STATE_DELETING), "deleting");
    EXPECT_EQ(state_name(0), "unknown");
    EXPECT_EQ(state_name(77), "unknown");
    EXPECT_EQ(state_name(std::nullopt), "unknown");
}
