#include "attrs.hpp"

#include <linux/dstor.h>
#include <linux/genetlink.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <utility>

namespace dstor {

namespace {

// Attribute table of one level: tb[type] for every type <= Max; newer
// (unknown) attributes are skipped, which keeps old tools working.
template <std::size_t Max>
struct Table {
    std::array<const nlattr*, Max + 1> tb{};

    const nlattr* operator[](std::size_t type) const { return tb[type]; }

    static int collect(const nlattr* attr, void* data) noexcept {
        auto* t = static_cast<Table*>(data);
        const auto type = mnl_attr_get_type(attr);
        if (type <= Max)
            t->tb[type] = attr;
        return MNL_CB_OK;
    }
};

Error malformed(const char* what) {
    return Error::user(std::string("malformed kernel reply: bad ") + what + " attribute");
}

std::string get_string(const nlattr* attr) {
    const auto* p = static_cast<const char*>(mnl_attr_get_payload(attr));
    return std::string(p, strnlen(p, mnl_attr_get_payload_len(attr)));
}

// nullopt if absent.
std::optional<std::string> get_optional_string(const nlattr* attr) {
    if (attr == nullptr)
        return std::nullopt;
    return get_string(attr);
}

// Typed getters: nullopt if absent, error if present with the wrong length.
template <class T>
Result<std::optional<T>> get_uint(const nlattr* attr, const char* what) {
    if (attr == nullptr)
        return std::optional<T>{};
    if (mnl_attr_get_payload_len(attr) != sizeof(T))
        return malformed(what);
    T v;
    std::memcpy(&v, mnl_attr_get_payload(attr), sizeof(T));
    return std::optional<T>{v};
}

// A binary attribute of exactly N bytes (DSTOR_A_KEY_ID, DSTOR_A_UUID,
// DSTOR_A_MCAST_ROOT): nullopt if absent, error if of another length.
template <std::size_t N>
Result<std::optional<std::array<std::uint8_t, N>>> get_bytes(const nlattr* attr, const char* what) {
    using Bytes = std::array<std::uint8_t, N>;
    if (attr == nullptr)
        return std::optional<Bytes>{};
    Bytes bytes{};
    if (mnl_attr_get_payload_len(attr) != N)
        return malformed(what);
    std::memcpy(bytes.data(), mnl_attr_get_payload(attr), N);
    return std::optional<Bytes>{bytes};
}

struct StatsField {
    std::uint16_t type;
    std::optional<std::uint64_t> Stats::*field;
};

constexpr StatsField stats_fields[] = {
    {DSTOR_A_STATS_READS, &Stats::reads},
    {DSTOR_A_STATS_WRITES, &Stats::writes},
    {DSTOR_A_STATS_FLUSHES, &Stats::flushes},
    {DSTOR_A_STATS_DISCARDS, &Stats::discards},
    {DSTOR_A_STATS_WRITE_ZEROES, &Stats::write_zeroes},
    {DSTOR_A_STATS_READ_BYTES, &Stats::read_bytes},
    {DSTOR_A_STATS_WRITE_BYTES, &Stats::write_bytes},
    {DSTOR_A_STATS_ERRORS, &Stats::errors},
    {DSTOR_A_STATS_INFLIGHT, &Stats::inflight},
    {DSTOR_A_STATS_RESENT, &Stats::resent},
    {DSTOR_A_STATS_TIMEOUTS, &Stats::timeouts},
    {DSTOR_A_STATS_RECONNECTS, &Stats::reconnects},
    {DSTOR_A_STATS_KEEPALIVES, &Stats::keepalives},
    {DSTOR_A_STATS_AUTH_FAILURES, &Stats::auth_failures},
    {DSTOR_A_STATS_ACL_DENIED, &Stats::acl_denied},
    {DSTOR_A_STATS_SESSIONS_REAPED, &Stats::sessions_reaped},
    {DSTOR_A_STATS_SESSIONS_REFUSED, &Stats::sessions_refused},
    {DSTOR_A_STATS_BAD_RECORDS, &Stats::bad_records},
    {DSTOR_A_STATS_MC_PACKETS, &Stats::mc_packets},
    {DSTOR_A_STATS_MC_BYTES, &Stats::mc_bytes},
    {DSTOR_A_STATS_MC_BLOCKS, &Stats::mc_blocks},
    {DSTOR_A_STATS_MLD_REPORTS, &Stats::mld_reports},
    {DSTOR_A_STATS_MLD_BAD, &Stats::mld_bad},
    {DSTOR_A_STATS_MC_QUERIES, &Stats::mc_queries},
    {DSTOR_A_STATS_SYNC_BLOCKS, &Stats::sync_blocks},
    {DSTOR_A_STATS_SYNC_GOOD, &Stats::sync_good},
    {DSTOR_A_STATS_SYNC_RECEIVED, &Stats::sync_received},
    {DSTOR_A_STATS_SYNC_VERIFIED, &Stats::sync_verified},
    {DSTOR_A_STATS_SYNC_HASH_BAD, &Stats::sync_hash_bad},
    {DSTOR_A_STATS_SYNC_BYTES, &Stats::sync_bytes},
    {DSTOR_A_STATS_SYNC_PACKETS, &Stats::sync_packets},
    {DSTOR_A_STATS_SYNC_PACKETS_BAD, &Stats::sync_packets_bad},
    {DSTOR_A_STATS_SYNC_CHANNELS, &Stats::sync_channels},
    {DSTOR_A_STATS_SYNC_SEEDED, &Stats::sync_seeded},
    {DSTOR_A_STATS_SYNC_SEEDED_BYTES, &Stats::sync_seeded_bytes},
    {DSTOR_A_STATS_SYNC_TREE_HASHES, &Stats::sync_tree_hashes},
    {DSTOR_A_STATS_SYNC_REQUESTS, &Stats::sync_requests},
    {DSTOR_A_STATS_SYNC_WIRE_BYTES, &Stats::sync_wire_bytes},
    {DSTOR_A_STATS_SYNC_ROUNDS, &Stats::sync_rounds},
    {DSTOR_A_STATS_SYNC_ROUNDS_FAILED, &Stats::sync_rounds_failed},
    {DSTOR_A_STATS_SYNC_REPAIRED, &Stats::sync_repaired},
    {DSTOR_A_STATS_SYNC_CORRUPT, &Stats::sync_corrupt},
    {DSTOR_A_STATS_SYNC_RCV_DROPS, &Stats::sync_rcv_drops},
};

struct TimerField {
    std::uint16_t type;
    const char* what;
    std::optional<std::uint32_t> Timers::*field;
};

constexpr TimerField timer_fields[] = {
    {DSTOR_A_TIMEOUT, "DSTOR_A_TIMEOUT", &Timers::timeout},
    {DSTOR_A_RETRIES, "DSTOR_A_RETRIES", &Timers::retries},
    {DSTOR_A_RECONNECT_MIN, "DSTOR_A_RECONNECT_MIN", &Timers::reconnect_min},
    {DSTOR_A_RECONNECT_MAX, "DSTOR_A_RECONNECT_MAX", &Timers::reconnect_max},
    {DSTOR_A_KEEPALIVE, "DSTOR_A_KEEPALIVE", &Timers::keepalive},
    {DSTOR_A_DEAD_AFTER, "DSTOR_A_DEAD_AFTER", &Timers::dead_after},
};

void put_timers(nl::Message& msg, const Timers& t) {
    for (const auto& f : timer_fields)
        if (t.*f.field)
            msg.put_u32(f.type, *(t.*f.field));
}

Result<Stats> parse_stats(const nlattr* nest) {
    Stats s;
    if (nest == nullptr)
        return s;
    Table<DSTOR_A_STATS_MAX> tb;
    if (mnl_attr_parse_nested(nest, Table<DSTOR_A_STATS_MAX>::collect, &tb) < 0)
        return malformed("DSTOR_A_STATS");
    for (const auto& f : stats_fields) {
        auto v = get_uint<std::uint64_t>(tb[f.type], "DSTOR_A_STATS_*");
        if (!v)
            return v.error();
        s.*f.field = *v;
    }
    return s;
}

// Fill each `*out` from an unsigned attribute of the width of T that may be
// absent (nullopt); a present one with the wrong length is an error.
template <class T>
struct UintField {
    std::uint16_t type;
    const char* what;
    std::optional<T>* out;
};

template <class T, std::size_t Max>
Result<void> get_uints(const Table<Max>& tb, std::initializer_list<UintField<T>> fields) {
    for (const auto& f : fields) {
        auto v = get_uint<T>(tb[f.type], f.what);
        if (!v)
            return v.error();
        *f.out = *v;
    }
    return {};
}

Result<Table<DSTOR_A_MAX>> parse_top(const nlmsghdr* nlh) {
    Table<DSTOR_A_MAX> tb;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(genlmsghdr))
        return Error::user("malformed kernel reply: truncated message");
    if (mnl_attr_parse(nlh, sizeof(genlmsghdr), Table<DSTOR_A_MAX>::collect, &tb) < 0)
        return Error::user("malformed kernel reply: bad attribute layout");
    return tb;
}

Result<AclEntry> parse_acl_entry(const nlattr* nest) {
    Table<DSTOR_A_ACL_MAX> tb;
    if (mnl_attr_parse_nested(nest, Table<DSTOR_A_ACL_MAX>::collect, &tb) < 0)
        return malformed("DSTOR_A_ACL");
    AclEntry e;
    const nlattr* v4 = tb[DSTOR_A_ACL_IPV4];
    const nlattr* v6 = tb[DSTOR_A_ACL_IPV6];
    if ((v4 == nullptr) == (v6 == nullptr))
        return malformed("DSTOR_A_ACL");
    if (v4 != nullptr) {
        if (mnl_attr_get_payload_len(v4) != 4)
            return malformed("DSTOR_A_ACL_IPV4");
        e.prefix.family = Endpoint::Family::ipv4;
        std::memcpy(e.prefix.addr.data(), mnl_attr_get_payload(v4), 4);
    } else {
        if (mnl_attr_get_payload_len(v6) != 16)
            return malformed("DSTOR_A_ACL_IPV6");
        e.prefix.family = Endpoint::Family::ipv6;
        std::memcpy(e.prefix.addr.data(), mnl_attr_get_payload(v6), 16);
    }
    auto len = get_uint<std::uint8_t>(tb[DSTOR_A_ACL_PREFIX_LEN], "DSTOR_A_ACL_PREFIX_LEN");
    if (!len)
        return len.error();
    if (!*len || **len > max_prefix_len(e.prefix.family))
        return malformed("DSTOR_A_ACL_PREFIX_LEN");
    e.prefix.len = **len;
    auto perm = get_uint<std::uint32_t>(tb[DSTOR_A_ACL_PERM], "DSTOR_A_ACL_PERM");
    if (!perm)
        return perm.error();
    if (!*perm)
        return malformed("DSTOR_A_ACL_PERM");
    e.perm = **perm;
    return e;
}

Result<std::optional<Endpoint>> get_endpoint(const nlattr* attr, const char* what) {
    if (attr == nullptr)
        return std::optional<Endpoint>{};
    auto ep = parse_endpoint_attr(attr);
    if (!ep)
        return malformed(what);
    return std::optional<Endpoint>{*ep};
}

Result<McastInfo> parse_mcast(const nlattr* nest) {
    using Tb = Table<DSTOR_A_MCAST_MAX>;
    Tb tb;
    if (mnl_attr_parse_nested(nest, Tb::collect, &tb) < 0)
        return malformed("DSTOR_A_MCAST");
    McastInfo m;
    auto r = get_uints<std::uint32_t>(
        tb, {
                {DSTOR_A_MCAST_IFINDEX, "DSTOR_A_MCAST_IFINDEX", &m.ifindex},
                {DSTOR_A_MCAST_BLOCK_SIZE, "DSTOR_A_MCAST_BLOCK_SIZE", &m.block_size},
                {DSTOR_A_MCAST_LISTENED, "DSTOR_A_MCAST_LISTENED", &m.listened},
                {DSTOR_A_MCAST_MC_STATE, "DSTOR_A_MCAST_MC_STATE", &m.state},
            });
    if (!r)
        return r.error();
    r = get_uints<std::uint64_t>(tb, {
                                         {DSTOR_A_MCAST_RATE, "DSTOR_A_MCAST_RATE", &m.rate},
                                         {DSTOR_A_MCAST_EPOCH, "DSTOR_A_MCAST_EPOCH", &m.epoch},
                                         {DSTOR_A_MCAST_BLOCKS, "DSTOR_A_MCAST_BLOCKS", &m.blocks},
                                     });
    if (!r)
        return r.error();
    if (const nlattr* q = tb[DSTOR_A_MCAST_QUERIER]) {
        if (mnl_attr_get_payload_len(q) != 0)
            return malformed("DSTOR_A_MCAST_QUERIER");
        m.querier = true;
    }
    auto root = get_bytes<DSTOR_MC_HASH_LEN>(tb[DSTOR_A_MCAST_ROOT], "DSTOR_A_MCAST_ROOT");
    if (!root)
        return root.error();
    m.root = *root;
    return m;
}

Result<std::optional<McastInfo>> get_mcast(const nlattr* attr) {
    if (attr == nullptr)
        return std::optional<McastInfo>{};
    auto m = parse_mcast(attr);
    if (!m)
        return m.error();
    return std::optional<McastInfo>{std::move(*m)};
}

Result<std::optional<TreeInfo>> get_tree(const nlattr* nest) {
    if (nest == nullptr)
        return std::optional<TreeInfo>{};
    using Tb = Table<DSTOR_A_TREE_MAX>;
    Tb tb;
    if (mnl_attr_parse_nested(nest, Tb::collect, &tb) < 0)
        return malformed("DSTOR_A_TREE");
    TreeInfo t;
    auto r = get_uints<std::uint32_t>(
        tb, {
                {DSTOR_A_TREE_BLOCK_SIZE, "DSTOR_A_TREE_BLOCK_SIZE", &t.block_size},
                {DSTOR_A_TREE_BUILT, "DSTOR_A_TREE_BUILT", &t.built},
            });
    if (!r)
        return r.error();
    r = get_uints<std::uint64_t>(
        tb, {
                {DSTOR_A_TREE_LEAVES, "DSTOR_A_TREE_LEAVES", &t.leaves},
                {DSTOR_A_TREE_GENERATION, "DSTOR_A_TREE_GENERATION", &t.generation},
            });
    if (!r)
        return r.error();
    if (const nlattr* f = tb[DSTOR_A_TREE_FAILED]) {
        if (mnl_attr_get_payload_len(f) != 0)
            return malformed("DSTOR_A_TREE_FAILED");
        t.failed = true;
    }
    auto root = get_bytes<DSTOR_MC_HASH_LEN>(tb[DSTOR_A_TREE_ROOT], "DSTOR_A_TREE_ROOT");
    if (!root)
        return root.error();
    t.root = *root;
    return std::optional<TreeInfo>{t};
}

// The table of a reply and the attributes its Info (ExportInfo, ImportInfo,
// SyncInfo) shares with the others: DSTOR_A_NAME (required), DSTOR_A_SIZE,
// DSTOR_A_STATS, DSTOR_A_KEY_ID, and where the Info has them DSTOR_A_FLAGS,
// DSTOR_A_BLOCK_SIZE, DSTOR_A_DEVICE and DSTOR_A_UUID.
template <class Info>
Result<Table<DSTOR_A_MAX>> parse_base(const nlmsghdr* nlh, Info& info) {
    auto tb = parse_top(nlh);
    if (!tb)
        return tb.error();
    if ((*tb)[DSTOR_A_NAME] == nullptr)
        return Error::user("malformed kernel reply: no DSTOR_A_NAME");
    info.name = get_string((*tb)[DSTOR_A_NAME]);
    if constexpr (requires { info.read_only; }) {
        auto flags = get_uint<std::uint32_t>((*tb)[DSTOR_A_FLAGS], "DSTOR_A_FLAGS");
        if (!flags)
            return flags.error();
        info.read_only = flags->value_or(0) & DSTOR_F_READ_ONLY;
    }
    if constexpr (requires { info.block_size; }) {
        auto bs = get_uint<std::uint32_t>((*tb)[DSTOR_A_BLOCK_SIZE], "DSTOR_A_BLOCK_SIZE");
        if (!bs)
            return bs.error();
        info.block_size = *bs;
    }
    if constexpr (requires { info.device; })
        info.device = get_optional_string((*tb)[DSTOR_A_DEVICE]);
    if constexpr (requires { info.uuid; }) {
        auto uuid = get_bytes<DSTOR_UUID_LEN>((*tb)[DSTOR_A_UUID], "DSTOR_A_UUID");
        if (!uuid)
            return uuid.error();
        info.uuid = *uuid;
    }
    auto size = get_uint<std::uint64_t>((*tb)[DSTOR_A_SIZE], "DSTOR_A_SIZE");
    if (!size)
        return size.error();
    info.size = *size;
    auto stats = parse_stats((*tb)[DSTOR_A_STATS]);
    if (!stats)
        return stats.error();
    info.stats = *stats;
    auto key_id = get_bytes<DSTOR_KEY_ID_LEN>((*tb)[DSTOR_A_KEY_ID], "DSTOR_A_KEY_ID");
    if (!key_id)
        return key_id.error();
    info.key_id = *key_id;
    return tb;
}

} // namespace

void put_endpoint(nl::Message& msg, std::uint16_t type, const Endpoint& ep) {
    auto nest = msg.nest(type);
    if (ep.family == Endpoint::Family::ipv4) {
        msg.put_bin(DSTOR_A_ENDPOINT_IPV4, ep.addr.data(), 4);
    } else {
        msg.put_bin(DSTOR_A_ENDPOINT_IPV6, ep.addr.data(), 16);
        if (ep.ifindex != 0)
            msg.put_u32(DSTOR_A_ENDPOINT_IFINDEX, ep.ifindex);
    }
    msg.put_u16(DSTOR_A_ENDPOINT_PORT, ep.port);
}

void put_acl(nl::Message& msg, std::uint16_t type, const Prefix& prefix,
             std::optional<std::uint32_t> perm) {
    auto nest = msg.nest(type);
    if (prefix.family == Endpoint::Family::ipv4)
        msg.put_bin(DSTOR_A_ACL_IPV4, prefix.addr.data(), 4);
    else
        msg.put_bin(DSTOR_A_ACL_IPV6, prefix.addr.data(), 16);
    msg.put_u8(DSTOR_A_ACL_PREFIX_LEN, prefix.len);
    if (perm)
        msg.put_u32(DSTOR_A_ACL_PERM, *perm);
}

void put_mcast(nl::Message& msg, const McastSpec& mcast) {
    auto nest = msg.nest(DSTOR_A_MCAST);
    msg.put_u32(DSTOR_A_MCAST_IFINDEX, mcast.ifindex);
    if (mcast.rate)
        msg.put_u64(DSTOR_A_MCAST_RATE, *mcast.rate);
    if (mcast.block_size)
        msg.put_u32(DSTOR_A_MCAST_BLOCK_SIZE, *mcast.block_size);
    if (mcast.querier)
        msg.put_flag(DSTOR_A_MCAST_QUERIER);
}

void put_export_add(nl::Message& msg, const ExportSpec& spec) {
    msg.put_str(DSTOR_A_NAME, spec.name);
    msg.put_str(DSTOR_A_DEVICE, spec.device);
    if (spec.listen)
        put_endpoint(msg, DSTOR_A_LISTEN, *spec.listen);
    if (spec.read_only)
        msg.put_u32(DSTOR_A_FLAGS, DSTOR_F_READ_ONLY);
    if (spec.key)
        msg.put_bin(DSTOR_A_KEY, spec.key->bytes.data(), spec.key->bytes.size());
    if (!spec.acls.empty()) {
        auto list = msg.nest(DSTOR_A_ACLS);
        for (const auto& e : spec.acls)
            put_acl(msg, DSTOR_A_ACL, e.prefix, e.perm);
    }
    if (spec.mcast)
        put_mcast(msg, *spec.mcast);
    if (spec.tree_block_size) {
        auto nest = msg.nest(DSTOR_A_TREE);
        msg.put_u32(DSTOR_A_TREE_BLOCK_SIZE, *spec.tree_block_size);
    }
    if (spec.uuid)
        msg.put_bin(DSTOR_A_UUID, spec.uuid->data(), spec.uuid->size());
    if (spec.max_sessions)
        msg.put_u32(DSTOR_A_MAX_SESSIONS, *spec.max_sessions);
}

void put_sync_add(nl::Message& msg, const SyncSpec& spec) {
    msg.put_str(DSTOR_A_NAME, spec.name);
    msg.put_str(DSTOR_A_DEVICE, spec.device);
    if (spec.peer)
        put_endpoint(msg, DSTOR_A_PEER, *spec.peer);
    if (spec.interface.empty()) {
        if (spec.root)
            msg.put_bin(DSTOR_A_ROOT, spec.root->data(), spec.root->size());
        if (spec.every)
            msg.put_u32(DSTOR_A_SYNC_EVERY, spec.every);
        if (spec.scrub)
            msg.put_u32(DSTOR_A_SYNC_SCRUB, spec.scrub);
    } else {
        auto nest = msg.nest(DSTOR_A_MCAST);
        msg.put_u32(DSTOR_A_MCAST_IFINDEX, spec.ifindex);
        if (spec.root)
            msg.put_bin(DSTOR_A_MCAST_ROOT, spec.root->data(), spec.root->size());
    }
    if (spec.key)
        msg.put_bin(DSTOR_A_KEY, spec.key->bytes.data(), spec.key->bytes.size());
}

void put_sync_index(nl::Message& msg, std::uint32_t index) {
    msg.put_u32(DSTOR_A_INDEX, index);
}

void put_export_name(nl::Message& msg, const std::string& name) {
    msg.put_str(DSTOR_A_NAME, name);
}

void put_export_set(nl::Message& msg, const std::string& name, const Key& key) {
    msg.put_str(DSTOR_A_NAME, name);
    msg.put_bin(DSTOR_A_KEY, key.bytes.data(), key.bytes.size());
}

void put_acl_add(nl::Message& msg, const std::string& export_name, const AclEntry& entry) {
    msg.put_str(DSTOR_A_NAME, export_name);
    put_acl(msg, DSTOR_A_ACL, entry.prefix, entry.perm);
}

void put_acl_del(nl::Message& msg, const std::string& export_name, const Prefix& prefix) {
    msg.put_str(DSTOR_A_NAME, export_name);
    put_acl(msg, DSTOR_A_ACL, prefix, std::nullopt);
}

void put_acl_get(nl::Message& msg, const std::string& export_name) {
    msg.put_str(DSTOR_A_NAME, export_name);
}

void put_settings(nl::Message& msg, const Settings& settings) {
    const std::pair<std::uint16_t, std::optional<std::uint32_t> Settings::*> fields[] = {
        {DSTOR_A_CRYPTO_WORKERS, &Settings::crypto_workers},
        {DSTOR_A_MAX_SESSIONS, &Settings::max_sessions},
        {DSTOR_A_MAX_HOST_SESSIONS, &Settings::max_host_sessions},
    };
    for (const auto& [type, field] : fields)
        if (settings.*field)
            msg.put_u32(type, *(settings.*field));
}

void put_import_add(nl::Message& msg, const ImportSpec& spec) {
    msg.put_str(DSTOR_A_NAME, spec.name);
    if (!spec.local.empty())
        msg.put_str(DSTOR_A_LOCAL_NAME, spec.local);
    put_endpoint(msg, DSTOR_A_PEER, spec.peer);
    if (spec.read_only)
        msg.put_u32(DSTOR_A_FLAGS, DSTOR_F_READ_ONLY);
    if (spec.connections != 0)
        msg.put_u32(DSTOR_A_CONNECTIONS, spec.connections);
    put_timers(msg, spec.timers);
    if (spec.key)
        msg.put_bin(DSTOR_A_KEY, spec.key->bytes.data(), spec.key->bytes.size());
}

void put_import_del(nl::Message& msg, const ImportRef& ref) {
    if (const auto* index = std::get_if<std::uint32_t>(&ref))
        msg.put_u32(DSTOR_A_INDEX, *index);
    else
        msg.put_str(DSTOR_A_NAME, std::get<std::string>(ref));
}

void put_import_set(nl::Message& msg, std::uint32_t index, const Timers& timers, const Key* key) {
    msg.put_u32(DSTOR_A_INDEX, index);
    put_timers(msg, timers);
    if (key != nullptr)
        msg.put_bin(DSTOR_A_KEY, key->bytes.data(), key->bytes.size());
}

void put_import_get(nl::Message& msg, std::uint32_t index) {
    msg.put_u32(DSTOR_A_INDEX, index);
}

Result<Endpoint> parse_endpoint_attr(const nlattr* nest) {
    Table<DSTOR_A_ENDPOINT_MAX> tb;
    if (mnl_attr_parse_nested(nest, Table<DSTOR_A_ENDPOINT_MAX>::collect, &tb) < 0)
        return malformed("endpoint");
    Endpoint ep;
    const nlattr* v4 = tb[DSTOR_A_ENDPOINT_IPV4];
    const nlattr* v6 = tb[DSTOR_A_ENDPOINT_IPV6];
    if ((v4 == nullptr) == (v6 == nullptr))
        return malformed("endpoint");
    if (v4 != nullptr) {
        if (mnl_attr_get_payload_len(v4) != 4)
            return malformed("DSTOR_A_ENDPOINT_IPV4");
        ep.family = Endpoint::Family::ipv4;
        std::memcpy(ep.addr.data(), mnl_attr_get_payload(v4), 4);
    } else {
        if (mnl_attr_get_payload_len(v6) != 16)
            return malformed("DSTOR_A_ENDPOINT_IPV6");
        ep.family = Endpoint::Family::ipv6;
        std::memcpy(ep.addr.data(), mnl_attr_get_payload(v6), 16);
    }
    auto port = get_uint<std::uint16_t>(tb[DSTOR_A_ENDPOINT_PORT], "DSTOR_A_ENDPOINT_PORT");
    if (!port)
        return port.error();
    ep.port = port->value_or(DSTOR_DEFAULT_PORT);
    auto ifindex =
        get_uint<std::uint32_t>(tb[DSTOR_A_ENDPOINT_IFINDEX], "DSTOR_A_ENDPOINT_IFINDEX");
    if (!ifindex)
        return ifindex.error();
    ep.ifindex = ifindex->value_or(0);
    return ep;
}

Result<ExportInfo> parse_export_info(const nlmsghdr* nlh) {
    ExportInfo info;
    auto tb = parse_base(nlh, info);
    if (!tb)
        return tb.error();
    auto listen = get_endpoint((*tb)[DSTOR_A_LISTEN], "DSTOR_A_LISTEN");
    if (!listen)
        return listen.error();
    info.listen = *listen;
    auto r = get_uints<std::uint32_t>(
        *tb, {
                 {DSTOR_A_SESSIONS, "DSTOR_A_SESSIONS", &info.sessions},
                 {DSTOR_A_MAX_SESSIONS, "DSTOR_A_MAX_SESSIONS", &info.max_sessions},
             });
    if (!r)
        return r.error();
    if (const nlattr* acls = (*tb)[DSTOR_A_ACLS]) {
        auto entries = parse_acls_attr(acls);
        if (!entries)
            return entries.error();
        info.acls = std::move(*entries);
    }
    auto mcast = get_mcast((*tb)[DSTOR_A_MCAST]);
    if (!mcast)
        return mcast.error();
    info.mcast = std::move(*mcast);
    auto tree = get_tree((*tb)[DSTOR_A_TREE]);
    if (!tree)
        return tree.error();
    info.tree = std::move(*tree);
    return info;
}

Result<ImportInfo> parse_import_info(const nlmsghdr* nlh) {
    ImportInfo info;
    auto tb = parse_base(nlh, info);
    if (!tb)
        return tb.error();
    auto peer = get_endpoint((*tb)[DSTOR_A_PEER], "DSTOR_A_PEER");
    if (!peer)
        return peer.error();
    info.peer = *peer;
    auto r = get_uints<std::uint32_t>(
        *tb, {
                 {DSTOR_A_INDEX, "DSTOR_A_INDEX", &info.index},
                 {DSTOR_A_CONNECTIONS, "DSTOR_A_CONNECTIONS", &info.connections},
                 {DSTOR_A_CONNECTED, "DSTOR_A_CONNECTED", &info.connected},
                 {DSTOR_A_STATE, "DSTOR_A_STATE", &info.state},
                 {DSTOR_A_CIPHER, "DSTOR_A_CIPHER", &info.cipher},
             });
    if (!r)
        return r.error();
    info.reason = get_optional_string((*tb)[DSTOR_A_REASON]);
    info.local = get_optional_string((*tb)[DSTOR_A_LOCAL_NAME]);
    for (const auto& f : timer_fields) {
        auto v = get_uint<std::uint32_t>((*tb)[f.type], f.what);
        if (!v)
            return v.error();
        info.timers.*f.field = *v;
    }
    return info;
}

Result<SyncInfo> parse_sync_info(const nlmsghdr* nlh) {
    SyncInfo info;
    auto tb = parse_base(nlh, info);
    if (!tb)
        return tb.error();
    auto r =
        get_uints<std::uint32_t>(*tb, {
                                          {DSTOR_A_INDEX, "DSTOR_A_INDEX", &info.index},
                                          {DSTOR_A_SYNC_STATE, "DSTOR_A_SYNC_STATE", &info.state},
                                          {DSTOR_A_SYNC_EVERY, "DSTOR_A_SYNC_EVERY", &info.every},
                                          {DSTOR_A_SYNC_SCRUB, "DSTOR_A_SYNC_SCRUB", &info.scrub},
                                      });
    if (!r)
        return r.error();
    r = get_uints<std::uint64_t>(
        *tb, {{DSTOR_A_SYNC_ELAPSED_MS, "DSTOR_A_SYNC_ELAPSED_MS", &info.elapsed_ms},
              {DSTOR_A_SYNC_LAST_MS, "DSTOR_A_SYNC_LAST_MS", &info.last_round_ms},
              {DSTOR_A_SYNC_REPAIRED, "DSTOR_A_SYNC_REPAIRED", &info.last_repaired},
              {DSTOR_A_SYNC_CORRUPT, "DSTOR_A_SYNC_CORRUPT", &info.last_corrupt}});
    if (!r)
        return r.error();
    auto mcast = get_mcast((*tb)[DSTOR_A_MCAST]);
    if (!mcast)
        return mcast.error();
    info.mcast = mcast->value_or(McastInfo{});
    auto peer = get_endpoint((*tb)[DSTOR_A_PEER], "DSTOR_A_PEER");
    if (!peer)
        return peer.error();
    info.peer = *peer;
    info.reason = get_optional_string((*tb)[DSTOR_A_REASON]);
    // Over TCP the export's tree comes as DSTOR_A_TREE: the same geometry,
    // its generation in place of an epoch.
    auto tree = get_tree((*tb)[DSTOR_A_TREE]);
    if (!tree)
        return tree.error();
    if (*tree) {
        info.mcast.block_size = (*tree)->block_size;
        info.mcast.blocks = (*tree)->leaves;
        info.mcast.epoch = (*tree)->generation;
        info.mcast.root = (*tree)->root;
    }
    return info;
}

Result<std::optional<std::uint32_t>> parse_import_index(const nlmsghdr* nlh) {
    auto tb = parse_top(nlh);
    if (!tb)
        return tb.error();
    return get_uint<std::uint32_t>((*tb)[DSTOR_A_INDEX], "DSTOR_A_INDEX");
}

Result<ImportEvent> parse_import_event(const nlmsghdr* nlh) {
    auto tb = parse_top(nlh);
    if (!tb)
        return tb.error();
    ImportEvent ev;
    std::optional<std::uint32_t> event;
    auto r = get_uints<std::uint32_t>(
        *tb, {
                 {DSTOR_A_EVENT, "DSTOR_A_EVENT", &event},
                 {DSTOR_A_INDEX, "DSTOR_A_INDEX", &ev.index},
                 {DSTOR_A_STATE, "DSTOR_A_STATE", &ev.state},
                 {DSTOR_A_CONNECTED, "DSTOR_A_CONNECTED", &ev.connected},
                 {DSTOR_A_CONNECTIONS, "DSTOR_A_CONNECTIONS", &ev.connections},
                 {DSTOR_A_QUEUE, "DSTOR_A_QUEUE", &ev.queue},
             });
    if (!r)
        return r.error();
    if (!event)
        return Error::user("malformed kernel event: no DSTOR_A_EVENT");
    r = get_uints<std::uint64_t>(*tb,
                                 {{DSTOR_A_SYNC_REPAIRED, "DSTOR_A_SYNC_REPAIRED", &ev.repaired},
                                  {DSTOR_A_SYNC_CORRUPT, "DSTOR_A_SYNC_CORRUPT", &ev.corrupt}});
    if (!r)
        return r.error();
    ev.device = get_optional_string((*tb)[DSTOR_A_DEVICE]);
    ev.event = *event;
    ev.name = get_optional_string((*tb)[DSTOR_A_NAME]);
    ev.reason = get_optional_string((*tb)[DSTOR_A_REASON]);
    auto peer = get_endpoint((*tb)[DSTOR_A_PEER], "DSTOR_A_PEER");
    if (!peer)
        return peer.error();
    ev.peer = *peer;
    return ev;
}

Result<std::vector<AclEntry>> parse_acls_attr(const nlattr* nest) {
    // A nested array: every element is a DSTOR_A_ACL nest; the element
    // types are not looked at.
    struct Walk {
        std::vector<AclEntry> entries;
        std::optional<Error> error;
    } walk;
    auto each = [](const nlattr* item, void* data) noexcept -> int {
        auto* w = static_cast<Walk*>(data);
        try {
            auto e = parse_acl_entry(item);
            if (!e) {
                w->error = e.error();
                return MNL_CB_ERROR;
            }
            w->entries.push_back(*e);
        } catch (...) {
            w->error = Error::sys(ENOMEM, "access list");
            return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
    };
    if (mnl_attr_parse_nested(nest, each, &walk) < 0)
        return walk.error ? *walk.error : malformed("DSTOR_A_ACLS");
    return std::move(walk.entries);
}

Result<AclList> parse_acl_list(const nlmsghdr* nlh) {
    auto tb = parse_top(nlh);
    if (!tb)
        return tb.error();
    AclList list;
    if ((*tb)[DSTOR_A_NAME] != nullptr)
        list.name = get_string((*tb)[DSTOR_A_NAME]);
    if (const nlattr* acls = (*tb)[DSTOR_A_ACLS]) {
        auto entries = parse_acls_attr(acls);
        if (!entries)
            return entries.error();
        list.entries = std::move(*entries);
    }
    return list;
}

Result<ModuleInfo> parse_module_info(const nlmsghdr* nlh) {
    auto tb = parse_top(nlh);
    if (!tb)
        return tb.error();
    ModuleInfo info;
    auto r = get_uints<std::uint32_t>(
        *tb, {
                 {DSTOR_A_CRYPTO_WORKERS, "DSTOR_A_CRYPTO_WORKERS", &info.workers},
                 {DSTOR_A_CRYPTO_QUEUED, "DSTOR_A_CRYPTO_QUEUED", &info.queued},
                 {DSTOR_A_MAX_SESSIONS, "DSTOR_A_MAX_SESSIONS", &info.max_sessions},
                 {DSTOR_A_MAX_HOST_SESSIONS, "DSTOR_A_MAX_HOST_SESSIONS", &info.max_host_sessions},
             });
    if (!r)
        return r.error();
    r = get_uints<std::uint64_t>(
        *tb, {{DSTOR_A_CRYPTO_POOLED, "DSTOR_A_CRYPTO_POOLED", &info.pooled}});
    if (!r)
        return r.error();
    return info;
}

} // namespace dstor
