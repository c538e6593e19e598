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

// Blocks in the style of `wg show`, separated by blank lines; "" when empty.
std::string format_show(const std::vector<ExportInfo>& exports,
                        const std::vector<ImportInfo>& imports);

// {"exports":[...], "imports":[...]}: the document `dstor show --json` prints.
nlohmann::ordered_json show_json(const std::vector<ExportInfo>& exports,
                                 const std::vector<ImportInfo>& imports);

} // namespace dstor
