// dstor export add|set|del: serve local block devices over TCP, or by
// multicast (--mcast).
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <optional>

#include "attrs.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

constexpr const char* address_forms =
    "ADDR[:PORT] is a numeric address: 192.0.2.1:7420, [2001:db8::1]:7420,\n"
    "[fe80::1%eth0]:7420, or without a port (7420): 0.0.0.0, ::, 2001:db8::1.\n"
    "Host names are not resolved.";

// The multicast options of `add`: nothing without --mcast (then --rate and
// --querier are errors; --block-size is the tree's with --tree).
Result<std::optional<McastSpec>> mcast_from(const CLI::App* add, const std::string& iface,
                                            const std::string& rate, const std::string& block_size,
                                            bool querier) {
    if (add->count("--mcast") == 0) {
        for (const char* option : {"--rate", "--querier"})
            if (add->count(option) > 0)
                return Error::user(std::string(option) + " needs --mcast IFACE");
        return std::optional<McastSpec>{};
    }
    if (auto bad = check_interface_name(iface))
        return Error::user("--mcast: " + *bad);
    McastSpec m;
    m.interface = iface;
    m.querier = querier;
    if (add->count("--rate") > 0) {
        auto r = parse_rate(rate);
        if (!r)
            return r.error();
        m.rate = *r;
    }
    if (add->count("--block-size") > 0) {
        auto b = parse_block_size(block_size);
        if (!b)
            return b.error();
        m.block_size = *b;
    }
    return std::optional<McastSpec>{m};
}

} // namespace

Parsed<ExportCommand> parse_export_args(const std::vector<std::string>& args) {
    CLI::App app("Serve local block devices over TCP or by multicast.", "dstor export");
    app.require_subcommand(1);
    app.footer(address_forms);

    std::string name, device, listen, key_file, mcast, rate, block_size, uuid, max_sessions;
    std::vector<std::string> allow;
    bool read_only = false, querier = false, tree = false;
    auto* add = app.add_subcommand(
        "add", "Serve the block device PATH as NAME on ADDR[:PORT], or by multicast on IFACE.");
    add->add_option("NAME", name, "Export name: 1 to 63 of A-Z a-z 0-9 . _ -")
        ->type_name("")
        ->required();
    add->add_option("--device", device, "Block device to serve")->type_name("PATH")->required();
    add->add_option("--listen", listen,
                    "Address to listen on; exports on one address share a listener "
                    "(optional with --mcast)")
        ->type_name("ADDR[:PORT]");
    add->add_flag("--read-only", read_only, "Refuse writes from every importer");
    add->add_option("--key", key_file,
                    "Pre-shared key file (dstor genkey): importers must prove they hold it, "
                    "and every frame is sealed")
        ->type_name("FILE");
    add->add_option("--allow", allow,
                    "Admit peers in PREFIX read-only or read-write; repeatable. With any "
                    "--allow, peers outside every prefix are refused")
        ->type_name("PREFIX=ro|rw")
        ->allow_extra_args(false);
    add->add_option("--mcast", mcast,
                    "Also serve by IPv6 multicast on the interface IFACE, to 'dstor sync' "
                    "receivers; needs --read-only")
        ->type_name("IFACE");
    // "1M to 100G (default 100M)"
    auto range = [](std::uint64_t min, std::uint64_t max, std::uint64_t dflt, std::uint64_t base) {
        return format_scaled(min, base) + " to " + format_scaled(max, base) + " (default " +
               format_scaled(dflt, base) + ")";
    };
    add->add_option("--rate", rate,
                    "With --mcast: bits per second sent at most, " +
                        range(DSTOR_MC_MIN_RATE, DSTOR_MC_MAX_RATE, DSTOR_MC_DEFAULT_RATE, 1000))
        ->type_name("RATE");
    add->add_option("--block-size", block_size,
                    "With --mcast or --tree: bytes per verified block, a power of two from " +
                        range(DSTOR_MC_MIN_BLOCK, DSTOR_MC_MAX_BLOCK, DSTOR_MC_DEFAULT_BLOCK, 1024))
        ->type_name("SIZE");
    add->add_flag("--tree", tree,
                  "Keep the export's merkle tree (read from the device at once), so that "
                  "'dstor sync --peer' replicas reconcile over TCP; a read-write export's is "
                  "kept live (a multicast export has one anyway)");
    add->add_flag("--querier", querier,
                  "With --mcast: act as MLD querier on the link (when no router does)");
    add->add_option("--uuid", uuid,
                    "Keep the export's identity across a re-export (e.g. after an exporter "
                    "reboot): importers resume only against the same identity (default: a "
                    "new random one)")
        ->type_name("UUID");
    add->add_option("--max-sessions", max_sessions,
                    "Refuse sessions past N (default: the module's max-sessions), 1 to " +
                        std::to_string(DSTOR_MAX_SESSION_LIMIT))
        ->type_name("N");
    add->footer(std::string(address_forms) +
                "\n--listen has no default: a storage server listens only where it is told to."
                "\nPREFIX: 192.0.2.0/24, 2001:db8::/32, or an address (/32, /128); the longest"
                "\nmatching prefix decides. Key files: see 'dstor genkey --help'."
                "\nRATE: 200M, 1.5G (K, M, G: powers of 1000). SIZE: 64K, 1M (powers of 1024)."
                "\nA multicast export must be read-only; without --listen it has no TCP"
                "\nlistener. Receivers: 'dstor sync NAME --mcast IFACE --target DEV'."
                "\nUUID: 8-4-4-4-12 hex digits, or 32 without dashes; 'dstor show' prints an"
                "\nexport's. Give it again when the device is exported anew.");

    std::string set_name, set_key_file;
    bool no_key = false;
    auto* set = app.add_subcommand("set", "Replace or remove the key of the export NAME.");
    set->add_option("NAME", set_name, "Export name")->type_name("")->required();
    set->add_option("--key", set_key_file,
                    "The new key file; connected importers keep their sessions, new "
                    "connections need the new key")
        ->type_name("FILE");
    set->add_flag("--no-key", no_key, "Remove the key: importers connect without one");
    set->footer("Give exactly one of --key FILE and --no-key.");

    std::string del_name;
    auto* del = app.add_subcommand("del", "Stop serving NAME; importers are disconnected.");
    del->add_option("NAME", del_name, "Export name")->type_name("")->required();

    std::string rehash_name;
    auto* rehash = app.add_subcommand(
        "rehash", "Read the device of NAME again into a new merkle tree (export add --tree).");
    rehash->add_option("NAME", rehash_name, "Export name")->type_name("")->required();
    rehash->footer("For a device written behind dstor's back (a sync then fails: 'a block of the"
                   "\nexport does not match its tree'), or to key the tree with a key set since."
                   "\nThe tree there is stays served until the new one replaces it; 'dstor show'"
                   "\nsays how far the reading is.");

    auto p = parse_cli(app, "export", args);
    if (!p.cmd)
        return carry<ExportCommand>(std::move(p));

    Parsed<ExportCommand> out;
    out.command = p.command;
    auto error = [&p](const std::string& text) {
        return Parsed<ExportCommand>::usage_error(p.command, text);
    };
    if (add->parsed()) {
        if (auto bad = check_name(name))
            return error(*bad);
        ExportAdd cmd{ExportSpec{name, device, std::nullopt, read_only, std::nullopt, {}},
                      std::nullopt};
        if (add->count("--listen") > 0) {
            auto ep = parse_endpoint(listen);
            if (!ep)
                return error("--listen '" + listen + "': " + ep.error().text());
            cmd.spec.listen = *ep;
        }
        if (device.empty())
            return error("--device is empty");
        auto m = mcast_from(add, mcast, rate, block_size, querier);
        if (!m)
            return error(m.error().text());
        cmd.spec.mcast = *m;
        if (!cmd.spec.listen && !cmd.spec.mcast)
            return error("--listen is required (or --mcast IFACE, for a multicast export)");
        if (cmd.spec.mcast && !read_only)
            return error("--mcast needs --read-only: a multicast export is read-only");
        if (add->count("--block-size") > 0 && !cmd.spec.mcast && !tree)
            return error("--block-size needs --mcast IFACE or --tree");
        if (tree && !cmd.spec.mcast) {
            if (!cmd.spec.listen)
                return error("--tree needs --listen: replicas reconcile over TCP");
            cmd.spec.tree_block_size = DSTOR_MC_DEFAULT_BLOCK;
            if (add->count("--block-size") > 0) {
                auto b = parse_block_size(block_size);
                if (!b)
                    return error(b.error().text());
                cmd.spec.tree_block_size = *b;
            }
        }
        if (!cmd.spec.listen && !allow.empty())
            return error("--allow needs --listen: access lists admit TCP importers");
        if (add->count("--key") > 0) {
            if (key_file.empty())
                return error("--key is empty");
            cmd.key_file = key_file;
        }
        for (const auto& text : allow) {
            auto entry = parse_allow(text);
            if (!entry)
                return error("--allow '" + text + "': " + entry.error().text());
            cmd.spec.acls.push_back(*entry);
        }
        if (auto bad = check_acls(cmd.spec.acls))
            return error("--allow: " + *bad);
        if (add->count("--uuid") > 0) {
            auto u = parse_uuid(uuid);
            if (!u)
                return error("--uuid '" + uuid + "': " + u.error().text());
            cmd.spec.uuid = *u;
        }
        if (add->count("--max-sessions") > 0) {
            auto n = parse_session_limit(max_sessions, "--max-sessions");
            if (!n)
                return error(n.error().text());
            cmd.spec.max_sessions = *n;
        }
        out.cmd = std::move(cmd);
    } else if (set->parsed()) {
        if (auto bad = check_name(set_name))
            return error(*bad);
        const bool key = set->count("--key") > 0;
        if (key && no_key)
            return error("give --key FILE or --no-key, not both");
        if (!key && !no_key)
            return error("nothing to change: give --key FILE or --no-key");
        if (key && set_key_file.empty())
            return error("--key is empty");
        out.cmd =
            ExportSet{set_name, key ? std::optional<std::string>(set_key_file) : std::nullopt};
    } else if (rehash->parsed()) {
        if (auto bad = check_name(rehash_name))
            return error(*bad);
        out.cmd = ExportRehash{rehash_name};
    } else {
        if (auto bad = check_name(del_name))
            return error(*bad);
        out.cmd = ExportDel{del_name};
    }
    return out;
}

int run_export(const std::vector<std::string>& args) {
    auto p = parse_export_args(args);
    if (!p.cmd)
        return emit(p);

    // Local checks first: a bad device or key file is refused before the
    // kernel is asked anything.
    std::optional<Key> set_key;
    if (auto* add = std::get_if<ExportAdd>(&*p.cmd)) {
        auto device = check_device(add->spec.device);
        if (!device)
            return usage_error(p.command, device.error().text());
        add->spec.device = *device;
        if (add->spec.mcast) {
            auto ifindex = resolve_interface(add->spec.mcast->interface);
            if (!ifindex)
                return usage_error(p.command, "--mcast: " + ifindex.error().text());
            add->spec.mcast->ifindex = *ifindex;
        }
        if (!load_key(add->key_file, add->spec.key))
            return EXIT_USAGE;
    } else if (auto* set = std::get_if<ExportSet>(&*p.cmd)) {
        if (!load_key(set->key_file, set_key))
            return EXIT_USAGE;
        if (!set_key)
            set_key.emplace(); // --no-key: all zero bytes
    }

    auto sock = open_dstor_or_report(p.command);
    if (!sock)
        return EXIT_FAIL;
    std::optional<nl::Message> msg;
    if (const auto* add = std::get_if<ExportAdd>(&*p.cmd)) {
        msg.emplace(sock->request(DSTOR_CMD_EXPORT_ADD));
        put_export_add(*msg, add->spec);
    } else if (const auto* set = std::get_if<ExportSet>(&*p.cmd)) {
        msg.emplace(sock->request(DSTOR_CMD_EXPORT_SET));
        put_export_set(*msg, set->name, *set_key);
    } else if (const auto* rh = std::get_if<ExportRehash>(&*p.cmd)) {
        msg.emplace(sock->request(DSTOR_CMD_EXPORT_REHASH));
        put_export_name(*msg, rh->name);
    } else {
        msg.emplace(sock->request(DSTOR_CMD_EXPORT_DEL));
        put_export_name(*msg, std::get<ExportDel>(*p.cmd).name);
    }

    if (auto r = sock->transact(*msg); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
