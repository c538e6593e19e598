// The one place that maps the data model to dstor netlink attributes and
// back. Attribute ids come only from <linux/dstor.h>.
#pragma once

#include <linux/netlink.h>

#include "error.hpp"
#include "model.hpp"
#include "netlink.hpp"

namespace dstor {

// DSTOR_A_ENDPOINT_* inside the nest `type` (DSTOR_A_LISTEN or DSTOR_A_PEER).
void put_endpoint(nl::Message& msg, std::uint16_t type, const Endpoint& ep);

// Requests. `msg` is a fresh request of the matching DSTOR_CMD_*.
void put_export_add(nl::Message& msg, const ExportSpec& spec);
void put_export_del(nl::Message& msg, const std::string& name);
void put_import_add(nl::Message& msg, const ImportSpec& spec);
void put_import_del(nl::Message& msg, const ImportRef& ref);
// DSTOR_CMD_IMPORT_SET: DSTOR_A_INDEX and the timers that are set.
void put_import_set(nl::Message& msg, std::uint32_t index, const Timers& timers);
// DSTOR_CMD_IMPORT_GET "do": DSTOR_A_INDEX.
void put_import_get(nl::Message& msg, std::uint32_t index);

// Replies: one genl message of DSTOR_CMD_EXPORT_GET / DSTOR_CMD_IMPORT_GET.
// Unknown attributes are ignored; known ones with a wrong length are errors.
Result<Endpoint> parse_endpoint_attr(const nlattr* nest);
Result<ExportInfo> parse_export_info(const nlmsghdr* nlh);
Result<ImportInfo> parse_import_info(const nlmsghdr* nlh);
// Only DSTOR_A_INDEX, from the reply of DSTOR_CMD_IMPORT_ADD.
Result<std::optional<std::uint32_t>> parse_import_index(const nlmsghdr* nlh);
// One DSTOR_CMD_EVENT notification; DSTOR_A_EVENT is required.
Result<ImportEvent> parse_import_event(const nlmsghdr* nlh);

} // namespace dstor
