// The data model: what the user asks for (specs, filled from the command line
// and, later, from a config file) and what the kernel reports (infos, filled
// from netlink replies). attrs.cpp is the one place that maps them to and from
// netlink attributes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <linux/dstor.h>

#include "endpoint.hpp"
#include "key.hpp"
#include "uuid.hpp"

namespace dstor {

// One entry of an export's access list (DSTOR_A_ACL).
struct AclEntry {
    Prefix prefix;
    std::uint32_t perm = 0; // enum dstor_perm: DSTOR_PERM_RO or DSTOR_PERM_RW

    bool operator==(const AclEntry&) const = default;
};

// Multicast serving of an export (DSTOR_A_MCAST in DSTOR_CMD_EXPORT_ADD).
struct McastSpec {
    std::string interface;                   // as typed; resolved when the command runs
    std::uint32_t ifindex = 0;               // DSTOR_A_MCAST_IFINDEX, 0 until resolved
    std::optional<std::uint64_t> rate;       // DSTOR_A_MCAST_RATE, bits per second
    std::optional<std::uint32_t> block_size; // DSTOR_A_MCAST_BLOCK_SIZE, bytes
    bool querier = false;                    // DSTOR_A_MCAST_QUERIER

    bool operator==(const McastSpec&) const = default;
};

struct ExportSpec {
    std::string name;               // DSTOR_A_NAME
    std::string device;             // DSTOR_A_DEVICE, absolute path of a block device
    std::optional<Endpoint> listen; // DSTOR_A_LISTEN; only a multicast export may go without
    bool read_only = false;
    std::optional<Key> key;           // DSTOR_A_KEY
    std::vector<AclEntry> acls;       // DSTOR_A_ACLS, sent only when not empty
    std::optional<McastSpec> mcast{}; // DSTOR_A_MCAST
    // DSTOR_A_TREE with DSTOR_A_TREE_BLOCK_SIZE; none: no tree (but mcast's)
    std::optional<std::uint32_t> tree_block_size{};
    std::optional<Uuid> uuid{};       // DSTOR_A_UUID; none: the kernel makes one
    // DSTOR_A_MAX_SESSIONS; none: the module's max-sessions
    std::optional<std::uint32_t> max_sessions{};

    bool operator==(const ExportSpec&) const = default;
};

// DSTOR_CMD_SYNC_ADD: bring the block device `device` up to date with the
// export `name` served by multicast on `interface`.
struct SyncSpec {
    std::string name;          // DSTOR_A_NAME, the export
    std::string device;        // DSTOR_A_DEVICE, the target
    std::string interface;     // as typed; resolved when the command runs
    std::uint32_t ifindex = 0; // DSTOR_A_MCAST { DSTOR_A_MCAST_IFINDEX }, 0 until resolved
    std::optional<Key> key;    // DSTOR_A_KEY
    // DSTOR_A_MCAST { DSTOR_A_MCAST_ROOT } (DSTOR_A_ROOT over TCP): only a
    // tree with this root is taken
    std::optional<std::array<std::uint8_t, DSTOR_MC_HASH_LEN>> root;
    std::optional<Endpoint> peer{}; // DSTOR_A_PEER: over TCP instead of multicast
    std::uint32_t every = 0;        // DSTOR_A_SYNC_EVERY, seconds; 0: one round
    std::uint32_t scrub = 0;        // DSTOR_A_SYNC_SCRUB, seconds; 0: none

    bool operator==(const SyncSpec&) const = default;
};

// The transaction timers of an import (DSTOR_A_TIMEOUT .. DSTOR_A_DEAD_AFTER),
// in seconds except retries. In a request only the ones set are sent (the
// kernel keeps or defaults the others); in a reply, those the kernel reported.
struct Timers {
    std::optional<std::uint32_t> timeout;       // DSTOR_A_TIMEOUT
    std::optional<std::uint32_t> retries;       // DSTOR_A_RETRIES
    std::optional<std::uint32_t> reconnect_min; // DSTOR_A_RECONNECT_MIN
    std::optional<std::uint32_t> reconnect_max; // DSTOR_A_RECONNECT_MAX
    std::optional<std::uint32_t> keepalive;     // DSTOR_A_KEEPALIVE
    std::optional<std::uint32_t> dead_after;    // DSTOR_A_DEAD_AFTER

    bool empty() const {
        return !timeout && !retries && !reconnect_min && !reconnect_max && !keepalive &&
               !dead_after;
    }
    bool operator==(const Timers&) const = default;
};

struct ImportSpec {
    std::string name;  // the export's name on the peer
    std::string local; // DSTOR_A_LOCAL_NAME; empty: none
    Endpoint peer;     // DSTOR_A_PEER
    bool read_only = false;
    std::uint32_t connections = 0; // 0: the kernel's default
    Timers timers;                 // only the given ones are sent
    std::optional<Key> key;        // DSTOR_A_KEY

    bool operator==(const ImportSpec&) const = default;
};

// An import named on the command line: /dev/dstorN (DSTOR_A_INDEX) or a name (DSTOR_A_NAME).
using ImportRef = std::variant<std::uint32_t, std::string>;

// DSTOR_A_STATS_*: each counter is present only if the kernel sent it.
struct Stats {
    std::optional<std::uint64_t> reads, writes, flushes, discards, write_zeroes;
    std::optional<std::uint64_t> read_bytes, write_bytes, errors, inflight;
    std::optional<std::uint64_t> resent, timeouts, reconnects, keepalives; // imports
    std::optional<std::uint64_t> auth_failures, acl_denied;                // exports
    std::optional<std::uint64_t> sessions_reaped, sessions_refused;        // exports
    std::optional<std::uint64_t> bad_records;                              // both
    // multicast exports
    std::optional<std::uint64_t> mc_packets, mc_bytes, mc_blocks, mld_reports, mld_bad, mc_queries;
    // syncs
    std::optional<std::uint64_t> sync_blocks, sync_good, sync_received, sync_verified,
        sync_hash_bad;
    std::optional<std::uint64_t> sync_bytes, sync_packets, sync_packets_bad, sync_channels;
    std::optional<std::uint64_t> sync_seeded, sync_seeded_bytes;
    // over TCP: node hashes received, requests sent, bytes the exporter sent
    std::optional<std::uint64_t> sync_tree_hashes, sync_requests, sync_wire_bytes;
    std::optional<std::uint64_t> sync_rounds, sync_rounds_failed, sync_repaired, sync_corrupt;
    std::optional<std::uint64_t> sync_rcv_drops;

    bool operator==(const Stats&) const = default;
};

// A merkle root (DSTOR_A_MCAST_ROOT).
using McastRoot = std::array<std::uint8_t, DSTOR_MC_HASH_LEN>;

// DSTOR_A_MCAST of an export or sync reply. Attributes the kernel did not
// send stay empty.
struct McastInfo {
    std::optional<std::uint32_t> ifindex;
    std::optional<std::string> interface; // not from the kernel: ifindex's name in dstor's netns
    std::optional<std::uint64_t> rate;    // bits per second
    std::optional<std::uint32_t> block_size;
    bool querier = false;
    std::optional<std::uint64_t> epoch;
    std::optional<McastRoot> root;
    std::optional<std::uint64_t> blocks;
    std::optional<std::uint32_t> listened; // channels with listeners now
    std::optional<std::uint32_t> state;    // DSTOR_A_MCAST_MC_STATE, enum dstor_mc_state
};

// DSTOR_A_TREE of an export reply: its tree for reconciliation over TCP.
struct TreeInfo {
    std::optional<std::uint32_t> block_size;
    std::optional<std::uint32_t> built; // per mille hashed
    std::optional<std::uint64_t> leaves;
    std::optional<std::uint64_t> generation;
    std::optional<McastRoot> root;
    bool failed = false;
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
    std::optional<std::uint32_t> max_sessions; // the limit in force
    std::optional<Uuid> uuid;                  // the export's identity
    std::optional<KeyId> key_id;               // DSTOR_A_KEY_ID: only when a key is set
    std::optional<std::vector<AclEntry>> acls; // DSTOR_A_ACLS: empty = open to every peer
    std::optional<McastInfo> mcast;            // DSTOR_A_MCAST: a multicast export
    std::optional<TreeInfo> tree;              // DSTOR_A_TREE: an export with a tree
    Stats stats;
};

// Reply of DSTOR_CMD_SYNC_GET (and of DSTOR_CMD_SYNC_ADD).
struct SyncInfo {
    std::optional<std::uint32_t> index;
    std::string name;                   // the export
    std::optional<std::string> device;  // the target
    McastInfo mcast; // the interface; geometry, epoch (over TCP: generation) and root once known
    std::optional<Endpoint> peer;       // DSTOR_A_PEER: a sync over TCP
    std::optional<std::string> reason;  // DSTOR_A_REASON: why it failed
    std::optional<std::uint64_t> size;  // once known
    std::optional<std::uint32_t> state; // DSTOR_A_SYNC_STATE, enum dstor_sync_state
    std::optional<std::uint64_t> elapsed_ms;
    std::optional<KeyId> key_id;
    std::optional<std::uint32_t> every, scrub;   // a periodic sync's intervals, seconds
    std::optional<std::uint64_t> last_round_ms;  // since its last round ended
    std::optional<std::uint64_t> last_repaired;  // blocks that round wrote
    std::optional<std::uint64_t> last_corrupt;   // blocks that round's scrub found changed
    Stats stats;
};

// Reply of DSTOR_CMD_IMPORT_GET (and of DSTOR_CMD_IMPORT_ADD).
struct ImportInfo {
    std::optional<std::uint32_t> index;
    std::string name;
    std::optional<std::string> local; // DSTOR_A_LOCAL_NAME: /dev/disk/by-dstor/LOCAL
    std::optional<Endpoint> peer;
    bool read_only = false;
    std::optional<std::uint64_t> size;
    std::optional<std::uint32_t> block_size;
    std::optional<std::uint32_t> connections; // configured
    std::optional<std::uint32_t> connected;   // up now
    std::optional<std::uint32_t> state;       // enum dstor_state
    std::optional<std::string> reason;        // why it is not connected, while it is not
    std::optional<Uuid> uuid;                 // the identity of the export it is attached to
    Timers timers;
    std::optional<KeyId> key_id;         // DSTOR_A_KEY_ID: only when a key is set
    std::optional<std::uint32_t> cipher; // DSTOR_A_CIPHER, enum dstor_cipher
    Stats stats;
};

// Reply of DSTOR_CMD_ACL_GET.
struct AclList {
    std::string name; // the export
    std::vector<AclEntry> entries;
};

// Module-wide settings: DSTOR_CMD_SET (only the set ones are sent).
struct Settings {
    std::optional<std::uint32_t> crypto_workers;    // DSTOR_A_CRYPTO_WORKERS
    std::optional<std::uint32_t> max_sessions;      // DSTOR_A_MAX_SESSIONS, per export
    std::optional<std::uint32_t> max_host_sessions; // DSTOR_A_MAX_HOST_SESSIONS, per peer address

    bool operator==(const Settings&) const = default;
};

// Reply of DSTOR_CMD_GET: the crypto pool and the module-wide session
// limits. Attributes the kernel did not send (older modules) stay empty.
struct ModuleInfo {
    std::optional<std::uint32_t> workers;           // DSTOR_A_CRYPTO_WORKERS
    std::optional<std::uint32_t> queued;            // DSTOR_A_CRYPTO_QUEUED
    std::optional<std::uint32_t> max_sessions;      // DSTOR_A_MAX_SESSIONS: default per export
    std::optional<std::uint32_t> max_host_sessions; // DSTOR_A_MAX_HOST_SESSIONS
    std::optional<std::uint64_t> pooled;            // DSTOR_A_CRYPTO_POOLED
};

// What the kernel runs in this network namespace: every export, import and
// sync, and the module's settings (`dstor show`, `dstor apply`).
struct Running {
    std::vector<ExportInfo> exports; // McastInfo::interface filled (name_interfaces)
    std::vector<ImportInfo> imports;
    std::vector<SyncInfo> syncs;
    std::optional<ModuleInfo> module;
};

// A DSTOR_CMD_EVENT notification of the "events" multicast group.
// Attributes the kernel did not send stay empty.
struct ImportEvent {
    std::uint32_t event = 0; // enum dstor_event
    std::optional<std::uint32_t> index;
    std::optional<std::string> name;
    std::optional<Endpoint> peer;
    std::optional<std::uint32_t> state;       // enum dstor_state
    std::optional<std::uint32_t> connected;   // connections up now
    std::optional<std::uint32_t> connections; // configured (not sent by the kernel today)
    std::optional<std::uint32_t> queue;       // the connection, for connection events
    std::optional<std::string> reason;        // why the import is not connected, while it is not
    // A sync's round (DSTOR_EVENT_SYNC_ROUND, _FAILED): index is the sync's.
    std::optional<std::string> device;   // its target
    std::optional<std::uint64_t> repaired; // blocks the round wrote
    std::optional<std::uint64_t> corrupt;  // blocks its scrub found changed
};

} // namespace dstor
