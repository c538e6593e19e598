#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <algorithm>
#include <cerrno>
#include <iostream>

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

Result<std::vector<ExportInfo>> dump_exports(nl::Socket& sock) {
    std::vector<ExportInfo> exports;
    nl::Message msg = sock.dump(DSTOR_CMD_EXPORT_GET);
    auto r = sock.transact(msg, [&exports](const nlmsghdr* nlh) -> Result<void> {
        auto info = parse_export_info(nlh);
        if (!info)
            return info.error();
        exports.push_back(std::move(*info));
        return {};
    });
    if (!r)
        return r.error();
    return exports;
}

Result<std::vector<ImportInfo>> dump_imports(nl::Socket& sock) {
    std::vector<ImportInfo> imports;
    nl::Message msg = sock.dump(DSTOR_CMD_IMPORT_GET);
    auto r = sock.transact(msg, [&imports](const nlmsghdr* nlh) -> Result<void> {
        auto info = parse_import_info(nlh);
        if (!info)
            return info.error();
        imports.push_back(std::move(*info));
        return {};
    });
    if (!r)
        return r.error();
    return imports;
}

} // namespace dstor
