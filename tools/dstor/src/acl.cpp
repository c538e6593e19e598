// dstor acl add|del|list: the access list of an export.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>

#include <iostream>

#include "attrs.hpp"
#include "commands.hpp"
#include "show.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

constexpr const char* prefix_forms =
    "PREFIX: 192.0.2.0/24, 2001:db8::/32, or an address alone (/32, /128); host bits\n"
    "must be zero. Once an export has an entry, peers that match none are refused;\n"
    "the longest matching prefix decides between ro and rw. Removing the last entry\n"
    "opens the export to every peer again.";

} // namespace

Parsed<AclCommand> parse_acl_args(const std::vector<std::string>& args) {
    CLI::App app("Manage the access lists of exports.", "dstor acl");
    app.require_subcommand(1);
    app.footer(prefix_forms);

    std::string add_name, add_prefix, add_perm;
    auto* add = app.add_subcommand(
        "add",
        "Admit peers in PREFIX to EXPORT read-only or read-write (replaces PREFIX's entry).");
    add->add_option("EXPORT", add_name, "Export name")->type_name("")->required();
    add->add_option("PREFIX", add_prefix, "Address prefix")->type_name("")->required();
    add->add_option("PERM", add_perm, "ro or rw")->type_name("")->required();
    add->footer(prefix_forms);

    std::string del_name, del_prefix;
    auto* del = app.add_subcommand("del", "Remove PREFIX's entry from EXPORT's access list.");
    del->add_option("EXPORT", del_name, "Export name")->type_name("")->required();
    del->add_option("PREFIX", del_prefix, "Address prefix, as it was added")
        ->type_name("")
        ->required();

    std::string list_name;
    bool json = false;
    auto* list = app.add_subcommand(
        "list", "Print EXPORT's access list: PREFIX PERM lines, longest prefix first.");
    list->add_option("EXPORT", list_name, "Export name")->type_name("")->required();
    list->add_flag("--json", json,
                   "Print {\"name\": EXPORT, \"acls\": [{\"prefix\": ..., \"perm\": ...}]}");

    auto p = parse_cli(app, "acl", args);
    if (!p.cmd)
        return carry<AclCommand>(std::move(p));

    Parsed<AclCommand> out;
    out.command = p.command;
    auto error = [&p](const std::string& text) {
        return Parsed<AclCommand>::usage_error(p.command, text);
    };
    if (add->parsed()) {
        if (auto bad = check_name(add_name))
            return error(*bad);
        auto prefix = parse_prefix(add_prefix);
        if (!prefix)
            return error(prefix.error().text());
        auto perm = parse_perm(add_perm);
        if (!perm)
            return error(perm.error().text());
        out.cmd = AclAdd{add_name, AclEntry{*prefix, *perm}};
    } else if (del->parsed()) {
        if (auto bad = check_name(del_name))
            return error(*bad);
        auto prefix = parse_prefix(del_prefix);
        if (!prefix)
            return error(prefix.error().text());
        out.cmd = AclDel{del_name, *prefix};
    } else {
        if (auto bad = check_name(list_name))
            return error(*bad);
        out.cmd = AclShow{list_name, json};
    }
    return out;
}

int run_acl(const std::vector<std::string>& args) {
    auto p = parse_acl_args(args);
    if (!p.cmd)
        return emit(p);

    auto sock = open_dstor_or_report(p.command);
    if (!sock)
        return EXIT_FAIL;

    if (const auto* show = std::get_if<AclShow>(&*p.cmd)) {
        nl::Message msg = sock->request(DSTOR_CMD_ACL_GET);
        put_acl_get(msg, show->name);
        auto r = transact_one(*sock, msg, parse_acl_list);
        if (!r) {
            report(p.command, r.error());
            return EXIT_FAIL;
        }
        const auto& list = *r;
        if (!list) {
            report(p.command, "the kernel's reply carries no access list");
            return EXIT_FAIL;
        }
        if (show->json) {
            nlohmann::ordered_json doc = nlohmann::ordered_json::object();
            doc["name"] = list->name.empty() ? show->name : list->name;
            doc["acls"] = acl_json(list->entries);
            std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                      << '\n';
        } else {
            std::cout << format_acl(list->entries);
        }
        return flush_stdout(p.command);
    }

    nl::Message msg = std::holds_alternative<AclAdd>(*p.cmd) ? sock->request(DSTOR_CMD_ACL_ADD)
                                                             : sock->request(DSTOR_CMD_ACL_DEL);
    if (const auto* add = std::get_if<AclAdd>(&*p.cmd))
        put_acl_add(msg, add->name, add->entry);
    else
        put_acl_del(msg, std::get<AclDel>(*p.cmd).name, std::get<AclDel>(*p.cmd).prefix);
    if (auto r = sock->transact(msg); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

} // namespace dstor
