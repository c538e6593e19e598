// dstor show [--json]: every export and import, from DSTOR_CMD_EXPORT_GET and
// DSTOR_CMD_IMPORT_GET dumps, and the crypto pool from DSTOR_CMD_GET.
#include "show.hpp"

#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "attrs.hpp"
#include "commands.hpp"

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
    {"bad_records", &Stats::bad_records},
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

// "  requests: ...", "  transfer: ...", "  status: ..." for what is present,
// for imports "  recovery: ...", and "  security: ..." (exports: failed
// authentications, access list refusals and bad records; imports: bad records).
void stats_lines(std::ostream& os, const Stats& s, bool import) {
    std::string requests;
    auto add = [&requests](const std::optional<std::uint64_t>& v, const char* what) {
        if (v)
            requests += (requests.empty() ? "" : ", ") + std::to_string(*v) + " " + what;
    };
    add(s.reads, "reads");
    add(s.writes, "writes");
    add(s.flushes, "flushes");
    add(s.discards, "discards");
    add(s.write_zeroes, "write-zeroes");
    if (!requests.empty())
        os << "  requests: " << requests << '\n';

    std::string transfer;
    if (s.read_bytes)
        transfer = human_bytes(*s.read_bytes) + " read";
    if (s.write_bytes)
        transfer += (transfer.empty() ? "" : ", ") + human_bytes(*s.write_bytes) + " written";
    if (!transfer.empty())
        os << "  transfer: " << transfer << '\n';

    std::string errors;
    if (s.errors)
        errors = std::to_string(*s.errors) + " errors";
    if (s.inflight)
        errors += (errors.empty() ? "" : ", ") + std::to_string(*s.inflight) + " in flight";
    if (!errors.empty())
        os << "  status: " << errors << '\n';

    std::string security;
    auto sec = [&security](const std::optional<std::uint64_t>& v, const char* what) {
        if (v)
            security += (security.empty() ? "" : ", ") + std::to_string(*v) + " " + what;
    };
    if (!import) {
        sec(s.auth_failures, "auth failures");
        sec(s.acl_denied, "acl denied");
    }
    sec(s.bad_records, "bad records");
    if (!import) {
        if (!security.empty())
            os << "  security: " << security << '\n';
        return;
    }
    std::string recovery;
    auto rec = [&recovery](const std::optional<std::uint64_t>& v, const char* what) {
        if (v)
            recovery += (recovery.empty() ? "" : ", ") + std::to_string(*v) + " " + what;
    };
    rec(s.resent, "resent");
    rec(s.timeouts, "timeouts");
    rec(s.reconnects, "reconnects");
    rec(s.keepalives, "keepalives");
    if (!recovery.empty())
        os << "  recovery: " << recovery << '\n';
    if (!security.empty())
        os << "  security: " << security << '\n';
}

// "0011223344556677", plus ", cipher aes-gcm" for an import that reports one.
std::string key_text(const KeyId& id, const std::optional<std::uint32_t>& cipher) {
    std::string out = format_key_id(id);
    if (cipher)
        out += ", cipher " + cipher_name(*cipher);
    return out;
}

} // namespace

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
                        const std::vector<ImportInfo>& imports,
                        const std::optional<CryptoInfo>& crypto) {
    std::ostringstream os;
    bool first = true;
    auto separate = [&] {
        if (!first)
            os << '\n';
        first = false;
    };
    if (crypto && (crypto->workers || crypto->queued)) {
        separate();
        std::string line;
        if (crypto->workers)
            line = "workers " + std::to_string(*crypto->workers);
        if (crypto->queued)
            line += (line.empty() ? "" : ", ") + std::string("queued ") +
                    std::to_string(*crypto->queued);
        os << "crypto: " << line << '\n';
    }
    for (const auto& e : exports) {
        separate();
        os << "export: " << e.name << '\n';
        if (e.device)
            os << "  device: " << *e.device << '\n';
        if (e.listen)
            os << "  listen: " << format_endpoint(*e.listen) << '\n';
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
        if (e.sessions)
            os << "  sessions: " << *e.sessions << '\n';
        stats_lines(os, e.stats, false);
    }
    for (const auto& i : imports) {
        separate();
        os << "import: "
           << (i.index ? "/dev/dstor" + std::to_string(*i.index) : std::string("(no device)"))
           << '\n';
        os << "  export: " << i.name;
        if (i.peer)
            os << '@' << format_endpoint(*i.peer);
        os << '\n';
        os << "  state: " << state_name(i.state) << '\n';
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
    return os.str();
}

nlohmann::ordered_json show_json(const std::vector<ExportInfo>& exports,
                                 const std::vector<ImportInfo>& imports,
                                 const std::optional<CryptoInfo>& crypto) {
    using json = nlohmann::ordered_json;
    json doc = json::object();
    doc["exports"] = json::array();
    doc["imports"] = json::array();
    for (const auto& e : exports) {
        json j = json::object();
        j["name"] = e.name;
        if (e.device)
            j["device"] = *e.device;
        if (e.listen)
            j["listen"] = format_endpoint(*e.listen);
        j["read_only"] = e.read_only;
        if (e.size)
            j["size"] = *e.size;
        if (e.block_size)
            j["block_size"] = *e.block_size;
        if (e.sessions)
            j["sessions"] = *e.sessions;
        if (e.key_id)
            j["key_id"] = format_key_id(*e.key_id);
        if (e.acls)
            j["acls"] = acl_json(*e.acls);
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
        if (i.peer)
            j["peer"] = format_endpoint(*i.peer);
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
        if (i.key_id)
            j["key_id"] = format_key_id(*i.key_id);
        if (i.cipher)
            j["cipher"] = cipher_name(*i.cipher);
        j["timers"] = timers_json(i.timers);
        j["stats"] = stats_json(i.stats);
        doc["imports"].push_back(std::move(j));
    }
    if (crypto) {
        json c = json::object();
        if (crypto->workers)
            c["workers"] = *crypto->workers;
        if (crypto->queued)
            c["queued"] = *crypto->queued;
        doc["crypto"] = std::move(c);
    }
    return doc;
}

Parsed<ShowCommand> parse_show_args(const std::vector<std::string>& args) {
    CLI::App app("Show every export and import (the default when dstor gets no arguments).",
                 "dstor show");
    bool json = false;
    app.add_flag("--json", json,
                 "Print one JSON document: {\"exports\":[...],\"imports\":[...],\"crypto\":{...}}");
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
Result<std::optional<CryptoInfo>> get_crypto(nl::Socket& sock) {
    std::optional<CryptoInfo> info;
    nl::Message msg = sock.request(DSTOR_CMD_GET);
    auto r = sock.transact(msg, [&info](const nlmsghdr* nlh) -> Result<void> {
        auto i = parse_crypto_info(nlh);
        if (!i)
            return i.error();
        info = *i;
        return {};
    });
    if (!r) {
        if (r.error().from_kernel && r.error().err == EOPNOTSUPP)
            return std::optional<CryptoInfo>{};
        return r.error();
    }
    return info;
}

} // namespace

int run_show(const std::vector<std::string>& args) {
    auto p = parse_show_args(args);
    if (!p.cmd)
        return emit(p);

    auto sock = open_dstor();
    if (!sock) {
        report(p.command, sock.error());
        return EXIT_FAIL;
    }

    auto exports = dump_exports(*sock);
    if (!exports) {
        report(p.command, exports.error());
        return EXIT_FAIL;
    }
    auto imports = dump_imports(*sock);
    if (!imports) {
        report(p.command, imports.error());
        return EXIT_FAIL;
    }
    auto crypto = get_crypto(*sock);
    if (!crypto) {
        report(p.command, crypto.error());
        return EXIT_FAIL;
    }

    if (p.cmd->json)
        std::cout << show_json(*exports, *imports, *crypto)
                         .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << '\n';
    else
        std::cout << format_show(*exports, *imports, *crypto);
    std::cout.flush();
    if (!std::cout) {
        report(p.command, "cannot write to standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
