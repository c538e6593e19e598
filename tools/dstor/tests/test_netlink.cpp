// Message building, reply parsing, extended ACKs and the receive dispatcher,
// all on synthetic buffers: no netlink socket is opened.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/dstor.h>
#include <linux/genetlink.h>

#include <cstring>
#include <map>
#include <stdexcept>

#include "genl_reply.hpp"
#include "attrs.hpp"
#include "key.hpp"
#include "netlink.hpp"
#include "sync_sample.hpp"
#include "uuid_sample.hpp"

using namespace dstor;
using namespace dstor_test;

namespace {

// type -> attribute, for one level.
std::map<std::uint16_t, const nlattr*> attrs_of(const nlmsghdr* nlh) {
    std::map<std::uint16_t, const nlattr*> m;
    mnl_attr_parse(
        nlh, sizeof(genlmsghdr),
        [](const nlattr* a, void* d) -> int {
            (*static_cast<std::map<std::uint16_t, const nlattr*>*>(d))[mnl_attr_get_type(a)] = a;
            return MNL_CB_OK;
        },
        &m);
    return m;
}

std::map<std::uint16_t, const nlattr*> attrs_of(const nlattr* nest) {
    std::map<std::uint16_t, const nlattr*> m;
    mnl_attr_parse_nested(
        nest,
        [](const nlattr* a, void* d) -> int {
            (*static_cast<std::map<std::uint16_t, const nlattr*>*>(d))[mnl_attr_get_type(a)] = a;
            return MNL_CB_OK;
        },
        &m);
    return m;
}

std::string str_of(const nlattr* a) {
    // put_str sends the terminating NUL, as NLA_NUL_STRING policies want.
    EXPECT_GE(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
    return mnl_attr_get_str(a);
}

Endpoint ep(const char* text) {
    auto r = parse_endpoint(text);
    EXPECT_TRUE(r.ok());
    return *r;
}

} // namespace

TEST(Message, Header) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_DEL, DSTOR_GENL_VERSION);
    const nlmsghdr* nlh = msg.hdr();
    EXPECT_EQ(nlh->nlmsg_type, family);
    EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(nlh->nlmsg_len, NLMSG_HDRLEN + GENL_HDRLEN);
    EXPECT_EQ(msg.size(), nlh->nlmsg_len);
    const auto* genl = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(nlh));
    EXPECT_EQ(genl->cmd, DSTOR_CMD_EXPORT_DEL);
    EXPECT_EQ(genl->version, DSTOR_GENL_VERSION);
    EXPECT_FALSE(msg.overflow());
}

TEST(Message, ExportAddIpv4) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(msg,
                   ExportSpec{"disk1", "/dev/vdb", ep("192.0.2.1:7421"), false, std::nullopt, {}});
    ASSERT_FALSE(msg.overflow());

    auto top = attrs_of(msg.hdr());
    EXPECT_EQ(top.size(), 3u); // NAME, DEVICE, LISTEN; no FLAGS when read-write
    ASSERT_TRUE(top.count(DSTOR_A_NAME));
    EXPECT_EQ(str_of(top[DSTOR_A_NAME]), "disk1");
    ASSERT_TRUE(top.count(DSTOR_A_DEVICE));
    EXPECT_EQ(str_of(top[DSTOR_A_DEVICE]), "/dev/vdb");
    EXPECT_FALSE(top.count(DSTOR_A_FLAGS));

    ASSERT_TRUE(top.count(DSTOR_A_LISTEN));
    const nlattr* listen = top[DSTOR_A_LISTEN];
    EXPECT_TRUE(listen->nla_type & NLA_F_NESTED) << "strict policies need NLA_F_NESTED";
    auto inner = attrs_of(listen);
    EXPECT_EQ(inner.size(), 2u);
    ASSERT_TRUE(inner.count(DSTOR_A_ENDPOINT_IPV4));
    ASSERT_EQ(mnl_attr_get_payload_len(inner[DSTOR_A_ENDPOINT_IPV4]), 4u);
    const auto* a =
        static_cast<const std::uint8_t*>(mnl_attr_get_payload(inner[DSTOR_A_ENDPOINT_IPV4]));
    EXPECT_EQ(a[0], 192);
    EXPECT_EQ(a[1], 0);
    EXPECT_EQ(a[2], 2);
    EXPECT_EQ(a[3], 1);
    ASSERT_TRUE(inner.count(DSTOR_A_ENDPOINT_PORT));
    EXPECT_EQ(mnl_attr_validate(inner[DSTOR_A_ENDPOINT_PORT], MNL_TYPE_U16), 0);
    EXPECT_EQ(mnl_attr_get_u16(inner[DSTOR_A_ENDPOINT_PORT]), 7421); // host order
    EXPECT_FALSE(inner.count(DSTOR_A_ENDPOINT_IFINDEX));
    EXPECT_FALSE(inner.count(DSTOR_A_ENDPOINT_IPV6));
}

TEST(Message, ExportAddReadOnlyIpv6Scoped) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(msg,
                   ExportSpec{"ro", "/dev/vdc", ep("[fe80::1%1]:9000"), true, std::nullopt, {}});
    auto top = attrs_of(msg.hdr());
    ASSERT_TRUE(top.count(DSTOR_A_FLAGS));
    EXPECT_EQ(mnl_attr_validate(top[DSTOR_A_FLAGS], MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_FLAGS]), DSTOR_F_READ_ONLY);

    auto inner = attrs_of(top[DSTOR_A_LISTEN]);
    EXPECT_FALSE(inner.count(DSTOR_A_ENDPOINT_IPV4));
    ASSERT_TRUE(inner.count(DSTOR_A_ENDPOINT_IPV6));
    ASSERT_EQ(mnl_attr_get_payload_len(inner[DSTOR_A_ENDPOINT_IPV6]), 16u);
    in6_addr want{};
    ASSERT_EQ(inet_pton(AF_INET6, "fe80::1", &want), 1);
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(inner[DSTOR_A_ENDPOINT_IPV6]), &want, 16), 0);
    EXPECT_EQ(mnl_attr_get_u16(inner[DSTOR_A_ENDPOINT_PORT]), 9000);
    ASSERT_TRUE(inner.count(DSTOR_A_ENDPOINT_IFINDEX));
    EXPECT_EQ(mnl_attr_get_u32(inner[DSTOR_A_ENDPOINT_IFINDEX]), 1u);
}

TEST(Message, ImportAdd) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_IMPORT_ADD, DSTOR_GENL_VERSION);
    put_import_add(msg,
                   ImportSpec{"disk1", "data", ep("[2001:db8::1]"), true, 4, {}, std::nullopt});
    auto top = attrs_of(msg.hdr());
    EXPECT_EQ(top.size(), 5u);
    EXPECT_EQ(str_of(top[DSTOR_A_NAME]), "disk1");
    EXPECT_EQ(str_of(top[DSTOR_A_LOCAL_NAME]), "data");
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_FLAGS]), DSTOR_F_READ_ONLY);
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_CONNECTIONS]), 4u);
    ASSERT_TRUE(top.count(DSTOR_A_PEER));
    EXPECT_TRUE(top[DSTOR_A_PEER]->nla_type & NLA_F_NESTED);
    auto peer = parse_endpoint_attr(top[DSTOR_A_PEER]);
    ASSERT_TRUE(peer.ok()) << peer.error().text();
    EXPECT_EQ(format_endpoint(*peer), "[2001:db8::1]:7420");

    nl::Message dflt(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_IMPORT_ADD, DSTOR_GENL_VERSION);
    put_import_add(dflt, ImportSpec{"disk1", "", ep("192.0.2.1"), false, 0, {}, std::nullopt});
    auto t2 = attrs_of(dflt.hdr());
    EXPECT_EQ(t2.size(), 2u); // no FLAGS, CONNECTIONS, LOCAL_NAME: the kernel's defaults
}

TEST(Message, ImportDelAndExportDel) {
    nl::Message by_index(family, NLM_F_REQUEST, DSTOR_CMD_IMPORT_DEL, DSTOR_GENL_VERSION);
    put_import_del(by_index, ImportRef{std::uint32_t{3}});
    auto t = attrs_of(by_index.hdr());
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(mnl_attr_get_u32(t[DSTOR_A_INDEX]), 3u);

    nl::Message by_name(family, NLM_F_REQUEST, DSTOR_CMD_IMPORT_DEL, DSTOR_GENL_VERSION);
    put_import_del(by_name, ImportRef{std::string("disk1")});
    t = attrs_of(by_name.hdr());
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(str_of(t[DSTOR_A_NAME]), "disk1");

    nl::Message del(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_DEL, DSTOR_GENL_VERSION);
    put_export_name(del, "disk1");
    t = attrs_of(del.hdr());
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(str_of(t[DSTOR_A_NAME]), "disk1");
}

namespace {

Key test_key(std::uint8_t first) {
    Key k;
    for (std::size_t i = 0; i < k.bytes.size(); i++)
        k.bytes[i] = static_cast<std::uint8_t>(first + i);
    return k;
}

void expect_key_attr(const nlattr* a, const Key& key) {
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(mnl_attr_get_payload_len(a), static_cast<std::uint16_t>(DSTOR_KEY_LEN));
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(a), key.bytes.data(), DSTOR_KEY_LEN), 0);
}

} // namespace

TEST(Message, KeysAreSentAsDstorAKey) {
    const Key k = test_key(1);
    nl::Message ex(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(ex, ExportSpec{"s0", "/dev/ram0", ep("192.0.2.1"), false, k, {}});
    auto top = attrs_of(ex.hdr());
    EXPECT_EQ(top.size(), 4u); // NAME, DEVICE, LISTEN, KEY
    expect_key_attr(top[DSTOR_A_KEY], k);

    nl::Message im(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_IMPORT_ADD, DSTOR_GENL_VERSION);
    put_import_add(im, ImportSpec{"s0", "", ep("192.0.2.1"), false, 2, {}, k});
    top = attrs_of(im.hdr());
    EXPECT_EQ(top.size(), 4u); // NAME, PEER, CONNECTIONS, KEY
    expect_key_attr(top[DSTOR_A_KEY], k);

    nl::Message set(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_IMPORT_SET, DSTOR_GENL_VERSION);
    Timers t;
    t.timeout = 9;
    put_import_set(set, 3, t, &k);
    top = attrs_of(set.hdr());
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_INDEX]), 3u);
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_TIMEOUT]), 9u);
    expect_key_attr(top[DSTOR_A_KEY], k);

    nl::Message nokey(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_IMPORT_SET, DSTOR_GENL_VERSION);
    put_import_set(nokey, 3, t);
    EXPECT_FALSE(attrs_of(nokey.hdr()).count(DSTOR_A_KEY));
}

TEST(Message, ExportSetKeyAndNoKey) {
    const Key k = test_key(7);
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_SET, DSTOR_GENL_VERSION);
    put_export_set(msg, "s0", k);
    auto top = attrs_of(msg.hdr());
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(str_of(top[DSTOR_A_NAME]), "s0");
    expect_key_attr(top[DSTOR_A_KEY], k);

    // --no-key: DSTOR_KEY_LEN zero bytes.
    nl::Message off(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_SET, DSTOR_GENL_VERSION);
    put_export_set(off, "s0", Key{});
    top = attrs_of(off.hdr());
    ASSERT_EQ(top.size(), 2u);
    expect_key_attr(top[DSTOR_A_KEY], Key{});
}

TEST(Message, ExportAddMcast) {
    McastSpec m;
    m.interface = "eth0";
    m.ifindex = 3;
    m.rate = 200000000;
    m.block_size = 65536;
    m.querier = true;
    ExportSpec spec{"golden", "/dev/vdb", std::nullopt, true, std::nullopt, {}, m};
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(msg, spec);
    ASSERT_FALSE(msg.overflow());
    auto top = attrs_of(msg.hdr());
    EXPECT_EQ(top.size(), 4u); // NAME, DEVICE, FLAGS, MCAST; no LISTEN
    EXPECT_FALSE(top.count(DSTOR_A_LISTEN));
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_FLAGS]), DSTOR_F_READ_ONLY);
    ASSERT_TRUE(top.count(DSTOR_A_MCAST));
    EXPECT_TRUE(top[DSTOR_A_MCAST]->nla_type & NLA_F_NESTED) << "strict policies need NLA_F_NESTED";
    auto mc = attrs_of(top[DSTOR_A_MCAST]);
    EXPECT_EQ(mc.size(), 4u);
    EXPECT_EQ(mnl_attr_validate(mc[DSTOR_A_MCAST_IFINDEX], MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(mc[DSTOR_A_MCAST_IFINDEX]), 3u);
    EXPECT_EQ(mnl_attr_validate(mc[DSTOR_A_MCAST_RATE], MNL_TYPE_U64), 0);
    EXPECT_EQ(mnl_attr_get_u64(mc[DSTOR_A_MCAST_RATE]), 200000000u);
    EXPECT_EQ(mnl_attr_validate(mc[DSTOR_A_MCAST_BLOCK_SIZE], MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(mc[DSTOR_A_MCAST_BLOCK_SIZE]), 65536u);
    ASSERT_TRUE(mc.count(DSTOR_A_MCAST_QUERIER));
    EXPECT_EQ(mnl_attr_validate(mc[DSTOR_A_MCAST_QUERIER], MNL_TYPE_FLAG), 0);
    EXPECT_EQ(mnl_attr_get_payload_len(mc[DSTOR_A_MCAST_QUERIER]), 0u);

    // The kernel's defaults: only the interface; with a listener and a key too.
    McastSpec bare;
    bare.ifindex = 7;
    ExportSpec both{"g2", "/dev/vdc", ep("192.0.2.1"), true, test_key(3), {}, bare};
    nl::Message m2(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(m2, both);
    top = attrs_of(m2.hdr());
    EXPECT_EQ(top.size(), 6u); // NAME, DEVICE, LISTEN, FLAGS, KEY, MCAST
    EXPECT_TRUE(top.count(DSTOR_A_LISTEN));
    expect_key_attr(top[DSTOR_A_KEY], test_key(3));
    mc = attrs_of(top[DSTOR_A_MCAST]);
    ASSERT_EQ(mc.size(), 1u);
    EXPECT_EQ(mnl_attr_get_u32(mc[DSTOR_A_MCAST_IFINDEX]), 7u);
}

TEST(Message, ExportAddUuidAndMaxSessions) {
    ExportSpec spec{"d0", "/dev/vdb", ep("192.0.2.1"), false, std::nullopt, {}};
    spec.uuid = samples::sample_uuid;
    spec.max_sessions = 64;
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(msg, spec);
    auto top = attrs_of(msg.hdr());
    EXPECT_EQ(top.size(), 5u); // NAME, DEVICE, LISTEN, UUID, MAX_SESSIONS
    ASSERT_TRUE(top.count(DSTOR_A_UUID));
    ASSERT_EQ(mnl_attr_get_payload_len(top[DSTOR_A_UUID]), DSTOR_UUID_LEN);
    EXPECT_EQ(
        std::memcmp(mnl_attr_get_payload(top[DSTOR_A_UUID]), spec.uuid->data(), DSTOR_UUID_LEN), 0);
    ASSERT_TRUE(top.count(DSTOR_A_MAX_SESSIONS));
    EXPECT_EQ(mnl_attr_validate(top[DSTOR_A_MAX_SESSIONS], MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_MAX_SESSIONS]), 64u);

    // Neither without the options: the kernel makes a uuid, the module's limit applies.
    nl::Message plain(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    spec.uuid.reset();
    spec.max_sessions.reset();
    put_export_add(plain, spec);
    top = attrs_of(plain.hdr());
    EXPECT_FALSE(top.count(DSTOR_A_UUID));
    EXPECT_FALSE(top.count(DSTOR_A_MAX_SESSIONS));
}

TEST(Message, SyncAddDelGet) {
    SyncSpec spec{"golden", "/dev/sdb", "eth0", 4, std::nullopt, std::nullopt};
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SYNC_ADD, DSTOR_GENL_VERSION);
    put_sync_add(msg, spec);
    ASSERT_FALSE(msg.overflow());
    auto top = attrs_of(msg.hdr());
    EXPECT_EQ(top.size(), 3u); // NAME, DEVICE, MCAST
    EXPECT_EQ(str_of(top[DSTOR_A_NAME]), "golden");
    EXPECT_EQ(str_of(top[DSTOR_A_DEVICE]), "/dev/sdb");
    ASSERT_TRUE(top.count(DSTOR_A_MCAST));
    EXPECT_TRUE(top[DSTOR_A_MCAST]->nla_type & NLA_F_NESTED);
    auto mc = attrs_of(top[DSTOR_A_MCAST]);
    ASSERT_EQ(mc.size(), 1u); // the interface; the root only when pinned
    EXPECT_EQ(mnl_attr_get_u32(mc[DSTOR_A_MCAST_IFINDEX]), 4u);

    spec.key = test_key(9);
    nl::Message keyed(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SYNC_ADD, DSTOR_GENL_VERSION);
    put_sync_add(keyed, spec);
    top = attrs_of(keyed.hdr());
    EXPECT_EQ(top.size(), 4u);
    expect_key_attr(top[DSTOR_A_KEY], test_key(9));

    spec.root = McastRoot{};
    (*spec.root)[0] = 0xab;
    (*spec.root)[31] = 0xcd;
    nl::Message pinned(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SYNC_ADD, DSTOR_GENL_VERSION);
    put_sync_add(pinned, spec);
    mc = attrs_of(attrs_of(pinned.hdr())[DSTOR_A_MCAST]);
    ASSERT_EQ(mc.size(), 2u);
    ASSERT_EQ(mnl_attr_get_payload_len(mc[DSTOR_A_MCAST_ROOT]), DSTOR_MC_HASH_LEN);
    EXPECT_EQ(std::memcmp(mnl_attr_get_payload(mc[DSTOR_A_MCAST_ROOT]), spec.root->data(),
                          DSTOR_MC_HASH_LEN),
              0);

    // Multicast repaired over TCP: the interface's nest (with the pinned
    // root) and the exporter's address.
    spec.peer = Endpoint{};
    nl::Message both(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SYNC_ADD, DSTOR_GENL_VERSION);
    put_sync_add(both, spec);
    top = attrs_of(both.hdr());
    EXPECT_TRUE(top.count(DSTOR_A_PEER));
    EXPECT_FALSE(top.count(DSTOR_A_ROOT));
    EXPECT_EQ(attrs_of(top[DSTOR_A_MCAST]).size(), 2u);

    for (std::uint8_t cmd : {DSTOR_CMD_SYNC_DEL, DSTOR_CMD_SYNC_GET}) {
        nl::Message m(family, NLM_F_REQUEST | NLM_F_ACK, cmd, DSTOR_GENL_VERSION);
        put_sync_index(m, 5);
        top = attrs_of(m.hdr());
        ASSERT_EQ(top.size(), 1u);
        EXPECT_EQ(mnl_attr_validate(top[DSTOR_A_INDEX], MNL_TYPE_U32), 0);
        EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_INDEX]), 5u);
    }
}

TEST(Message, Settings) {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SET, DSTOR_GENL_VERSION);
    Settings s;
    s.crypto_workers = 4;
    put_settings(msg, s);
    auto top = attrs_of(msg.hdr());
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(mnl_attr_validate(top[DSTOR_A_CRYPTO_WORKERS], MNL_TYPE_U32), 0);
    EXPECT_EQ(mnl_attr_get_u32(top[DSTOR_A_CRYPTO_WORKERS]), 4u);

    for (auto [type, field] :
         {std::pair{DSTOR_A_MAX_SESSIONS, &Settings::max_sessions},
          std::pair{DSTOR_A_MAX_HOST_SESSIONS, &Settings::max_host_sessions}}) {
        nl::Message one(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SET, DSTOR_GENL_VERSION);
        Settings limit;
        limit.*field = 1000000;
        put_settings(one, limit);
        top = attrs_of(one.hdr());
        ASSERT_EQ(top.size(), 1u) << type;
        ASSERT_TRUE(top.count(type)) << type;
        EXPECT_EQ(mnl_attr_validate(top[type], MNL_TYPE_U32), 0);
        EXPECT_EQ(mnl_attr_get_u32(top[type]), 1000000u);
    }

    nl::Message none(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_SET, DSTOR_GENL_VERSION);
    put_settings(none, Settings{});
    EXPECT_TRUE(attrs_of(none.hdr()).empty());
}

TEST(Message, MoveAssignment) {
    nl::Message a(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_SET, DSTOR_GENL_VERSION);
    put_export_set(a, "a", test_key(1));
    nl::Message b(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_DEL, DSTOR_GENL_VERSION);
    put_export_name(b, "b");
    a = std::move(b); // a's old buffer (a key) is wiped, then replaced
    auto top = attrs_of(a.hdr());
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(str_of(top[DSTOR_A_NAME]), "b");
}

TEST(Message, NestGuardClosesInScopeOrder) {
    nl::Message msg(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_GET, DSTOR_GENL_VERSION);
    {
        auto outer = msg.nest(DSTOR_A_STATS);
        msg.put_u64(DSTOR_A_STATS_READS, 1);
        {
            auto inner = msg.nest(50);
            msg.put_u16(DSTOR_A_ENDPOINT_PORT, 1);
        }
        msg.put_u64(DSTOR_A_STATS_WRITES, 2);
    }
    msg.put_u32(DSTOR_A_FLAGS, 0);
    auto top = attrs_of(msg.hdr());
    ASSERT_EQ(top.size(), 2u);
    auto stats = attrs_of(top[DSTOR_A_STATS]);
    ASSERT_EQ(stats.size(), 3u);
    EXPECT_EQ(mnl_attr_get_u64(stats[DSTOR_A_STATS_READS]), 1u);
    EXPECT_EQ(mnl_attr_get_u64(stats[DSTOR_A_STATS_WRITES]), 2u);
    EXPECT_EQ(mnl_attr_get_u16(attrs_of(stats[50])[DSTOR_A_ENDPOINT_PORT]), 1);
    // The outer nest covers everything up to FLAGS.
    const auto* end =
        reinterpret_cast<const char*>(top[DSTOR_A_STATS]) + MNL_ALIGN(top[DSTOR_A_STATS]->nla_len);
    EXPECT_EQ(end, reinterpret_cast<const char*>(top[DSTOR_A_FLAGS]));
}

TEST(Message, NestGuardEndAndMove) {
    nl::Message msg(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_GET, DSTOR_GENL_VERSION);
    auto a = msg.nest(DSTOR_A_LISTEN);
    msg.put_u16(DSTOR_A_ENDPOINT_PORT, 7);
    auto b = std::move(a); // a no longer closes anything
    b.end();
    b.end(); // idempotent
    msg.put_u32(DSTOR_A_FLAGS, 1);
    auto top = attrs_of(msg.hdr());
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(mnl_attr_get_u16(attrs_of(top[DSTOR_A_LISTEN])[DSTOR_A_ENDPOINT_PORT]), 7);
}

TEST(Message, Overflow) {
    nl::Message msg(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    msg.put_str(DSTOR_A_DEVICE, std::string(nl::Message::capacity, 'x'));
    EXPECT_TRUE(msg.overflow());
    EXPECT_EQ(msg.size(), NLMSG_HDRLEN + GENL_HDRLEN); // nothing half-written

    nl::Message m2(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    m2.put_bin(DSTOR_A_DEVICE, std::string(nl::Message::capacity - 40, 'x').data(),
               nl::Message::capacity - 40);
    ASSERT_FALSE(m2.overflow());
    {
        auto n = m2.nest(DSTOR_A_LISTEN);
        m2.put_bin(DSTOR_A_ENDPOINT_IPV6, std::string(16, 'y').data(), 16);
        m2.put_u64(DSTOR_A_ENDPOINT_PORT, 1);
    }
    EXPECT_TRUE(m2.overflow());
}

TEST(Message, MoveOnly) {
    static_assert(!std::is_copy_constructible_v<nl::Message>);
    static_assert(std::is_nothrow_move_constructible_v<nl::Message>);
    static_assert(!std::is_copy_constructible_v<nl::Nest>);
    static_assert(!std::is_copy_constructible_v<nl::Socket>);
    nl::Message a(family, NLM_F_REQUEST, DSTOR_CMD_EXPORT_DEL, DSTOR_GENL_VERSION);
    put_export_name(a, "x");
    const auto len = a.size();
    nl::Message b = std::move(a);
    EXPECT_EQ(b.size(), len);
    EXPECT_EQ(str_of(attrs_of(b.hdr())[DSTOR_A_NAME]), "x");
}

// ---- extended ACKs -------------------------------------------------------

namespace {

// An NLMSG_ERROR answering `request`, capped or not, with optional TLVs.
void put_error(Buffer& b, int error, const nlmsghdr* request, bool capped, const char* extack,
               std::uint32_t seq = 1, std::uint32_t portid = 0) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
    nlh->nlmsg_type = NLMSG_ERROR;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = portid;
    const std::size_t echo = capped ? sizeof(nlmsghdr) : request->nlmsg_len;
    auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(int) + echo));
    err->error = error;
    std::memcpy(&err->msg, request, echo);
    if (capped)
        nlh->nlmsg_flags |= NLM_F_CAPPED;
    if (extack != nullptr) {
        nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
        mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
        mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, extack);
    }
}

nl::Message sample_request() {
    nl::Message msg(family, NLM_F_REQUEST | NLM_F_ACK, DSTOR_CMD_EXPORT_ADD, DSTOR_GENL_VERSION);
    put_export_add(msg, ExportSpec{"disk1", "/dev/vdb", ep("192.0.2.1"), false, std::nullopt, {}});
    msg.hdr()->nlmsg_seq = 1;
    return msg;
}

} // namespace

TEST(Extack, CappedWithMessage) {
    auto req = sample_request();
    Buffer b;
    put_error(b, -EEXIST, req.hdr(), true, "dstor: export disk1 already exists");
    Error e = nl::parse_error_message(b.nlh());
    EXPECT_EQ(e.err, EEXIST);
    EXPECT_TRUE(e.from_kernel);
    // The module's "dstor: " prefix is dropped: the tool prints its own.
    EXPECT_EQ(e.msg, "export disk1 already exists");
    EXPECT_EQ(e.text(), "export disk1 already exists (File exists)");
}

TEST(Extack, UncappedEchoesTheRequest) {
    auto req = sample_request();
    Buffer b;
    put_error(b, -EINVAL, req.hdr(), false, "Attribute failed policy validation");
    Error e = nl::parse_error_message(b.nlh());
    EXPECT_EQ(e.err, EINVAL);
    EXPECT_EQ(e.msg, "Attribute failed policy validation");
}

TEST(Extack, WithoutTlvs) {
    auto req = sample_request();
    Buffer b;
    put_error(b, -ENOTBLK, req.hdr(), true, nullptr);
    Error e = nl::parse_error_message(b.nlh());
    EXPECT_EQ(e.err, ENOTBLK);
    EXPECT_EQ(e.msg, "");
    EXPECT_EQ(e.text(), "Block device required");
}

TEST(Extack, MissingAttributeWithoutMessage) {
    auto req = sample_request();
    Buffer b;
    put_error(b, -EINVAL, req.hdr(), true, nullptr);
    b.nlh()->nlmsg_flags |= NLM_F_ACK_TLVS;
    mnl_attr_put_u32(b.nlh(), NLMSGERR_ATTR_MISS_TYPE, DSTOR_A_LISTEN);
    Error e = nl::parse_error_message(b.nlh());
    EXPECT_EQ(e.msg, "missing required attribute " + std::to_string(DSTOR_A_LISTEN));
}

TEST(Extack, PermissionDenied) {
    auto req = sample_request();
    Buffer b;
    put_error(b, -EPERM, req.hdr(), true, nullptr);
    EXPECT_EQ(nl::parse_error_message(b.nlh()).text(),
              "permission denied: dstor needs CAP_NET_ADMIN (run as root)");
}

TEST(Extack, PermissionDeniedWithMessage) {
    // The kernel names the capability it wanted: opening a block device.
    auto req = sample_request();
    Buffer b;
    put_error(b, -EPERM, req.hdr(), true,
              "dstor: opening a block device needs CAP_SYS_ADMIN (as well as CAP_NET_ADMIN)");
    Error e = nl::parse_error_message(b.nlh());
    EXPECT_EQ(e.err, EPERM);
    EXPECT_TRUE(e.from_kernel);
    EXPECT_EQ(e.text(), "permission denied: opening a block device needs CAP_SYS_ADMIN (as well "
                        "as CAP_NET_ADMIN)");
}

TEST(Extack, AckIsNoError) {
    auto req = sample_request();
    Buffer b;
    put_error(b, 0, req.hdr(), true, nullptr);
    EXPECT_EQ(nl::parse_error_message(b.nlh()).err, 0);
}

TEST(Extack, TruncatedErrorMessage) {
    Buffer b;
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
    nlh->nlmsg_type = NLMSG_ERROR;
    mnl_nlmsg_put_extra_header(nlh, 2);
    Error e = nl::parse_error_message(nlh);
    EXPECT_EQ(e.err, EBADMSG);
}

TEST(Extack, UnterminatedMessageIsBounded) {
    auto req = sample_request();
    Buffer b;
    put_error(b, -EINVAL, req.hdr(), true, nullptr);
    b.nlh()->nlmsg_flags |= NLM_F_ACK_TLVS;
    const char raw[4] = {'a', 'b', 'c', 'd'}; // no NUL
    mnl_attr_put(b.nlh(), NLMSGERR_ATTR_MSG, sizeof(raw), raw);
    EXPECT_EQ(nl::parse_error_message(b.nlh()).msg, "abcd");
}

TEST(Extack, FailedDump) {
    Buffer b;
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
    nlh->nlmsg_type = NLMSG_DONE;
    nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
    int* status = static_cast<int*>(mnl_nlmsg_put_extra_header(nlh, sizeof(int)));
    *status = -EMSGSIZE;
    mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "dump failed");
    Error e = nl::parse_error_message(nlh);
    EXPECT_EQ(e.err, EMSGSIZE);
    EXPECT_EQ(e.msg, "dump failed");
}

// ---- dispatch: libmnl callbacks over a received buffer ---------------------

namespace {

// Append a message to a receive buffer, as the kernel would.
struct Stream {
    alignas(8) char data[16384] = {};
    std::size_t len = 0;

    nlmsghdr* add(std::uint16_t type, std::uint16_t flags, std::uint32_t seq = 1) {
        nlmsghdr* nlh = mnl_nlmsg_put_header(data + len);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        nlh->nlmsg_seq = seq;
        return nlh;
    }
    void commit(nlmsghdr* nlh) { len += MNL_ALIGN(nlh->nlmsg_len); }

    void add_export(const char* name) {
        nlmsghdr* nlh = add(family, NLM_F_MULTI);
        auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
        genl->cmd = DSTOR_CMD_EXPORT_GET;
        genl->version = DSTOR_GENL_VERSION;
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, name);
        commit(nlh);
    }
    void add_done(int status = 0) {
        nlmsghdr* nlh = add(NLMSG_DONE, NLM_F_MULTI);
        *static_cast<int*>(mnl_nlmsg_put_extra_header(nlh, sizeof(int))) = status;
        commit(nlh);
    }
    void add_ack(int error, const char* extack = nullptr) {
        nlmsghdr* nlh = add(NLMSG_ERROR, NLM_F_CAPPED);
        auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
        err->error = error;
        err->msg.nlmsg_len = sizeof(nlmsghdr);
        err->msg.nlmsg_seq = 1;
        if (extack != nullptr) {
            nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
            mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, extack);
        }
        commit(nlh);
    }
};

} // namespace

TEST(Dispatch, DumpUntilDone) {
    Stream s;
    s.add_export("a");
    s.add_export("b");
    std::vector<std::string> names;
    nl::ReplyFn collect = [&names](const nlmsghdr* nlh) -> Result<void> {
        auto info = parse_export_info(nlh);
        if (!info)
            return info.error();
        names.push_back(info->name);
        return {};
    };
    auto r = nl::dispatch(s.data, s.len, 1, 0, collect);
    ASSERT_TRUE(r.ok()) << r.error().text();
    EXPECT_FALSE(*r); // more to come

    Stream end;
    end.add_export("c");
    end.add_done();
    r = nl::dispatch(end.data, end.len, 1, 0, collect);
    ASSERT_TRUE(r.ok()) << r.error().text();
    EXPECT_TRUE(*r);
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Dispatch, ReplyThenAck) {
    Stream s;
    s.add_export("a");
    s.add_ack(0);
    int calls = 0;
    auto r = nl::dispatch(s.data, s.len, 1, 0, [&calls](const nlmsghdr*) -> Result<void> {
        ++calls;
        return {};
    });
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
    EXPECT_EQ(calls, 1);
}

TEST(Dispatch, ErrorCarriesExtack) {
    Stream s;
    s.add_ack(-ENOENT, "dstor: no export named disk9");
    auto r = nl::dispatch(s.data, s.len, 1, 0, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().err, ENOENT);
    EXPECT_EQ(r.error().text(), "no export named disk9 (No such file or directory)");
}

TEST(Dispatch, FailedDumpDone) {
    Stream s;
    s.add_export("a");
    s.add_done(-ENOBUFS);
    auto r = nl::dispatch(s.data, s.len, 1, 0, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().err, ENOBUFS);
}

TEST(Dispatch, CallbackErrorStops) {
    Stream s;
    s.add_export("a");
    s.add_export("b");
    s.add_done();
    int calls = 0;
    auto r = nl::dispatch(s.data, s.len, 1, 0, [&calls](const nlmsghdr*) -> Result<void> {
        ++calls;
        return Error::user("malformed kernel reply: test");
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "malformed kernel reply: test");
    EXPECT_EQ(calls, 1);
}

TEST(Dispatch, ExceptionDoesNotCrossLibmnl) {
    Stream s;
    s.add_export("a");
    s.add_done();
    auto r = nl::dispatch(s.data, s.len, 1, 0, [](const nlmsghdr*) -> Result<void> {
        throw std::runtime_error("boom");
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "internal error: boom");
}

TEST(Dispatch, WrongSequenceIsRejected) {
    Stream s;
    s.add_export("a");
    auto r = nl::dispatch(s.data, s.len, 2, 0, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().err, EPROTO);
}

// ---- reply parsing --------------------------------------------------------

namespace {

void put_endpoint_raw(nlmsghdr* nlh, std::uint16_t type, const void* addr, std::size_t len,
                      std::uint16_t port) {
    nlattr* n = mnl_attr_nest_start(nlh, type);
    mnl_attr_put(nlh, len == 4 ? DSTOR_A_ENDPOINT_IPV4 : DSTOR_A_ENDPOINT_IPV6, len, addr);
    mnl_attr_put_u16(nlh, DSTOR_A_ENDPOINT_PORT, port);
    mnl_attr_put_u32(nlh, 99, 0); // unknown nested attribute
    mnl_attr_nest_end(nlh, n);
}

// A u64 the way the kernel's nla_put_u64_64bit() may lay it out: a PAD first.
void put_u64_padded(nlmsghdr* nlh, std::uint16_t pad, std::uint16_t type, std::uint64_t v) {
    mnl_attr_put(nlh, pad, 0, nullptr);
    mnl_attr_put_u64(nlh, type, v);
}

} // namespace

TEST(Reply, ExportInfo) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "disk1");
    mnl_attr_put_strz(nlh, DSTOR_A_DEVICE, "/dev/vdb");
    const std::uint8_t v4[4] = {192, 0, 2, 1};
    put_endpoint_raw(nlh, DSTOR_A_LISTEN, v4, 4, 7420);
    mnl_attr_put_u32(nlh, DSTOR_A_FLAGS, DSTOR_F_READ_ONLY);
    put_u64_padded(nlh, DSTOR_A_PAD, DSTOR_A_SIZE, 1ULL << 30);
    mnl_attr_put_u32(nlh, DSTOR_A_BLOCK_SIZE, 4096);
    mnl_attr_put_u32(nlh, DSTOR_A_SESSIONS, 2);
    mnl_attr_put_u32(nlh, 0x3fff, 1); // from a newer kernel: ignored
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    put_u64_padded(nlh, DSTOR_A_STATS_PAD, DSTOR_A_STATS_READS, 10);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_READ_BYTES, 40960);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_INFLIGHT, 0);
    mnl_attr_put_u64(nlh, 200, 5); // unknown counter
    mnl_attr_nest_end(nlh, st);

    auto info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_EQ(info->name, "disk1");
    EXPECT_EQ(info->device, "/dev/vdb");
    ASSERT_TRUE(info->listen);
    EXPECT_EQ(format_endpoint(*info->listen), "192.0.2.1:7420");
    EXPECT_TRUE(info->read_only);
    EXPECT_EQ(info->size, 1ULL << 30);
    EXPECT_EQ(info->block_size, 4096u);
    EXPECT_EQ(info->sessions, 2u);
    EXPECT_EQ(info->stats.reads, 10u);
    EXPECT_EQ(info->stats.read_bytes, 40960u);
    EXPECT_EQ(info->stats.inflight, 0u);
    EXPECT_FALSE(info->stats.writes);
    EXPECT_FALSE(info->stats.errors);
}

TEST(Reply, ImportInfo) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 7);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "disk1");
    in6_addr a{};
    ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", &a), 1);
    put_endpoint_raw(nlh, DSTOR_A_PEER, &a, 16, 7421);
    mnl_attr_put_u32(nlh, DSTOR_A_CONNECTIONS, 4);
    mnl_attr_put_u32(nlh, DSTOR_A_STATE, DSTOR_STATE_RECONNECTING);
    mnl_attr_put_u64(nlh, DSTOR_A_SIZE, 512);

    auto info = parse_import_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_EQ(info->index, 7u);
    EXPECT_EQ(info->name, "disk1");
    ASSERT_TRUE(info->peer);
    EXPECT_EQ(format_endpoint(*info->peer), "[2001:db8::1]:7421");
    EXPECT_FALSE(info->read_only);
    EXPECT_EQ(info->connections, 4u);
    EXPECT_EQ(info->state, static_cast<std::uint32_t>(DSTOR_STATE_RECONNECTING));
    EXPECT_FALSE(info->connected); // an older kernel: absent, not zero
    EXPECT_TRUE(info->timers.empty());
    EXPECT_EQ(info->size, 512u);
    EXPECT_FALSE(info->block_size);
    EXPECT_EQ(info->stats, Stats{});

    auto index = parse_import_index(nlh);
    ASSERT_TRUE(index.ok());
    EXPECT_EQ(*index, 7u);
}

TEST(Reply, ImportInfoConnectedTimersAndRecoveryStats) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    mnl_attr_put_u32(nlh, DSTOR_A_CONNECTIONS, 2);
    mnl_attr_put_u32(nlh, DSTOR_A_CONNECTED, 1);
    mnl_attr_put_u32(nlh, DSTOR_A_STATE, DSTOR_STATE_RECONNECTING);
    mnl_attr_put_u32(nlh, DSTOR_A_TIMEOUT, 4);
    mnl_attr_put_u32(nlh, DSTOR_A_RETRIES, 0);
    mnl_attr_put_u32(nlh, DSTOR_A_RECONNECT_MIN, 1);
    mnl_attr_put_u32(nlh, DSTOR_A_RECONNECT_MAX, 2);
    mnl_attr_put_u32(nlh, DSTOR_A_KEEPALIVE, 1);
    mnl_attr_put_u32(nlh, DSTOR_A_DEAD_AFTER, 3);
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    put_u64_padded(nlh, DSTOR_A_STATS_PAD, DSTOR_A_STATS_RESENT, 11);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_TIMEOUTS, 12);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_RECONNECTS, 13);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_KEEPALIVES, 14);
    mnl_attr_nest_end(nlh, st);

    auto info = parse_import_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_EQ(info->connections, 2u);
    EXPECT_EQ(info->connected, 1u);
    EXPECT_EQ(info->state, static_cast<std::uint32_t>(DSTOR_STATE_RECONNECTING));
    Timers want;
    want.timeout = 4;
    want.retries = 0;
    want.reconnect_min = 1;
    want.reconnect_max = 2;
    want.keepalive = 1;
    want.dead_after = 3;
    EXPECT_EQ(info->timers, want);
    EXPECT_EQ(info->stats.resent, 11u);
    EXPECT_EQ(info->stats.timeouts, 12u);
    EXPECT_EQ(info->stats.reconnects, 13u);
    EXPECT_EQ(info->stats.keepalives, 14u);
    EXPECT_FALSE(info->stats.reads);
}

TEST(Reply, ExportInfoKeyIdAclsAndSecurityStats) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "a0");
    const std::uint8_t id[DSTOR_KEY_ID_LEN] = {0xfa, 0x6b, 0xa0, 0x51, 0x52, 0x9d, 0xb5, 0x73};
    mnl_attr_put(nlh, DSTOR_A_KEY_ID, sizeof(id), id);
    nlattr* list = mnl_attr_nest_start(nlh, DSTOR_A_ACLS);
    nlattr* item = mnl_attr_nest_start(nlh, DSTOR_A_ACL);
    const std::uint8_t v4[4] = {192, 0, 2, 0};
    mnl_attr_put(nlh, DSTOR_A_ACL_IPV4, 4, v4);
    mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 24);
    mnl_attr_put_u32(nlh, DSTOR_A_ACL_PERM, DSTOR_PERM_RO);
    mnl_attr_nest_end(nlh, item);
    mnl_attr_nest_end(nlh, list);
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_AUTH_FAILURES, 2);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_ACL_DENIED, 3);
    put_u64_padded(nlh, DSTOR_A_STATS_PAD, DSTOR_A_STATS_BAD_RECORDS, 4);
    mnl_attr_nest_end(nlh, st);

    auto info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    ASSERT_TRUE(info->key_id);
    EXPECT_EQ(format_key_id(*info->key_id), "fa6ba051529db573");
    ASSERT_TRUE(info->acls);
    ASSERT_EQ(info->acls->size(), 1u);
    EXPECT_EQ(format_prefix((*info->acls)[0].prefix), "192.0.2.0/24");
    EXPECT_EQ((*info->acls)[0].perm, static_cast<std::uint32_t>(DSTOR_PERM_RO));
    EXPECT_EQ(info->stats.auth_failures, 2u);
    EXPECT_EQ(info->stats.acl_denied, 3u);
    EXPECT_EQ(info->stats.bad_records, 4u);

    // An export without a key or access list (or an older kernel).
    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "s1");
    info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok());
    EXPECT_FALSE(info->key_id);
    EXPECT_FALSE(info->acls);
    EXPECT_FALSE(info->stats.bad_records);
}

TEST(Reply, ImportInfoKeyIdAndCipher) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "s0");
    const std::uint8_t id[DSTOR_KEY_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    mnl_attr_put(nlh, DSTOR_A_KEY_ID, sizeof(id), id);
    mnl_attr_put_u32(nlh, DSTOR_A_CIPHER, DSTOR_CIPHER_CHACHA20_POLY1305);
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_BAD_RECORDS, 1);
    mnl_attr_nest_end(nlh, st);
    auto info = parse_import_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    ASSERT_TRUE(info->key_id);
    EXPECT_EQ(format_key_id(*info->key_id), "0102030405060708");
    EXPECT_EQ(info->cipher, static_cast<std::uint32_t>(DSTOR_CIPHER_CHACHA20_POLY1305));
    EXPECT_EQ(info->stats.bad_records, 1u);
}

TEST(Reply, BadKeyIdOrCipher) {
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        const std::uint8_t id[DSTOR_KEY_LEN] = {}; // a key, not a key id
        mnl_attr_put(nlh, DSTOR_A_KEY_ID, sizeof(id), id);
        auto r = parse_export_info(nlh);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().text(), "malformed kernel reply: bad DSTOR_A_KEY_ID attribute");
    }
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        mnl_attr_put_u8(nlh, DSTOR_A_CIPHER, 1);
        auto r = parse_import_info(nlh);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().text().find("DSTOR_A_CIPHER"), std::string::npos);
    }
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        nlattr* list = mnl_attr_nest_start(nlh, DSTOR_A_ACLS);
        nlattr* item = mnl_attr_nest_start(nlh, DSTOR_A_ACL);
        mnl_attr_put_u8(nlh, DSTOR_A_ACL_PREFIX_LEN, 24); // no address
        mnl_attr_nest_end(nlh, item);
        mnl_attr_nest_end(nlh, list);
        EXPECT_FALSE(parse_export_info(nlh).ok());
    }
}

TEST(Reply, ModuleInfo) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_CRYPTO_WORKERS, 4);
    mnl_attr_put_u32(nlh, DSTOR_A_CRYPTO_QUEUED, 17);
    mnl_attr_put_u64(nlh, DSTOR_A_CRYPTO_POOLED, 1ULL << 40);
    mnl_attr_put_u32(nlh, DSTOR_A_MAX_SESSIONS, 4096);
    mnl_attr_put_u32(nlh, DSTOR_A_MAX_HOST_SESSIONS, 16384);
    auto c = parse_module_info(nlh);
    ASSERT_TRUE(c.ok()) << c.error().text();
    EXPECT_EQ(c->workers, 4u);
    EXPECT_EQ(c->queued, 17u);
    EXPECT_EQ(c->pooled, 1ULL << 40);
    EXPECT_EQ(c->max_sessions, 4096u);
    EXPECT_EQ(c->max_host_sessions, 16384u);

    // An older module: the crypto pool only.
    Buffer o;
    nlh = genl_reply(o, DSTOR_CMD_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_CRYPTO_WORKERS, 2);
    c = parse_module_info(nlh);
    ASSERT_TRUE(c.ok()) << c.error().text();
    EXPECT_EQ(c->workers, 2u);
    EXPECT_FALSE(c->pooled);
    EXPECT_FALSE(c->max_sessions);
    EXPECT_FALSE(c->max_host_sessions);

    {
        Buffer d; // a u64 expected
        nlh = genl_reply(d, DSTOR_CMD_GET);
        mnl_attr_put_u32(nlh, DSTOR_A_CRYPTO_POOLED, 1);
        auto bad = parse_module_info(nlh);
        ASSERT_FALSE(bad.ok());
        EXPECT_NE(bad.error().text().find("DSTOR_A_CRYPTO_POOLED"), std::string::npos)
            << bad.error().text();
    }
    for (std::uint16_t type :
         {DSTOR_A_CRYPTO_QUEUED, DSTOR_A_MAX_SESSIONS, DSTOR_A_MAX_HOST_SESSIONS}) {
        Buffer d;
        nlh = genl_reply(d, DSTOR_CMD_GET);
        mnl_attr_put_u64(nlh, type, 1); // u32 expected
        auto bad = parse_module_info(nlh);
        ASSERT_FALSE(bad.ok()) << type;
        const char* what = type == DSTOR_A_CRYPTO_QUEUED  ? "DSTOR_A_CRYPTO_QUEUED"
                           : type == DSTOR_A_MAX_SESSIONS ? "DSTOR_A_MAX_SESSIONS"
                                                          : "DSTOR_A_MAX_HOST_SESSIONS";
        EXPECT_NE(bad.error().text().find(what), std::string::npos) << bad.error().text();
    }
}

using samples::sample_uuid;
using samples::sample_uuid_text;

TEST(Reply, ExportInfoUuidLimitAndSessionCounters) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    mnl_attr_put_u32(nlh, DSTOR_A_SESSIONS, 3);
    mnl_attr_put_u32(nlh, DSTOR_A_MAX_SESSIONS, 4096);
    mnl_attr_put(nlh, DSTOR_A_UUID, sample_uuid.size(), sample_uuid.data());
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    put_u64_padded(nlh, DSTOR_A_STATS_PAD, DSTOR_A_STATS_SESSIONS_REAPED, 2);
    put_u64_padded(nlh, DSTOR_A_STATS_PAD, DSTOR_A_STATS_SESSIONS_REFUSED, 5);
    mnl_attr_nest_end(nlh, st);

    auto info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_EQ(info->sessions, 3u);
    EXPECT_EQ(info->max_sessions, 4096u);
    ASSERT_TRUE(info->uuid);
    EXPECT_EQ(format_uuid(*info->uuid), sample_uuid_text);
    Stats want;
    want.sessions_reaped = 2;
    want.sessions_refused = 5;
    EXPECT_EQ(info->stats, want);

    // An older kernel: none of them.
    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_FALSE(info->uuid);
    EXPECT_FALSE(info->max_sessions);
    EXPECT_FALSE(info->stats.sessions_reaped);
}

TEST(Reply, ImportInfoUuidAndReason) {
    const char* reason = "the export is not the one this import was made of (another export "
                         "under that name: its uuid differs)";
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    mnl_attr_put(nlh, DSTOR_A_UUID, sample_uuid.size(), sample_uuid.data());
    mnl_attr_put_u32(nlh, DSTOR_A_STATE, DSTOR_STATE_FAILED);
    mnl_attr_put_strz(nlh, DSTOR_A_REASON, reason);
    auto info = parse_import_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    ASSERT_TRUE(info->uuid);
    EXPECT_EQ(format_uuid(*info->uuid), sample_uuid_text);
    EXPECT_EQ(info->state, static_cast<std::uint32_t>(DSTOR_STATE_FAILED));
    EXPECT_EQ(info->reason, reason);

    // Connected: no reason.
    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    mnl_attr_put_u32(nlh, DSTOR_A_STATE, DSTOR_STATE_CONNECTED);
    info = parse_import_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_FALSE(info->reason);
    EXPECT_FALSE(info->uuid);
}

TEST(Reply, BadUuidLength) {
    for (std::size_t len :
         {std::size_t{0}, std::size_t{8}, std::size_t{15}, std::size_t{17}, std::size_t{32}}) {
        const std::uint8_t bytes[32] = {1};
        for (std::uint8_t cmd : {DSTOR_CMD_EXPORT_GET, DSTOR_CMD_IMPORT_GET}) {
            Buffer b;
            nlmsghdr* nlh = genl_reply(b, cmd);
            mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
            mnl_attr_put(nlh, DSTOR_A_UUID, len, bytes);
            std::string text;
            if (cmd == DSTOR_CMD_EXPORT_GET) {
                auto r = parse_export_info(nlh);
                text = r.ok() ? "" : r.error().text();
            } else {
                auto r = parse_import_info(nlh);
                text = r.ok() ? "" : r.error().text();
            }
            EXPECT_EQ(text, "malformed kernel reply: bad DSTOR_A_UUID attribute") << len;
        }
    }
}

TEST(Reply, ImportInfoBadTimerLength) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    mnl_attr_put_u16(nlh, DSTOR_A_DEAD_AFTER, 3);
    auto r = parse_import_info(nlh);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().text().find("DSTOR_A_DEAD_AFTER"), std::string::npos);

    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_IMPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    mnl_attr_put_u64(nlh, DSTOR_A_CONNECTED, 3);
    r = parse_import_info(nlh);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().text().find("DSTOR_A_CONNECTED"), std::string::npos);
}

TEST(Event, Parses) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EVENT);
    mnl_attr_put_u32(nlh, DSTOR_A_EVENT, DSTOR_EVENT_LINK_LOST);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
    const std::uint8_t v4[4] = {192, 0, 2, 1};
    put_endpoint_raw(nlh, DSTOR_A_PEER, v4, 4, 7420);
    mnl_attr_put_u32(nlh, DSTOR_A_STATE, DSTOR_STATE_RECONNECTING);
    mnl_attr_put_u32(nlh, DSTOR_A_CONNECTED, 1);
    mnl_attr_put_u32(nlh, DSTOR_A_QUEUE, 1);
    mnl_attr_put_u32(nlh, 0x3fff, 1); // from a newer kernel: ignored

    auto ev = parse_import_event(nlh);
    ASSERT_TRUE(ev.ok()) << ev.error().text();
    EXPECT_EQ(ev->event, static_cast<std::uint32_t>(DSTOR_EVENT_LINK_LOST));
    EXPECT_EQ(ev->index, 0u);
    EXPECT_EQ(ev->name, "d0");
    ASSERT_TRUE(ev->peer);
    EXPECT_EQ(format_endpoint(*ev->peer), "192.0.2.1:7420");
    EXPECT_EQ(ev->state, static_cast<std::uint32_t>(DSTOR_STATE_RECONNECTING));
    EXPECT_EQ(ev->connected, 1u);
    EXPECT_EQ(ev->queue, 1u);
    EXPECT_FALSE(ev->connections);
}

TEST(Event, Reason) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EVENT);
    mnl_attr_put_u32(nlh, DSTOR_A_EVENT, DSTOR_EVENT_LINK_LOST);
    mnl_attr_put_u32(nlh, DSTOR_A_STATE, DSTOR_STATE_RECONNECTING);
    mnl_attr_put_strz(nlh, DSTOR_A_REASON, "nothing heard from the peer");
    auto ev = parse_import_event(nlh);
    ASSERT_TRUE(ev.ok()) << ev.error().text();
    EXPECT_EQ(ev->reason, "nothing heard from the peer");

    // Without DSTOR_A_REASON (reconnected, or an older kernel): none.
    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_EVENT);
    mnl_attr_put_u32(nlh, DSTOR_A_EVENT, DSTOR_EVENT_RECONNECTED);
    ev = parse_import_event(nlh);
    ASSERT_TRUE(ev.ok()) << ev.error().text();
    EXPECT_FALSE(ev->reason);
}

TEST(Event, Minimal) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EVENT);
    mnl_attr_put_u32(nlh, DSTOR_A_EVENT, DSTOR_EVENT_REMOVED);
    auto ev = parse_import_event(nlh);
    ASSERT_TRUE(ev.ok()) << ev.error().text();
    EXPECT_EQ(ev->event, static_cast<std::uint32_t>(DSTOR_EVENT_REMOVED));
    EXPECT_FALSE(ev->index);
    EXPECT_FALSE(ev->name);
    EXPECT_FALSE(ev->peer);
    EXPECT_FALSE(ev->queue);
}

TEST(Event, Malformed) {
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EVENT);
        mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0); // no DSTOR_A_EVENT
        auto r = parse_import_event(nlh);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().text().find("DSTOR_A_EVENT"), std::string::npos);
    }
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EVENT);
        mnl_attr_put_u32(nlh, DSTOR_A_EVENT, DSTOR_EVENT_LINK_LOST);
        mnl_attr_put_u8(nlh, DSTOR_A_QUEUE, 1);
        auto r = parse_import_event(nlh);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().text().find("DSTOR_A_QUEUE"), std::string::npos);
    }
    {
        Buffer b;
        nlmsghdr* nlh = mnl_nlmsg_put_header(b.data); // no genl header
        nlh->nlmsg_type = family;
        EXPECT_FALSE(parse_import_event(nlh).ok());
    }
}

TEST(Event, NotificationsPassTheDispatcher) {
    // Multicast notifications carry sequence 0 and port id 0.
    Stream s;
    for (std::uint32_t e : {DSTOR_EVENT_LINK_LOST, DSTOR_EVENT_RECONNECTED}) {
        nlmsghdr* nlh = s.add(family, 0, 0);
        auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
        genl->cmd = DSTOR_CMD_EVENT;
        genl->version = DSTOR_GENL_VERSION;
        mnl_attr_put_u32(nlh, DSTOR_A_EVENT, e);
        s.commit(nlh);
    }
    std::vector<std::uint32_t> events;
    auto r = nl::dispatch(s.data, s.len, 0, 0, [&events](const nlmsghdr* nlh) -> Result<void> {
        auto ev = parse_import_event(nlh);
        if (!ev)
            return ev.error();
        events.push_back(ev->event);
        return {};
    });
    ASSERT_TRUE(r.ok()) << r.error().text();
    EXPECT_FALSE(*r); // notifications never end
    EXPECT_EQ(events, (std::vector<std::uint32_t>{DSTOR_EVENT_LINK_LOST, DSTOR_EVENT_RECONNECTED}));
}

// ---- family resolution ------------------------------------------------------

TEST(Family, IdAndMulticastGroups) {
    Buffer b;
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
    nlh->nlmsg_type = GENL_ID_CTRL;
    auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
    genl->cmd = CTRL_CMD_NEWFAMILY;
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, DSTOR_GENL_NAME);
    mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x1d);
    mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, DSTOR_GENL_VERSION);
    nlattr* groups = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
    nlattr* g1 = mnl_attr_nest_start(nlh, 1);
    mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, 7);
    mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, "other");
    mnl_attr_nest_end(nlh, g1);
    nlattr* g2 = mnl_attr_nest_start(nlh, 2);
    mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, DSTOR_GENL_MCGRP_EVENTS);
    mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, 42);
    mnl_attr_nest_end(nlh, g2);
    nlattr* g3 = mnl_attr_nest_start(nlh, 3); // no id: skipped
    mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, "broken");
    mnl_attr_nest_end(nlh, g3);
    mnl_attr_nest_end(nlh, groups);

    auto f = nl::parse_family(nlh);
    ASSERT_TRUE(f.ok()) << f.error().text();
    EXPECT_EQ(f->id, 0x1d);
    using Groups = std::vector<std::pair<std::string, std::uint32_t>>;
    EXPECT_EQ(f->groups, (Groups{{"other", 7}, {DSTOR_GENL_MCGRP_EVENTS, 42}}));
}

TEST(Family, NoGroups) {
    Buffer b;
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
    nlh->nlmsg_type = GENL_ID_CTRL;
    mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr));
    mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x20);
    auto f = nl::parse_family(nlh);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->id, 0x20);
    EXPECT_TRUE(f->groups.empty());

    Buffer c;
    nlh = mnl_nlmsg_put_header(c.data);
    nlh->nlmsg_type = GENL_ID_CTRL;
    EXPECT_FALSE(nl::parse_family(nlh).ok()); // no genl header
}

TEST(Reply, Malformed) {
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        mnl_attr_put_u16(nlh, DSTOR_A_SIZE, 1); // u64 expected
        auto r = parse_export_info(nlh);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().text().find("DSTOR_A_SIZE"), std::string::npos);
    }
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        const std::uint8_t three[3] = {1, 2, 3};
        put_endpoint_raw(nlh, DSTOR_A_LISTEN, three, 3, 1);
        EXPECT_FALSE(parse_export_info(nlh).ok());
    }
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
        mnl_attr_put_u32(nlh, DSTOR_A_FLAGS, 0); // no name
        EXPECT_FALSE(parse_export_info(nlh).ok());
    }
    {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_IMPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        nlattr* n = mnl_attr_nest_start(nlh, DSTOR_A_PEER); // neither IPV4 nor IPV6
        mnl_attr_put_u16(nlh, DSTOR_A_ENDPOINT_PORT, 1);
        mnl_attr_nest_end(nlh, n);
        EXPECT_FALSE(parse_import_info(nlh).ok());
    }
    {
        Buffer b;
        nlmsghdr* nlh = mnl_nlmsg_put_header(b.data); // no genl header
        nlh->nlmsg_type = family;
        EXPECT_FALSE(parse_import_info(nlh).ok());
    }
}

// ---- multicast exports and syncs ----------------------------------------------

namespace {

using samples::sample_root;

// DSTOR_A_MCAST as the kernel fills it for an export (u64s padded).
void put_mcast_reply(nlmsghdr* nlh) {
    nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_IFINDEX, 2);
    put_u64_padded(nlh, DSTOR_A_MCAST_PAD, DSTOR_A_MCAST_RATE, 200000000);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_BLOCK_SIZE, 16384);
    mnl_attr_put(nlh, DSTOR_A_MCAST_QUERIER, 0, nullptr);
    put_u64_padded(nlh, DSTOR_A_MCAST_PAD, DSTOR_A_MCAST_EPOCH, 0x0123456789abcdefULL);
    const McastRoot root = sample_root();
    mnl_attr_put(nlh, DSTOR_A_MCAST_ROOT, root.size(), root.data());
    put_u64_padded(nlh, DSTOR_A_MCAST_PAD, DSTOR_A_MCAST_BLOCKS, 1024);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_LISTENED, 3);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_MC_STATE, DSTOR_MC_STATE_SERVING);
    mnl_attr_put_u32(nlh, 99, 1); // from a newer kernel: ignored
    mnl_attr_nest_end(nlh, mc);
}

} // namespace

TEST(Reply, ExportInfoMcast) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "golden");
    mnl_attr_put_u32(nlh, DSTOR_A_FLAGS, DSTOR_F_READ_ONLY);
    put_mcast_reply(nlh);
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    put_u64_padded(nlh, DSTOR_A_STATS_PAD, DSTOR_A_STATS_MC_PACKETS, 100);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_MC_BYTES, 102400);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_MC_BLOCKS, 6);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_MLD_REPORTS, 5);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_MLD_BAD, 1);
    mnl_attr_put_u64(nlh, DSTOR_A_STATS_MC_QUERIES, 2);
    mnl_attr_nest_end(nlh, st);

    auto info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_FALSE(info->listen); // a multicast export without a TCP listener
    ASSERT_TRUE(info->mcast);
    const McastInfo& m = *info->mcast;
    EXPECT_EQ(m.ifindex, 2u);
    EXPECT_FALSE(m.interface); // named by dstor, never by the kernel
    EXPECT_EQ(m.rate, 200000000u);
    EXPECT_EQ(m.block_size, 16384u);
    EXPECT_TRUE(m.querier);
    EXPECT_EQ(m.epoch, 0x0123456789abcdefULL);
    EXPECT_EQ(m.root, sample_root());
    EXPECT_EQ(m.blocks, 1024u);
    EXPECT_EQ(m.listened, 3u);
    EXPECT_EQ(m.state, static_cast<std::uint32_t>(DSTOR_MC_STATE_SERVING));
    Stats want;
    want.mc_packets = 100;
    want.mc_bytes = 102400;
    want.mc_blocks = 6;
    want.mld_reports = 5;
    want.mld_bad = 1;
    want.mc_queries = 2;
    EXPECT_EQ(info->stats, want);

    // Hashing: no root, epoch or blocks yet; no querier.
    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_EXPORT_GET);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "g2");
    nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_IFINDEX, 2);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_MC_STATE, DSTOR_MC_STATE_HASHING);
    mnl_attr_nest_end(nlh, mc);
    info = parse_export_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    ASSERT_TRUE(info->mcast);
    EXPECT_FALSE(info->mcast->querier);
    EXPECT_FALSE(info->mcast->root);
    EXPECT_FALSE(info->mcast->epoch);
    EXPECT_FALSE(info->mcast->rate);
    EXPECT_EQ(info->mcast->state, static_cast<std::uint32_t>(DSTOR_MC_STATE_HASHING));
}

TEST(Reply, SyncInfo) {
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_SYNC_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 4);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "golden");
    mnl_attr_put_strz(nlh, DSTOR_A_DEVICE, "/dev/sdb");
    put_mcast_reply(nlh);
    put_u64_padded(nlh, DSTOR_A_PAD, DSTOR_A_SIZE, 16ULL << 20);
    mnl_attr_put_u32(nlh, DSTOR_A_SYNC_STATE, DSTOR_SYNC_STATE_RECEIVING);
    put_u64_padded(nlh, DSTOR_A_PAD, DSTOR_A_SYNC_ELAPSED_MS, 12345);
    const std::uint8_t id[DSTOR_KEY_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    mnl_attr_put(nlh, DSTOR_A_KEY_ID, sizeof(id), id);
    nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
    const std::pair<std::uint16_t, std::uint64_t> counters[] = {
        {DSTOR_A_STATS_SYNC_BLOCKS, 1024},  {DSTOR_A_STATS_SYNC_GOOD, 256},
        {DSTOR_A_STATS_SYNC_RECEIVED, 300}, {DSTOR_A_STATS_SYNC_VERIFIED, 298},
        {DSTOR_A_STATS_SYNC_HASH_BAD, 2},   {DSTOR_A_STATS_SYNC_BYTES, 4915200},
        {DSTOR_A_STATS_SYNC_PACKETS, 4800}, {DSTOR_A_STATS_SYNC_PACKETS_BAD, 7},
        {DSTOR_A_STATS_SYNC_CHANNELS, 12},
    };
    for (const auto& [type, v] : counters)
        put_u64_padded(nlh, DSTOR_A_STATS_PAD, type, v);
    mnl_attr_nest_end(nlh, st);

    auto info = parse_sync_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_EQ(info->index, 4u);
    EXPECT_EQ(info->name, "golden");
    EXPECT_EQ(info->device, "/dev/sdb");
    EXPECT_EQ(info->mcast.ifindex, 2u);
    EXPECT_EQ(info->mcast.block_size, 16384u);
    EXPECT_EQ(info->mcast.blocks, 1024u);
    EXPECT_EQ(info->mcast.epoch, 0x0123456789abcdefULL);
    EXPECT_EQ(info->mcast.root, sample_root());
    EXPECT_EQ(info->size, 16ULL << 20);
    EXPECT_EQ(info->state, static_cast<std::uint32_t>(DSTOR_SYNC_STATE_RECEIVING));
    EXPECT_EQ(info->elapsed_ms, 12345u);
    ASSERT_TRUE(info->key_id);
    EXPECT_EQ(format_key_id(*info->key_id), "0102030405060708");
    EXPECT_EQ(info->stats, samples::sample_sync().stats);

    // Just added: waiting for the announcement, nothing known yet.
    Buffer c;
    nlh = genl_reply(c, DSTOR_CMD_SYNC_ADD);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0);
    mnl_attr_put_strz(nlh, DSTOR_A_NAME, "g");
    nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
    mnl_attr_put_u32(nlh, DSTOR_A_MCAST_IFINDEX, 2);
    mnl_attr_nest_end(nlh, mc);
    mnl_attr_put_u32(nlh, DSTOR_A_SYNC_STATE, DSTOR_SYNC_STATE_WAITING);
    info = parse_sync_info(nlh);
    ASSERT_TRUE(info.ok()) << info.error().text();
    EXPECT_EQ(info->index, 0u);
    EXPECT_EQ(info->state, static_cast<std::uint32_t>(DSTOR_SYNC_STATE_WAITING));
    EXPECT_FALSE(info->size);
    EXPECT_FALSE(info->mcast.root);
    EXPECT_FALSE(info->mcast.blocks);
    EXPECT_FALSE(info->elapsed_ms);
    EXPECT_FALSE(info->key_id);
    EXPECT_EQ(info->stats, Stats{});
}

TEST(Reply, SyncDumpPassesTheDispatcher) {
    Stream s;
    for (std::uint32_t i : {0u, 3u}) {
        nlmsghdr* nlh = s.add(family, NLM_F_MULTI);
        auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
        genl->cmd = DSTOR_CMD_SYNC_GET;
        genl->version = DSTOR_GENL_VERSION;
        mnl_attr_put_u32(nlh, DSTOR_A_INDEX, i);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "g");
        s.commit(nlh);
    }
    s.add_done();
    std::vector<std::uint32_t> seen;
    auto r = nl::dispatch(s.data, s.len, 1, 0, [&seen](const nlmsghdr* nlh) -> Result<void> {
        auto info = parse_sync_info(nlh);
        if (!info)
            return info.error();
        seen.push_back(info->index.value_or(99));
        return {};
    });
    ASSERT_TRUE(r.ok()) << r.error().text();
    EXPECT_TRUE(*r);
    EXPECT_EQ(seen, (std::vector<std::uint32_t>{0, 3}));
}

TEST(Reply, MalformedMcastAndSync) {
    // A reply of a sync (or else an export) named "x" with what `fill` adds
    // must fail with an error that names `what`.
    auto expect_bad = [](void (*fill)(nlmsghdr*), const char* what, bool sync) {
        Buffer b;
        nlmsghdr* nlh = genl_reply(b, sync ? DSTOR_CMD_SYNC_GET : DSTOR_CMD_EXPORT_GET);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "x");
        fill(nlh);
        std::string text;
        if (sync) {
            auto r = parse_sync_info(nlh);
            text = r.ok() ? "" : r.error().text();
        } else {
            auto r = parse_export_info(nlh);
            text = r.ok() ? "" : r.error().text();
        }
        EXPECT_NE(text.find(what), std::string::npos) << what << ": '" << text << "'";
    };
    expect_bad(
        [](nlmsghdr* nlh) {
            nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
            const std::uint8_t short_root[16] = {};
            mnl_attr_put(nlh, DSTOR_A_MCAST_ROOT, sizeof(short_root), short_root);
            mnl_attr_nest_end(nlh, mc);
        },
        "DSTOR_A_MCAST_ROOT", false);
    expect_bad(
        [](nlmsghdr* nlh) {
            nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
            mnl_attr_put_u32(nlh, DSTOR_A_MCAST_RATE, 1); // u64 expected
            mnl_attr_nest_end(nlh, mc);
        },
        "DSTOR_A_MCAST_RATE", false);
    expect_bad(
        [](nlmsghdr* nlh) {
            nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
            mnl_attr_put_u32(nlh, DSTOR_A_MCAST_QUERIER, 1); // a flag has no payload
            mnl_attr_nest_end(nlh, mc);
        },
        "DSTOR_A_MCAST_QUERIER", false);
    expect_bad(
        [](nlmsghdr* nlh) {
            nlattr* mc = mnl_attr_nest_start(nlh, DSTOR_A_MCAST);
            mnl_attr_put_u64(nlh, DSTOR_A_MCAST_IFINDEX, 1);
            mnl_attr_nest_end(nlh, mc);
        },
        "DSTOR_A_MCAST_IFINDEX", true);
    expect_bad([](nlmsghdr* nlh) { mnl_attr_put_u64(nlh, DSTOR_A_SYNC_STATE, 1); },
               "DSTOR_A_SYNC_STATE", true);
    expect_bad([](nlmsghdr* nlh) { mnl_attr_put_u32(nlh, DSTOR_A_SYNC_ELAPSED_MS, 1); },
               "DSTOR_A_SYNC_ELAPSED_MS", true);
    expect_bad(
        [](nlmsghdr* nlh) {
            nlattr* st = mnl_attr_nest_start(nlh, DSTOR_A_STATS);
            mnl_attr_put_u32(nlh, DSTOR_A_STATS_SYNC_BYTES, 1);
            mnl_attr_nest_end(nlh, st);
        },
        "DSTOR_A_STATS", true);
    expect_bad([](nlmsghdr* nlh) { mnl_attr_put_u8(nlh, DSTOR_A_INDEX, 1); }, "DSTOR_A_INDEX",
               true);

    // A sync reply without a name is not a sync.
    Buffer b;
    nlmsghdr* nlh = genl_reply(b, DSTOR_CMD_SYNC_GET);
    mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 1);
    EXPECT_FALSE(parse_sync_info(nlh).ok());
}
