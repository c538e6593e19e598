// dstor import add|set|del: attach a peer's export as /dev/dstorN, change its
// transaction timers or key, and detach it.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <iostream>

#include "attrs.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

// The words of the timer options of one verb, as typed.
struct TimerArgs {
    std::string timeout, retries, reconnect, keepalive, dead_after;
};

constexpr const char* timer_options =
    "--timeout, --retries, --reconnect, --keepalive, --dead-after, --key, --no-key";

// `defaults`: mention the kernel's defaults (add) or that omitted ones are kept (set).
void add_timer_options(CLI::App* app, TimerArgs& t, bool defaults) {
    auto dflt = [defaults](int value, const char* unit) {
        return defaults ? " (default " + std::to_string(value) + unit + ")" : std::string();
    };
    const std::string secs = std::to_string(DSTOR_MAX_SECONDS);
    app->add_option("--timeout", t.timeout,
                    "A request unanswered this long has timed out, 1 to " + secs + " s" +
                        dflt(DSTOR_DEFAULT_TIMEOUT, " s"))
        ->type_name("S");
    app->add_option("--retries", t.retries,
                    "Timeouts a request survives before it fails with EIO, 0 to " +
                        std::to_string(DSTOR_MAX_RETRIES) + dflt(DSTOR_DEFAULT_RETRIES, ""))
        ->type_name("N");
    app->add_option("--reconnect", t.reconnect,
                    "Reconnect backoff, doubling from MIN to MAX s, 1 to " + secs +
                        "; N means N:N" +
                        (defaults ? " (default " + std::to_string(DSTOR_DEFAULT_RECONNECT_MIN) +
                                        ":" + std::to_string(DSTOR_DEFAULT_RECONNECT_MAX) + ")"
                                  : std::string()))
        ->type_name("MIN:MAX");
    app->add_option("--keepalive", t.keepalive,
                    "Ping a connection idle this long, 1 to " + secs + " s" +
                        dflt(DSTOR_DEFAULT_KEEPALIVE, " s"))
        ->type_name("S");
    app->add_option("--dead-after", t.dead_after,
                    "Reconnect a connection silent this long, 2 to " + secs +
                        " s, more than --keepalive" + dflt(DSTOR_DEFAULT_DEAD_AFTER, " s"))
        ->type_name("S");
}

// The timers given on the command line of `app`; the others stay unset.
Result<Timers> timers_from(const CLI::App* app, const TimerArgs& t) {
    Timers timers;
    struct One {
        const char* option;
        const std::string* text;
        Result<std::uint32_t> (*parse)(std::string_view);
        std::optional<std::uint32_t> Timers::*field;
    };
    const One ones[] = {
        {"--timeout", &t.timeout, parse_timeout, &Timers::timeout},
        {"--retries", &t.retries, parse_retries, &Timers::retries},
        {"--keepalive", &t.keepalive, parse_keepalive, &Timers::keepalive},
        {"--dead-after", &t.dead_after, parse_dead_after, &Timers::dead_after},
    };
    for (const auto& o : ones) {
        if (app->count(o.option) == 0)
            continue;
        auto v = o.parse(*o.text);
        if (!v)
            return v.error();
        timers.*o.field = *v;
    }
    if (app->count("--reconnect") > 0) {
        auto r = parse_reconnect(t.reconnect);
        if (!r)
            return r.error();
        timers.reconnect_min = r->min;
        timers.reconnect_max = r->max;
    }
    if (auto bad = check_timers(timers))
        return Error::user(*bad);
    return timers;
}

} // namespace

namespace {

// The import whose local name is @name (unique on the machine), if any.
std::optional<std::uint32_t> find_local(const std::vector<ImportInfo>& imports,
                                        const std::string& name) {
    for (const auto& i : imports)
        if (i.index && i.local == name)
            return *i.index;
    return std::nullopt;
}

} // namespace

Result<std::uint32_t> find_import(const std::vector<ImportInfo>& imports, const std::string& name) {
    // A local name wins over export names.
    if (auto local = find_local(imports, name))
        return *local;
    std::vector<std::uint32_t> found;
    for (const auto& i : imports)
        if (i.index && i.name == name)
            found.push_back(*i.index);
    if (found.empty())
        return Error::user("no import of an export named '" + name + "'");
    if (found.size() > 1) {
        std::string devices;
        for (auto index : found)
            devices +=
                (devices.empty() ? "" : ", ") + std::string("/dev/dstor") + std::to_string(index);
        return Error::user("'" + name + "' names more than one import (" + devices +
                           "): give the device");
    }
    return found.front();
}

Parsed<ImportCommand> parse_import_args(const std::vector<std::string>& args) {
    CLI::App app("Attach exports of other machines as /dev/dstorN.", "dstor import");
    app.require_subcommand(1);

    std::string name, local, peer, connections, key_file;
    bool read_only = false;
    TimerArgs add_timers;
    auto* add = app.add_subcommand(
        "add", "Connect to the export NAME on ADDR[:PORT]; prints the new /dev/dstorN.");
    add->add_option("NAME", name, "The export's name on the peer")->type_name("")->required();
    add->add_option("--peer", peer, "The exporter's address (port 7420 when omitted)")
        ->type_name("ADDR[:PORT]")
        ->required();
    add->add_flag("--read-only", read_only, "Attach read-only");
    add->add_option("--name", local,
                    "The import's name on this machine, unique on it: /dev/disk/by-dstor/LOCAL "
                    "(default: none; needs CAP_SYS_ADMIN)")
        ->type_name("LOCAL");
    add->add_option("--connections", connections,
                    "TCP connections, one per hardware queue, 1 to " +
                        std::to_string(DSTOR_MAX_CONNECTIONS) +
                        " (default: the kernel's, min(CPUs, 4))")
        ->type_name("N");
    add->add_option("--key", key_file,
                    "The export's pre-shared key file: needed when the export has a key, "
                    "refused when it has none")
        ->type_name("FILE");
    add_timer_options(add, add_timers, true);
    add->footer("ADDR[:PORT] is a numeric address: 192.0.2.1:7420, [2001:db8::1]:7420,\n"
                "[fe80::1%eth0]:7420, or without a port (7420): 192.0.2.1, 2001:db8::1.\n"
                "Host names are not resolved. Timers not given take the kernel's defaults.");

    std::string set_target, set_key_file;
    TimerArgs set_timers;
    auto* set = app.add_subcommand("set", "Change the transaction timers or the key of an import.");
    set->add_option("TARGET", set_target,
                    "/dev/dstorN, dstorN or the index N, the local name, or the export name")
        ->type_name("")
        ->required();
    add_timer_options(set, set_timers, false);
    set->add_option("--key", set_key_file,
                    "A new key file, used from the next connection on (after the exporter's "
                    "key changed)")
        ->type_name("FILE");
    bool set_no_key = false;
    set->add_flag("--no-key", set_no_key,
                  "Remove the key: the next connection goes without one (after the exporter's "
                  "key was removed)");
    set->footer("Give at least one timer, --key or --no-key; the others keep their current "
                "values.\n"
                "A name is looked up among the imports: a local name first, then the export's\n"
                "name, which must match exactly one import.");

    std::string target;
    auto* del = app.add_subcommand("del", "Detach an import; fails while the device is open.");
    del->add_option("TARGET", target, "/dev/dstorN or dstorN, the local name, or the export name")
        ->type_name("")
        ->required();

    auto p = parse_cli(app, "import", args);
    if (!p.cmd)
        return carry<ImportCommand>(std::move(p));

    Parsed<ImportCommand> out;
    out.command = p.command;
    if (add->parsed()) {
        if (auto bad = check_name(name))
            return Parsed<ImportCommand>::usage_error(p.command, *bad);
        auto ep = parse_endpoint(peer);
        if (!ep)
            return Parsed<ImportCommand>::usage_error(p.command, "--peer '" + peer +
                                                                     "': " + ep.error().text());
        if (add->count("--name") > 0)
            if (auto bad = check_local_name(local))
                return Parsed<ImportCommand>::usage_error(p.command, "--name: " + *bad);
        ImportSpec spec{name, local, *ep, read_only, 0, {}, std::nullopt};
        if (add->count("--connections") > 0) {
            auto n = parse_connections(connections);
            if (!n)
                return Parsed<ImportCommand>::usage_error(p.command, n.error().text());
            spec.connections = *n;
        }
        auto timers = timers_from(add, add_timers);
        if (!timers)
            return Parsed<ImportCommand>::usage_error(p.command, timers.error().text());
        spec.timers = *timers;
        ImportAdd cmd{spec, std::nullopt};
        if (add->count("--key") > 0) {
            if (key_file.empty())
                return Parsed<ImportCommand>::usage_error(p.command, "--key is empty");
            cmd.key_file = key_file;
        }
        out.cmd = std::move(cmd);
    } else if (set->parsed()) {
        ImportRef ref;
        if (auto index = parse_device_index(set_target)) {
            ref = *index;
        } else if (auto n = parse_index(set_target)) {
            ref = *n;
        } else if (auto bad = check_name(set_target)) {
            return Parsed<ImportCommand>::usage_error(
                p.command,
                "'" + set_target +
                    "' is neither a device (/dev/dstorN), an index nor an export name: " + *bad);
        } else {
            ref = set_target;
        }
        auto timers = timers_from(set, set_timers);
        if (!timers)
            return Parsed<ImportCommand>::usage_error(p.command, timers.error().text());
        std::optional<std::string> set_key;
        if (set->count("--key") > 0) {
            if (set_key_file.empty())
                return Parsed<ImportCommand>::usage_error(p.command, "--key is empty");
            set_key = set_key_file;
        }
        if (set_key && set_no_key)
            return Parsed<ImportCommand>::usage_error(p.command,
                                                      "give --key FILE or --no-key, not both");
        if (timers->empty() && !set_key && !set_no_key)
            return Parsed<ImportCommand>::usage_error(
                p.command, std::string("nothing to change: give at least one of ") + timer_options);
        out.cmd = ImportSet{ref, *timers, set_key, set_no_key};
    } else {
        if (auto index = parse_device_index(target)) {
            out.cmd = ImportDel{*index};
        } else if (auto bad = check_name(target)) {
            return Parsed<ImportCommand>::usage_error(
                p.command,
                "'" + target + "' is neither a device (/dev/dstorN) nor an export name: " + *bad);
        } else {
            out.cmd = ImportDel{target};
        }
    }
    return out;
}

namespace {

int run_add(nl::Socket& sock, const std::string& command, const ImportAdd& add) {
    nl::Message msg = sock.request(DSTOR_CMD_IMPORT_ADD);
    put_import_add(msg, add.spec);
    std::optional<std::uint32_t> index;
    auto r = sock.transact(msg, [&index](const nlmsghdr* nlh) -> Result<void> {
        auto i = parse_import_index(nlh);
        if (!i)
            return i.error();
        index = *i;
        return {};
    });
    if (!r) {
        report(command, r.error());
        return EXIT_FAIL;
    }
    if (!index) {
        report(command, "the kernel's reply names no device (no DSTOR_A_INDEX)");
        return EXIT_FAIL;
    }
    std::cout << "/dev/dstor" << *index << '\n';
    return EXIT_OK;
}

int run_set(nl::Socket& sock, const std::string& command, const ImportSet& set,
            const std::optional<Key>& key) {
    std::uint32_t index = 0;
    if (const auto* i = std::get_if<std::uint32_t>(&set.target)) {
        index = *i;
    } else {
        auto imports = dump_imports(sock);
        if (!imports) {
            report(command, imports.error());
            return EXIT_FAIL;
        }
        auto found = find_import(*imports, std::get<std::string>(set.target));
        if (!found) {
            report(command, found.error());
            return EXIT_FAIL;
        }
        index = *found;
    }
    nl::Message msg = sock.request(DSTOR_CMD_IMPORT_SET);
    put_import_set(msg, index, set.timers, key ? &*key : nullptr);
    if (auto r = sock.transact(msg); !r) {
        report(command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int run_del(nl::Socket& sock, const std::string& command, const ImportDel& del) {
    ImportRef target = del.target;
    // A local name is found here; an export name is the kernel's to match.
    if (const auto* name = std::get_if<std::string>(&target)) {
        auto imports = dump_imports(sock);
        if (!imports) {
            report(command, imports.error());
            return EXIT_FAIL;
        }
        if (auto local = find_local(*imports, *name))
            target = *local;
    }
    nl::Message msg = sock.request(DSTOR_CMD_IMPORT_DEL);
    put_import_del(msg, target);
    if (auto r = sock.transact(msg); !r) {
        report(command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace

int run_import(const std::vector<std::string>& args) {
    auto p = parse_import_args(args);
    if (!p.cmd)
        return emit(p);

    // A bad key file is refused before the kernel is asked anything.
    std::optional<Key> set_key;
    if (auto* add = std::get_if<ImportAdd>(&*p.cmd)) {
        if (!load_key(add->key_file, add->spec.key))
            return EXIT_USAGE;
    } else if (auto* set = std::get_if<ImportSet>(&*p.cmd)) {
        if (!load_key(set->key_file, set_key))
            return EXIT_USAGE;
        if (set->no_key)
            set_key.emplace(); // all zero bytes: no key
    }

    auto sock = open_dstor_or_report(p.command);
    if (!sock)
        return EXIT_FAIL;
    if (const auto* add = std::get_if<ImportAdd>(&*p.cmd))
        return run_add(*sock, p.command, *add);
    if (const auto* set = std::get_if<ImportSet>(&*p.cmd))
        return run_set(*sock, p.command, *set, set_key);
    return run_del(*sock, p.command, std::get<ImportDel>(*p.cmd));
}

} // namespace dstor
