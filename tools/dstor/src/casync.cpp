#include "casync.hpp"

#include <lzma.h>
#include <openssl/evp.h>
#include <zstd.h>

namespace dstor::casync {

namespace {

void put_le64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; i++)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// zstd's default level: casync's own is the library default too.
constexpr int zstd_level = 3;

Result<std::string> compress_zstd(std::string_view data) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    const std::size_t n =
        ZSTD_compress(out.data(), out.size(), data.data(), data.size(), zstd_level);
    if (ZSTD_isError(n))
        return Error::user(std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
}

Result<std::string> compress_xz(std::string_view data) {
    std::string out(lzma_stream_buffer_bound(data.size()), '\0');
    std::size_t pos = 0;
    const lzma_ret r =
        lzma_easy_buffer_encode(LZMA_PRESET_DEFAULT, LZMA_CHECK_CRC64, nullptr,
                                reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                                reinterpret_cast<std::uint8_t*>(out.data()), &pos, out.size());
    if (r != LZMA_OK)
        return Error::user("xz: compression failed (liblzma error " + std::to_string(r) + ")");
    out.resize(pos);
    return out;
}

} // namespace

std::string encode_head(std::uint64_t chunk_size) {
    std::string out;
    out.reserve(INDEX_HEAD_SIZE);
    // CaFormatIndex: header {size, type}, feature_flags, chunk_size_min/avg/max.
    put_le64(out, 48);
    put_le64(out, FORMAT_INDEX);
    put_le64(out, FORMAT_SHA512_256);
    put_le64(out, chunk_size);
    put_le64(out, chunk_size);
    put_le64(out, chunk_size);
    // CaFormatTable's header: size UINT64_MAX, type.
    put_le64(out, UINT64_MAX);
    put_le64(out, FORMAT_TABLE);
    return out;
}

std::string encode_item(std::uint64_t end_offset, const ChunkId& id) {
    std::string out;
    out.reserve(TABLE_ITEM_SIZE);
    put_le64(out, end_offset);
    out.append(reinterpret_cast<const char*>(id.data()), id.size());
    return out;
}

std::string encode_tail(std::uint64_t items) {
    std::string out;
    out.reserve(TABLE_TAIL_SIZE);
    put_le64(out, 0); // _zero_fill1, _zero_fill2: the tail is as long as an item
    put_le64(out, 0);
    put_le64(out, 48); // index_offset: from the table back to CaFormatIndex
    // The table's size: its header, the items and this tail.
    put_le64(out, 16 + items * TABLE_ITEM_SIZE + TABLE_TAIL_SIZE);
    put_le64(out, FORMAT_TABLE_TAIL_MARKER);
    return out;
}

Result<ChunkId> chunk_id(std::string_view data) {
    ChunkId id{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), id.data(), &len, EVP_sha512_256(), nullptr) != 1 ||
        len != id.size())
        return Error::user("SHA-512/256 is not available from OpenSSL");
    return id;
}

std::string format_chunk_id(const ChunkId& id) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * id.size());
    for (std::uint8_t b : id) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    return out;
}

std::optional<Compression> parse_compression(std::string_view text) {
    if (text == "zstd")
        return Compression::zstd;
    if (text == "xz")
        return Compression::xz;
    if (text == "none")
        return Compression::none;
    return std::nullopt;
}

std::string chunk_path(const ChunkId& id, Compression c) {
    const std::string hex = format_chunk_id(id);
    return hex.substr(0, 4) + "/" + hex + (c == Compression::none ? "" : ".cacnk");
}

Result<std::string> compress(std::string_view data, Compression c) {
    switch (c) {
    case Compression::zstd:
        return compress_zstd(data);
    case Compression::xz:
        return compress_xz(data);
    case Compression::none:
        break;
    }
    return std::string(data);
}

} // namespace dstor::casync
