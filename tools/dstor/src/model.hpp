// The data model: what the user asks for (specs, filled from the command line
// and, later, from a config file) and what the kernel reports (infos, filled
// from netlink replies). attrs.cpp is the one place that maps them to and from
// netlink attributes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "endpoint.hpp"

namespace dstor {

struct ExportSpec {
    std::string name;   // DSTOR_A_NAME
    std::string device; // DSTOR_A_DEVICE, absolute path of a block device
    Endpoint listen;    // DSTOR_A_LISTEN
    bool read_only = false;

    bool operator==(const ExportSpec&) const = default;
};

struct ImportSpec {
    std::string name; // the export's name on the peer
    Endpoint peer;    // DSTOR_A_PEER
    bool read_only = false;
    std::uint32_t connections = 0; // 0: the kernel's default

    bool operator==(const ImportSpec&) const = default;
};

// An import named for deletion: /dev/dstorN (DSTOR_A_INDEX) or a name (DSTOR_A_NAME).
using ImportRef = std::variant<std::uint32_t, std::string>;

// DSTOR_A_STATS_*: each counter is present only if the kernel sent it.
struct Stats {
    std::optional<std::uint64_t> reads, writes, flushes, discards, write_zeroes;
    std::optional<std::uint64_t> read_bytes, write_bytes, errors, inflight;

    bool operator==(const Stats&) const = default;
};

// Reply of DSTOR_CMD_EXPORT_GET. Attributes the kernel did not send stay empty.
struct ExportInfo {
    std::string name;
    std::optional<std::string> device;
    std::optional<Endpoint> listen;
    bool read_only = false;
    std::optional<std::uint64_t> size;
    std::optional<std::uint32_t> block_size;
    std::optional<std::uint32_t> sessions;
    Stats stats;
};

// Reply of DSTOR_CMD_IMPORT_GET (and of DSTOR_CMD_IMPORT_ADD).
struct ImportInfo {
    std::optional<std::uint32_t> index;
    std::string name;
    std::optional<Endpoint> peer;
    bool read_only = false;
    std::optional<std::uint64_t> size;
    std::optional<std::uint32_t> block_size;
    std::optional<std::uint32_t> connections;
    std::optional<std::uint32_t> state; // enum dstor_state
    Stats stats;
};

} // namespace dstor
