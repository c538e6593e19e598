// An export's identity (DSTOR_A_UUID): parsing --uuid and printing it in the
// standard 8-4-4-4-12 form.
#pragma once

#include <linux/dstor.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "error.hpp"

namespace dstor {

// DSTOR_UUID_LEN bytes, in the order the standard form prints them.
using Uuid = std::array<std::uint8_t, DSTOR_UUID_LEN>;

// "0f8fad5b-d9cb-469f-a165-70867728950e" (8-4-4-4-12 hex digits) or the same
// 32 digits without dashes, either case. The nil UUID (all zero) is refused:
// it identifies nothing. The error does not name an option.
Result<Uuid> parse_uuid(std::string_view text);

// The standard form, lowercase: "0f8fad5b-d9cb-469f-a165-70867728950e".
std::string format_uuid(const Uuid& uuid);

} // namespace dstor
