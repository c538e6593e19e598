#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <iostream>
#include <utility>

#include "attrs.hpp"

namespace dstor {

Parsed<bool> parse_cli(CLI::App& app, const std::string& object,
                       const std::vector<std::string>& args) {
    Parsed<bool> p;
    p.command = object;
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    auto verb_path = [&] {
        std::string path = object;
        for (const CLI::App* sub = &app;;) {
            auto subs = sub->get_subcommands();
            if (subs.empty())
                break;
            sub = subs.front();
            path += " " + sub->get_name();
        }
        return path;
    };
    // Verbs (CLI11 subcommands): name a missing or unknown one plainly.
    auto verbs = app.get_subcommands(std::function<bool(CLI::App*)>{});
    const bool help = !args.empty() && (args.front() == "-h" || args.front() == "--help");
    if (!verbs.empty() && !help) {
        std::string names;
        bool known = false;
        for (std::size_t i = 0; i < verbs.size(); i++) {
            const char* sep = i == 0 ? "" : i + 1 == verbs.size() ? " or " : ", ";
            names += sep + verbs[i]->get_name();
            known = known || (!args.empty() && args.front() == verbs[i]->get_name());
        }
        if (!known) {
            p.exit_code = EXIT_USAGE;
            p.output = (args.empty() ? "missing verb" : "unknown verb '" + args.front() + "'") +
                       std::string(": expected ") + names + " (see 'dstor " + object + " --help')";
            return p;
        }
    }
    try {
        app.parse(std::move(reversed));
        p.command = verb_path();
        p.cmd = true;
    } catch (const CLI::CallForHelp&) {
        p.exit_code = EXIT_OK;
        p.output = app.help();
    } catch (const CLI::ParseError& e) {
        p.command = verb_path();
        p.exit_code = EXIT_USAGE;
        std::string help_cmd = "dstor " + p.command + " --help";
        p.output = std::string(e.what()) + " (see '" + help_cmd + "')";
    }
    return p;
}

int emit_text(int exit_code, const std::string& command, const std::string& output) {
    if (exit_code == EXIT_OK) {
        std::cout << output;
        if (!output.empty() && output.back() != '\n')
            std::cout << '\n';
    } else {
        report(command, output);
    }
    return exit_code;
}

int flush_stdout(const std::string& command) {
    std::cout.flush();
    if (!std::cout) {
        report(command, "cannot write to standard output");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int usage_error(const std::string& command, const std::string& text) {
    report(command, text);
    return EXIT_USAGE;
}

Result<nl::Socket> open_dstor() {
    auto sock = nl::Socket::open_family(DSTOR_GENL_NAME, DSTOR_GENL_VERSION);
    if (!sock && sock.error().err == ENOENT && sock.error().from_kernel)
        return Error::user("dstor kernel module is not loaded (try: modprobe dstor)");
    return sock;
}

std::optional<nl::Socket> open_dstor_or_report(const std::string& command) {
    auto sock = open_dstor();
    if (!sock) {
        report(command, sock.error());
        return std::nullopt;
    }
    return std::move(*sock);
}

namespace {

// Every object a DSTOR_CMD_*_GET dump lists, parsed by `parse`.
template <class T>
Result<std::vector<T>> dump_all(nl::Socket& sock, std::uint8_t cmd,
                                Result<T> (*parse)(const nlmsghdr*)) {
    std::vector<T> all;
    nl::Message msg = sock.dump(cmd);
    auto r = sock.transact(msg, [&all, parse](const nlmsghdr* nlh) -> Result<void> {
        auto info = parse(nlh);
        if (!info)
            return info.error();
        all.push_back(std::move(*info));
        return {};
    });
    if (!r)
        return r.error();
    return all;
}

} // namespace

bool unsupported(const Error& e) {
    return e.from_kernel && e.err == EOPNOTSUPP;
}

Result<std::vector<ExportInfo>> dump_exports(nl::Socket& sock) {
    return dump_all<ExportInfo>(sock, DSTOR_CMD_EXPORT_GET, parse_export_info);
}

Result<std::vector<ImportInfo>> dump_imports(nl::Socket& sock) {
    return dump_all<ImportInfo>(sock, DSTOR_CMD_IMPORT_GET, parse_import_info);
}

Result<std::vector<SyncInfo>> dump_syncs(nl::Socket& sock) {
    auto syncs = dump_all<SyncInfo>(sock, DSTOR_CMD_SYNC_GET, parse_sync_info);
    if (!syncs && unsupported(syncs.error()))
        return std::vector<SyncInfo>{};
    return syncs;
}

Result<SignalFd> SignalFd::open() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0)
        return Error::sys(errno, "sigprocmask");
    const int fd = signalfd(-1, &signals, SFD_CLOEXEC);
    if (fd < 0)
        return Error::sys(errno, "signalfd");
    return SignalFd(fd);
}

SignalFd::~SignalFd() {
    if (fd_ >= 0)
        close(fd_);
}

int SignalFd::take() const {
    signalfd_siginfo info{};
    if (read(fd_, &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info)))
        return 0;
    return static_cast<int>(info.ssi_signo);
}

} // namespace dstor
