// dstor sync NAME|del|list: bring a local block device up to date with an
// export served by multicast (Documentation/multicast.md), remove a sync,
// list them. `--wait` follows the sync to its end with a progress bar.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <utility>

#include "attrs.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "show.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

constexpr const char* sync_footer =
    "The target is opened exclusively and must be at least as large as the export; only\n"
    "the blocks that differ are fetched, and every block is checked against the export's\n"
    "merkle tree before it is written. Without --wait, dstor prints the sync's index and\n"
    "returns while the kernel carries on ('dstor show' follows it, 'dstor sync del INDEX'\n"
    "stops it). With --wait it shows the progress (a bar on a terminal, a line every 2 s\n"
    "otherwise, on stderr), prints a summary when the target's merkle root equals the\n"
    "export's and exits 0, or exits 1 when the sync fails; either way, and on SIGINT (130)\n"
    "or SIGTERM (143), it removes the sync.\n"
    "--root pins the tree: only an announcement of that merkle root (the 64 hex digits\n"
    "'dstor show' prints on the exporter) is taken. An export without a key should be\n"
    "synced with --root: otherwise anyone on the link can announce a tree of their own.\n"
    "Also: dstor sync del INDEX; dstor sync list [--json].\n"
    "An export named del or list: put an option first (dstor sync --mcast eth0 ... list).";

// 64 hex digits, either case.
std::optional<McastRoot> parse_root(const std::string& text) {
    McastRoot root{};
    if (!parse_hex(text, root))
        return std::nullopt;
    return root;
}

Parsed<SyncCommand> parse_add(const std::vector<std::string>& args) {
    CLI::App app("Bring a local block device up to date with an export served by multicast.",
                 "dstor sync");
    std::string name, iface, target, key_file, root;
    bool wait = false;
    app.add_option("NAME", name, "The export's name")->type_name("")->required();
    app.add_option("--mcast", iface, "The interface the export is served on")
        ->type_name("IFACE")
        ->required();
    app.add_option("--target", target, "The block device to bring up to date")
        ->type_name("DEV")
        ->required();
    app.add_option("--key", key_file, "The export's pre-shared key file, when it has a key")
        ->type_name("FILE");
    app.add_option("--root", root,
                   "Take only the tree with this merkle root (64 hex digits, from 'dstor show' "
                   "on the exporter)")
        ->type_name("HEX");
    app.add_flag("--wait", wait,
                 "Follow the sync to its end with a progress bar; exit 0 only when the target "
                 "equals the export");
    app.footer(sync_footer);

    auto p = parse_cli(app, "sync", args);
    if (!p.cmd)
        return carry<SyncCommand>(std::move(p));
    auto error = [&p](const std::string& text) {
        return Parsed<SyncCommand>::usage_error(p.command, text);
    };
    if (auto bad = check_name(name))
        return error(*bad);
    if (auto bad = check_interface_name(iface))
        return error("--mcast: " + *bad);
    if (target.empty())
        return error("--target is empty");
    SyncAdd cmd{SyncSpec{name, target, iface, 0, std::nullopt, std::nullopt}, std::nullopt, wait};
    if (app.count("--key") > 0) {
        if (key_file.empty())
            return error("--key is empty");
        cmd.key_file = key_file;
    }
    if (app.count("--root") > 0) {
        cmd.spec.root = parse_root(root);
        if (!cmd.spec.root)
            return error("--root: '" + root + "' is not a merkle root (64 hex digits)");
    }
    Parsed<SyncCommand> out;
    out.command = p.command;
    out.cmd = std::move(cmd);
    return out;
}

Parsed<SyncCommand> parse_verbs(const std::vector<std::string>& args) {
    CLI::App app("Remove or list syncs.", "dstor sync");
    app.require_subcommand(1);
    std::string index;
    auto* del = app.add_subcommand(
        "del", "Stop the sync INDEX and forget it; blocks written so far stay written.");
    del->add_option("INDEX", index, "The sync's index, as 'dstor sync' printed it")
        ->type_name("")
        ->required();
    bool json = false;
    auto* list = app.add_subcommand("list", "List the syncs with their progress.");
    list->add_flag("--json", json,
                   "Print a JSON array of the objects of \"syncs\" in 'dstor show --json'");

    auto p = parse_cli(app, "sync", args);
    if (!p.cmd)
        return carry<SyncCommand>(std::move(p));
    Parsed<SyncCommand> out;
    out.command = p.command;
    if (del->parsed()) {
        auto n = parse_index(index);
        if (!n)
            return Parsed<SyncCommand>::usage_error(
                p.command, "'" + index +
                               "' is not a sync index (a number, as 'dstor sync' "
                               "printed it; see 'dstor sync list')");
        out.cmd = SyncDel{*n};
    } else if (list->parsed()) {
        out.cmd = SyncList{json};
    }
    return out;
}

// ---- running --------------------------------------------------------------

Result<SyncInfo> get_sync(nl::Socket& sock, std::uint32_t index) {
    nl::Message msg = sock.request(DSTOR_CMD_SYNC_GET);
    put_sync_index(msg, index);
    auto info = transact_one(sock, msg, parse_sync_info);
    if (!info)
        return info.error();
    if (!*info)
        return Error::user("the kernel's reply carries no sync");
    return std::move(**info);
}

// SYNC_DEL; a sync that is gone already is fine.
Result<void> remove_sync(nl::Socket& sock, std::uint32_t index) {
    nl::Message msg = sock.request(DSTOR_CMD_SYNC_DEL);
    put_sync_index(msg, index);
    auto r = sock.transact(msg);
    if (!r && !(r.error().from_kernel && r.error().err == ENOENT))
        return r.error();
    return {};
}

// The width of the terminal on stderr, or 80.
std::size_t terminal_width() {
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

// --wait: follow the sync `info` over `sock` until it ends or a signal
// arrives on `signals`.
int follow(nl::Socket& sock, const std::string& command, SyncInfo info, const SignalFd& signals) {
    const std::uint32_t index = *info.index;
    const auto start = std::chrono::steady_clock::now();
    SyncFollower io;
    io.get = [&sock, index] { return get_sync(sock, index); };
    io.remove = [&sock, index] { return remove_sync(sock, index); };
    io.wait = [&signals](int ms) -> Result<int> {
        pollfd pfd{signals.fd(), POLLIN, 0};
        const int n = poll(&pfd, 1, ms);
        if (n < 0)
            return errno == EINTR ? 0 : Result<int>(Error::sys(errno, "poll"));
        if (n == 0)
            return 0;
        const int sig = signals.take();
        return sig > 0 ? sig : SIGTERM;
    };
    io.now = [start] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    io.out = &std::cout;
    io.err = &std::cerr;
    io.tty = isatty(STDERR_FILENO) == 1;
    io.width = io.tty ? terminal_width() : 80;
    return follow_sync(command, std::move(info), io);
}

int run_add(const std::string& command, SyncAdd& add) {
    // Local checks first: a bad interface, target or key file is refused
    // before the kernel is asked anything.
    auto ifindex = resolve_interface(add.spec.interface);
    if (!ifindex)
        return usage_error(command, "--mcast: " + ifindex.error().text());
    add.spec.ifindex = *ifindex;
    auto device = check_device(add.spec.device);
    if (!device)
        return usage_error(command, "--target: " + device.error().text());
    add.spec.device = *device;
    if (!load_key(add.key_file, add.spec.key))
        return EXIT_USAGE;

    // Signals are caught from here on, so that a sync made for --wait is
    // never left behind by a SIGINT during SYNC_ADD.
    std::optional<SignalFd> signals;
    if (add.wait) {
        auto s = SignalFd::open();
        if (!s) {
            report(command, s.error());
            return EXIT_FAIL;
        }
        signals.emplace(std::move(*s));
    }
    auto sock = open_dstor_or_report(command);
    if (!sock)
        return EXIT_FAIL;
    nl::Message msg = sock->request(DSTOR_CMD_SYNC_ADD);
    put_sync_add(msg, add.spec);
    auto info = transact_one(*sock, msg, parse_sync_info);
    if (!info) {
        report(command, info.error());
        return EXIT_FAIL;
    }
    if (!*info || !(*info)->index) {
        report(command, "the kernel's reply names no sync (no DSTOR_A_INDEX)");
        return EXIT_FAIL;
    }
    if (!add.wait) {
        std::cout << *(*info)->index << '\n';
        return flush_stdout(command);
    }
    return follow(*sock, command, std::move(**info), *signals);
}

int run_list(nl::Socket& sock, const std::string& command, const SyncList& list) {
    auto syncs = dump_syncs(sock);
    if (!syncs) {
        report(command, syncs.error());
        return EXIT_FAIL;
    }
    std::vector<ExportInfo> none;
    name_interfaces(none, *syncs);
    if (list.json)
        std::cout << show_json({}, {}, *syncs)["syncs"].dump(
                         2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << '\n';
    else
        std::cout << format_show({}, {}, *syncs);
    return flush_stdout(command);
}

} // namespace

Parsed<SyncCommand> parse_sync_args(const std::vector<std::string>& args) {
    // `del` and `list` are verbs; any other first word is the add form's
    // NAME or an option.
    if (!args.empty() && (args.front() == "del" || args.front() == "list"))
        return parse_verbs(args);
    return parse_add(args);
}

int run_sync(const std::vector<std::string>& args) {
    auto p = parse_sync_args(args);
    if (!p.cmd)
        return emit(p);
    if (auto* add = std::get_if<SyncAdd>(&*p.cmd))
        return run_add(p.command, *add);

    auto sock = open_dstor_or_report(p.command);
    if (!sock)
        return EXIT_FAIL;
    if (const auto* list = std::get_if<SyncList>(&*p.cmd))
        return run_list(*sock, p.command, *list);
    nl::Message msg = sock->request(DSTOR_CMD_SYNC_DEL);
    put_sync_index(msg, std::get<SyncDel>(*p.cmd).index);
    if (auto r = sock->transact(msg); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
