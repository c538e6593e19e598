#include "endpoint.hpp"

#include <arpa/inet.h>
#include <linux/dstor.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <iterator>

namespace dstor {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::uint16_t> parse_port(std::string_view s) {
    if (s.empty())
        return Error::user("missing port after ':'");
    if (!all_digits(s))
        return Error::user("port '" + std::string(s) + "' is not a number");
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > 65535)
        return Error::user("port " + std::string(s) + " is out of range (1..65535)");
    if (v == 0)
        return Error::user("port 0 is not allowed (1..65535)");
    return static_cast<std::uint16_t>(v);
}

Error not_numeric(std::string_view addr) {
    std::string m = "'";
    m.append(addr);
    m.append("' is not a numeric IPv4 or IPv6 address (host names are not resolved)");
    return Error::user(std::move(m));
}

// IPv6 address with an optional "%scope".
Result<Endpoint> parse_ipv6(std::string_view text) {
    Endpoint ep;
    ep.family = Endpoint::Family::ipv6;
    std::string_view addr = text;
    if (auto pct = text.find('%'); pct != std::string_view::npos) {
        addr = text.substr(0, pct);
        ep.scope = std::string(text.substr(pct + 1));
        if (ep.scope.empty())
            return Error::user("empty scope after '%' (expected an interface name)");
    }
    std::string a(addr);
    in6_addr in6{};
    if (inet_pton(AF_INET6, a.c_str(), &in6) != 1) {
        if (!ep.scope.empty() && a.find(':') == std::string::npos)
            return Error::user("a scope (%INTERFACE) is only valid with an IPv6 address");
        return not_numeric(addr);
    }
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&in6), 16, ep.addr.begin());
    if (!ep.scope.empty()) {
        if (all_digits(ep.scope)) {
            auto [end, ec] =
                std::from_chars(ep.scope.data(), ep.scope.data() + ep.scope.size(), ep.ifindex);
            if (ec != std::errc() || end != ep.scope.data() + ep.scope.size() || ep.ifindex == 0)
                return Error::user("scope '" + ep.scope + "' is not a valid interface index");
        } else {
            if (ep.scope.size() >= IF_NAMESIZE)
                return Error::user("no such interface '" + ep.scope + "'");
            ep.ifindex = if_nametoindex(ep.scope.c_str());
            if (ep.ifindex == 0)
                return Error::user("no such interface '" + ep.scope + "'");
        }
    }
    return ep;
}

Result<Endpoint> parse_ipv4(std::string_view addr) {
    Endpoint ep;
    ep.family = Endpoint::Family::ipv4;
    std::string a(addr);
    in_addr in4{};
    if (a.find('%') != std::string::npos)
        return Error::user("a scope (%INTERFACE) is only valid with an IPv6 address");
    if (inet_pton(AF_INET, a.c_str(), &in4) != 1)
        return not_numeric(addr);
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&in4), 4, ep.addr.begin());
    return ep;
}

} // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
    if (text.empty())
        return Error::user("empty address");
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
        return Error::user("the address contains a space or a control character");

    std::string_view addr;
    std::string_view port;
    bool has_port = false;
    bool ipv6 = false;

    if (text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return Error::user("missing ']' after an IPv6 address");
        addr = text.substr(1, close - 1);
        if (addr.empty())
            return Error::user("empty address between '[' and ']'");
        ipv6 = true;
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return Error::user("expected ':PORT' after ']'");
            has_port = true;
            port = rest.substr(1);
        }
    } else {
        auto colons = std::count(text.begin(), text.end(), ':');
        if (colons > 1) {
            // A bare IPv6 address: no port (write [ADDR]:PORT for one).
            addr = text;
            ipv6 = true;
        } else if (colons == 1) {
            auto colon = text.find(':');
            addr = text.substr(0, colon);
            has_port = true;
            port = text.substr(colon + 1);
            if (addr.empty())
                return Error::user("missing address before ':'");
        } else {
            addr = text;
        }
    }

    if (text.front() == '[') {
        in_addr in4{};
        if (inet_pton(AF_INET, std::string(addr).c_str(), &in4) == 1)
            return Error::user("brackets are only for IPv6 addresses");
    }
    auto ep = ipv6 ? parse_ipv6(addr) : parse_ipv4(addr);
    if (!ep)
        return ep;
    const bool link_local =
        ep->family == Endpoint::Family::ipv6 && ep->addr[0] == 0xfe && (ep->addr[1] & 0xc0) == 0x80;
    if (link_local && ep->ifindex == 0)
        return Error::user("a link-local address needs an interface, as in [fe80::1%eth0]:7420");
    ep->port = DSTOR_DEFAULT_PORT;
    if (has_port) {
        auto p = parse_port(port);
        if (!p)
            return p.error();
        ep->port = *p;
    }
    return ep;
}

std::uint8_t max_prefix_len(Endpoint::Family family) {
    return family == Endpoint::Family::ipv4 ? 32 : 128;
}

Result<Prefix> parse_prefix(std::string_view text) {
    if (text.empty())
        return Error::user("empty prefix");
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
        return Error::user("the prefix contains a space or a control character");
    const auto slash = text.find('/');
    const std::string_view addr = text.substr(0, slash);
    if (addr.empty())
        return Error::user("missing address before '/'");
    if (addr.find('%') != std::string_view::npos)
        return Error::user("a prefix takes no scope (%INTERFACE)");
    if (addr.front() == '[' || addr.find(']') != std::string_view::npos)
        return Error::user("write an IPv6 prefix without brackets, as in 2001:db8::/32");

    Prefix p;
    const std::string a(addr);
    in_addr in4{};
    in6_addr in6{};
    if (inet_pton(AF_INET, a.c_str(), &in4) == 1) {
        p.family = Endpoint::Family::ipv4;
        std::copy_n(reinterpret_cast<const std::uint8_t*>(&in4), 4, p.addr.begin());
    } else if (inet_pton(AF_INET6, a.c_str(), &in6) == 1) {
        p.family = Endpoint::Family::ipv6;
        std::copy_n(reinterpret_cast<const std::uint8_t*>(&in6), 16, p.addr.begin());
    } else {
        return not_numeric(addr);
    }
    const unsigned max = max_prefix_len(p.family);
    const char* fam = p.family == Endpoint::Family::ipv4 ? "IPv4" : "IPv6";
    p.len = static_cast<std::uint8_t>(max);
    if (slash != std::string_view::npos) {
        const std::string_view len = text.substr(slash + 1);
        if (len.empty())
            return Error::user("missing prefix length after '/'");
        unsigned v = 0;
        auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
        if (!all_digits(len) || ec != std::errc() || end != len.data() + len.size() || v > max)
            return Error::user("prefix length /" + std::string(len) + " is out of range for an " +
                               fam + " address (0 to " + std::to_string(max) + ")");
        p.len = static_cast<std::uint8_t>(v);
    }

    Prefix masked = p;
    for (unsigned bit = p.len; bit < max; bit++)
        masked.addr[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    if (masked != p)
        return Error::user(std::string(text) + " has host bits set; did you mean " +
                           format_prefix(masked) + "?");

    // ::ffff:0:0/96 and longer: peers' IPv4-mapped addresses are matched as
    // IPv4, so such an entry would never match anyone.
    static constexpr std::uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (p.family == Endpoint::Family::ipv6 && p.len >= 96 &&
        std::equal(std::begin(v4mapped), std::end(v4mapped), p.addr.begin())) {
        Prefix v4;
        std::copy_n(p.addr.begin() + 12, 4, v4.addr.begin());
        v4.len = static_cast<std::uint8_t>(p.len - 96);
        return Error::user(std::string(text) +
                           " is an IPv4-mapped prefix, which matches no peer: write " +
                           format_prefix(v4));
    }
    return p;
}

std::string format_prefix(const Prefix& prefix) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(prefix.family == Endpoint::Family::ipv4 ? AF_INET : AF_INET6, prefix.addr.data(), buf,
              sizeof(buf));
    return std::string(buf) + "/" + std::to_string(prefix.len);
}

std::string format_endpoint(const Endpoint& ep) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ep.family == Endpoint::Family::ipv4) {
        inet_ntop(AF_INET, ep.addr.data(), buf, sizeof(buf));
        return std::string(buf) + ":" + std::to_string(ep.port);
    }
    inet_ntop(AF_INET6, ep.addr.data(), buf, sizeof(buf));
    std::string out = "[";
    out += buf;
    if (!ep.scope.empty()) {
        out += '%';
        out += ep.scope;
    } else if (ep.ifindex != 0) {
        char name[IF_NAMESIZE] = {};
        out += '%';
        if (if_indextoname(ep.ifindex, name) != nullptr)
            out += name;
        else
            out += std::to_string(ep.ifindex);
    }
    out += "]:" + std::to_string(ep.port);
    return out;
}

} // namespace dstor
