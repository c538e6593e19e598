// Plumbing shared by the verb files: argument parsing that never touches
// netlink (so tests can run it), printing its outcome, and opening the dstor
// family.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "model.hpp"
#include "netlink.hpp"

namespace CLI {
class App;
}

namespace dstor {

// What parsing one object's arguments produced: a command to run, or
// something to print (help on stdout with EXIT_OK, an error on stderr with
// EXIT_USAGE).
template <class T>
struct Parsed {
    std::optional<T> cmd;
    int exit_code = EXIT_OK;
    std::string command; // "export add": the prefix of error lines
    std::string output;  // help text, or the error without "dstor: <command>: "

    static Parsed usage_error(std::string command, std::string text) {
        return Parsed{std::nullopt, EXIT_USAGE, std::move(command), std::move(text)};
    }
};

// Parse `args` (the words after the object name) with `app`. On success cmd
// is true and command is the object and the selected verb ("export add"); on
// help or error, cmd is empty and exit_code and output say what to print.
Parsed<bool> parse_cli(CLI::App& app, const std::string& object,
                       const std::vector<std::string>& args);

// The help or error of a parse that produced no command, as a Parsed<T>.
template <class T>
Parsed<T> carry(Parsed<bool>&& p) {
    return Parsed<T>{std::nullopt, p.exit_code, std::move(p.command), std::move(p.output)};
}

// Open a generic netlink socket and resolve the "dstor" family. A missing
// family means the module is not loaded, and says so.
Result<nl::Socket> open_dstor();

// open_dstor(), or nothing after reporting why under `command`'s name.
std::optional<nl::Socket> open_dstor_or_report(const std::string& command);

// The kernel did not know the command: a module older than this dstor.
bool unsupported(const Error& e);

// Every export / import / sync the kernel lists (DSTOR_CMD_*_GET dumps). A
// module without syncs (EOPNOTSUPP) lists none.
Result<std::vector<ExportInfo>> dump_exports(nl::Socket& sock);
Result<std::vector<ImportInfo>> dump_imports(nl::Socket& sock);
Result<std::vector<SyncInfo>> dump_syncs(nl::Socket& sock);

// SIGINT and SIGTERM blocked and read from a signalfd polled next to other
// descriptors, so that no signal is lost between a check and a blocking call.
class SignalFd {
public:
    static Result<SignalFd> open();
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;
    SignalFd(SignalFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    SignalFd& operator=(SignalFd&&) = delete;
    ~SignalFd();

    int fd() const { return fd_; }
    // The pending signal's number (after poll said readable), or 0.
    int take() const;

private:
    explicit SignalFd(int fd) noexcept : fd_(fd) {}
    int fd_;
};

// Send `msg` and parse the one message of the answer with `parse`; nothing
// when the kernel only acknowledged.
template <class T>
Result<std::optional<T>> transact_one(nl::Socket& sock, nl::Message& msg,
                                      Result<T> (*parse)(const nlmsghdr*)) {
    std::optional<T> one;
    auto r = sock.transact(msg, [&one, parse](const nlmsghdr* nlh) -> Result<void> {
        auto v = parse(nlh);
        if (!v)
            return v.error();
        one = std::move(*v);
        return {};
    });
    if (!r)
        return r.error();
    return one;
}

// Flush standard output: EXIT_OK, or EXIT_FAIL after saying it failed.
int flush_stdout(const std::string& command);

// Print a usage error and return EXIT_USAGE.
int usage_error(const std::string& command, const std::string& text);

// Print the outcome of a parse that produced no command; returns the exit code.
int emit_text(int exit_code, const std::string& command, const std::string& output);

template <class T>
int emit(const Parsed<T>& p) {
    return emit_text(p.exit_code, p.command, p.output);
}

} // namespace dstor
