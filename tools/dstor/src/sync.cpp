// dstor sync NAME|del|list: bring a local block device up to date with an
// export served by multicast (Documentation/multicast.md) or over TCP
// (--peer, Documentation/reconciliation.md), remove a sync, list them.
// `--wait` follows the sync to its end with a progress bar.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <utility>

#include "attrs.hpp"
#include "commands.hpp"
#include "fd.hpp"
#include "plan.hpp"
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
    "--mcast IFACE receives the export by multicast on that link; --peer ADDR[:PORT]\n"
    "reconciles with the exporter over TCP (the export needs 'export add --tree'): only\n"
    "the parts of the merkle trees that differ are compared, only differing blocks travel.\n"
    "Both: multicast carries the runs of stale blocks, and the exporter's TCP listener\n"
    "(the export added with --mcast and --listen) the scattered blocks and whatever the\n"
    "carousel went past without completing: no second carousel round is waited for.\n"
    "--every DURATION (with --peer) keeps the sync after its first round: it holds the\n"
    "target and its tree and runs a round each interval, fetching only what changed on\n"
    "either side; a failed round is reported ('dstor monitor': sync-failed) and retried\n"
    "with backoff. --scrub DURATION re-reads the whole target at that interval to find\n"
    "blocks changed behind the sync's back, and repairs them. With --every, --wait exits\n"
    "after the first round and leaves the sync running.\n"
    "--root pins the tree: only an announcement of that merkle root (the 64 hex digits\n"
    "'dstor show' prints on the exporter) is taken. An export without a key should be\n"
    "synced with --root: otherwise anyone on the link can announce a tree of their own.\n"
    "--seed (repeatable) names a local block device or file holding an older version, an\n"
    "A/B update's other slot for example: before anything is fetched, it is read a block\n"
    "of the export at a time, and every stale block found there is copied from it, verified\n"
    "like every other block. A seed is opened read-only; one mounted read-write is refused.\n"
    "Seeds need --key or --root (else the tree announced could probe the seeds' content).\n"
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
    CLI::App app("Bring a local block device up to date with an export, by multicast or "
                 "over TCP.",
                 "dstor sync");
    std::string name, iface, peer, target, key_file, root, every, scrub;
    bool wait = false, json = false;
    std::vector<std::string> seeds;
    app.add_option("NAME", name, "The export's name")->type_name("")->required();
    app.add_option("--mcast", iface, "The interface the export is served on by multicast")
        ->type_name("IFACE");
    app.add_option("--peer", peer,
                   "The exporter to reconcile with over TCP (an export added with --tree)")
        ->type_name("ADDR[:PORT]");
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
    app.add_option("--seed", seeds,
                   "A block device or file to copy blocks from before fetching (repeatable, "
                   "at most " + std::to_string(DSTOR_SYNC_MAX_SEEDS) + ")")
        ->type_name("PATH")
        ->allow_extra_args(false);
    app.add_option("--every", every,
                   "With --peer: keep the sync and run a round each interval (10s at least; "
                   "s, m, h or d)")
        ->type_name("DURATION");
    app.add_option("--scrub", scrub,
                   "With --every: re-read and re-hash the whole target at this interval to "
                   "find and repair silent corruption")
        ->type_name("DURATION");
    app.add_flag("--json", json, "With --wait: print the summary as a JSON object");
    app.footer(sync_footer);

    auto p = parse_cli(app, "sync", args);
    if (!p.cmd)
        return carry<SyncCommand>(std::move(p));
    auto error = [&p](const std::string& text) {
        return Parsed<SyncCommand>::usage_error(p.command, text);
    };
    if (auto bad = check_name(name))
        return error(*bad);
    const bool by_peer = app.count("--peer") > 0, by_mcast = app.count("--mcast") > 0;
    if (!by_peer && !by_mcast)
        return error("give --mcast IFACE, --peer ADDR[:PORT], or both (multicast repaired "
                     "over TCP)");
    std::optional<Endpoint> ep;
    if (by_mcast && (app.count("--every") > 0 || app.count("--scrub") > 0))
        return error("--every and --scrub go with --peer alone (periodic rounds are over TCP)");
    std::uint32_t every_s = 0, scrub_s = 0;
    if (app.count("--every") > 0) {
        auto n = parse_interval(every, "--every");
        if (!n)
            return error(n.error().text());
        every_s = *n;
    }
    if (app.count("--scrub") > 0) {
        if (!every_s)
            return error("--scrub goes with --every (a scrub runs as part of a round)");
        auto n = parse_interval(scrub, "--scrub");
        if (!n)
            return error(n.error().text());
        if (*n < every_s)
            return error("--scrub " + scrub + " is shorter than --every " + every +
                         ": a scrub runs as part of a round");
        scrub_s = *n;
    }
    if (by_peer) {
        auto e = parse_endpoint(peer);
        if (!e)
            return error("--peer '" + peer + "': " + e.error().text());
        ep = *e;
    }
    if (by_mcast) {
        if (auto bad = check_interface_name(iface))
            return error("--mcast: " + *bad);
    }
    if (target.empty())
        return error("--target is empty");
    if (json && !wait)
        return error("--json goes with --wait (it formats the summary)");
    if (seeds.size() > DSTOR_SYNC_MAX_SEEDS)
        return error("at most " + std::to_string(DSTOR_SYNC_MAX_SEEDS) + " seeds");
    for (const auto& seed : seeds)
        if (seed.empty())
            return error("--seed is empty");
    if (!seeds.empty() && app.count("--key") == 0 && app.count("--root") == 0)
        return error("--seed needs --key or --root: without either, anyone on the link could "
                     "announce a tree of guessed blocks and learn which ones the seeds hold");
    SyncAdd cmd{SyncSpec{name, target, iface, 0, std::nullopt, std::nullopt, ep, every_s, scrub_s},
                std::nullopt, wait, json, seeds};
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

// Open the seed `path` read-only, refusing what cannot serve as one: not a
// block device or file, smaller than the smallest block, the target
// (`target`, stat'ed) itself, or mounted read-write (its blocks may change
// while they are read).
Result<Fd> open_seed(const std::string& path, const struct stat& target) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0)
        return Error::sys(errno, "cannot open " + path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return Error::sys(errno, path);
    if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
        return Error::user(path + ": not a block device or regular file");
    if (S_ISBLK(st.st_mode) && st.st_rdev == target.st_rdev)
        return Error::user(path + " is the target itself");
    auto size = image_size(fd.get(), path);
    if (!size)
        return size.error();
    if (*size < DSTOR_MC_MIN_BLOCK)
        return Error::user(path + " has " + std::to_string(*size) +
                           " bytes, too few for a block (" +
                           std::to_string(DSTOR_MC_MIN_BLOCK) + " at least)");
    if (S_ISBLK(st.st_mode)) {
        const std::string devnum =
            std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
        auto points = mount_points(read_text("/proc/self/mountinfo"), {devnum}, true);
        if (!points.empty())
            return Error::user(path + " is mounted read-write on " + points.front() +
                               ": its blocks may change while they are read (remount it "
                               "read-only, or use a snapshot)");
    }
    return fd;
}

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
int follow(nl::Socket& sock, const std::string& command, SyncInfo info, const SignalFd& signals,
           bool json) {
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
    io.json = json;
    io.err = &std::cerr;
    io.tty = isatty(STDERR_FILENO) == 1;
    io.width = io.tty ? terminal_width() : 80;
    return follow_sync(command, std::move(info), io);
}

int run_add(const std::string& command, SyncAdd& add) {
    // Local checks first: a bad interface, target or key file is refused
    // before the kernel is asked anything.
    if (!add.spec.interface.empty()) {
        auto ifindex = resolve_interface(add.spec.interface);
        if (!ifindex)
            return usage_error(command, "--mcast: " + ifindex.error().text());
        add.spec.ifindex = *ifindex;
    }
    auto device = check_device(add.spec.device);
    if (!device)
        return usage_error(command, "--target: " + device.error().text());
    add.spec.device = *device;
    if (!load_key(add.key_file, add.spec.key))
        return EXIT_USAGE;
    std::vector<Fd> seeds;
    if (!add.seeds.empty()) {
        struct stat target {};
        if (::stat(add.spec.device.c_str(), &target) != 0)
            return usage_error(command, "--target: " + Error::sys(errno, add.spec.device).text());
        for (const auto& path : add.seeds) {
            auto fd = open_seed(path, target);
            if (!fd)
                return usage_error(command, "--seed: " + fd.error().text());
            seeds.push_back(std::move(*fd));
        }
    }

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
    if (!seeds.empty()) {
        auto nest = msg.nest(DSTOR_A_SEEDS);
        for (const auto& fd : seeds)
            msg.put_u32(DSTOR_A_SEED_FD, static_cast<std::uint32_t>(fd.get()));
    }
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
    return follow(*sock, command, std::move(**info), *signals, add.json);
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
