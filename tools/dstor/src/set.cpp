// dstor set crypto-workers N: module-wide settings (DSTOR_CMD_SET). `dstor
// show` prints their current values.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include "attrs.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace dstor {

Parsed<SetCommand> parse_set_args(const std::vector<std::string>& args) {
    CLI::App app("Change module-wide settings; 'dstor show' prints them.", "dstor set");
    app.require_subcommand(1);

    std::string workers;
    auto* cw = app.add_subcommand("crypto-workers",
                                  "How many records the crypto pool seals or opens at once, 1 to " +
                                      std::to_string(DSTOR_MAX_CRYPTO_WORKERS) + ".");
    cw->add_option("N", workers, "Number of workers")->type_name("")->required();

    auto p = parse_cli(app, "set", args);
    if (!p.cmd)
        return carry<SetCommand>(std::move(p));

    Parsed<SetCommand> out;
    out.command = p.command;
    SetCommand cmd;
    if (cw->parsed()) {
        auto n = parse_crypto_workers(workers);
        if (!n)
            return Parsed<SetCommand>::usage_error(p.command, n.error().text());
        cmd.settings.crypto_workers = *n;
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
