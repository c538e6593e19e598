// dstor import add|del: attach a peer's export as /dev/dstorN, and detach it.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <iostream>

#include "attrs.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace dstor {

Parsed<ImportCommand> parse_import_args(const std::vector<std::string>& args) {
    CLI::App app("Attach exports of other machines as /dev/dstorN.", "dstor import");
    app.require_subcommand(1);

    std::string name, peer, connections;
    bool read_only = false;
    auto* add = app.add_subcommand(
        "add", "Connect to the export NAME on ADDR[:PORT]; prints the new /dev/dstorN.");
    add->add_option("NAME", name, "The export's name on the peer")->type_name("")->required();
    add->add_option("--peer", peer, "The exporter's address (port 7420 when omitted)")
        ->type_name("ADDR[:PORT]")
        ->required();
    add->add_flag("--read-only", read_only, "Attach read-only");
    add->add_option("--connections", connections,
                    "TCP connections, one per hardware queue, 1 to " +
                        std::to_string(DSTOR_MAX_CONNECTIONS) +
                        " (default: the kernel's, min(CPUs, 4))")
        ->type_name("N");
    add->footer("ADDR[:PORT] is a numeric address: 192.0.2.1:7420, [2001:db8::1]:7420,\n"
                "[fe80::1%eth0]:7420, or without a port (7420): 192.0.2.1, 2001:db8::1.\n"
                "Host names are not resolved.");

    std::string target;
    auto* del = app.add_subcommand("del", "Detach an import; fails while the device is open.");
    del->add_option("TARGET", target, "/dev/dstorN or dstorN, or the export name")
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
        ImportSpec spec{name, *ep, read_only, 0};
        if (add->count("--connections") > 0) {
            auto n = parse_connections(connections);
            if (!n)
                return Parsed<ImportCommand>::usage_error(p.command, n.error().text());
            spec.connections = *n;
        }
        out.cmd = ImportAdd{spec};
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

int run_import(const std::vector<std::string>& args) {
    auto p = parse_import_args(args);
    if (!p.cmd)
        return emit(p);

    auto sock = open_dstor();
    if (!sock) {
        report(p.command, sock.error());
        return EXIT_FAIL;
    }

    if (const auto* add = std::get_if<ImportAdd>(&*p.cmd)) {
        nl::Message msg = sock->request(DSTOR_CMD_IMPORT_ADD);
        put_import_add(msg, add->spec);
        std::optional<std::uint32_t> index;
        auto r = sock->transact(msg, [&index](const nlmsghdr* nlh) -> Result<void> {
            auto i = parse_import_index(nlh);
            if (!i)
                return i.error();
            index = *i;
            return {};
        });
        if (!r) {
            report(p.command, r.error());
            return EXIT_FAIL;
        }
        if (!index) {
            report(p.command, "the kernel's reply names no device (no DSTOR_A_INDEX)");
            return EXIT_FAIL;
        }
        std::cout << "/dev/dstor" << *index << '\n';
        return EXIT_OK;
    }

    nl::Message msg = sock->request(DSTOR_CMD_IMPORT_DEL);
    put_import_del(msg, std::get<ImportDel>(*p.cmd).target);
    if (auto r = sock->transact(msg); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
