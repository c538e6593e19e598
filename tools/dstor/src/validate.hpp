// Client-side checks run before talking to the kernel, so that the common
// mistakes get a plain sentence. The kernel checks everything again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model.hpp"

namespace dstor {

// 1..DSTOR_NAME_MAX-1 characters of [A-Za-z0-9._-]. Returns the problem, if any.
std::optional<std::string> check_name(std::string_view name);

// --connections: a decimal 1..DSTOR_MAX_CONNECTIONS.
Result<std::uint32_t> parse_connections(std::string_view text);

// "/dev/dstorN" or "dstorN" (N canonical decimal) -> N; anything else -> nothing.
std::optional<std::uint32_t> parse_device_index(std::string_view text);

// The path exists and is a block device, and fits DSTOR_PATH_MAX. Relative
// paths are made absolute (the kernel opens the path, not dstor).
Result<std::string> check_device(const std::string& path);

} // namespace dstor
