// The one place that maps the data model to dstor netlink attributes and
// back. Attribute ids come only from <linux/dstor.h>.
#pragma once

#include <linux/netlink.h>

#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "model.hpp"
#include "netlink.hpp"

namespace dstor {

// DSTOR_A_ENDPOINT_* inside the nest `type` (DSTOR_A_LISTEN or DSTOR_A_PEER).
void put_endpoint(nl::Message& msg, std::uint16_t type, const Endpoint& ep);

// One nest `type` (DSTOR_A_ACL) of DSTOR_A_ACL_*: the address, the prefix
// length and, when given, the permission.
void put_acl(nl::Message& msg, std::uint16_t type, const Prefix& prefix,
             std::optional<std::uint32_t> perm);

// DSTOR_A_MCAST of an export: the interface, and the rate, block size and
// querier flag that are set.
void put_mcast(nl::Message& msg, const McastSpec& mcast);

// Requests. `msg` is a fresh request of the matching DSTOR_CMD_*.
// DSTOR_CMD_EXPORT_ADD: DSTOR_A_LISTEN when set, DSTOR_A_KEY when a key is
// set, the access list as DSTOR_A_ACLS (a nested array of DSTOR_A_ACL) when
// not empty, DSTOR_A_MCAST for a multicast export, and DSTOR_A_UUID and
// DSTOR_A_MAX_SESSIONS when set.
void put_export_add(nl::Message& msg, const ExportSpec& spec);
// DSTOR_CMD_SYNC_ADD: DSTOR_A_NAME, DSTOR_A_DEVICE, DSTOR_A_MCAST with only
// DSTOR_A_MCAST_IFINDEX, and DSTOR_A_KEY when a key is set.
void put_sync_add(nl::Message& msg, const SyncSpec& spec);
// DSTOR_CMD_SYNC_DEL and DSTOR_CMD_SYNC_GET "do": DSTOR_A_INDEX.
void put_sync_index(nl::Message& msg, std::uint32_t index);
// DSTOR_CMD_EXPORT_DEL and DSTOR_CMD_EXPORT_REHASH: DSTOR_A_NAME.
void put_export_name(nl::Message& msg, const std::string& name);
// DSTOR_CMD_EXPORT_SET: DSTOR_A_NAME and DSTOR_A_KEY (all zero: remove the key).
void put_export_set(nl::Message& msg, const std::string& name, const Key& key);
void put_import_add(nl::Message& msg, const ImportSpec& spec);
void put_import_del(nl::Message& msg, const ImportRef& ref);
// DSTOR_CMD_IMPORT_SET: DSTOR_A_INDEX, the timers that are set, and
// DSTOR_A_KEY when `key` is not null.
void put_import_set(nl::Message& msg, std::uint32_t index, const Timers& timers,
                    const Key* key = nullptr);
// DSTOR_CMD_ACL_ADD, DSTOR_CMD_ACL_DEL (no permission), DSTOR_CMD_ACL_GET.
void put_acl_add(nl::Message& msg, const std::string& export_name, const AclEntry& entry);
void put_acl_del(nl::Message& msg, const std::string& export_name, const Prefix& prefix);
void put_acl_get(nl::Message& msg, const std::string& export_name);
// DSTOR_CMD_SET: the settings that are set.
void put_settings(nl::Message& msg, const Settings& settings);
// DSTOR_CMD_IMPORT_GET "do": DSTOR_A_INDEX.
void put_import_get(nl::Message& msg, std::uint32_t index);

// Replies: one genl message of DSTOR_CMD_EXPORT_GET / DSTOR_CMD_IMPORT_GET /
// DSTOR_CMD_SYNC_GET.
// Unknown attributes are ignored; known ones with a wrong length are errors.
Result<Endpoint> parse_endpoint_attr(const nlattr* nest);
Result<ExportInfo> parse_export_info(const nlmsghdr* nlh);
Result<ImportInfo> parse_import_info(const nlmsghdr* nlh);
// One message of DSTOR_CMD_SYNC_GET, or the reply of DSTOR_CMD_SYNC_ADD.
Result<SyncInfo> parse_sync_info(const nlmsghdr* nlh);
// Only DSTOR_A_INDEX, from the reply of DSTOR_CMD_IMPORT_ADD.
Result<std::optional<std::uint32_t>> parse_import_index(const nlmsghdr* nlh);
// One DSTOR_CMD_EVENT notification; DSTOR_A_EVENT is required.
Result<ImportEvent> parse_import_event(const nlmsghdr* nlh);
// The entries of a DSTOR_A_ACLS nest, in the kernel's order.
Result<std::vector<AclEntry>> parse_acls_attr(const nlattr* nest);
// The reply of DSTOR_CMD_ACL_GET: DSTOR_A_NAME and DSTOR_A_ACLS.
Result<AclList> parse_acl_list(const nlmsghdr* nlh);
// The reply of DSTOR_CMD_GET.
Result<ModuleInfo> parse_module_info(const nlmsghdr* nlh);

} // namespace dstor
