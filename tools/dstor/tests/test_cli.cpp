// Argument parsing of every verb into the data model; nothing here opens a socket.
#include <gtest/gtest.h>

#include <linux/dstor.h>

#include "commands.hpp"
#include "uuid_sample.hpp"

using namespace dstor;
using Args = std::vector<std::string>;

namespace {

template <class T>
void expect_usage_error(const Parsed<T>& p, const std::string& command, const std::string& what) {
    EXPECT_FALSE(p.cmd.has_value());
    EXPECT_EQ(p.exit_code, EXIT_USAGE);
    EXPECT_EQ(p.command, command);
    EXPECT_NE(p.output.find(what), std::string::npos) << p.output;
}

// `base` followed by `extra`.
Args plus(Args base, const Args& extra) {
    base.insert(base.end(), extra.begin(), extra.end());
    return base;
}

template <class T>
void expect_help(const Parsed<T>& p, const std::string& usage_line) {
    EXPECT_FALSE(p.cmd.has_value());
    EXPECT_EQ(p.exit_code, EXIT_OK);
    EXPECT_NE(p.output.find(usage_line), std::string::npos) << p.output;
}

} // namespace

TEST(ExportArgs, AddMinimal) {
    auto p = parse_export_args({"add", "disk1", "--device", "/dev/vdb", "--listen", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "export add");
    auto* add = std::get_if<ExportAdd>(&*p.cmd);
    ASSERT_NE(add, nullptr);
    EXPECT_EQ(add->spec.name, "disk1");
    EXPECT_EQ(add->spec.device, "/dev/vdb");
    ASSERT_TRUE(add->spec.listen);
    EXPECT_EQ(format_endpoint(*add->spec.listen), "192.0.2.1:7420");
    EXPECT_FALSE(add->spec.mcast);
    EXPECT_FALSE(add->spec.read_only);
}

TEST(ExportArgs, AddFullAnyOrder) {
    auto p = parse_export_args(
        {"add", "--read-only", "--listen=[2001:db8::1]:9000", "disk.2", "--device=/dev/vdc"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& spec = std::get<ExportAdd>(*p.cmd).spec;
    EXPECT_EQ(spec.name, "disk.2");
    EXPECT_EQ(spec.device, "/dev/vdc");
    ASSERT_TRUE(spec.listen);
    EXPECT_EQ(format_endpoint(*spec.listen), "[2001:db8::1]:9000");
    EXPECT_TRUE(spec.read_only);
}

TEST(ExportArgs, AddDoesNotTouchTheDevice) {
    // Existence is checked when the command runs, not while parsing.
    auto p = parse_export_args({"add", "x", "--device", "/nonexistent", "--listen", "::"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
}

TEST(ExportArgs, AddErrors) {
    expect_usage_error(parse_export_args({"add"}), "export add", "NAME is required");
    expect_usage_error(parse_export_args({"add", "x", "--listen", "192.0.2.1"}), "export add",
                       "--device is required");
    expect_usage_error(parse_export_args({"add", "x", "--device", "/dev/vdb"}), "export add",
                       "--listen is required");
    expect_usage_error(
        parse_export_args({"add", "x", "--device", "/dev/vdb", "--listen", "host.example:1"}),
        "export add", "--listen 'host.example:1': 'host.example' is not a numeric");
    expect_usage_error(
        parse_export_args({"add", "x", "--device", "/dev/vdb", "--listen", "192.0.2.1:0"}),
        "export add", "port 0");
    expect_usage_error(
        parse_export_args({"add", "bad/name", "--device", "/dev/vdb", "--listen", "192.0.2.1"}),
        "export add", "'/'");
    expect_usage_error(
        parse_export_args({"add", std::string(64, 'n'), "--device", "/d", "--listen", "::"}),
        "export add", "at most 63");
    expect_usage_error(parse_export_args({"add", "x", "--device", "", "--listen", "192.0.2.1"}),
                       "export add", "--device is empty");
    expect_usage_error(
        parse_export_args({"add", "x", "y", "--device", "/d", "--listen", "192.0.2.1"}),
        "export add", "not expected: y");
    expect_usage_error(
        parse_export_args({"add", "x", "--device", "/d", "--listen", "192.0.2.1", "--bogus"}),
        "export add", "--bogus");
    expect_usage_error(parse_export_args({"add", "x", "--device"}), "export add", "--device");
}

TEST(ExportArgs, Del) {
    auto p = parse_export_args({"del", "disk1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "export del");
    EXPECT_EQ(std::get<ExportDel>(*p.cmd).name, "disk1");
    expect_usage_error(parse_export_args({"del"}), "export del", "NAME is required");
    expect_usage_error(parse_export_args({"del", "a", "b"}), "export del", "not expected: b");
    expect_usage_error(parse_export_args({"del", "a b"}), "export del", "a space");
}

TEST(ExportArgs, Rehash) {
    auto p = parse_export_args({"rehash", "disk1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "export rehash");
    EXPECT_EQ(std::get<ExportRehash>(*p.cmd).name, "disk1");
    expect_usage_error(parse_export_args({"rehash"}), "export rehash", "NAME is required");
    expect_usage_error(parse_export_args({"rehash", "a", "b"}), "export rehash",
                       "not expected: b");
    expect_usage_error(parse_export_args({"rehash", "a b"}), "export rehash", "a space");
    expect_help(parse_export_args({"rehash", "--help"}), "Usage: dstor export rehash");
}

TEST(ExportArgs, Verbs) {
    expect_usage_error(parse_export_args({}), "export", "missing verb: expected add, set, del or rehash");
    expect_usage_error(parse_export_args({"frob"}), "export", "unknown verb 'frob'");
    expect_usage_error(parse_export_args({""}), "export", "unknown verb ''");
    expect_usage_error(parse_export_args({"--frob"}), "export", "--frob");
}

TEST(ExportArgs, Help) {
    expect_help(parse_export_args({"--help"}), "Usage: dstor export [OPTIONS] SUBCOMMAND");
    expect_help(parse_export_args({"-h"}), "Usage: dstor export");
    auto p = parse_export_args({"add", "--help"});
    expect_help(p, "Usage: dstor export add [OPTIONS] NAME");
    EXPECT_NE(p.output.find("--listen"), std::string::npos);
    EXPECT_NE(p.output.find("--read-only"), std::string::npos);
    expect_help(parse_export_args({"del", "--help"}), "Usage: dstor export del");
    // Help wins over missing required options.
    expect_help(parse_export_args({"add", "x", "--help"}), "Usage: dstor export add");
}

TEST(ExportArgs, AddKey) {
    auto p = parse_export_args(
        {"add", "s0", "--device", "/dev/ram0", "--listen", "192.0.2.1", "--key", "/etc/k1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& add = std::get<ExportAdd>(*p.cmd);
    EXPECT_EQ(add.key_file, "/etc/k1");
    EXPECT_FALSE(add.spec.key); // read when the command runs
    p = parse_export_args({"add", "s0", "--device", "/dev/ram0", "--listen", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ExportAdd>(*p.cmd).key_file);
    // Parsing never opens the key file.
    p = parse_export_args({"add", "s0", "--device", "/d", "--listen", "::", "--key", "/none"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;

    expect_usage_error(
        parse_export_args({"add", "s0", "--device", "/d", "--listen", "::", "--key", ""}),
        "export add", "--key is empty");
    expect_usage_error(
        parse_export_args({"add", "s0", "--device", "/d", "--listen", "::", "--key"}), "export add",
        "--key");
    auto h = parse_export_args({"add", "--help"});
    EXPECT_NE(h.output.find("--key FILE"), std::string::npos) << h.output;
    EXPECT_NE(h.output.find("--allow PREFIX=ro|rw"), std::string::npos) << h.output;
}

TEST(ExportArgs, Set) {
    auto p = parse_export_args({"set", "s0", "--key", "/etc/k2"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "export set");
    EXPECT_EQ(std::get<ExportSet>(*p.cmd).name, "s0");
    EXPECT_EQ(std::get<ExportSet>(*p.cmd).key_file, "/etc/k2");

    p = parse_export_args({"set", "--no-key", "s0"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ExportSet>(*p.cmd).key_file); // a zero key: removed

    expect_usage_error(parse_export_args({"set", "s0"}), "export set",
                       "nothing to change: give --key FILE or --no-key");
    expect_usage_error(parse_export_args({"set", "s0", "--key", "/k", "--no-key"}), "export set",
                       "give --key FILE or --no-key, not both");
    expect_usage_error(parse_export_args({"set", "--no-key"}), "export set", "NAME is required");
    expect_usage_error(parse_export_args({"set", "s/0", "--no-key"}), "export set", "'/'");
    expect_usage_error(parse_export_args({"set", "s0", "--key", ""}), "export set",
                       "--key is empty");
    expect_usage_error(parse_export_args({"set", "s0", "--no-key", "--read-only"}), "export set",
                       "--read-only");
    expect_help(parse_export_args({"set", "--help"}), "Usage: dstor export set [OPTIONS] NAME");
}

TEST(ExportArgs, AddMcast) {
    auto p = parse_export_args(
        {"add", "golden", "--device", "/dev/vg/golden", "--read-only", "--mcast", "eth0"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& spec = std::get<ExportAdd>(*p.cmd).spec;
    EXPECT_TRUE(spec.read_only);
    EXPECT_FALSE(spec.listen); // no TCP listener
    ASSERT_TRUE(spec.mcast);
    EXPECT_EQ(spec.mcast->interface, "eth0");
    EXPECT_EQ(spec.mcast->ifindex, 0u); // resolved when the command runs
    EXPECT_FALSE(spec.mcast->rate);     // the kernel's defaults
    EXPECT_FALSE(spec.mcast->block_size);
    EXPECT_FALSE(spec.mcast->querier);

    // Parsing never looks the interface up.
    p = parse_export_args({"add", "golden", "--device", "/d", "--read-only", "--mcast",
                           "dstor-noif0", "--rate", "200M", "--block-size", "64K", "--querier",
                           "--key", "/etc/k", "--listen", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& add = std::get<ExportAdd>(*p.cmd);
    ASSERT_TRUE(add.spec.mcast);
    EXPECT_EQ(add.spec.mcast->interface, "dstor-noif0");
    EXPECT_EQ(add.spec.mcast->rate, 200000000u);
    EXPECT_EQ(add.spec.mcast->block_size, 65536u);
    EXPECT_TRUE(add.spec.mcast->querier);
    ASSERT_TRUE(add.spec.listen); // both: TCP importers and multicast receivers
    EXPECT_EQ(format_endpoint(*add.spec.listen), "192.0.2.1:7420");
    EXPECT_EQ(add.key_file, "/etc/k");

    p = parse_export_args({"add", "g", "--device=/d", "--read-only", "--mcast=eth0", "--rate=1.5G",
                           "--block-size=1M"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.mcast->rate, 1500000000u);
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.mcast->block_size, 1u << 20);
}

TEST(ExportArgs, AddTree) {
    auto p = parse_export_args(
        {"add", "golden", "--device", "/d", "--read-only", "--listen", "::", "--tree"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.tree_block_size, DSTOR_MC_DEFAULT_BLOCK);
    EXPECT_FALSE(std::get<ExportAdd>(*p.cmd).spec.mcast);
    p = parse_export_args({"add", "golden", "--device", "/d", "--read-only", "--listen", "::",
                           "--tree", "--block-size", "4K"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.tree_block_size, 4096u);
    // A read-write export's tree is live (the kernel re-hashes what is written).
    p = parse_export_args({"add", "golden", "--device", "/d", "--listen", "::", "--tree"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.tree_block_size, DSTOR_MC_DEFAULT_BLOCK);
    // A multicast export's tree is the multicast one: no second attribute.
    p = parse_export_args({"add", "golden", "--device", "/d", "--read-only", "--mcast", "eth0",
                           "--tree", "--block-size", "4K"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ExportAdd>(*p.cmd).spec.tree_block_size);
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.mcast->block_size, 4096u);
    expect_usage_error(parse_export_args({"add", "g", "--device", "/d", "--read-only", "--tree"}),
                       "export add", "--listen is required");
}

TEST(ExportArgs, AddMcastErrors) {
    const Args base = {"add", "g", "--device", "/d"};
    auto with = [&base](const Args& extra) { return parse_export_args(plus(base, extra)); };
    expect_usage_error(with({"--mcast", "eth0"}), "export add",
                       "--mcast needs --read-only: a multicast export is read-only");
    expect_usage_error(with({"--mcast", "eth0", "--listen", "::"}), "export add",
                       "--mcast needs --read-only");
    expect_usage_error(with({"--read-only"}), "export add",
                       "--listen is required (or --mcast IFACE, for a multicast export)");
    expect_usage_error(with({"--listen", "::", "--rate", "64K"}), "export add",
                       "--rate needs --mcast IFACE");
    expect_usage_error(with({"--listen", "::", "--block-size", "64K"}), "export add",
                       "--block-size needs --mcast IFACE or --tree");
    expect_usage_error(with({"--read-only", "--mcast", "eth0", "--tree", "--block-size", "48K"}),
                       "export add", "--block-size must be a power of two from 4K to 1M");
    expect_usage_error(with({"--read-only", "--listen", "::", "--tree", "--block-size", "48K"}),
                       "export add", "--block-size must be a power of two from 4K to 1M");
    expect_usage_error(with({"--listen", "::", "--querier"}), "export add",
                       "--querier needs --mcast IFACE");
    expect_usage_error(with({"--read-only", "--mcast", "eth0", "--rate", "10K"}), "export add",
                       "--rate must be bits per second from 1M to 100G");
    expect_usage_error(with({"--read-only", "--mcast", "eth0", "--block-size", "48K"}),
                       "export add", "--block-size must be a power of two from 4K to 1M");
    expect_usage_error(with({"--read-only", "--mcast", ""}), "export add",
                       "--mcast: the interface name is empty");
    expect_usage_error(with({"--read-only", "--mcast", "eth0:1"}), "export add",
                       "--mcast: the interface name 'eth0:1' contains ':'");
    expect_usage_error(with({"--read-only", "--mcast", "averyveryverylongname"}), "export add",
                       "(at most 15)");
    expect_usage_error(with({"--read-only", "--mcast", "eth0", "--allow", "192.0.2.0/24=ro"}),
                       "export add", "--allow needs --listen: access lists admit TCP importers");
    expect_usage_error(with({"--read-only", "--mcast"}), "export add", "--mcast");
    expect_usage_error(with({"--read-only", "--mcast", "eth0", "--querier=x"}), "export add",
                       "--querier");

    auto h = parse_export_args({"add", "--help"});
    EXPECT_EQ(h.exit_code, EXIT_OK);
    for (const char* opt : {"--mcast IFACE", "--rate RATE", "--block-size SIZE", "--querier",
                            "(default 100M)", "(default 64K)", "dstor sync"})
        EXPECT_NE(h.output.find(opt), std::string::npos) << opt << "\n" << h.output;
}

TEST(ExportArgs, AddUuid) {
    const Args base = {"add", "d0", "--device", "/d", "--listen", "192.0.2.1"};
    auto with = [&base](const Args& extra) { return parse_export_args(plus(base, extra)); };
    auto p = with({});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ExportAdd>(*p.cmd).spec.uuid); // the kernel makes one

    const Uuid& want = samples::sample_uuid;
    for (const char* text :
         {"0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E",
          "0f8fad5bd9cb469fa16570867728950e"}) {
        p = with({"--uuid", text});
        ASSERT_TRUE(p.cmd.has_value()) << text << ": " << p.output;
        EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.uuid, want) << text;
    }
    p = with({"--uuid=0f8fad5b-d9cb-469f-a165-70867728950e"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.uuid, want);

    expect_usage_error(with({"--uuid", "0f8fad5b-d9cb-469f-a165"}), "export add",
                       "--uuid '0f8fad5b-d9cb-469f-a165': not a UUID (expected 8-4-4-4-12 hex "
                       "digits");
    expect_usage_error(with({"--uuid", "0f8fad5b-d9cb-469f-a165-70867728950g"}), "export add",
                       "not a UUID");
    expect_usage_error(with({"--uuid", ""}), "export add", "--uuid '': not a UUID");
    expect_usage_error(with({"--uuid", "00000000-0000-0000-0000-000000000000"}), "export add",
                       "--uuid '00000000-0000-0000-0000-000000000000': the nil UUID (all zero) "
                       "identifies nothing");
    expect_usage_error(with({"--uuid"}), "export add", "--uuid");
    expect_usage_error(with({"--uuid", "0f8fad5bd9cb469fa16570867728950e", "--uuid",
                             "0f8fad5bd9cb469fa16570867728950f"}),
                       "export add", "--uuid");
}

TEST(ExportArgs, AddMaxSessions) {
    const Args base = {"add", "d0", "--device", "/d", "--listen", "192.0.2.1"};
    auto with = [&base](const Args& extra) { return parse_export_args(plus(base, extra)); };
    auto p = with({});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ExportAdd>(*p.cmd).spec.max_sessions); // the module's default

    for (const auto& [text, n] : {std::pair<const char*, std::uint32_t>{"1", 1},
                                  {"64", 64},
                                  {"1000000", DSTOR_MAX_SESSION_LIMIT}}) {
        p = with({"--max-sessions", text});
        ASSERT_TRUE(p.cmd.has_value()) << text << ": " << p.output;
        EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.max_sessions, n) << text;
    }
    for (const char* bad : {"0", "1000001", "-1", "", "many", "1e3", "10 ", "4294967296"})
        expect_usage_error(with({"--max-sessions", bad}), "export add",
                           "--max-sessions must be a number from 1 to 1000000");
    expect_usage_error(with({"--max-sessions"}), "export add", "--max-sessions");

    // Both on a multicast export too.
    p = parse_export_args({"add", "g", "--device", "/d", "--read-only", "--mcast", "eth0",
                           "--max-sessions", "2", "--uuid", "0f8fad5bd9cb469fa16570867728950e"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ExportAdd>(*p.cmd).spec.max_sessions, 2u);
    EXPECT_TRUE(std::get<ExportAdd>(*p.cmd).spec.uuid);
}

TEST(ExportArgs, AddHelpNamesUuidAndMaxSessions) {
    auto h = parse_export_args({"add", "--help"});
    EXPECT_EQ(h.exit_code, EXIT_OK);
    for (const char* text :
         {"--uuid UUID",
          "Keep the export's identity across a re-export (e.g. after an exporter "
          "reboot): importers resume only against the same identity",
          "--max-sessions N", "Refuse sessions past N (default: the module's max-sessions)",
          "8-4-4-4-12"})
        EXPECT_NE(h.output.find(text), std::string::npos) << text << "\n" << h.output;
}

TEST(SyncArgs, Add) {
    auto p = parse_sync_args({"golden", "--mcast", "eth0", "--target", "/dev/sdb"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "sync");
    const auto& add = std::get<SyncAdd>(*p.cmd);
    EXPECT_EQ(add.spec.name, "golden");
    EXPECT_EQ(add.spec.interface, "eth0");
    EXPECT_EQ(add.spec.ifindex, 0u); // resolved when the command runs
    EXPECT_EQ(add.spec.device, "/dev/sdb");
    EXPECT_FALSE(add.spec.key);
    EXPECT_FALSE(add.key_file);
    EXPECT_FALSE(add.wait);
    EXPECT_FALSE(add.spec.peer);

    // Over TCP: the exporter's address, port 7420 unless given.
    p = parse_sync_args({"golden", "--peer", "192.0.2.1", "--target", "/dev/sdb", "--wait"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& tcp = std::get<SyncAdd>(*p.cmd);
    ASSERT_TRUE(tcp.spec.peer);
    EXPECT_EQ(format_endpoint(*tcp.spec.peer), "192.0.2.1:7420");
    EXPECT_EQ(tcp.spec.interface, "");
    EXPECT_EQ(tcp.spec.every, 0u);
    EXPECT_EQ(tcp.spec.scrub, 0u);

    // Both: multicast, repaired over TCP.
    p = parse_sync_args(
        {"golden", "--mcast", "eth0", "--peer", "192.0.2.1", "--target", "/dev/sdb"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& both = std::get<SyncAdd>(*p.cmd);
    ASSERT_TRUE(both.spec.peer);
    EXPECT_EQ(both.spec.interface, "eth0");

    // Periodic: intervals in seconds, with or without a unit.
    p = parse_sync_args({"g", "--peer", "192.0.2.1", "--target", "/d", "--every", "90", "--scrub",
                         "1d"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<SyncAdd>(*p.cmd).spec.every, 90u);
    EXPECT_EQ(std::get<SyncAdd>(*p.cmd).spec.scrub, 86400u);
    p = parse_sync_args({"g", "--peer", "192.0.2.1", "--target", "/d", "--every=10s"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<SyncAdd>(*p.cmd).spec.every, 10u);
    EXPECT_EQ(std::get<SyncAdd>(*p.cmd).spec.scrub, 0u);

    p = parse_sync_args(
        {"--wait", "--key=/etc/k", "--target=/dev/sdc", "g.1", "--mcast=dstor-noif0"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& all = std::get<SyncAdd>(*p.cmd);
    EXPECT_EQ(all.spec.name, "g.1");
    EXPECT_EQ(all.spec.interface, "dstor-noif0");
    EXPECT_EQ(all.spec.device, "/dev/sdc"); // parsing never looks at the device
    EXPECT_EQ(all.key_file, "/etc/k");
    EXPECT_TRUE(all.wait);
    EXPECT_FALSE(all.spec.root);

    const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    p = parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--root", hex});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& pinned = std::get<SyncAdd>(*p.cmd);
    ASSERT_TRUE(pinned.spec.root);
    EXPECT_EQ((*pinned.spec.root)[0], 0x00);
    EXPECT_EQ((*pinned.spec.root)[1], 0x11);
    EXPECT_EQ((*pinned.spec.root)[15], 0xff);
    EXPECT_EQ((*pinned.spec.root)[31], 0xff);
    EXPECT_EQ((*pinned.spec.root)[26], 0xaa);

    // Seeds in order, each after its own --seed; --json with --wait.
    p = parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--seed", "/dev/sda2", "--wait",
                         "--seed=/srv/v1.img", "--json", "--key", "/etc/k"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& seeded = std::get<SyncAdd>(*p.cmd);
    EXPECT_EQ(seeded.seeds, (std::vector<std::string>{"/dev/sda2", "/srv/v1.img"}));
    EXPECT_TRUE(seeded.json);

    // An export named like a verb: an option first.
    p = parse_sync_args({"--mcast", "eth0", "--target", "/dev/sdb", "list"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<SyncAdd>(*p.cmd).spec.name, "list");
}

TEST(SyncArgs, AddErrors) {
    expect_usage_error(parse_sync_args({}), "sync", "NAME is required");
    expect_usage_error(parse_sync_args({"g", "--target", "/dev/sdb"}), "sync",
                       "give --mcast IFACE, --peer ADDR[:PORT], or both");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--peer", "192.0.2.1", "--target",
                                        "/d", "--every", "1m"}),
                       "sync", "--every and --scrub go with --peer alone");
    expect_usage_error(parse_sync_args({"g", "--peer", "192.0.2.1:99999", "--target", "/d"}),
                       "sync", "--peer '192.0.2.1:99999'");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0"}), "sync", "--target is required");
    expect_usage_error(parse_sync_args({"g/1", "--mcast", "eth0", "--target", "/d"}), "sync",
                       "'/'");
    expect_usage_error(parse_sync_args({"g", "--mcast", "e:1", "--target", "/d"}), "sync",
                       "--mcast: the interface name 'e:1' contains ':'");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--target", ""}), "sync",
                       "--target is empty");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--key", ""}),
                       "sync", "--key is empty");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--seed", ""}),
                       "sync", "--seed is empty");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--seed", "/s"}),
                       "sync", "--seed needs --key or --root");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--json"}),
                       "sync", "--json goes with --wait");
    const std::vector<std::pair<std::vector<std::string>, std::string>> periodic = {
        {{"--mcast", "eth0", "--every", "1m"}, "--every and --scrub go with --peer"},
        {{"--peer", "192.0.2.1", "--every", "9s"}, "--every '9s': must be from 10 s to 30 days"},
        {{"--peer", "192.0.2.1", "--every", "31d"}, "--every '31d': must be from 10 s"},
        {{"--peer", "192.0.2.1", "--every", "10x"}, "--every '10x': not a duration"},
        {{"--peer", "192.0.2.1", "--every", "s"}, "--every 's': not a duration"},
        {{"--peer", "192.0.2.1", "--every", ""}, "--every '': not a duration"},
        {{"--peer", "192.0.2.1", "--every", "-10"}, "not a duration"},
        {{"--peer", "192.0.2.1", "--every", "99999999999999999999d"}, "not a duration"},
        {{"--peer", "192.0.2.1", "--every", "4294967295d"}, "must be from 10 s"},
        {{"--peer", "192.0.2.1", "--scrub", "1h"}, "--scrub goes with --every"},
        {{"--peer", "192.0.2.1", "--every", "1h", "--scrub", "59m"},
         "--scrub 59m is shorter than --every 1h"},
    };
    for (const auto& [extra, text] : periodic) {
        std::vector<std::string> args = {"g", "--target", "/d"};
        args.insert(args.end(), extra.begin(), extra.end());
        expect_usage_error(parse_sync_args(args), "sync", text);
    }
    std::vector<std::string> nine{"g", "--mcast", "eth0", "--target", "/d", "--key", "/k"};
    for (int i = 0; i < 9; i++)
        nine.insert(nine.end(), {"--seed", "/s" + std::to_string(i)});
    expect_usage_error(parse_sync_args(nine), "sync", "at most 8 seeds");
    expect_usage_error(parse_sync_args({"g", "h", "--mcast", "eth0", "--target", "/d"}), "sync",
                       "not expected: h");
    expect_usage_error(
        parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--rate", "200M"}), "sync",
        "--rate");
    expect_usage_error(parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--wait=x"}),
                       "sync", "--wait");
    for (const char* bad :
         {"", "00", "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
          "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00"})
        expect_usage_error(
            parse_sync_args({"g", "--mcast", "eth0", "--target", "/d", "--root", bad}), "sync",
            "is not a merkle root (64 hex digits)");
}

TEST(SyncArgs, DelAndList) {
    auto p = parse_sync_args({"del", "3"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "sync del");
    EXPECT_EQ(std::get<SyncDel>(*p.cmd).index, 3u);
    p = parse_sync_args({"del", "0"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<SyncDel>(*p.cmd).index, 0u);
    for (const char* bad : {"x", "-1", "03", "", "4294967296", "golden"})
        expect_usage_error(parse_sync_args({"del", bad}), "sync del",
                           std::string(1, '\'').append(bad).append("' is not a sync index"));
    expect_usage_error(parse_sync_args({"del"}), "sync del", "INDEX is required");
    expect_usage_error(parse_sync_args({"del", "1", "2"}), "sync del", "not expected: 2");

    p = parse_sync_args({"list"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "sync list");
    EXPECT_FALSE(std::get<SyncList>(*p.cmd).json);
    p = parse_sync_args({"list", "--json"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_TRUE(std::get<SyncList>(*p.cmd).json);
    expect_usage_error(parse_sync_args({"list", "--jsn"}), "sync list", "--jsn");
    expect_usage_error(parse_sync_args({"list", "3"}), "sync list", "3");
}

TEST(SyncArgs, Help) {
    for (const char* h : {"--help", "-h"}) {
        auto p = parse_sync_args({h});
        expect_help(p, "Usage: dstor sync [OPTIONS] NAME");
        for (const char* text : {"--mcast IFACE", "--target DEV", "--key FILE", "--wait",
                                 "dstor sync del INDEX", "dstor sync list [--json]"})
            EXPECT_NE(p.output.find(text), std::string::npos) << text << "\n" << p.output;
    }
    // Help wins over missing required options.
    expect_help(parse_sync_args({"g", "--help"}), "Usage: dstor sync [OPTIONS] NAME");
    expect_help(parse_sync_args({"del", "--help"}), "Usage: dstor sync del [OPTIONS] INDEX");
    expect_help(parse_sync_args({"list", "--help"}), "Usage: dstor sync list [OPTIONS]");
}

TEST(ImportArgs, AddMinimal) {
    auto p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1:7421"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "import add");
    const auto& spec = std::get<ImportAdd>(*p.cmd).spec;
    EXPECT_EQ(spec.name, "disk1");
    EXPECT_EQ(format_endpoint(spec.peer), "192.0.2.1:7421");
    EXPECT_FALSE(spec.read_only);
    EXPECT_EQ(spec.connections, 0u); // the kernel's default
}

TEST(ImportArgs, AddFull) {
    auto p = parse_import_args(
        {"add", "disk1", "--peer", "2001:db8::1", "--read-only", "--connections", "8"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& spec = std::get<ImportAdd>(*p.cmd).spec;
    EXPECT_EQ(format_endpoint(spec.peer), "[2001:db8::1]:7420");
    EXPECT_TRUE(spec.read_only);
    EXPECT_EQ(spec.connections, 8u);
}

TEST(ImportArgs, AddLocalName) {
    auto p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1", "--name", "data.2"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ImportAdd>(*p.cmd).spec.local, "data.2");
    p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ImportAdd>(*p.cmd).spec.local, ""); // none
    p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1", "--name", "db-part1x"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    // It becomes a file name in /dev/disk/by-dstor.
    for (const char* bad : {"..", ".", "a/b", "", "x y", "db-part1"})
        expect_usage_error(
            parse_import_args({"add", "disk1", "--peer", "192.0.2.1", "--name", bad}),
            "import add", "--name: ");
}

TEST(ImportArgs, AddKey) {
    auto p = parse_import_args(
        {"add", "s0", "--peer", "192.0.2.1", "--key", "/etc/k1", "--connections", "2"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& add = std::get<ImportAdd>(*p.cmd);
    EXPECT_EQ(add.key_file, "/etc/k1");
    EXPECT_FALSE(add.spec.key);
    EXPECT_EQ(add.spec.connections, 2u);
    p = parse_import_args({"add", "s0", "--peer", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ImportAdd>(*p.cmd).key_file);
    expect_usage_error(parse_import_args({"add", "s0", "--peer", "192.0.2.1", "--key", ""}),
                       "import add", "--key is empty");
}

TEST(ImportArgs, SetKey) {
    auto p = parse_import_args({"set", "dstor0", "--key", "/etc/k2"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& set = std::get<ImportSet>(*p.cmd);
    EXPECT_EQ(set.key_file, "/etc/k2");
    EXPECT_TRUE(set.timers.empty()); // a key alone is a change
    p = parse_import_args({"set", "disk1", "--key", "/k", "--timeout", "9"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(std::get<ImportSet>(*p.cmd).timers.timeout, 9u);
    EXPECT_EQ(std::get<ImportSet>(*p.cmd).key_file, "/k");
    p = parse_import_args({"set", "dstor0", "--timeout", "9"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_FALSE(std::get<ImportSet>(*p.cmd).key_file);
    expect_usage_error(parse_import_args({"set", "dstor0", "--key", ""}), "import set",
                       "--key is empty");
    p = parse_import_args({"set", "dstor0", "--no-key"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_TRUE(std::get<ImportSet>(*p.cmd).no_key);
    EXPECT_FALSE(std::get<ImportSet>(*p.cmd).key_file);
    expect_usage_error(parse_import_args({"set", "dstor0", "--key", "/k", "--no-key"}),
                       "import set", "give --key FILE or --no-key, not both");
    EXPECT_NE(parse_import_args({"set", "--help"}).output.find("--key FILE"), std::string::npos);
}

TEST(ImportArgs, AddErrors) {
    expect_usage_error(parse_import_args({"add", "x"}), "import add", "--peer is required");
    expect_usage_error(parse_import_args({"add", "--peer", "192.0.2.1"}), "import add",
                       "NAME is required");
    expect_usage_error(parse_import_args({"add", "x", "--peer", "nas.local"}), "import add",
                       "--peer 'nas.local'");
    expect_usage_error(parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", "0"}),
                       "import add", "from 1 to 16");
    expect_usage_error(
        parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", "17"}), "import add",
        "from 1 to 16");
    expect_usage_error(
        parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", "four"}),
        "import add", "from 1 to 16");
    expect_usage_error(parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", ""}),
                       "import add", "from 1 to 16");
    expect_usage_error(parse_import_args({"add", "a b", "--peer", "192.0.2.1"}), "import add",
                       "a space");
}

TEST(ImportArgs, AddTimersOnlyGivenOnesAreSet) {
    auto p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_TRUE(std::get<ImportAdd>(*p.cmd).spec.timers.empty());

    p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1", "--timeout", "4", "--retries",
                           "8", "--reconnect", "1:2", "--keepalive", "1", "--dead-after", "3"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& t = std::get<ImportAdd>(*p.cmd).spec.timers;
    EXPECT_EQ(t.timeout, 4u);
    EXPECT_EQ(t.retries, 8u);
    EXPECT_EQ(t.reconnect_min, 1u);
    EXPECT_EQ(t.reconnect_max, 2u);
    EXPECT_EQ(t.keepalive, 1u);
    EXPECT_EQ(t.dead_after, 3u);

    p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1", "--retries=0", "--reconnect=7"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    Timers want;
    want.retries = 0;
    want.reconnect_min = 7;
    want.reconnect_max = 7;
    EXPECT_EQ(std::get<ImportAdd>(*p.cmd).spec.timers, want);

    // Limits are inclusive; keepalive alone is not checked against the
    // kernel's dead-after (the kernel does that).
    p = parse_import_args({"add", "d", "--peer", "192.0.2.1", "--timeout", "3600", "--retries",
                           "100", "--reconnect", "3600:3600", "--keepalive", "3600"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    p = parse_import_args({"add", "d", "--peer", "192.0.2.1", "--timeout", "1", "--dead-after", "2",
                           "--keepalive", "1", "--reconnect", "1:3600"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
}

TEST(ImportArgs, AddTimerErrors) {
    const Args base = {"add", "x", "--peer", "192.0.2.1"};
    auto with = [&base](const Args& extra) { return parse_import_args(plus(base, extra)); };
    for (const char* bad : {"0", "3601", "-1", "", "1s", "1.5", "4294967296"})
        expect_usage_error(with({"--timeout", bad}), "import add",
                           "--timeout must be a number of seconds from 1 to 3600");
    for (const char* bad : {"101", "-1", "x", ""})
        expect_usage_error(with({"--retries", bad}), "import add",
                           "--retries must be a number from 0 to 100");
    for (const char* bad :
         {"0", "3601", "", ":", "1:", ":2", "0:5", "1:3601", "1:2:3", "a:b", "1-2", " 1:2"})
        expect_usage_error(with({"--reconnect", bad}), "import add",
                           "--reconnect must be MIN:MAX or N, seconds from 1 to 3600");
    expect_usage_error(with({"--reconnect", "30:1"}), "import add",
                       "--reconnect 30:1: the minimum (30 s) exceeds the maximum (1 s)");
    for (const char* bad : {"0", "3601", "x"})
        expect_usage_error(with({"--keepalive", bad}), "import add",
                           "--keepalive must be a number of seconds from 1 to 3600");
    for (const char* bad : {"0", "1", "3601", "x"})
        expect_usage_error(with({"--dead-after", bad}), "import add",
                           "--dead-after must be a number of seconds from 2 to 3600");
    expect_usage_error(with({"--keepalive", "5", "--dead-after", "5"}), "import add",
                       "--dead-after (5 s) must be longer than --keepalive (5 s)");
    expect_usage_error(with({"--dead-after", "3", "--keepalive", "10"}), "import add",
                       "--dead-after (3 s) must be longer than --keepalive (10 s)");
    expect_usage_error(with({"--timeout"}), "import add", "--timeout");
}

TEST(ImportArgs, SetByDeviceIndexOrName) {
    for (const char* t : {"/dev/dstor3", "dstor3", "3"}) {
        auto p = parse_import_args({"set", t, "--timeout", "10"});
        ASSERT_TRUE(p.cmd.has_value()) << p.output;
        EXPECT_EQ(p.command, "import set");
        const auto& set = std::get<ImportSet>(*p.cmd);
        ASSERT_TRUE(std::holds_alternative<std::uint32_t>(set.target)) << t;
        EXPECT_EQ(std::get<std::uint32_t>(set.target), 3u);
        Timers want;
        want.timeout = 10;
        EXPECT_EQ(set.timers, want);
    }
    auto p = parse_import_args({"set", "disk1", "--retries", "2", "--reconnect", "2:60",
                                "--keepalive", "10", "--dead-after", "30"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& set = std::get<ImportSet>(*p.cmd);
    ASSERT_TRUE(std::holds_alternative<std::string>(set.target));
    EXPECT_EQ(std::get<std::string>(set.target), "disk1");
    EXPECT_FALSE(set.timers.timeout);
    EXPECT_EQ(set.timers.retries, 2u);
    EXPECT_EQ(set.timers.reconnect_min, 2u);
    EXPECT_EQ(set.timers.reconnect_max, 60u);
    EXPECT_EQ(set.timers.keepalive, 10u);
    EXPECT_EQ(set.timers.dead_after, 30u);

    // A single option of each kind is enough.
    for (Args opt : {Args{"--timeout", "1"}, Args{"--retries", "0"}, Args{"--reconnect", "5"},
                     Args{"--keepalive", "1"}, Args{"--dead-after", "2"}}) {
        Args a = {"set", "dstor0"};
        a.insert(a.end(), opt.begin(), opt.end());
        EXPECT_TRUE(parse_import_args(a).cmd.has_value()) << opt[0];
    }
}

TEST(ImportArgs, SetErrors) {
    expect_usage_error(parse_import_args({"set", "dstor0"}), "import set",
                       "nothing to change: give at least one of --timeout, --retries, "
                       "--reconnect, --keepalive, --dead-after, --key, --no-key");
    expect_usage_error(parse_import_args({"set", "--timeout", "5"}), "import set",
                       "TARGET is required");
    expect_usage_error(parse_import_args({"set", "/dev/sda", "--timeout", "5"}), "import set",
                       "neither a device (/dev/dstorN), an index nor an export name");
    expect_usage_error(parse_import_args({"set", "dstor0", "--timeout", "0"}), "import set",
                       "--timeout must be a number of seconds from 1 to 3600");
    expect_usage_error(parse_import_args({"set", "dstor0", "--retries", "101"}), "import set",
                       "from 0 to 100");
    expect_usage_error(parse_import_args({"set", "dstor0", "--reconnect", "9:8"}), "import set",
                       "the minimum (9 s) exceeds the maximum (8 s)");
    expect_usage_error(parse_import_args({"set", "dstor0", "--dead-after", "1"}), "import set",
                       "from 2 to 3600");
    expect_usage_error(
        parse_import_args({"set", "dstor0", "--keepalive", "20", "--dead-after", "15"}),
        "import set", "--dead-after (15 s) must be longer than --keepalive (20 s)");
    expect_usage_error(parse_import_args({"set", "dstor0", "--connections", "2"}), "import set",
                       "--connections");
    expect_usage_error(parse_import_args({"set", "dstor0", "--read-only"}), "import set",
                       "--read-only");
}

TEST(ImportArgs, FindImportByName) {
    std::vector<ImportInfo> imports(4);
    imports[0].index = 0;
    imports[0].name = "a";
    imports[1].index = 1;
    imports[1].name = "b";
    imports[2].index = 5;
    imports[2].name = "b";
    imports[3].name = "c"; // no index: not a candidate
    auto r = find_import(imports, "a");
    ASSERT_TRUE(r.ok()) << r.error().text();
    EXPECT_EQ(*r, 0u);
    r = find_import(imports, "b");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(),
              "'b' names more than one import (/dev/dstor1, /dev/dstor5): give the device");
    r = find_import(imports, "c");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "no import of an export named 'c'");
    EXPECT_FALSE(find_import({}, "a").ok());
}

TEST(ImportArgs, DelByDevice) {
    for (const char* t : {"/dev/dstor3", "dstor3"}) {
        auto p = parse_import_args({"del", t});
        ASSERT_TRUE(p.cmd.has_value()) << p.output;
        EXPECT_EQ(p.command, "import del");
        const auto& target = std::get<ImportDel>(*p.cmd).target;
        ASSERT_TRUE(std::holds_alternative<std::uint32_t>(target)) << t;
        EXPECT_EQ(std::get<std::uint32_t>(target), 3u);
    }
}

TEST(ImportArgs, DelByName) {
    auto p = parse_import_args({"del", "disk1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& target = std::get<ImportDel>(*p.cmd).target;
    ASSERT_TRUE(std::holds_alternative<std::string>(target));
    EXPECT_EQ(std::get<std::string>(target), "disk1");

    expect_usage_error(parse_import_args({"del", "/dev/sda"}), "import del",
                       "neither a device (/dev/dstorN) nor an export name");
    expect_usage_error(parse_import_args({"del"}), "import del", "TARGET is required");
}

TEST(ImportArgs, VerbsAndHelp) {
    expect_usage_error(parse_import_args({}), "import", "missing verb: expected add, set or del");
    expect_usage_error(parse_import_args({"show"}), "import", "unknown verb 'show'");
    expect_help(parse_import_args({"--help"}), "Usage: dstor import [OPTIONS] SUBCOMMAND");
    auto p = parse_import_args({"add", "--help"});
    expect_help(p, "Usage: dstor import add [OPTIONS] NAME");
    EXPECT_NE(p.output.find("--connections"), std::string::npos);
    expect_help(parse_import_args({"del", "-h"}), "Usage: dstor import del [OPTIONS] TARGET");
    for (const char* verb : {"add", "set"}) {
        p = parse_import_args({verb, "--help"});
        EXPECT_EQ(p.exit_code, EXIT_OK);
        for (const char* opt : {"--timeout S", "--retries N", "--reconnect MIN:MAX",
                                "--keepalive S", "--dead-after S"})
            EXPECT_NE(p.output.find(opt), std::string::npos) << verb << " " << opt;
    }
    expect_help(parse_import_args({"set", "--help"}), "Usage: dstor import set [OPTIONS] TARGET");
    EXPECT_NE(parse_import_args({"add", "--help"}).output.find("(default 30 s)"),
              std::string::npos);
}

TEST(ShowArgs, Parses) {
    auto p = parse_show_args({});
    ASSERT_TRUE(p.cmd.has_value());
    EXPECT_FALSE(p.cmd->json);
    EXPECT_EQ(p.command, "show");
    p = parse_show_args({"--json"});
    ASSERT_TRUE(p.cmd.has_value());
    EXPECT_TRUE(p.cmd->json);
    expect_usage_error(parse_show_args({"--jsn"}), "show", "--jsn");
    expect_usage_error(parse_show_args({"exports"}), "show", "exports");
    expect_help(parse_show_args({"--help"}), "Usage: dstor show [OPTIONS]");
}

TEST(MonitorArgs, Parses) {
    auto p = parse_monitor_args({});
    ASSERT_TRUE(p.cmd.has_value());
    EXPECT_FALSE(p.cmd->json);
    EXPECT_EQ(p.command, "monitor");
    p = parse_monitor_args({"--json"});
    ASSERT_TRUE(p.cmd.has_value());
    EXPECT_TRUE(p.cmd->json);
    expect_usage_error(parse_monitor_args({"--jsn"}), "monitor", "--jsn");
    expect_usage_error(parse_monitor_args({"dstor0"}), "monitor", "dstor0");
    auto h = parse_monitor_args({"--help"});
    expect_help(h, "Usage: dstor monitor [OPTIONS]");
    EXPECT_NE(h.output.find("network namespace"), std::string::npos);
}

TEST(SetArgs, CryptoWorkers) {
    auto p = parse_set_args({"crypto-workers", "4"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "set crypto-workers");
    EXPECT_EQ(p.cmd->settings.crypto_workers, 4u);
    for (const char* n : {"1", "256"}) {
        p = parse_set_args({"crypto-workers", n});
        ASSERT_TRUE(p.cmd.has_value()) << n << ": " << p.output;
    }
    for (const char* bad : {"0", "257", "-1", "", "four", "4.0", " 4", "4294967300"})
        expect_usage_error(parse_set_args({"crypto-workers", bad}), "set crypto-workers",
                           "crypto-workers must be a number from 1 to 256");
    expect_usage_error(parse_set_args({"crypto-workers"}), "set crypto-workers", "N is required");
    expect_usage_error(parse_set_args({"crypto-workers", "2", "3"}), "set crypto-workers",
                       "not expected");
    expect_usage_error(parse_set_args({}), "set",
                       "missing verb: expected crypto-workers, max-sessions or max-host-sessions");
    expect_usage_error(parse_set_args({"workers", "2"}), "set", "unknown verb 'workers'");
    expect_help(parse_set_args({"--help"}), "Usage: dstor set [OPTIONS] SUBCOMMAND");
    expect_help(parse_set_args({"crypto-workers", "--help"}),
                "Usage: dstor set crypto-workers [OPTIONS] N");
}

TEST(SetArgs, SessionLimits) {
    auto p = parse_set_args({"max-sessions", "100"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "set max-sessions");
    Settings want;
    want.max_sessions = 100;
    EXPECT_EQ(p.cmd->settings, want); // only the one given is sent

    p = parse_set_args({"max-host-sessions", "8"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "set max-host-sessions");
    want = Settings{};
    want.max_host_sessions = 8;
    EXPECT_EQ(p.cmd->settings, want);

    for (const char* verb : {"max-sessions", "max-host-sessions"}) {
        for (const char* n : {"1", "1000000"}) {
            p = parse_set_args({verb, n});
            ASSERT_TRUE(p.cmd.has_value()) << verb << " " << n << ": " << p.output;
        }
        for (const char* bad : {"0", "1000001", "-1", "", "x", "4294967296"})
            expect_usage_error(parse_set_args({verb, bad}), std::string("set ") + verb,
                               std::string(verb) + " must be a number from 1 to 1000000");
        expect_usage_error(parse_set_args({verb}), std::string("set ") + verb, "N is required");
        expect_usage_error(parse_set_args({verb, "2", "3"}), std::string("set ") + verb,
                           "not expected");
        expect_help(parse_set_args({verb, "--help"}),
                    std::string("Usage: dstor set ") + verb + " [OPTIONS] N");
    }
    auto h = parse_set_args({"--help"});
    for (const char* verb : {"crypto-workers", "max-sessions", "max-host-sessions"})
        EXPECT_NE(h.output.find(verb), std::string::npos) << verb << "\n" << h.output;
    EXPECT_NE(h.output.find("(default 4096)"), std::string::npos) << h.output;
    EXPECT_NE(h.output.find("(default 16384)"), std::string::npos) << h.output;
}
