// casync's blob index (.caibx) and chunk store, as `dstor index` writes them:
// the byte layout of casync's src/caformat.h (CaFormatIndex, CaFormatTable,
// CaFormatTableItem, CaFormatTableTail; every integer little-endian), chunk
// ids as casync computes them (SHA-512/256 of the uncompressed chunk) and the
// store's file names (<store>/<first 4 hex digits>/<64 hex digits>.cacnk).
// Nothing here touches the file system.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"

namespace dstor::casync {

// CaFormatHeader types and the table's end marker (caformat.h).
inline constexpr std::uint64_t FORMAT_INDEX = 0x96824d9c7b129ff9ULL;
inline constexpr std::uint64_t FORMAT_TABLE = 0xe75b9e112f17417dULL;
inline constexpr std::uint64_t FORMAT_TABLE_TAIL_MARKER = 0x4b4f050e5549ecd1ULL;
// The index's feature flags: only the digest. A blob index describes bytes,
// not files, so none of the CA_FORMAT_WITH_* metadata bits apply.
inline constexpr std::uint64_t FORMAT_SHA512_256 = 0x2000000000000000ULL;

// casync refuses chunks outside these sizes (cachunk.h), and a decompressed
// chunk must stay below the maximum (cachunk.c, ca_decompress).
inline constexpr std::uint64_t CHUNK_SIZE_LIMIT_MIN = 1;
inline constexpr std::uint64_t CHUNK_SIZE_LIMIT_MAX = 128ULL << 20;

inline constexpr std::size_t CHUNK_ID_SIZE = 32;
using ChunkId = std::array<std::uint8_t, CHUNK_ID_SIZE>;

// Sizes of the index's parts: CaFormatIndex (48) followed by the TABLE's
// header (16); one item per chunk (40); the tail (40).
inline constexpr std::size_t INDEX_HEAD_SIZE = 64;
inline constexpr std::size_t TABLE_ITEM_SIZE = 40;
inline constexpr std::size_t TABLE_TAIL_SIZE = 40;

// The index's head for fixed chunks of `chunk_size` bytes: chunk_size_min,
// chunk_size_avg and chunk_size_max all equal chunk_size (casync accepts
// min <= avg <= max; with min == max its chunker cuts a seed every
// chunk_size bytes too, so `casync extract --seed` finds our chunks), and
// the table's size UINT64_MAX as casync writes it (the table is streamed).
std::string encode_head(std::uint64_t chunk_size);

// One table item: the offset where the chunk ends in the image, and its id.
std::string encode_item(std::uint64_t end_offset, const ChunkId& id);

// The table's tail after `items` items.
std::string encode_tail(std::uint64_t items);

// SHA-512/256 of `data` (OpenSSL): casync's default chunk id.
Result<ChunkId> chunk_id(std::string_view data);

// 64 lowercase hex digits.
std::string format_chunk_id(const ChunkId& id);

enum class Compression { zstd, xz, none };

// "zstd", "xz", "none"; nothing for another word.
std::optional<Compression> parse_compression(std::string_view text);

// The chunk file's name below the store: "abcd/abcd...<64 hex>.cacnk" for
// compressed chunks, without ".cacnk" for uncompressed ones (casync reads
// both).
std::string chunk_path(const ChunkId& id, Compression c);

// A chunk file's content: `data` compressed as casync's compressor.c
// decodes it (one zstd frame, or an .xz stream with a CRC64 check), or
// `data` itself.
Result<std::string> compress(std::string_view data, Compression c);

} // namespace dstor::casync
