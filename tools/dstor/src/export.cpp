// dstor export add|del: serve local block devices over TCP.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include "attrs.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

constexpr const char* address_forms =
    "ADDR[:PORT] is a numeric address: 192.0.2.1:7420, [2001:db8::1]:7420,\n"
    "[fe80::1%eth0]:7420, or without a port (7420): 0.0.0.0, ::, 2001:db8::1.\n"
    "Host names are not resolved.";

} // namespace

Parsed<ExportCommand> parse_export_args(const std::vector<std::string>& args) {
    CLI::App app("Serve local block devices over TCP.", "dstor export");
    app.require_subcommand(1);
    app.footer(address_forms);

    std::string name, device, listen;
    bool read_only = false;
    auto* add = app.add_subcommand("add", "Serve the block device PATH as NAME on ADDR[:PORT].");
    add->add_option("NAME", name, "Export name: 1 to 63 of A-Z a-z 0-9 . _ -")
        ->type_name("")
        ->required();
    add->add_option("--device", device, "Block device to serve")->type_name("PATH")->required();
    add->add_option("--listen", listen,
                    "Address to listen on; exports on one address share a listener")
        ->type_name("ADDR[:PORT]")
        ->required();
    add->add_flag("--read-only", read_only, "Refuse writes from every importer");
    add->footer(std::string(address_forms) +
                "\n--listen has no default: a storage server listens only where it is told to.");

    std::string del_name;
    auto* del = app.add_subcommand("del", "Stop serving NAME; importers are disconnected.");
    del->add_option("NAME", del_name, "Export name")->type_name("")->required();

    auto p = parse_cli(app, "export", args);
    if (!p.cmd)
        return carry<ExportCommand>(std::move(p));

    Parsed<ExportCommand> out;
    out.command = p.command;
    if (add->parsed()) {
        if (auto bad = check_name(name))
            return Parsed<ExportCommand>::usage_error(p.command, *bad);
        auto ep = parse_endpoint(listen);
        if (!ep)
            return Parsed<ExportCommand>::usage_error(p.command, "--listen '" + listen +
                                                                     "': " + ep.error().text());
        if (device.empty())
            return Parsed<ExportCommand>::usage_error(p.command, "--device is empty");
        out.cmd = ExportAdd{ExportSpec{name, device, *ep, read_only}};
    } else {
        if (auto bad = check_name(del_name))
            return Parsed<ExportCommand>::usage_error(p.command, *bad);
        out.cmd = ExportDel{del_name};
    }
    return out;
}

int run_export(const std::vector<std::string>& args) {
    auto p = parse_export_args(args);
    if (!p.cmd)
        return emit(p);

    if (auto* add = std::get_if<ExportAdd>(&*p.cmd)) {
        auto device = check_device(add->spec.device);
        if (!device)
            return usage_error(p.command, device.error().text());
        add->spec.device = *device;
    }

    auto sock = open_dstor();
    if (!sock) {
        report(p.command, sock.error());
        return EXIT_FAIL;
    }
    nl::Message msg = std::holds_alternative<ExportAdd>(*p.cmd)
                          ? sock->request(DSTOR_CMD_EXPORT_ADD)
                          : sock->request(DSTOR_CMD_EXPORT_DEL);
    if (const auto* add = std::get_if<ExportAdd>(&*p.cmd))
        put_export_add(msg, add->spec);
    else
        put_export_del(msg, std::get<ExportDel>(*p.cmd).name);

    if (auto r = sock->transact(msg); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
