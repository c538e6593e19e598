#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/dstor.h>
#include <net/if.h>

#include "endpoint.hpp"

using dstor::Endpoint;
using dstor::format_endpoint;
using dstor::parse_endpoint;

namespace {

std::string addr_text(const Endpoint& ep) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ep.family == Endpoint::Family::ipv4 ? AF_INET : AF_INET6, ep.addr.data(), buf,
              sizeof(buf));
    return buf;
}

struct Valid {
    const char* text;
    Endpoint::Family family;
    const char* addr;
    std::uint16_t port;
    const char* formatted;
};

const Valid valid[] = {
    {"192.0.2.1:7420", Endpoint::Family::ipv4, "192.0.2.1", 7420, "192.0.2.1:7420"},
    {"192.0.2.1", Endpoint::Family::ipv4, "192.0.2.1", DSTOR_DEFAULT_PORT, "192.0.2.1:7420"},
    {"0.0.0.0:1", Endpoint::Family::ipv4, "0.0.0.0", 1, "0.0.0.0:1"},
    {"255.255.255.255:65535", Endpoint::Family::ipv4, "255.255.255.255", 65535,
     "255.255.255.255:65535"},
    {"198.51.100.7:00080", Endpoint::Family::ipv4, "198.51.100.7", 80, "198.51.100.7:80"},
    {"[2001:db8::1]:7420", Endpoint::Family::ipv6, "2001:db8::1", 7420, "[2001:db8::1]:7420"},
    {"[2001:db8::1]:9000", Endpoint::Family::ipv6, "2001:db8::1", 9000, "[2001:db8::1]:9000"},
    {"[2001:db8::1]", Endpoint::Family::ipv6, "2001:db8::1", 7420, "[2001:db8::1]:7420"},
    {"2001:db8::1", Endpoint::Family::ipv6, "2001:db8::1", 7420, "[2001:db8::1]:7420"},
    {"2001:DB8:0:0:0:0:0:1", Endpoint::Family::ipv6, "2001:db8::1", 7420, "[2001:db8::1]:7420"},
    {"::", Endpoint::Family::ipv6, "::", 7420, "[::]:7420"},
    {"::1", Endpoint::Family::ipv6, "::1", 7420, "[::1]:7420"},
    {"[::]:1", Endpoint::Family::ipv6, "::", 1, "[::]:1"},
    {"[::ffff:192.0.2.1]:5", Endpoint::Family::ipv6, "::ffff:192.0.2.1", 5, "[::ffff:192.0.2.1]:5"},
    {"[fec0::1]:5", Endpoint::Family::ipv6, "fec0::1", 5, "[fec0::1]:5"}, // not link-local
};

} // namespace

TEST(Endpoint, ParsesValidForms) {
    for (const auto& v : valid) {
        SCOPED_TRACE(v.text);
        auto ep = parse_endpoint(v.text);
        ASSERT_TRUE(ep.ok()) << ep.error().text();
        EXPECT_EQ(ep->family, v.family);
        EXPECT_EQ(addr_text(*ep), v.addr);
        EXPECT_EQ(ep->port, v.port);
        EXPECT_EQ(ep->ifindex, 0u);
        EXPECT_EQ(format_endpoint(*ep), v.formatted);
    }
}

TEST(Endpoint, FormatRoundTrips) {
    for (const auto& v : valid) {
        SCOPED_TRACE(v.text);
        auto ep = parse_endpoint(v.text);
        ASSERT_TRUE(ep.ok());
        auto again = parse_endpoint(format_endpoint(*ep));
        ASSERT_TRUE(again.ok()) << again.error().text();
        EXPECT_EQ(*again, *ep);
    }
}

TEST(Endpoint, Ipv4BytesAreNetworkOrder) {
    auto ep = parse_endpoint("192.0.2.1:7420");
    ASSERT_TRUE(ep.ok());
    EXPECT_EQ(ep->addr[0], 192);
    EXPECT_EQ(ep->addr[1], 0);
    EXPECT_EQ(ep->addr[2], 2);
    EXPECT_EQ(ep->addr[3], 1);
}

TEST(Endpoint, ScopeByInterfaceName) {
    const unsigned lo = if_nametoindex("lo");
    if (lo == 0)
        GTEST_SKIP() << "no loopback interface";
    for (const char* text : {"[fe80::1%lo]:7420", "[fe80::1%lo]", "fe80::1%lo"}) {
        SCOPED_TRACE(text);
        auto ep = parse_endpoint(text);
        ASSERT_TRUE(ep.ok()) << ep.error().text();
        EXPECT_EQ(ep->family, Endpoint::Family::ipv6);
        EXPECT_EQ(ep->ifindex, lo);
        EXPECT_EQ(ep->scope, "lo");
        EXPECT_EQ(ep->port, 7420);
        EXPECT_EQ(format_endpoint(*ep), "[fe80::1%lo]:7420");
    }
}

TEST(Endpoint, ScopeByIndex) {
    auto ep = parse_endpoint("[fe80::1%1]:99");
    ASSERT_TRUE(ep.ok()) << ep.error().text();
    EXPECT_EQ(ep->ifindex, 1u);
    EXPECT_EQ(ep->port, 99);
    EXPECT_EQ(format_endpoint(*ep), "[fe80::1%1]:99");
}

TEST(Endpoint, FormatsKernelScopeAsInterfaceName) {
    const unsigned lo = if_nametoindex("lo");
    if (lo == 0)
        GTEST_SKIP() << "no loopback interface";
    Endpoint ep;
    ep.family = Endpoint::Family::ipv6;
    ep.addr = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    ep.port = 7420;
    ep.ifindex = lo;
    EXPECT_EQ(format_endpoint(ep), "[fe80::1%lo]:7420");
    ep.ifindex = 0x7ffffff0; // no such interface: the number
    EXPECT_EQ(format_endpoint(ep), "[fe80::1%2147483632]:7420");
}

namespace {

struct Invalid {
    const char* text;
    const char* message; // a substring of the error
};

const Invalid invalid[] = {
    {"", "empty address"},
    {":", "missing address"},
    {":7420", "missing address"},
    {"192.0.2.1:", "missing port"},
    {"192.0.2.1:0", "port 0 is not allowed"},
    {"192.0.2.1:65536", "out of range"},
    {"192.0.2.1:99999999999999999999999", "out of range"},
    {"192.0.2.1:-1", "not a number"},
    {"192.0.2.1:+80", "not a number"},
    {"192.0.2.1:80a", "not a number"},
    {"192.0.2.1:0x10", "not a number"},
    {"192.0.2.256", "not a numeric"},
    {"192.0.2", "not a numeric"},
    {"192.0.2.1.5", "not a numeric"},
    {"01.2.3.4", "not a numeric"},
    {"localhost", "host names are not resolved"},
    {"localhost:7420", "host names are not resolved"},
    {"example.com:80", "host names are not resolved"},
    {"[2001:db8::1", "missing ']'"},
    {"[2001:db8::1]7420", "expected ':PORT'"},
    {"[2001:db8::1]:", "missing port"},
    {"[2001:db8::1]:0", "port 0"},
    {"[2001:db8::1]:65536", "out of range"},
    {"[]:7420", "empty address"},
    {"[192.0.2.1]:7420", "brackets are only for IPv6"},
    {"[localhost]:7420", "not a numeric"},
    {"2001:db8:::1", "not a numeric"},
    {"2001:db8::g", "not a numeric"},
    {"fe80::1%", "empty scope"},
    {"[fe80::1%]:7420", "empty scope"},
    {"fe80::1%no-such-if0", "no such interface"},
    {"[fe80::1%0]:7420", "not a valid interface index"},
    {"fe80::1", "link-local address needs an interface"},
    {"[fe80::1]:7420", "link-local address needs an interface"},
    {"[febf::1]", "link-local address needs an interface"},
    {"192.0.2.1%lo", "only valid with an IPv6"},
    {"192.0.2.1%lo:7420", "only valid with an IPv6"},
    {" 192.0.2.1", "space"},
    {"192.0.2.1 ", "space"},
    {"192.0.2.1:74 20", "space"},
    {"192.0.2.1\n", "control character"},
};

} // namespace

TEST(Endpoint, RejectsGarbage) {
    for (const auto& v : invalid) {
        SCOPED_TRACE(v.text);
        auto ep = parse_endpoint(v.text);
        ASSERT_FALSE(ep.ok()) << "accepted as " << format_endpoint(*ep);
        EXPECT_NE(ep.error().text().find(v.message), std::string::npos) << ep.error().text();
        EXPECT_EQ(ep.error().err, 0);
    }
}

TEST(Endpoint, BareIpv6WithTrailingNumberIsAnAddress) {
    // Without brackets every colon belongs to the address: write [ADDR]:PORT.
    auto ep = parse_endpoint("2001:db8::1:7420");
    ASSERT_TRUE(ep.ok());
    EXPECT_EQ(ep->port, DSTOR_DEFAULT_PORT);
    EXPECT_EQ(format_endpoint(*ep), "[2001:db8::1:7420]:7420");
}
