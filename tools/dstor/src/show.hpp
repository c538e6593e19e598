// dstor show: the text and JSON views of exports and imports (exposed for tests).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace dstor {

// "512 B", "4.00 KiB", "1.50 GiB".
std::string human_bytes(std::uint64_t bytes);

// "connected", "reconnecting", "failed", "deleting", or "unknown".
std::string state_name(std::optional<std::uint32_t> state);

// "ro", "rw", or "perm-N".
std::string perm_name(std::uint32_t perm);

// "aes-gcm", "chacha20-poly1305", "none", or "cipher-N".
std::string cipher_name(std::uint32_t cipher);

// An access list in the order it is printed: longest prefix first (the one
// that decides), then IPv4 before IPv6, then by address.
std::vector<AclEntry> sort_acl(std::vector<AclEntry> entries);

// `dstor acl list`: one "PREFIX PERM" line per entry, longest prefix first.
std::string format_acl(const std::vector<AclEntry>& entries);

// [{"prefix": "192.0.2.0/24", "perm": "ro"}, ...], longest prefix first.
nlohmann::ordered_json acl_json(const std::vector<AclEntry>& entries);

// Blocks in the style of `wg show`, separated by blank lines; "" when empty:
// exports, imports, then syncs. The module block comes first, when the kernel
// reported it (DSTOR_CMD_GET; older modules do not): "crypto: workers N,
// queued M, pooled P" and "limits: max-sessions N per export, max-host-sessions M per
// peer address", each line only with what was reported. Interface names are
// the ones in McastInfo::interface (name_interfaces), else "ifindex N".
std::string format_show(const std::vector<ExportInfo>& exports,
                        const std::vector<ImportInfo>& imports,
                        const std::vector<SyncInfo>& syncs = {},
                        const std::optional<ModuleInfo>& module_info = std::nullopt);

// One sync as an object of "syncs" in `dstor show --json`.
nlohmann::ordered_json sync_json(const SyncInfo& sync);

// j[key] = *value when there is a value.
template <class T>
void put_json(nlohmann::ordered_json& j, const char* key, const std::optional<T>& value) {
    if (value)
        j[key] = *value;
}

// {"exports":[...], "imports":[...], "syncs":[...], "crypto":{...},
// "limits":{...}}: the document `dstor show --json` prints ("crypto" only
// when the kernel reported DSTOR_CMD_GET, "limits" only when that reply had
// a session limit; "syncs" always, empty from a module without syncs).
nlohmann::ordered_json show_json(const std::vector<ExportInfo>& exports,
                                 const std::vector<ImportInfo>& imports,
                                 const std::vector<SyncInfo>& syncs = {},
                                 const std::optional<ModuleInfo>& module_info = std::nullopt);

// Everything `dstor show` prints, from the dumps and DSTOR_CMD_GET, with the
// interfaces named (name_interfaces); or nothing after reporting why under
// `command`'s name.
std::optional<Running> running_or_report(const std::string& command);

// Fill McastInfo::interface of every multicast export and sync from its
// ifindex (if_indextoname, in dstor's network namespace).
void name_interfaces(std::vector<ExportInfo>& exports, std::vector<SyncInfo>& syncs);

} // namespace dstor
