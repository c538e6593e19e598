// casync's index encoding, chunk ids and chunk files (casync.hpp), and the
// arguments of `dstor index`.
#include <gtest/gtest.h>

#include <linux/dstor.h>
#include <lzma.h>
#include <zstd.h>

#include "casync.hpp"
#include "commands.hpp"

using namespace dstor;
using namespace dstor::casync;

namespace {

std::uint64_t le64_at(const std::string& s, std::size_t off) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | static_cast<std::uint8_t>(s[off + static_cast<std::size_t>(i)]);
    return v;
}

} // namespace

TEST(CasyncIndex, HeadIsCaFormatIndexThenTableHeader) {
    const std::string h = encode_head(65536);
    ASSERT_EQ(h.size(), INDEX_HEAD_SIZE);
    EXPECT_EQ(le64_at(h, 0), 48U); // sizeof(CaFormatIndex)
    EXPECT_EQ(le64_at(h, 8), 0x96824d9c7b129ff9ULL);
    EXPECT_EQ(le64_at(h, 16), 0x2000000000000000ULL); // CA_FORMAT_SHA512_256 only
    EXPECT_EQ(le64_at(h, 24), 65536U);                // min
    EXPECT_EQ(le64_at(h, 32), 65536U);                // avg
    EXPECT_EQ(le64_at(h, 40), 65536U);                // max
    EXPECT_EQ(le64_at(h, 48), UINT64_MAX);            // the table's size: streamed
    EXPECT_EQ(le64_at(h, 56), 0xe75b9e112f17417dULL);
    // Little-endian on the wire whatever the host: the first byte is the low one.
    EXPECT_EQ(static_cast<std::uint8_t>(h[8]), 0xf9);
}

TEST(CasyncIndex, ItemIsEndOffsetAndId) {
    ChunkId id{};
    for (std::size_t i = 0; i < id.size(); i++)
        id[i] = static_cast<std::uint8_t>(i + 1);
    const std::string item = encode_item(0x0102030405ULL, id);
    ASSERT_EQ(item.size(), TABLE_ITEM_SIZE);
    EXPECT_EQ(le64_at(item, 0), 0x0102030405ULL);
    EXPECT_EQ(item.substr(8), std::string(reinterpret_cast<const char*>(id.data()), id.size()));
}

TEST(CasyncIndex, TailCountsTheWholeTable) {
    const std::string t = encode_tail(3);
    ASSERT_EQ(t.size(), TABLE_TAIL_SIZE);
    EXPECT_EQ(le64_at(t, 0), 0U);
    EXPECT_EQ(le64_at(t, 8), 0U);
    EXPECT_EQ(le64_at(t, 16), 48U); // back to CaFormatIndex
    EXPECT_EQ(le64_at(t, 24), 16U + 3 * 40 + 40);
    EXPECT_EQ(le64_at(t, 32), 0x4b4f050e5549ecd1ULL);
}

TEST(CasyncChunk, IdIsSha512_256) {
    // FIPS 180-4 example: SHA-512/256("abc").
    auto id = chunk_id("abc");
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(format_chunk_id(*id),
              "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
}

TEST(CasyncChunk, PathHasFourHexDirectory) {
    auto id = chunk_id("abc");
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(chunk_path(*id, Compression::zstd),
              "5304/53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23.cacnk");
    EXPECT_EQ(chunk_path(*id, Compression::xz),
              "5304/53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23.cacnk");
    EXPECT_EQ(chunk_path(*id, Compression::none),
              "5304/53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
}

TEST(CasyncChunk, ZstdRoundTrip) {
    std::string data(70000, 'x');
    for (std::size_t i = 0; i < data.size(); i += 7)
        data[i] = static_cast<char>(i);
    auto z = compress(data, Compression::zstd);
    ASSERT_TRUE(z.ok());
    // casync tells the compression from the magic number.
    ASSERT_GE(z->size(), 4U);
    EXPECT_EQ(z->substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
    std::string back(data.size(), '\0');
    const std::size_t n = ZSTD_decompress(back.data(), back.size(), z->data(), z->size());
    ASSERT_FALSE(ZSTD_isError(n));
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(back, data);
}

TEST(CasyncChunk, XzRoundTrip) {
    const std::string data(5000, 'q');
    auto x = compress(data, Compression::xz);
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(x->substr(0, 6), std::string("\xfd"
                                           "7zXZ\0",
                                           6));
    std::string back(data.size(), '\0');
    std::uint64_t limit = UINT64_MAX;
    std::size_t in = 0, out = 0;
    ASSERT_EQ(lzma_stream_buffer_decode(
                  &limit, 0, nullptr, reinterpret_cast<const std::uint8_t*>(x->data()), &in,
                  x->size(), reinterpret_cast<std::uint8_t*>(back.data()), &out, back.size()),
              LZMA_OK);
    EXPECT_EQ(out, data.size());
    EXPECT_EQ(back, data);
}

TEST(CasyncChunk, NoneIsTheDataItself) {
    auto n = compress("abc", Compression::none);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, "abc");
}

TEST(IndexArgs, Defaults) {
    auto p = parse_index_args({"/dev/vdb", "--caibx", "x.caibx", "--store", "st"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "index");
    EXPECT_EQ(p.cmd->source, "/dev/vdb");
    EXPECT_EQ(p.cmd->caibx, "x.caibx");
    EXPECT_EQ(p.cmd->store, "st");
    EXPECT_EQ(p.cmd->compression, Compression::zstd);
    EXPECT_FALSE(p.cmd->block_size.has_value());
    EXPECT_FALSE(p.cmd->force);
    EXPECT_FALSE(p.cmd->allow_plaintext);
}

TEST(IndexArgs, Everything) {
    auto p = parse_index_args({"disk1", "--caibx", "x.caibx", "--store", "st", "--compression",
                               "xz", "--block-size", "1M", "--force", "--allow-plaintext"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.cmd->compression, Compression::xz);
    EXPECT_EQ(p.cmd->block_size, 1U << 20);
    EXPECT_TRUE(p.cmd->force);
    EXPECT_TRUE(p.cmd->allow_plaintext);
}

TEST(IndexArgs, Refused) {
    const std::vector<std::string> base{"img", "--caibx", "x", "--store", "st"};
    auto with = [&](std::vector<std::string> extra) {
        auto a = base;
        a.insert(a.end(), extra.begin(), extra.end());
        return parse_index_args(a);
    };
    for (const auto& p :
         {with({"--compression", "gzip"}), with({"--block-size", "3000"}),
          with({"--block-size", "2K"}), with({"--block-size", "128M"}),
          parse_index_args({"img", "--store", "st"}), parse_index_args({"img", "--caibx", "x"})}) {
        EXPECT_FALSE(p.cmd.has_value());
        EXPECT_EQ(p.exit_code, EXIT_USAGE);
    }
    auto ok = with({"--block-size", "64M"});
    EXPECT_TRUE(ok.cmd.has_value()) << ok.output;
}

TEST(IndexSource, ExportsDeviceAndBlockSize) {
    std::vector<ExportInfo> exports(3);
    exports[0].name = "plain";
    exports[0].device = "/dev/vg0/plain";
    exports[1].name = "golden";
    exports[1].device = "/dev/vg0/golden";
    exports[1].mcast = McastInfo{};
    exports[1].mcast->block_size = 256U << 10;
    exports[2].name = "secret";
    exports[2].device = "/dev/vg0/secret";
    exports[2].key_id = KeyId{};

    IndexCommand c;
    c.source = "plain";
    auto s = index_source_from_exports(c, exports);
    ASSERT_TRUE(s.ok()) << s.error().text();
    EXPECT_EQ(s->device, "/dev/vg0/plain");
    EXPECT_EQ(s->block_size, DSTOR_MC_DEFAULT_BLOCK);

    c.source = "golden"; // the multicast block size, unless --block-size
    s = index_source_from_exports(c, exports);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->device, "/dev/vg0/golden");
    EXPECT_EQ(s->block_size, 256U << 10);
    c.block_size = 4096;
    s = index_source_from_exports(c, exports);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->block_size, 4096U);

    c.source = "secret"; // a key: plaintext only when asked for
    s = index_source_from_exports(c, exports);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().text().find("--allow-plaintext"), std::string::npos);
    c.allow_plaintext = true;
    s = index_source_from_exports(c, exports);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->device, "/dev/vg0/secret");

    c.source = "nope";
    s = index_source_from_exports(c, exports);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().text(), "'nope' is neither a file or device nor a dstor export");
}
