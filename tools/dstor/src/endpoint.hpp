// A numeric IPv4 or IPv6 address with a port (and the scope of a link-local
// IPv6 address), as DSTOR_A_LISTEN and DSTOR_A_PEER carry it.
//
// Accepted text forms:
//   192.0.2.1:7420        192.0.2.1              (port DSTOR_DEFAULT_PORT)
//   [2001:db8::1]:7420    [2001:db8::1]          2001:db8::1 (no brackets: no port)
//   [fe80::1%eth0]:7420   fe80::1%eth0           (scope: interface name or index)
// Host names are never resolved: a storage target names an address. A
// link-local IPv6 address (fe80::/10) needs its scope.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "error.hpp"

namespace dstor {

struct Endpoint {
    enum class Family { ipv4, ipv6 };

    Family family = Family::ipv4;
    std::array<std::uint8_t, 16> addr{}; // network order; IPv4 uses the first 4 bytes
    std::uint16_t port = 0;
    std::uint32_t ifindex = 0; // IPv6 scope, 0 = none
    std::string scope;         // the interface as the user wrote it, for display

    bool operator==(const Endpoint&) const = default;
};

// Parse one of the forms above. The error text does not repeat the input.
Result<Endpoint> parse_endpoint(std::string_view text);

// "192.0.2.1:7420", "[2001:db8::1]:7420", "[fe80::1%eth0]:7420". A scope
// without a name is shown as the interface name if it exists, else its index.
std::string format_endpoint(const Endpoint& ep);

// An address prefix of an access list (DSTOR_A_ACL_IPV4 / _IPV6 and
// DSTOR_A_ACL_PREFIX_LEN).
struct Prefix {
    Endpoint::Family family = Endpoint::Family::ipv4;
    std::array<std::uint8_t, 16> addr{}; // network order; IPv4 uses the first 4 bytes
    std::uint8_t len = 0;                // 0..32 or 0..128

    bool operator==(const Prefix&) const = default;
};

// The largest prefix length of a family: 32 or 128.
std::uint8_t max_prefix_len(Endpoint::Family family);

// "192.0.2.0/24", "2001:db8::/32", or a bare numeric address (/32, /128).
// Refused: host bits set ("192.0.2.1/24 has host bits set; did you mean
// 192.0.2.0/24?"), a length out of range, names, scopes, brackets, and
// IPv4-mapped IPv6 prefixes (peers' mapped addresses match IPv4 entries).
Result<Prefix> parse_prefix(std::string_view text);

// "192.0.2.0/24", "2001:db8::/32": always with the length.
std::string format_prefix(const Prefix& prefix);

} // namespace dstor
