#include "uuid.hpp"

#include <algorithm>

#include "key.hpp"

namespace dstor {

namespace {

// Where the standard form has its dashes, and its length.
constexpr std::size_t dashes[] = {8, 13, 18, 23};
constexpr std::size_t standard_len = 36;

} // namespace

Result<Uuid> parse_uuid(std::string_view text) {
    const Error not_a_uuid = Error::user("not a UUID (expected 8-4-4-4-12 hex digits such as "
                                         "0f8fad5b-d9cb-469f-a165-70867728950e, or 32 hex digits)");
    std::string digits(text);
    if (text.size() == standard_len) {
        for (auto pos : dashes)
            if (text[pos] != '-')
                return not_a_uuid;
        std::erase(digits, '-');
    }
    Uuid uuid{};
    if (!parse_hex(digits, uuid))
        return not_a_uuid;
    if (std::all_of(uuid.begin(), uuid.end(), [](std::uint8_t b) { return b == 0; }))
        return Error::user("the nil UUID (all zero) identifies nothing");
    return uuid;
}

std::string format_uuid(const Uuid& uuid) {
    std::string out = format_hex(uuid);
    for (auto pos : dashes)
        out.insert(pos, 1, '-');
    return out;
}

} // namespace dstor
