// dstor show [--json]: every export, import and sync, from DSTOR_CMD_EXPORT_GET,
// DSTOR_CMD_IMPORT_GET and DSTOR_CMD_SYNC_GET dumps, and the crypto pool and
// the session limits from DSTOR_CMD_GET.
#include "show.hpp"

#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "attrs.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

struct StatsKey {
    const char* json;
    std::optional<std::uint64_t> Stats::*field;
};

// JSON keys of "stats", in the order they are printed.
constexpr StatsKey stats_keys[] = {
    {"reads", &Stats::reads},
    {"writes", &Stats::writes},
    {"flushes", &Stats::flushes},
    {"discards", &Stats::discards},
    {"write_zeroes", &Stats::write_zeroes},
    {"read_bytes", &Stats::read_bytes},
    {"write_bytes", &Stats::write_bytes},
    {"errors", &Stats::errors},
    {"inflight", &Stats::inflight},
    {"resent", &Stats::resent},
    {"timeouts", &Stats::timeouts},
    {"reconnects", &Stats::reconnects},
    {"keepalives", &Stats::keepalives},
    {"auth_failures", &Stats::auth_failures},
    {"acl_denied", &Stats::acl_denied},
    {"sessions_reaped", &Stats::sessions_reaped},
    {"sessions_refused", &Stats::sessions_refused},
    {"bad_records", &Stats::bad_records},
    {"mc_packets", &Stats::mc_packets},
    {"mc_bytes", &Stats::mc_bytes},
    {"mc_blocks", &Stats::mc_blocks},
    {"mld_reports", &Stats::mld_reports},
    {"mld_bad", &Stats::mld_bad},
    {"mc_queries", &Stats::mc_queries},
    {"sync_blocks", &Stats::sync_blocks},
    {"sync_good", &Stats::sync_good},
    {"sync_received", &Stats::sync_received},
    {"sync_verified", &Stats::sync_verified},
    {"sync_hash_bad", &Stats::sync_hash_bad},
    {"sync_bytes", &Stats::sync_bytes},
    {"sync_packets", &Stats::sync_packets},
    {"sync_packets_bad", &Stats::sync_packets_bad},
    {"sync_channels", &Stats::sync_channels},
    {"sync_seeded", &Stats::sync_seeded},
    {"sync_seeded_bytes", &Stats::sync_seeded_bytes},
    {"sync_tree_hashes", &Stats::sync_tree_hashes},
    {"sync_requests", &Stats::sync_requests},
    {"sync_wire_bytes", &Stats::sync_wire_bytes},
    {"sync_rounds", &Stats::sync_rounds},
    {"sync_rounds_failed", &Stats::sync_rounds_failed},
    {"sync_repaired", &Stats::sync_repaired},
    {"sync_corrupt", &Stats::sync_corrupt},
    {"sync_rcv_drops", &Stats::sync_rcv_drops},
};

struct TimerKey {
    const char* json;
    std::optional<std::uint32_t> Timers::*field;
};

// JSON keys of an import's "timers", in the order they are printed.
constexpr TimerKey timer_keys[] = {
    {"timeout", &Timers::timeout},
    {"retries", &Timers::retries},
    {"reconnect_min", &Timers::reconnect_min},
    {"reconnect_max", &Timers::reconnect_max},
    {"keepalive", &Timers::keepalive},
    {"dead_after", &Timers::dead_after},
};

nlohmann::ordered_json timers_json(const Timers& t) {
    auto j = nlohmann::ordered_json::object();
    for (const auto& k : timer_keys)
        if (t.*k.field)
            j[k.json] = *(t.*k.field);
    return j;
}

// "timeout 30 s, retries 5, reconnect 1-30 s, keepalive 5 s, dead after 15 s",
// of what is present.
std::string timers_text(const Timers& t) {
    std::string out;
    auto add = [&out](const std::string& item) { out += (out.empty() ? "" : ", ") + item; };
    auto secs = [](std::uint32_t v) { return std::to_string(v) + " s"; };
    if (t.timeout)
        add("timeout " + secs(*t.timeout));
    if (t.retries)
        add("retries " + std::to_string(*t.retries));
    if (t.reconnect_min && t.reconnect_max)
        add("reconnect " + std::to_string(*t.reconnect_min) + "-" + secs(*t.reconnect_max));
    else if (t.reconnect_min)
        add("reconnect from " + secs(*t.reconnect_min));
    else if (t.reconnect_max)
        add("reconnect up to " + secs(*t.reconnect_max));
    if (t.keepalive)
        add("keepalive " + secs(*t.keepalive));
    if (t.dead_after)
        add("dead after " + secs(*t.dead_after));
    return out;
}

nlohmann::ordered_json stats_json(const Stats& s) {
    auto j = nlohmann::ordered_json::object();
    for (const auto& k : stats_keys)
        if (s.*k.field)
            j[k.json] = *(s.*k.field);
    return j;
}

std::string size_text(const std::optional<std::uint64_t>& size,
                      const std::optional<std::uint32_t>& block_size) {
    std::string out;
    if (size)
        out = human_bytes(*size) + " (" + std::to_string(*size) + " bytes)";
    if (block_size)
        out += (out.empty() ? "" : ", ") + std::string("block size ") + std::to_string(*block_size);
    return out;
}

// Append `item` to the list `out`, after ", " unless it is the first.
void add(std::string& out, const std::string& item) {
    out += (out.empty() ? "" : ", ") + item;
}

struct Count {
    const std::optional<std::uint64_t>& value;
    const char* what;
};

// "10 reads, 5 writes" of the counters present; "" when none is.
std::string counts(std::initializer_list<Count> items) {
    std::string out;
    for (const auto& c : items)
        if (c.value)
            out += (out.empty() ? "" : ", ") + std::to_string(*c.value) + " " + c.what;
    return out;
}

// "  LABEL: TEXT" unless TEXT is empty.
void put_line(std::ostream& os, const char* label, const std::string& text) {
    if (!text.empty())
        os << "  " << label << ": " << text << '\n';
}

// "  requests: ...", "  transfer: ...", "  status: ..." for what is present,
// for imports "  recovery: ...", and "  security: ..." (exports: failed
// authentications, access list refusals and bad records; imports: bad records).
void stats_lines(std::ostream& os, const Stats& s, bool import) {
    put_line(os, "requests",
             counts({{s.reads, "reads"},
                     {s.writes, "writes"},
                     {s.flushes, "flushes"},
                     {s.discards, "discards"},
                     {s.write_zeroes, "write-zeroes"}}));

    std::string transfer;
    if (s.read_bytes)
        transfer = human_bytes(*s.read_bytes) + " read";
    if (s.write_bytes)
        transfer += (transfer.empty() ? "" : ", ") + human_bytes(*s.write_bytes) + " written";
    put_line(os, "transfer", transfer);
    put_line(os, "status", counts({{s.errors, "errors"}, {s.inflight, "in flight"}}));

    if (!import) {
        put_line(os, "security",
                 counts({{s.auth_failures, "auth failures"},
                         {s.acl_denied, "acl denied"},
                         {s.bad_records, "bad records"}}));
        return;
    }
    put_line(os, "recovery",
             counts({{s.resent, "resent"},
                     {s.timeouts, "timeouts"},
                     {s.reconnects, "reconnects"},
                     {s.keepalives, "keepalives"}}));
    put_line(os, "security", counts({{s.bad_records, "bad records"}}));
}

// "eth0", or "ifindex 3" when the name is not known here.
std::string interface_text(const McastInfo& m) {
    if (m.interface)
        return *m.interface;
    return m.ifindex ? "ifindex " + std::to_string(*m.ifindex) : std::string();
}

std::string epoch_text(std::uint64_t epoch) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(epoch));
    return buf;
}

// The multicast lines of an export:
//   multicast: eth0, rate 200Mbit/s, block size 64K, querier
//   multicast state: serving, 1024 blocks, 3 channels listened, epoch 0123456789abcdef
//   multicast root: 5e3a...
//   multicast sent: 1234 packets, 12.00 MiB, 1024 blocks; MLD: 5 reports, 0 ignored, 3 queries
void mcast_lines(std::ostream& os, const McastInfo& m, const Stats& s) {
    std::string config = interface_text(m);
    if (m.rate)
        add(config, "rate " + format_scaled(*m.rate, 1000) + "bit/s");
    if (m.block_size)
        add(config, "block size " + format_scaled(*m.block_size, 1024));
    if (m.querier)
        add(config, "querier");
    put_line(os, "multicast", config);

    std::string state = mc_state_name(m.state);
    if (m.blocks)
        add(state, std::to_string(*m.blocks) + " blocks");
    if (m.listened)
        add(state, std::to_string(*m.listened) + " channels listened");
    if (m.epoch)
        add(state, "epoch " + epoch_text(*m.epoch));
    put_line(os, "multicast state", state);
    if (m.root)
        put_line(os, "multicast root", format_hex(*m.root));

    std::string sent = counts({{s.mc_packets, "packets"}});
    if (s.mc_bytes)
        add(sent, human_bytes(*s.mc_bytes));
    if (s.mc_blocks)
        add(sent, std::to_string(*s.mc_blocks) + " blocks");
    const std::string mld =
        counts({{s.mld_reports, "reports"}, {s.mld_bad, "ignored"}, {s.mc_queries, "queries"}});
    if (!mld.empty())
        sent += (sent.empty() ? "" : "; ") + std::string("MLD: ") + mld;
    put_line(os, "multicast sent", sent);
}

// An export's "3 (max 4096), 0 reaped, 0 refused", of what is present.
std::string sessions_text(const ExportInfo& e) {
    std::string out = e.sessions ? std::to_string(*e.sessions) : std::string();
    if (e.max_sessions)
        out += e.sessions ? " (max " + std::to_string(*e.max_sessions) + ")"
                          : "max " + std::to_string(*e.max_sessions);
    if (auto closed =
            counts({{e.stats.sessions_reaped, "reaped"}, {e.stats.sessions_refused, "refused"}});
        !closed.empty())
        add(out, closed);
    return out;
}

// The module block: "crypto: workers 4, queued 0, pooled 0" and "limits: max-sessions
// 4096 per export, max-host-sessions 16384 per peer address", of what the
// kernel reported; "" when it reported nothing.
std::string module_text(const ModuleInfo& m) {
    std::string crypto, limits;
    if (m.workers)
        add(crypto, "workers " + std::to_string(*m.workers));
    if (m.queued)
        add(crypto, "queued " + std::to_string(*m.queued));
    if (m.pooled)
        add(crypto, "pooled " + std::to_string(*m.pooled));
    if (m.max_sessions)
        add(limits, "max-sessions " + std::to_string(*m.max_sessions) + " per export");
    if (m.max_host_sessions)
        add(limits,
            "max-host-sessions " + std::to_string(*m.max_host_sessions) + " per peer address");
    std::string out;
    if (!crypto.empty())
        out += "crypto: " + crypto + '\n';
    if (!limits.empty())
        out += "limits: " + limits + '\n';
    return out;
}

// "0011223344556677", plus ", cipher aes-gcm" for an import that reports one.
std::string key_text(const KeyId& id, const std::optional<std::uint32_t>& cipher) {
    std::string out = format_key_id(id);
    if (cipher)
        out += ", cipher " + cipher_name(*cipher);
    return out;
}

// One sync, as `dstor show` prints it:
//   sync: 0
//     export: golden
//     target: /dev/sdb
//     interface: eth0
//     state: receiving
//     size: 16.00 MiB (16777216 bytes), block size 16384
//     tree: 1024 blocks, epoch 0123456789abcdef
//     merkle root: 5e3a...
//     blocks: 1024 total, 256 already good, 0 from seeds, 300 received, 200 verified,
//       3 bad hashes
//     progress: 456/1024 done (44%), 4.69 MiB received, elapsed 12.3 s, 0.40 MB/s, ETA 0:42
//     packets: 5000 received, 3 dropped, 4 channels joined
void sync_block(std::ostream& os, const SyncInfo& y) {
    const Stats& s = y.stats;
    os << "sync: " << (y.index ? std::to_string(*y.index) : std::string("(no index)")) << '\n';
    os << "  export: " << y.name << '\n';
    put_line(os, "target", y.device.value_or(""));
    if (y.peer)
        put_line(os, "peer", format_endpoint(*y.peer));
    if (!y.peer || y.mcast.ifindex) // both: multicast repaired over TCP
        put_line(os, "interface", interface_text(y.mcast));
    os << "  state: " << sync_state_name(y.state) << '\n';
    if (y.reason)
        put_line(os, "reason", *y.reason);
    if (y.key_id)
        put_line(os, "key", format_key_id(*y.key_id));
    put_line(os, "size", size_text(y.size, y.mcast.block_size));
    std::string tree;
    if (y.mcast.blocks)
        add(tree, std::to_string(*y.mcast.blocks) + " blocks");
    if (y.mcast.epoch)
        add(tree, "epoch " + epoch_text(*y.mcast.epoch));
    put_line(os, "tree", tree);
    if (y.mcast.root)
        put_line(os, "merkle root", format_hex(*y.mcast.root));
    put_line(os, "blocks",
             counts({{s.sync_blocks, "total"},
                     {s.sync_good, "already good"},
                     {s.sync_seeded, "from seeds"},
                     {s.sync_received, "received"},
                     {s.sync_verified, "verified"},
                     {s.sync_hash_bad, "bad hashes"}}));
    const SyncProgress p = sync_progress(y);
    std::string progress;
    if (p.total > 0)
        progress = std::to_string(p.done) + "/" + std::to_string(p.total) + " done (" +
                   std::to_string(p.done * 100 / p.total) + "%)";
    if (s.sync_bytes)
        add(progress, human_bytes(p.bytes) + " received");
    if (s.sync_seeded_bytes.value_or(0) > 0)
        add(progress, human_bytes(*s.sync_seeded_bytes) + " from seeds");
    if (y.elapsed_ms)
        add(progress, "elapsed " + format_seconds(p.seconds));
    if (p.rate)
        add(progress, format_byte_rate(*p.rate));
    if (p.eta)
        add(progress, "ETA " + format_duration(*p.eta));
    put_line(os, "progress", progress);
    put_line(os, "packets",
             counts({{s.sync_packets, "received"},
                     {s.sync_packets_bad, "dropped"},
                     {s.sync_rcv_drops.value_or(0) ? s.sync_rcv_drops : std::nullopt,
                      "lost to a full receive buffer"},
                     {s.sync_channels, "channels joined"}}));
    if (!y.every)
        return;
    std::string rounds = "every " + format_interval(*y.every);
    if (y.scrub)
        add(rounds, "scrub every " + format_interval(*y.scrub));
    add(rounds, std::to_string(s.sync_rounds.value_or(0)) + " converged");
    add(rounds, std::to_string(s.sync_rounds_failed.value_or(0)) + " failed");
    add(rounds, std::to_string(s.sync_repaired.value_or(0)) + " blocks repaired");
    add(rounds, std::to_string(s.sync_corrupt.value_or(0)) + " found corrupt by scrubs");
    put_line(os, "rounds", rounds);
    if (y.last_round_ms) {
        std::string last = format_seconds(static_cast<double>(*y.last_round_ms) / 1000) + " ago";
        if (y.reason)
            add(last, "failed");
        else if (y.last_repaired.value_or(0) == 0)
            add(last, "equal");
        else
            add(last, std::to_string(*y.last_repaired) + " blocks repaired");
        if (y.last_corrupt)
            add(last, "scrubbed: " + std::to_string(*y.last_corrupt) + " corrupt");
        put_line(os, "last round", last);
    }
}

// "tree: 1024 blocks of 64 KiB, generation 0123456789abcdef" / "building 42%"
void tree_lines(std::ostream& os, const TreeInfo& t) {
    std::string text;
    if (t.leaves) {
        text = std::to_string(*t.leaves) + " blocks";
        // A published tree being read again (export rehash), or that failed.
        if (t.failed)
            add(text, "rehash failed (see the kernel log)");
        else if (t.built && *t.built < 1000)
            add(text, "rehashing, " + std::to_string(*t.built / 10) + "% hashed");
    } else if (t.failed)
        text = "failed (see the kernel log)";
    else
        text = "building, " + std::to_string(t.built.value_or(0) / 10) + "% hashed";
    if (t.block_size)
        add(text, "block size " + std::to_string(*t.block_size));
    if (t.generation)
        add(text, "generation " + epoch_text(*t.generation));
    put_line(os, "tree", text);
    if (t.root)
        put_line(os, "tree root", format_hex(*t.root));
}

nlohmann::ordered_json tree_json(const TreeInfo& t) {
    auto j = nlohmann::ordered_json::object();
    put_json(j, "block_size", t.block_size);
    put_json(j, "built_permille", t.built);
    put_json(j, "blocks", t.leaves);
    if (t.generation)
        j["generation"] = epoch_text(*t.generation);
    if (t.root)
        j["root"] = format_hex(*t.root);
    j["failed"] = t.failed;
    return j;
}

nlohmann::ordered_json mcast_json(const McastInfo& m) {
    auto j = nlohmann::ordered_json::object();
    put_json(j, "interface", m.interface);
    put_json(j, "ifindex", m.ifindex);
    put_json(j, "rate", m.rate);
    put_json(j, "block_size", m.block_size);
    j["querier"] = m.querier;
    j["state"] = mc_state_name(m.state);
    put_json(j, "blocks", m.blocks);
    put_json(j, "listened", m.listened);
    if (m.epoch)
        j["epoch"] = epoch_text(*m.epoch);
    if (m.root)
        j["root"] = format_hex(*m.root);
    return j;
}


} // namespace

nlohmann::ordered_json sync_json(const SyncInfo& y) {
    auto j = nlohmann::ordered_json::object();
    put_json(j, "index", y.index);
    j["name"] = y.name;
    put_json(j, "target", y.device);
    if (y.peer)
        j["peer"] = format_endpoint(*y.peer);
    put_json(j, "interface", y.mcast.interface);
    put_json(j, "reason", y.reason);
    put_json(j, "ifindex", y.mcast.ifindex);
    j["state"] = sync_state_name(y.state);
    put_json(j, "size", y.size);
    put_json(j, "block_size", y.mcast.block_size);
    put_json(j, "blocks", y.mcast.blocks);
    if (y.mcast.epoch)
        j["epoch"] = epoch_text(*y.mcast.epoch);
    if (y.mcast.root)
        j["root"] = format_hex(*y.mcast.root);
    put_json(j, "elapsed_ms", y.elapsed_ms);
    const SyncProgress p = sync_progress(y);
    if (p.rate)
        j["bytes_per_second"] = static_cast<std::uint64_t>(std::llround(*p.rate));
    put_json(j, "eta_seconds", p.eta);
    if (y.key_id)
        j["key_id"] = format_key_id(*y.key_id);
    put_json(j, "every_seconds", y.every);
    put_json(j, "scrub_seconds", y.scrub);
    put_json(j, "last_round_ms", y.last_round_ms);
    put_json(j, "last_repaired", y.last_repaired);
    put_json(j, "last_corrupt", y.last_corrupt);
    j["stats"] = stats_json(y.stats);
    return j;
}

std::string human_bytes(std::uint64_t bytes) {
    if (bytes < 1024)
        return std::to_string(bytes) + " B";
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(bytes) / 1024.0;
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < std::size(units)) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[u]);
    return buf;
}

std::string state_name(std::optional<std::uint32_t> state) {
    if (!state)
        return "unknown";
    switch (*state) {
    case DSTOR_STATE_CONNECTED:
        return "connected";
    case DSTOR_STATE_RECONNECTING:
        return "reconnecting";
    case DSTOR_STATE_FAILED:
        return "failed";
    case DSTOR_STATE_DELETING:
        return "deleting";
    default:
        return "unknown";
    }
}

std::string perm_name(std::uint32_t perm) {
    switch (perm) {
    case DSTOR_PERM_RO:
        return "ro";
    case DSTOR_PERM_RW:
        return "rw";
    default:
        return "perm-" + std::to_string(perm);
    }
}

std::string cipher_name(std::uint32_t cipher) {
    switch (cipher) {
    case DSTOR_CIPHER_NONE:
        return "none";
    case DSTOR_CIPHER_AES_GCM:
        return "aes-gcm";
    case DSTOR_CIPHER_CHACHA20_POLY1305:
        return "chacha20-poly1305";
    default:
        return "cipher-" + std::to_string(cipher);
    }
}

std::vector<AclEntry> sort_acl(std::vector<AclEntry> entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const AclEntry& a, const AclEntry& b) {
        if (a.prefix.len != b.prefix.len)
            return a.prefix.len > b.prefix.len;
        if (a.prefix.family != b.prefix.family)
            return a.prefix.family == Endpoint::Family::ipv4;
        return a.prefix.addr < b.prefix.addr;
    });
    return entries;
}

std::string format_acl(const std::vector<AclEntry>& entries) {
    std::string out;
    for (const auto& e : sort_acl(entries))
        out += format_prefix(e.prefix) + " " + perm_name(e.perm) + "\n";
    return out;
}

nlohmann::ordered_json acl_json(const std::vector<AclEntry>& entries) {
    auto j = nlohmann::ordered_json::array();
    for (const auto& e : sort_acl(entries))
        j.push_back({{"prefix", format_prefix(e.prefix)}, {"perm", perm_name(e.perm)}});
    return j;
}

std::string format_show(const std::vector<ExportInfo>& exports,
                        const std::vector<ImportInfo>& imports, const std::vector<SyncInfo>& syncs,
                        const std::optional<ModuleInfo>& module_info) {
    std::ostringstream os;
    bool first = true;
    auto separate = [&] {
        if (!first)
            os << '\n';
        first = false;
    };
    if (const auto text = module_info ? module_text(*module_info) : std::string(); !text.empty()) {
        separate();
        os << text;
    }
    for (const auto& e : exports) {
        separate();
        os << "export: " << e.name << '\n';
        if (e.device)
            os << "  device: " << *e.device << '\n';
        if (e.listen)
            os << "  listen: " << format_endpoint(*e.listen) << '\n';
        if (e.uuid)
            os << "  uuid: " << format_uuid(*e.uuid) << '\n';
        os << "  access: " << (e.read_only ? "read-only" : "read-write") << '\n';
        if (e.key_id)
            os << "  key: " << key_text(*e.key_id, std::nullopt) << '\n';
        if (e.acls && !e.acls->empty()) {
            std::string allow;
            for (const auto& a : sort_acl(*e.acls))
                allow +=
                    (allow.empty() ? "" : ", ") + format_prefix(a.prefix) + " " + perm_name(a.perm);
            os << "  allow: " << allow << '\n';
        }
        if (auto sz = size_text(e.size, e.block_size); !sz.empty())
            os << "  size: " << sz << '\n';
        put_line(os, "sessions", sessions_text(e));
        if (e.mcast)
            mcast_lines(os, *e.mcast, e.stats);
        if (e.tree)
            tree_lines(os, *e.tree);
        stats_lines(os, e.stats, false);
    }
    for (const auto& i : imports) {
        separate();
        os << "import: "
           << (i.index ? "/dev/dstor" + std::to_string(*i.index) : std::string("(no device)"))
           << '\n';
        if (i.local)
            os << "  name: " << *i.local << " (/dev/disk/by-dstor/" << *i.local << ")\n";
        os << "  export: " << i.name;
        if (i.peer)
            os << '@' << format_endpoint(*i.peer);
        os << '\n';
        if (i.uuid)
            os << "  export uuid: " << format_uuid(*i.uuid) << '\n';
        os << "  state: " << state_name(i.state);
        if (i.reason)
            os << " (" << *i.reason << ')';
        os << '\n';
        os << "  access: " << (i.read_only ? "read-only" : "read-write") << '\n';
        if (i.key_id)
            os << "  key: " << key_text(*i.key_id, i.cipher) << '\n';
        if (i.connected && i.connections)
            os << "  connections: " << *i.connected << '/' << *i.connections << " connected\n";
        else if (i.connections)
            os << "  connections: " << *i.connections << '\n';
        else if (i.connected)
            os << "  connections: " << *i.connected << " connected\n";
        if (auto t = timers_text(i.timers); !t.empty())
            os << "  timers: " << t << '\n';
        if (auto sz = size_text(i.size, i.block_size); !sz.empty())
            os << "  size: " << sz << '\n';
        stats_lines(os, i.stats, true);
    }
    for (const auto& y : syncs) {
        separate();
        sync_block(os, y);
    }
    return os.str();
}

nlohmann::ordered_json show_json(const std::vector<ExportInfo>& exports,
                                 const std::vector<ImportInfo>& imports,
                                 const std::vector<SyncInfo>& syncs,
                                 const std::optional<ModuleInfo>& module_info) {
    using json = nlohmann::ordered_json;
    json doc = json::object();
    doc["exports"] = json::array();
    doc["imports"] = json::array();
    doc["syncs"] = json::array();
    for (const auto& e : exports) {
        json j = json::object();
        j["name"] = e.name;
        if (e.device)
            j["device"] = *e.device;
        if (e.listen)
            j["listen"] = format_endpoint(*e.listen);
        if (e.uuid)
            j["uuid"] = format_uuid(*e.uuid);
        j["read_only"] = e.read_only;
        if (e.size)
            j["size"] = *e.size;
        if (e.block_size)
            j["block_size"] = *e.block_size;
        put_json(j, "sessions", e.sessions);
        put_json(j, "max_sessions", e.max_sessions);
        if (e.key_id)
            j["key_id"] = format_key_id(*e.key_id);
        if (e.acls)
            j["acls"] = acl_json(*e.acls);
        if (e.mcast)
            j["mcast"] = mcast_json(*e.mcast);
        if (e.tree)
            j["tree"] = tree_json(*e.tree);
        j["stats"] = stats_json(e.stats);
        doc["exports"].push_back(std::move(j));
    }
    for (const auto& i : imports) {
        json j = json::object();
        if (i.index) {
            j["index"] = *i.index;
            j["device"] = "/dev/dstor" + std::to_string(*i.index);
        }
        j["name"] = i.name;
        if (i.local)
            j["local_name"] = *i.local;
        if (i.peer)
            j["peer"] = format_endpoint(*i.peer);
        if (i.uuid)
            j["uuid"] = format_uuid(*i.uuid);
        j["read_only"] = i.read_only;
        if (i.size)
            j["size"] = *i.size;
        if (i.block_size)
            j["block_size"] = *i.block_size;
        if (i.connections)
            j["connections"] = *i.connections;
        if (i.connected)
            j["connected"] = *i.connected;
        j["state"] = state_name(i.state);
        put_json(j, "reason", i.reason);
        if (i.key_id)
            j["key_id"] = format_key_id(*i.key_id);
        if (i.cipher)
            j["cipher"] = cipher_name(*i.cipher);
        j["timers"] = timers_json(i.timers);
        j["stats"] = stats_json(i.stats);
        doc["imports"].push_back(std::move(j));
    }
    for (const auto& y : syncs)
        doc["syncs"].push_back(sync_json(y));
    if (module_info) {
        json c = json::object();
        put_json(c, "workers", module_info->workers);
        put_json(c, "queued", module_info->queued);
        put_json(c, "pooled", module_info->pooled);
        doc["crypto"] = std::move(c);
        json limits = json::object();
        put_json(limits, "max_sessions", module_info->max_sessions);
        put_json(limits, "max_host_sessions", module_info->max_host_sessions);
        if (!limits.empty())
            doc["limits"] = std::move(limits);
    }
    return doc;
}

void name_interfaces(std::vector<ExportInfo>& exports, std::vector<SyncInfo>& syncs) {
    auto name = [](McastInfo& m) {
        if (m.ifindex)
            m.interface = interface_name(*m.ifindex);
    };
    for (auto& e : exports)
        if (e.mcast)
            name(*e.mcast);
    for (auto& y : syncs)
        name(y.mcast);
}

Parsed<ShowCommand> parse_show_args(const std::vector<std::string>& args) {
    CLI::App app("Show every export and import (the default when dstor gets no arguments).",
                 "dstor show");
    bool json = false;
    app.add_flag("--json", json,
                 "Print one JSON document: {\"exports\":[...],\"imports\":[...],\"syncs\":[...],"
                 "\"crypto\":{...},\"limits\":{...}}");
    auto p = parse_cli(app, "show", args);
    if (!p.cmd)
        return carry<ShowCommand>(std::move(p));
    Parsed<ShowCommand> out;
    out.command = p.command;
    out.cmd = ShowCommand{json};
    return out;
}

namespace {

// DSTOR_CMD_GET; nothing from a module that predates it (EOPNOTSUPP).
Result<std::optional<ModuleInfo>> get_module_info(nl::Socket& sock) {
    nl::Message msg = sock.request(DSTOR_CMD_GET);
    auto info = transact_one(sock, msg, parse_module_info);
    if (!info && unsupported(info.error()))
        return std::optional<ModuleInfo>{};
    return info;
}

Result<Running> read_running(nl::Socket& sock) {
    Running r;
    auto exports = dump_exports(sock);
    if (!exports)
        return exports.error();
    auto imports = dump_imports(sock);
    if (!imports)
        return imports.error();
    auto syncs = dump_syncs(sock);
    if (!syncs)
        return syncs.error();
    auto module = get_module_info(sock);
    if (!module)
        return module.error();
    r.exports = std::move(*exports);
    r.imports = std::move(*imports);
    r.syncs = std::move(*syncs);
    r.module = *module;
    name_interfaces(r.exports, r.syncs);
    return r;
}

} // namespace

std::optional<Running> running_or_report(const std::string& command) {
    auto sock = open_dstor_or_report(command);
    if (!sock)
        return std::nullopt;
    auto r = read_running(*sock);
    if (!r) {
        report(command, r.error());
        return std::nullopt;
    }
    return std::move(*r);
}

int run_show(const std::vector<std::string>& args) {
    auto p = parse_show_args(args);
    if (!p.cmd)
        return emit(p);

    auto r = running_or_report(p.command);
    if (!r)
        return EXIT_FAIL;
    if (p.cmd->json)
        std::cout << show_json(r->exports, r->imports, r->syncs, r->module)
                         .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << '\n';
    else
        std::cout << format_show(r->exports, r->imports, r->syncs, r->module);
    return flush_stdout(p.command);
}

} // namespace dstor
