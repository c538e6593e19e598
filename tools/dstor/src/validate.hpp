// Client-side checks run before talking to the kernel, so that the common
// mistakes get a plain sentence. The kernel checks everything again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"

namespace dstor {

// 1..DSTOR_NAME_MAX-1 characters of [A-Za-z0-9._-]. Returns the problem, if any.
std::optional<std::string> check_name(std::string_view name);
// An import's local name: a name, and a file name (/dev/disk/by-dstor/NAME).
std::optional<std::string> check_local_name(std::string_view name);

// --connections: a decimal 1..DSTOR_MAX_CONNECTIONS.
Result<std::uint32_t> parse_connections(std::string_view text);

// "/dev/dstorN" or "dstorN" (N canonical decimal) -> N; anything else -> nothing.
std::optional<std::uint32_t> parse_device_index(std::string_view text);

// A bare index "N" (canonical decimal, as in /dev/dstorN) -> N; anything else -> nothing.
std::optional<std::uint32_t> parse_index(std::string_view text);

// Transaction timer options, in seconds (retries: a count). Each returns the
// value or a one-line error naming the option and its range.
Result<std::uint32_t> parse_timeout(std::string_view text);    // --timeout 1..3600
Result<std::uint32_t> parse_retries(std::string_view text);    // --retries 0..100
Result<std::uint32_t> parse_keepalive(std::string_view text);  // --keepalive 1..3600
Result<std::uint32_t> parse_dead_after(std::string_view text); // --dead-after 2..3600
// apply --retry: seconds to keep retrying imports that could not connect, 0..3600.
Result<std::uint32_t> parse_apply_retry(std::string_view text);

// sync --every and --scrub (`what`): whole seconds with an optional unit s, m,
// h or d ("90", "30s", "10m", "1h", "7d"), DSTOR_SYNC_MIN_EVERY s to
// DSTOR_SYNC_MAX_EVERY s.
Result<std::uint32_t> parse_interval(std::string_view text, std::string_view what);

// --reconnect MIN:MAX, both 1..3600 and MIN <= MAX; a single N means N:N.
struct Reconnect {
    std::uint32_t min = 0, max = 0;
    bool operator==(const Reconnect&) const = default;
};
Result<Reconnect> parse_reconnect(std::string_view text);

// Checks between timers given together: --dead-after must exceed --keepalive
// when both are set. (Against the import's current values the kernel checks.)
std::optional<std::string> check_timers(const Timers& timers);

// An access permission: "ro" -> DSTOR_PERM_RO, "rw" -> DSTOR_PERM_RW.
Result<std::uint32_t> parse_perm(std::string_view text);

// --allow PREFIX=ro|rw (see parse_prefix for PREFIX).
Result<AclEntry> parse_allow(std::string_view text);

// The --allow entries of one command: at most DSTOR_MAX_ACLS, no prefix twice.
std::optional<std::string> check_acls(const std::vector<AclEntry>& acls);

// `dstor set crypto-workers N`: a decimal 1..DSTOR_MAX_CRYPTO_WORKERS.
Result<std::uint32_t> parse_crypto_workers(std::string_view text);

// A session limit: `export add --max-sessions N`, `dstor set max-sessions N`
// and `dstor set max-host-sessions N`, a decimal 1..DSTOR_MAX_SESSION_LIMIT.
// The error names `what` (the option or setting as typed).
Result<std::uint32_t> parse_session_limit(std::string_view text, std::string_view what);

// Multicast options of `export add`.
// --rate RATE: bits per second, digits with an optional fraction and an
// optional K, M or G (powers of 1000), DSTOR_MC_MIN_RATE..DSTOR_MC_MAX_RATE.
Result<std::uint64_t> parse_rate(std::string_view text);
// --block-size SIZE: bytes with an optional K or M (powers of 1024), a power
// of two from DSTOR_MC_MIN_BLOCK to DSTOR_MC_MAX_BLOCK.
Result<std::uint32_t> parse_block_size(std::string_view text);

// --block-size SIZE of `dstor index`: the casync chunk size, a power of two
// from INDEX_MIN_CHUNK to INDEX_MAX_CHUNK (casync takes chunks below 128 MiB).
inline constexpr std::uint64_t INDEX_MIN_CHUNK = 4096;
inline constexpr std::uint64_t INDEX_MAX_CHUNK = 64ULL << 20;
Result<std::uint32_t> parse_chunk_size(std::string_view text);

// "200M", "1.5G", "64K": `value` with the largest K/M/G (powers of `base`)
// that leaves at most two decimals, trailing zeros dropped; plain digits
// below `base`.
std::string format_scaled(std::uint64_t value, std::uint64_t base);

// An interface name as the kernel accepts one: 1 to IFNAMSIZ-1 bytes, not
// "." or "..", no '/', ':' or white space. Returns the problem, if any.
std::optional<std::string> check_interface_name(std::string_view name);

// The index of the interface `name` in dstor's network namespace
// (if_nametoindex); a one-line error naming it when there is none.
Result<std::uint32_t> resolve_interface(const std::string& name);

// The name of the interface `ifindex` in dstor's network namespace
// (if_indextoname), or nothing.
std::optional<std::string> interface_name(std::uint32_t ifindex);

// The path exists and is a block device, and fits DSTOR_PATH_MAX. Relative
// paths are made absolute (the kernel opens the path, not dstor).
Result<std::string> check_device(const std::string& path);

// The size of what `fd` (opened from `path`) is: a regular file's length or
// a block device's capacity; anything else is an error.
Result<std::uint64_t> image_size(int fd, const std::string& path);

// The whole text of the file `path`; empty when it cannot be read.
std::string read_text(const std::string& path);

} // namespace dstor
