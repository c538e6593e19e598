#include "endpoint.hpp"

#include <arpa/inet.h>
#include <linux/dstor.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>

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
