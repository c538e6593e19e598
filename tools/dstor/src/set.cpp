// dstor set crypto-workers|max-sessions|max-host-sessions N: module-wide
// settings (DSTOR_CMD_SET). `dstor show` prints their current values.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <array>

#include "attrs.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

// One verb of `dstor set`: a setting and its value N.
struct Setting {
    const char* name;
    std::string help;
    std::string value_help;
    Result<std::uint32_t> (*parse)(std::string_view text);
    std::optional<std::uint32_t> Settings::*field;
};

} // namespace

Parsed<SetCommand> parse_set_args(const std::vector<std::string>& args) {
    CLI::App app("Change module-wide settings; 'dstor show' prints them.", "dstor set");
    app.require_subcommand(1);

    const std::string sessions = "1 to " + std::to_string(DSTOR_MAX_SESSION_LIMIT);
    const std::array<Setting, 3> settings = {{
        {"crypto-workers",
         "How many records the crypto pool seals or opens at once, 1 to " +
             std::to_string(DSTOR_MAX_CRYPTO_WORKERS) + ".",
         "Number of workers", parse_crypto_workers, &Settings::crypto_workers},
        {"max-sessions",
         "The session limit of every export without one of its own (added without "
         "--max-sessions), " +
             sessions + " (default " + std::to_string(DSTOR_DEFAULT_MAX_SESSIONS) + ").",
         "Sessions per export",
         [](std::string_view text) { return parse_session_limit(text, "max-sessions"); },
         &Settings::max_sessions},
        {"max-host-sessions",
         "Sessions one peer address may hold on a listener, " + sessions + " (default " +
             std::to_string(DSTOR_DEFAULT_MAX_HOST_SESSIONS) + ").",
         "Sessions per peer address",
         [](std::string_view text) { return parse_session_limit(text, "max-host-sessions"); },
         &Settings::max_host_sessions},
    }};
    std::array<std::string, settings.size()> values;
    std::array<CLI::App*, settings.size()> verbs{};
    for (std::size_t i = 0; i < settings.size(); i++) {
        verbs[i] = app.add_subcommand(settings[i].name, settings[i].help);
        verbs[i]->add_option("N", values[i], settings[i].value_help)->type_name("")->required();
    }

    auto p = parse_cli(app, "set", args);
    if (!p.cmd)
        return carry<SetCommand>(std::move(p));

    Parsed<SetCommand> out;
    out.command = p.command;
    SetCommand cmd;
    for (std::size_t i = 0; i < settings.size(); i++) {
        if (!verbs[i]->parsed())
            continue;
        auto n = settings[i].parse(values[i]);
        if (!n)
            return Parsed<SetCommand>::usage_error(p.command, n.error().text());
        cmd.settings.*settings[i].field = *n;
    }
    out.cmd = cmd;
    return out;
}

int run_set(const std::vector<std::string>& args) {
    auto p = parse_set_args(args);
    if (!p.cmd)
        return emit(p);

    auto sock = open_dstor_or_report(p.command);
    if (!sock)
        return EXIT_FAIL;
    nl::Message msg = sock->request(DSTOR_CMD_SET);
    put_settings(msg, p.cmd->settings);
    if (auto r = sock->transact(msg); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
