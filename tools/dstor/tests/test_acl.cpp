// Access lists: prefix and --allow parsing, `dstor acl` arguments, the
// DSTOR_A_ACL / DSTOR_A_ACLS messages and replies, and how lists print.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/dstor.h>
#include <linux/genetlink.h>

#include <cstring>
#include <vector>

#include "genl_reply.hpp"
#include "attrs.hpp"
#include "commands.hpp"
#include "show.hpp"
#include "validate.hpp"

using namespace dstor;
using namespace dstor_test;

namespace {

Prefix prefix(const char* text) {
    auto r = parse_prefix(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().text());
    return r.ok() ? *r : Prefix{};
}

std::string prefix_error(const char* text) {
    auto r = parse_prefix(text);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().text();
}

AclEntry entry(const char* p, std::uint32_t perm) {
    return AclEntry{prefix(p), perm};
}

std::vector<const nlattr*> items_of(const nlattr* nest) {
    std::vector<const nlattr*> v;
    mnl_attr_parse_nested(
        nest,
        [](const nlattr* a, void* d) -> int {
            static_cast<std::vector<const nlattr*>*>(d)->push_back(a);
            return MNL_CB_OK;
        },
        &v);
    return v;
}

const nlattr* find(const std::vector<const nlattr*>& attrs, std::uint16_t type) {
    for (const auto* a : attrs)
        if (mnl_attr_get_type(a) == type)
            return a;
    return nullptr;
}

std::vector<const nlattr*> top_of(const nlmsghdr* nlh) {
    std::vector<const nlattr*> v;
    mnl_attr_parse(
        nlh, sizeof(genlmsghdr),
        [](const nlattr* a, void* d) -> int {
            static_cast<std::vector<const nlattr*>*>(d)->push_back(a);
            return MNL_CB_OK;
        },
        &v);
    return v;
}

// One DSTOR_A_ACL nest as the kernel's dstor_acl_put() writes it.
void put_raw_acl(nlmsghdr* nlh, const void* addr, std::size_t len, std::uint8_t plen,
                 std::uint32_t perm) {
    nlattr* item = mnl_attr_nest_start(nlh, DSTOR_A_ACL);
    mnl_attr_put(nlh, len == 4 ? DSTOR_A_ACL_IPV4 : DSTOR_A_ACL_IPV6, len, addr);
    mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, plen);
    mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, perm);
    mnl_attr_nest_end(nlh, item);
}

} // namespace

// ---- prefixes -----------------------------------------------------------------------

TEST(Prefix, Ipv4) {
    Prefix p = prefix("192.0.2.0/24");
    EXPECT_EQ(p.family, Endpoint::Family::ipv4);
    EXPECT_EQ(p.len, 24);
    EXPECT_EQ(p.addr[0], 192);
    EXPECT_EQ(p.addr[1], 0);
    EXPECT_EQ(p.addr[2], 2);
    EXPECT_EQ(p.addr[3], 0);
    for (std::size_t i = 4; i < 16; i++)
        EXPECT_EQ(p.addr[i], 0) << i;
    EXPECT_EQ(format_prefix(p), "192.0.2.0/24");

    EXPECT_EQ(format_prefix(prefix("192.0.2.1")), "192.0.2.1/32"); // a bare address
    EXPECT_EQ(format_prefix(prefix("192.0.2.1/32")), "192.0.2.1/32");
    EXPECT_EQ(format_prefix(prefix("0.0.0.0/0")), "0.0.0.0/0");
    EXPECT_EQ(format_prefix(prefix("10.0.0.0/8")), "10.0.0.0/8");
    EXPECT_EQ(format_prefix(prefix("198.51.100.128/25")), "198.51.100.128/25");
    EXPECT_EQ(format_prefix(prefix("192.0.2.0/024")), "192.0.2.0/24");
}

TEST(Prefix, Ipv6) {
    Prefix p = prefix("2001:db8::/32");
    EXPECT_EQ(p.family, Endpoint::Family::ipv6);
    EXPECT_EQ(p.len, 32);
    in6_addr want{};
    ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::", &want), 1);
    EXPECT_EQ(std::memcmp(p.addr.data(), &want, 16), 0);
    EXPECT_EQ(format_prefix(p), "2001:db8::/32");

    EXPECT_EQ(format_prefix(prefix("2001:db8::1")), "2001:db8::1/128");
    EXPECT_EQ(format_prefix(prefix("2001:DB8:0:0::/64")), "2001:db8::/64");
    EXPECT_EQ(format_prefix(prefix("::/0")), "::/0");
    EXPECT_EQ(format_prefix(prefix("fe80::/10")), "fe80::/10"); // no scope needed for a prefix
    EXPECT_EQ(format_prefix(prefix("2001:db8::8000/113")), "2001:db8::8000/113");
    EXPECT_EQ(format_prefix(prefix("::/96")), "::/96"); // not ::ffff:0:0/96
}

TEST(Prefix, HostBitsSet) {
    EXPECT_EQ(prefix_error("192.0.2.1/24"),
              "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?");
    EXPECT_EQ(prefix_error("10.1.2.3/8"), "10.1.2.3/8 has host bits set; did you mean 10.0.0.0/8?");
    EXPECT_EQ(prefix_error("192.0.2.129/25"),
              "192.0.2.129/25 has host bits set; did you mean 192.0.2.128/25?");
    EXPECT_EQ(prefix_error("0.0.0.1/0"), "0.0.0.1/0 has host bits set; did you mean 0.0.0.0/0?");
    EXPECT_EQ(prefix_error("2001:db8::1/64"),
              "2001:db8::1/64 has host bits set; did you mean 2001:db8::/64?");
    EXPECT_EQ(prefix_error("2001:db8::ffff/127"),
              "2001:db8::ffff/127 has host bits set; did you mean 2001:db8::fffe/127?");
}

TEST(Prefix, LengthOutOfRange) {
    EXPECT_EQ(prefix_error("192.0.2.0/33"),
              "prefix length /33 is out of range for an IPv4 address (0 to 32)");
    EXPECT_EQ(prefix_error("2001:db8::/129"),
              "prefix length /129 is out of range for an IPv6 address (0 to 128)");
    for (const char* bad : {"192.0.2.0/-1", "192.0.2.0/+24", "192.0.2.0/24x",
                            "192.0.2.0/4294967320", "192.0.2.0/2.4", "192.0.2.0/24/1"})
        EXPECT_NE(prefix_error(bad).find("is out of range"), std::string::npos) << bad;
    EXPECT_EQ(prefix_error("192.0.2.0/"), "missing prefix length after '/'");
}

TEST(Prefix, NotNumeric) {
    EXPECT_EQ(prefix_error("nas.example/24"),
              "'nas.example' is not a numeric IPv4 or IPv6 address (host names are not resolved)");
    EXPECT_NE(prefix_error("localhost").find("not a numeric"), std::string::npos);
    EXPECT_NE(prefix_error("192.0.2/24").find("not a numeric"), std::string::npos);
    EXPECT_NE(prefix_error("192.0.2.0.0/24").find("not a numeric"), std::string::npos);
    EXPECT_NE(prefix_error("256.0.0.0/8").find("not a numeric"), std::string::npos);
    EXPECT_NE(prefix_error("192.0.2.0:7420").find("not a numeric"), std::string::npos);
    EXPECT_EQ(prefix_error(""), "empty prefix");
    EXPECT_EQ(prefix_error("/24"), "missing address before '/'");
    EXPECT_EQ(prefix_error("fe80::1%eth0"), "a prefix takes no scope (%INTERFACE)");
    EXPECT_EQ(prefix_error("[2001:db8::]/32"),
              "write an IPv6 prefix without brackets, as in 2001:db8::/32");
    EXPECT_EQ(prefix_error("192.0.2.0 /24"),
              "the prefix contains a space or a control character");
}

TEST(Prefix, Ipv4MappedIsRefused) {
    EXPECT_EQ(prefix_error("::ffff:192.0.2.0/120"),
              "::ffff:192.0.2.0/120 is an IPv4-mapped prefix, which matches no peer: write "
              "192.0.2.0/24");
    EXPECT_EQ(prefix_error("::ffff:192.0.2.1"),
              "::ffff:192.0.2.1 is an IPv4-mapped prefix, which matches no peer: write "
              "192.0.2.1/32");
    EXPECT_NE(prefix_error("::ffff:0:0/96").find("0.0.0.0/0"), std::string::npos);
    // Shorter prefixes cover real IPv6 addresses too.
    EXPECT_EQ(format_prefix(prefix("::/80")), "::/80");
}

TEST(Prefix, Perm) {
    EXPECT_EQ(*parse_perm("ro"), static_cast<std::uint32_t>(DSTOR_PERM_RO));
    EXPECT_EQ(*parse_perm("rw"), static_cast<std::uint32_t>(DSTOR_PERM_RW));
    for (const char* bad : {"", "RO", "r", "w", "read-only", "rw ", "wr"}) {
        auto r = parse_perm(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().text(), "permission '" + std::string(bad) + "' is neither ro nor rw");
    }
    EXPECT_EQ(perm_name(DSTOR_PERM_RO), "ro");
    EXPECT_EQ(perm_name(DSTOR_PERM_RW), "rw");
    EXPECT_EQ(perm_name(9), "perm-9");
}

TEST(Prefix, Allow) {
    auto a = parse_allow("192.0.2.0/24=ro");
    ASSERT_TRUE(a.ok()) << a.error().text();
    EXPECT_EQ(*a, entry("192.0.2.0/24", DSTOR_PERM_RO));
    a = parse_allow("2001:db8::1=rw");
    ASSERT_TRUE(a.ok()) << a.error().text();
    EXPECT_EQ(*a, entry("2001:db8::1/128", DSTOR_PERM_RW));

    EXPECT_EQ(parse_allow("192.0.2.0/24").error().text(), "expected PREFIX=ro or PREFIX=rw");
    EXPECT_EQ(parse_allow("192.0.2.0/24=").error().text(), "permission '' is neither ro nor rw");
    EXPECT_EQ(parse_allow("192.0.2.0/24=ro=rw").error().text(),
              "permission 'ro=rw' is neither ro nor rw");
    EXPECT_EQ(parse_allow("=ro").error().text(), "empty prefix");
    EXPECT_EQ(parse_allow("192.0.2.1/24=ro").error().text(),
              "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?");
}

TEST(Prefix, CheckAcls) {
    EXPECT_FALSE(check_acls({}));
    EXPECT_FALSE(check_acls({entry("192.0.2.0/24", DSTOR_PERM_RO),
                             entry("192.0.2.0/25", DSTOR_PERM_RW),
                             entry("2001:db8::/32", DSTOR_PERM_RW)}));
    EXPECT_EQ(check_acls({entry("192.0.2.0/24", DSTOR_PERM_RO), entry("10.0.0.0/8", DSTOR_PERM_RO),
                          entry("192.0.2.0/24", DSTOR_PERM_RW)}),
              "192.0.2.0/24 is given twice");
    std::vector<AclEntry> many;
    for (int i = 0; i <= DSTOR_MAX_ACLS; i++) {
        AclEntry e;
        e.prefix.addr = {10, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i), 0};
        e.prefix.len = 24;
        e.perm = DSTOR_PERM_RO;
        many.push_back(e);
    }
    EXPECT_EQ(check_acls(many), "257 access entries (at most 256)");
    many.pop_back();
    EXPECT_FALSE(check_acls(many));
}

// ---- dstor export add --allow ---------------------------------------------------------

TEST(AclArgs, ExportAddAllow) {
    auto p = parse_export_args({"add", "a0", "--device", "/dev/ram2", "--listen", "192.0.2.1",
                                "--allow", "192.0.2.2/32=ro", "--allow=198.51.100.0/24=rw"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& add = std::get<ExportAdd>(*p.cmd);
    ASSERT_EQ(add.spec.acls.size(), 2u);
    EXPECT_EQ(add.spec.acls[0], entry("192.0.2.2/32", DSTOR_PERM_RO));
    EXPECT_EQ(add.spec.acls[1], entry("198.51.100.0/24", DSTOR_PERM_RW));

    // One value per --allow: the word after it is not swallowed.
    p = parse_export_args({"add", "--allow", "192.0.2.0/24=ro", "a0", "--device", "/d", "--listen",
                           "::"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.name, "a0");
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.acls.size(), 1u);

    p = parse_export_args({"add", "a0", "--device", "/d", "--listen", "::"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_TRUE(std::get<ExportAdd>(*p.cmd).spec.acls.empty());
}

TEST(AclArgs, ExportAddAllowErrors) {
    auto with = [](std::vector<std::string> extra) {
        std::vector<std::string> a = {"add", "a0", "--device", "/d", "--listen", "192.0.2.1"};
        a.insert(a.end(), extra.begin(), extra.end());
        return parse_export_args(a);
    };
    auto expect = [](const Parsed<ExportCommand>& p, const std::string& what) {
        EXPECT_FALSE(p.cmd.has_value());
        EXPECT_EQ(p.exit_code, EXIT_USAGE);
        EXPECT_EQ(p.command, "export add");
        EXPECT_EQ(p.output, what);
    };
    expect(with({"--allow", "192.0.2.1/24=ro"}),
           "--allow '192.0.2.1/24=ro': 192.0.2.1/24 has host bits set; did you mean "
           "192.0.2.0/24?");
    expect(with({"--allow", "192.0.2.0/33=ro"}),
           "--allow '192.0.2.0/33=ro': prefix length /33 is out of range for an IPv4 address "
           "(0 to 32)");
    expect(with({"--allow", "host.example=rw"}),
           "--allow 'host.example=rw': 'host.example' is not a numeric IPv4 or IPv6 address "
           "(host names are not resolved)");
    expect(with({"--allow", "192.0.2.0/24"}),
           "--allow '192.0.2.0/24': expected PREFIX=ro or PREFIX=rw");
    expect(with({"--allow", "192.0.2.0/24=all"}),
           "--allow '192.0.2.0/24=all': permission 'all' is neither ro nor rw");
    expect(with({"--allow", "192.0.2.0/24=ro", "--allow", "192.0.2.0/24=rw"}),
           "--allow: 192.0.2.0/24 is given twice");
}

// ---- dstor acl ----------------------------------------------------------------------

TEST(AclArgs, Add) {
    auto p = parse_acl_args({"add", "a0", "192.0.2.2/32", "rw"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "acl add");
    const auto& add = std::get<AclAdd>(*p.cmd);
    EXPECT_EQ(add.name, "a0");
    EXPECT_EQ(add.entry, entry("192.0.2.2/32", DSTOR_PERM_RW));

    p = parse_acl_args({"add", "a0", "2001:db8::", "ro"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<AclAdd>(*p.cmd).entry, entry("2001:db8::/128", DSTOR_PERM_RO));
}

TEST(AclArgs, DelAndList) {
    auto p = parse_acl_args({"del", "a0", "192.0.2.2"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "acl del");
    EXPECT_EQ(std::get<AclDel>(*p.cmd).name, "a0");
    EXPECT_EQ(std::get<AclDel>(*p.cmd).prefix, prefix("192.0.2.2/32"));

    p = parse_acl_args({"list", "a0"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "acl list");
    EXPECT_EQ(std::get<AclShow>(*p.cmd).name, "a0");
    EXPECT_FALSE(std::get<AclShow>(*p.cmd).json);
    p = parse_acl_args({"list", "--json", "a0"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_TRUE(std::get<AclShow>(*p.cmd).json);
}

TEST(AclArgs, Errors) {
    auto expect = [](const Parsed<AclCommand>& p, const std::string& command,
                     const std::string& what) {
        EXPECT_FALSE(p.cmd.has_value());
        EXPECT_EQ(p.exit_code, EXIT_USAGE);
        EXPECT_EQ(p.command, command);
        EXPECT_NE(p.output.find(what), std::string::npos) << p.output;
    };
    expect(parse_acl_args({}), "acl", "missing verb: expected add, del or list");
    expect(parse_acl_args({"show"}), "acl", "unknown verb 'show'");
    expect(parse_acl_args({"add", "a0", "192.0.2.0/24"}), "acl add", "PERM is required");
    expect(parse_acl_args({"add", "a0"}), "acl add", "PREFIX is required");
    expect(parse_acl_args({"add", "a0", "192.0.2.1/24", "ro"}), "acl add",
           "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?");
    expect(parse_acl_args({"add", "a0", "192.0.2.0/24", "rx"}), "acl add",
           "permission 'rx' is neither ro nor rw");
    expect(parse_acl_args({"add", "a/0", "192.0.2.0/24", "ro"}), "acl add", "'/'");
    expect(parse_acl_args({"add", "a0", "192.0.2.0/24", "ro", "x"}), "acl add", "not expected");
    expect(parse_acl_args({"del", "a0"}), "acl del", "PREFIX is required");
    expect(parse_acl_args({"del", "a0", "192.0.2.0/24", "ro"}), "acl del", "not expected");
    expect(parse_acl_args({"del", "a0", "2001:db8::/200"}), "acl del", "out of range");
    expect(parse_acl_args({"list"}), "acl list", "EXPORT is required");
}

TEST(AclArgs, Help) {
    auto p = parse_acl_args({"--help"});
    EXPECT_EQ(p.exit_code, EXIT_OK);
    EXPECT_NE(p.output.find("Usage: dstor acl"), std::string::npos) << p.output;
    p = parse_acl_args({"add", "--help"});
    EXPECT_EQ(p.exit_code, EXIT_OK);
    EXPECT_NE(p.output.find("longest"), std::string::npos) << p.output;
}

// ---- messages -----------------------------------------------------------------------

TEST(AclMessage, ExportAddCarriesTheListAsANestedArray) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    ExportSpec spec{"a0", "/dev/ram2", *parse_endpoint("192.0.2.1"), false, std::nullopt, {}};
    spec.acls = {entry("192.0.2.2/32", DSTOR_PERM_RO), entry("2001:db8::/32", DSTOR_PERM_RW)};
    put_export_add(msg, spec);
    ASSERT_FALSE(msg.overflow());

    auto top = top_of(msg.hdr());
    const nlattr* acls = find(top, DSTOR_A_ACLS);
    ASSERT_NE(acls, nullptr);
    EXPECT_TRUE(acls->nla_type & NLA_F_NESTED);
    EXPECT_EQ(find(top, DSTOR_A_KEY), nullptr);
    auto items = items_of(acls);
    ASSERT_EQ(items.size(), 2u);
    for (const auto* item : items) {
        EXPECT_EQ(mnl_attr_get_type(item), DSTOR_A_ACL);
        EXPECT_TRUE(item->nla_type & NLA_F_NESTED);
    }

    auto first = items_of(items[0]);
    ASSERT_EQ(first.size(), 3u); // address, length, permission
    const nlattr* v4 = find(first, DSTOR_A_ACL_IPV4);
    ASSERT_NE(v4, nullptr);
    ASSERT_EQ(mnl_attr_get_payload_len(v4), 4u);
    const std::uint8_t want4[4] = {192, 0, 2, 2};
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(v4), want4, 4), 0);
    const nlattr* len = find(first, DSTOR_A_ACL_PREFIX_LEN);
    ASSERT_NE(len, nullptr);
    EXPECT_EQ(mnl_attr_validate(len, MNL_TYPE_U8), 0);
    EXPECT_EQ(mnl_attr_get_u8(len), 32);
    const nlattr* perm = find(first, DSTOR_A_ACL_PERM);
    ASSERT_NE(perm, nullptr);
    EXPECT_EQ(mnl_attr_validate(perm, MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(perm), static_cast<std::uint32_t>(DSTOR_PERM_RO));
    EXPECT_EQ(find(first, DSTOR_A_ACL_IPV6), nullptr);

    auto second = items_of(items[1]);
    const nlattr* v6 = find(second, DSTOR_A_ACL_IPV6);
    ASSERT_NE(v6, nullptr);
    ASSERT_EQ(mnl_attr_get_payload_len(v6), 16u);
    in6_addr want6{};
    ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::", &want6), 1);
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(v6), &want6, 16), 0);
    EXPECT_EQ(mnl_attr_get_u8(find(second, DSTOR_A_ACL_PREFIX_LEN)), 32);
    EXPECT_EQ(mnl_attr_get_u32(find(second, DSTOR_A_ACL_PERM)),
              static_cast<std::uint32_t>(DSTOR_PERM_RW));

    // What the tool sends, the reply parser reads back in the same order.
    auto back = parse_acls_attr(acls);
    ASSERT_TRUE(back.ok()) << back.error().text();
    EXPECT_EQ(*back, spec.acls);
}

TEST(AclMessage, NoListNoAttribute) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(msg,
                   ExportSpec{"a0", "/dev/ram2", *parse_endpoint("::"), false, std::nullopt, {}});
    EXPECT_EQ(find(top_of(msg.hdr()), DSTOR_A_ACLS), nullptr);
}

TEST(AclMessage, TheLargestListFits) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    ExportSpec spec{"a0", std::string(DSTOR_PATH_MAX - 1, 'd'), *parse_endpoint("::"), true,
                    Key{}, {}};
    for (int i = 0; i < DSTOR_MAX_ACLS; i++) {
        AclEntry e;
        e.prefix.family = Endpoint::Family::ipv6;
        e.prefix.addr = {0x20, 0x01, 0x0d, 0xb8, static_cast<std::uint8_t>(i)};
        e.prefix.len = 128;
        e.perm = DSTOR_PERM_RW;
        spec.acls.push_back(e);
    }
    put_export_add(msg, spec);
    EXPECT_FALSE(msg.overflow()) << msg.size();
    auto back = parse_acls_attr(find(top_of(msg.hdr()), DSTOR_A_ACLS));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->size(), static_cast<std::size_t>(DSTOR_MAX_ACLS));
}

TEST(AclMessage, AddDelGet) {
    nl::Message add(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_ACL_ADD, DSTOR_GENL_VERSION);
    put_acl_add(add, "a0", entry("198.51.100.0/24", DSTOR_PERM_RW));
    auto top = top_of(add.hdr());
    ASSERT_EQ(top.size(), 2u);
    EXPECT_STREQ(mnl_attr_get_str(find(top, DSTOR_A_NAME)), "a0");
    const nlattr* acl = find(top, DSTOR_A_ACL);
    ASSERT_NE(acl, nullptr);
    EXPECT_TRUE(acl->nla_type & NLA_F_NESTED);
    auto inner = items_of(acl);
    EXPECT_EQ(inner.size(), 3u);
    EXPECT_EQ(mnl_attr_get_u8(find(inner, DSTOR_A_ACL_PREFIX_LEN)), 24);
    EXPECT_EQ(mnl_attr_get_u32(find(inner, DSTOR_A_ACL_PERM)),
              static_cast<std::uint32_t>(DSTOR_PERM_RW));

    nl::Message del(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_ACL_DEL, DSTOR_GENL_VERSION);
    put_acl_del(del, "a0", prefix("2001:db8::1"));
    top = top_of(del.hdr());
    ASSERT_EQ(top.size(), 2u);
    inner = items_of(find(top, DSTOR_A_ACL));
    ASSERT_EQ(inner.size(), 2u); // no permission in ACL_DEL
    EXPECT_NE(find(inner, DSTOR_A_ACL_IPV6), nullptr);
    EXPECT_EQ(mnl_attr_get_u8(find(inner, DSTOR_A_ACL_PREFIX_LEN)), 128);
    EXPECT_EQ(find(inner, DSTOR_A_ACL_PERM), nullptr);

    nl::Message get(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_ACL_GET, DSTOR_GENL_VERSION);
    put_acl_get(get, "a0");
    top = top_of(get.hdr());
    ASSERT_EQ(top.size(), 1u);
    EXPECT_STREQ(mnl_attr_get_str(find(top, DSTOR_A_NAME)), "a0");
}

// ---- replies ------------------------------------------------------------------------

TEST(AclReply, List) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_ACL_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "a0");
    nlattr* list = mnl_attr_nest_start(nlh, DSTOR_A_ACLS);
    const std::uint8_t a[4] = {192, 0, 2, 2};
    put_raw_acl(nlh, a, 4, 32, DSTOR_PERM_RO);
    in6_addr six{};
    ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::", &six), 1);
    put_raw_acl(nlh, &six, 16, 32, DSTOR_PERM_RW);
    const std::uint8_t net[4] = {198, 51, 100, 0};
    put_raw_acl(nlh, net, 4, 24, DSTOR_PERM_RW);
    mnl_attr_nest_end(nlh, list);

    auto l = parse_acl_list(nlh);
    ASSERT_TRUE(l.ok()) << l.error().text();
    EXPECT_EQ(l->name, "a0");
    ASSERT_EQ(l->entries.size(), 3u);
    EXPECT_EQ(l->entries[0], entry("192.0.2.2/32", DSTOR_PERM_RO));
    EXPECT_EQ(l->entries[1], entry("2001:db8::/32", DSTOR_PERM_RW));
    EXPECT_EQ(l->entries[2], entry("198.51.100.0/24", DSTOR_PERM_RW));
    EXPECT_EQ(format_acl(l->entries), "192.0.2.2/32 ro\n"
                                      "2001:db8::/32 rw\n"
                                      "198.51.100.0/24 rw\n");
}

TEST(AclReply, EmptyAndAbsent) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_ACL_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "a0");
    nlattr* list = mnl_attr_nest_start(nlh, DSTOR_A_ACLS);
    mnl_attr_nest_end(nlh, list);
    auto l = parse_acl_list(nlh);
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(l->entries.empty());
    EXPECT_EQ(format_acl(l->entries), "");

    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_ACL_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "a0");
    l = parse_acl_list(nlh);
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(l->entries.empty());
}

TEST(AclReply, Malformed) {
    const std::uint8_t a[4] = {192, 0, 2, 0};
    auto parse_one = [](auto fill) {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_ACL_GET);
        nlattr* list = mnl_attr_nest_start(nlh, DSTOR_A_ACLS);
        nlattr* item = mnl_attr_nest_start(nlh, DSTOR_A_ACL);
        fill(nlh);
        mnl_attr_nest_end(nlh, item);
        mnl_attr_nest_end(nlh, list);
        auto r = parse_acl_list(nlh);
        return r.ok() ? std::string("ok") : r.error().text();
    };
    EXPECT_EQ(parse_one([&](nlmsghdr* nlh) {
                  mnl_attr_put(nlh, DSTOR_A_ACL_IPV4, 4, a);
                  mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 24);
                  mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, DSTOR_PERM_RO);
                  mnl_attr_put_u32(nlh, 77, 1); // newer attribute: ignored
              }),
              "ok");
    EXPECT_EQ(parse_one([&](nlmsghdr* nlh) { // no address
                  mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 24);
                  mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, DSTOR_PERM_RO);
              }),
              "malformed kernel reply: bad DSTOR_A_ACL attribute");
    EXPECT_EQ(parse_one([&](nlmsghdr* nlh) {
                  mnl_attr_put(nlh, DSTOR_A_ACL_IPV4, 3, a);
                  mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 24);
                  mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, DSTOR_PERM_RO);
              }),
              "malformed kernel reply: bad DSTOR_A_ACL_IPV4 attribute");
    EXPECT_EQ(parse_one([&](nlmsghdr* nlh) {
                  mnl_attr_put(nlh, DSTOR_A_ACL_IPV4, 4, a);
                  mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 33);
                  mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, DSTOR_PERM_RO);
              }),
              "malformed kernel reply: bad DSTOR_A_ACL_PREFIX_LEN attribute");
    EXPECT_EQ(parse_one([&](nlmsghdr* nlh) {
                  mnl_attr_put(nlh, DSTOR_A_ACL_IPV4, 4, a);
                  mnl_attr_put_u32(nlh, DSTOR_A_ACL_PREFIX_LEN, 24); // u8 expected
                  mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, DSTOR_PERM_RO);
              }),
              "malformed kernel reply: bad DSTOR_A_ACL_PREFIX_LEN attribute");
    EXPECT_EQ(parse_one([&](nlmsghdr* nlh) {
                  mnl_attr_put(nlh, DSTOR_A_ACL_IPV4, 4, a);
                  mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 24);
              }),
              "malformed kernel reply: bad DSTOR_A_ACL_PERM attribute");
}

// ---- printing -----------------------------------------------------------------------

TEST(AclPrint, LongestPrefixFirst) {
    const std::vector<AclEntry> entries = {
        entry("0.0.0.0/0", DSTOR_PERM_RO),       entry("10.0.0.0/8", DSTOR_PERM_RW),
        entry("2001:db8::/32", DSTOR_PERM_RW),   entry("192.0.2.0/24", DSTOR_PERM_RW),
        entry("192.0.2.7/32", DSTOR_PERM_RO),    entry("2001:db8::7/128", DSTOR_PERM_RO),
        entry("198.51.100.0/24", DSTOR_PERM_RO), entry("::/0", DSTOR_PERM_RO),
    };
    EXPECT_EQ(format_acl(entries), "2001:db8::7/128 ro\n"
                                   "192.0.2.7/32 ro\n" // an IPv4 and an IPv6 /32: IPv4 first
                                   "2001:db8::/32 rw\n"
                                   "192.0.2.0/24 rw\n"
                                   "198.51.100.0/24 ro\n"
                                   "10.0.0.0/8 rw\n"
                                   "0.0.0.0/0 ro\n"
                                   "::/0 ro\n");
    EXPECT_EQ(acl_json(entries).dump(),
              R"([{"prefix":"2001:db8::7/128","perm":"ro"},)"
              R"({"prefix":"192.0.2.7/32","perm":"ro"},{"prefix":"2001:db8::/32","perm":"rw"},)"
              R"({"prefix":"192.0.2.0/24","perm":"rw"},{"prefix":"198.51.100.0/24","perm":"ro"},)"
              R"({"prefix":"10.0.0.0/8","perm":"rw"},{"prefix":"0.0.0.0/0","perm":"ro"},)"
              R"({"prefix":"::/0","perm":"ro"}])");
    EXPECT_EQ(acl_json({}).dump(), "[]");
}
