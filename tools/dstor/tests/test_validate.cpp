#include <gtest/gtest.h>

#include <dirent.h>
#include <linux/dstor.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "validate.hpp"

using namespace dstor;

TEST(Name, AcceptsTheAllowedAlphabet) {
    for (const char* n : {"a", "disk1", "Disk-1.backup_2", "...", "-", "0", "A.B-C_D"})
        EXPECT_FALSE(check_name(n).has_value()) << n;
    EXPECT_FALSE(check_name(std::string(DSTOR_NAME_MAX - 1, 'x')).has_value());
}

TEST(Name, Rejects) {
    EXPECT_NE(check_name("")->find("empty"), std::string::npos);
    auto too_long = check_name(std::string(DSTOR_NAME_MAX, 'x'));
    ASSERT_TRUE(too_long);
    EXPECT_NE(too_long->find("64 characters long (at most 63)"), std::string::npos) << *too_long;
    EXPECT_NE(check_name("a b")->find("a space"), std::string::npos);
    EXPECT_NE(check_name("a/b")->find("'/'"), std::string::npos);
    EXPECT_NE(check_name("disk:1")->find("':'"), std::string::npos);
    EXPECT_NE(check_name("tab\there")->find("0x09"), std::string::npos);
    EXPECT_NE(check_name(std::string("nul\0x", 5))->find("0x00"), std::string::npos);
    EXPECT_NE(check_name("caf\xc3\xa9")->find("0xc3"), std::string::npos);
    EXPECT_TRUE(check_name("a*"));
    EXPECT_TRUE(check_name("a@b"));
}

TEST(Connections, Range) {
    for (std::uint32_t n = 1; n <= DSTOR_MAX_CONNECTIONS; n++) {
        auto r = parse_connections(std::to_string(n));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, n);
    }
    for (const char* bad : {"", "0", "17", "-1", "+2", "2x", " 2", "4294967297", "1.5"}) {
        auto r = parse_connections(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().text().find("from 1 to 16"), std::string::npos);
    }
}

TEST(DeviceIndex, Parses) {
    EXPECT_EQ(parse_device_index("/dev/dstor0"), 0u);
    EXPECT_EQ(parse_device_index("/dev/dstor12"), 12u);
    EXPECT_EQ(parse_device_index("dstor7"), 7u);
    EXPECT_EQ(parse_device_index("dstor4294967295"), 4294967295u);
}

TEST(DeviceIndex, OtherwiseAName) {
    for (const char* s : {"dstor", "/dev/dstor", "dstor01", "dstor-1", "dstor1a", "disk1",
                          "/dev/sda", "dev/dstor1", "dstor4294967296", "/dev//dstor1", "Dstor1"})
        EXPECT_FALSE(parse_device_index(s).has_value()) << s;
}

TEST(DeviceIndex, BareIndex) {
    EXPECT_EQ(parse_index("0"), 0u);
    EXPECT_EQ(parse_index("17"), 17u);
    EXPECT_EQ(parse_index("4294967295"), 4294967295u);
    for (const char* s : {"", "01", "-1", "+1", "1a", " 1", "4294967296", "dstor1", "disk1"})
        EXPECT_FALSE(parse_index(s).has_value()) << s;
}

TEST(Timers, Ranges) {
    struct Case {
        Result<std::uint32_t> (*parse)(std::string_view);
        std::uint32_t min, max;
        const char* error;
    };
    const Case cases[] = {
        {parse_timeout, 1, 3600, "--timeout must be a number of seconds from 1 to 3600"},
        {parse_retries, 0, 100, "--retries must be a number from 0 to 100"},
        {parse_keepalive, 1, 3600, "--keepalive must be a number of seconds from 1 to 3600"},
        {parse_dead_after, 2, 3600, "--dead-after must be a number of seconds from 2 to 3600"},
    };
    for (const auto& c : cases) {
        for (std::uint32_t v : {c.min, c.min + 1, c.max - 1, c.max}) {
            auto r = c.parse(std::to_string(v));
            ASSERT_TRUE(r.ok()) << c.error << " " << v;
            EXPECT_EQ(*r, v);
        }
        std::vector<std::string> bad = {std::to_string(c.max + 1),
                                        "",
                                        "-1",
                                        "+5",
                                        "5s",
                                        " 5",
                                        "5 ",
                                        "0x10",
                                        "1e3",
                                        "4294967296",
                                        "99999999999999999999"};
        if (c.min > 0)
            bad.push_back(std::to_string(c.min - 1));
        for (const auto& b : bad) {
            auto r = c.parse(b);
            ASSERT_FALSE(r.ok()) << c.error << " '" << b << "'";
            EXPECT_EQ(r.error().text(), c.error);
        }
    }
    EXPECT_EQ(*parse_timeout("007"), 7u); // leading zeros are harmless, as for --connections
}

TEST(Timers, ReconnectMinMax) {
    EXPECT_EQ(*parse_reconnect("1:30"), (Reconnect{1, 30}));
    EXPECT_EQ(*parse_reconnect("5:5"), (Reconnect{5, 5}));
    EXPECT_EQ(*parse_reconnect("1:3600"), (Reconnect{1, 3600}));
    EXPECT_EQ(*parse_reconnect("3600"), (Reconnect{3600, 3600}));
    EXPECT_EQ(*parse_reconnect("7"), (Reconnect{7, 7}));
    for (const char* bad : {"", ":", "0", "3601", "0:1", "1:0", "1:3601", "1:", ":1", "1::2",
                            "1:2:3", "a", "1:b", "-1:2", "1 :2", "1: 2", "1,2"}) {
        auto r = parse_reconnect(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().text(), "--reconnect must be MIN:MAX or N, seconds from 1 to 3600")
            << bad;
    }
    auto r = parse_reconnect("30:1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "--reconnect 30:1: the minimum (30 s) exceeds the maximum (1 s)");
}

TEST(Timers, CrossChecks) {
    Timers t;
    EXPECT_FALSE(check_timers(t));
    t.keepalive = 5;
    EXPECT_FALSE(check_timers(t)); // the kernel compares with the current dead-after
    t.dead_after = 6;
    EXPECT_FALSE(check_timers(t));
    t.dead_after = 5;
    ASSERT_TRUE(check_timers(t));
    EXPECT_EQ(*check_timers(t), "--dead-after (5 s) must be longer than --keepalive (5 s)");
    t.keepalive.reset();
    EXPECT_FALSE(check_timers(t));
    t.reconnect_min = 3;
    t.reconnect_max = 2;
    ASSERT_TRUE(check_timers(t));
    EXPECT_NE(check_timers(t)->find("exceeds"), std::string::npos);
    EXPECT_TRUE(Timers{}.empty());
    EXPECT_FALSE(t.empty());
}

TEST(Device, NoSuchFile) {
    auto r = check_device("/nonexistent/dstor-test-device");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "/nonexistent/dstor-test-device: no such file");
    r = check_device("/dev/null/x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "/dev/null/x: no such file");
}

TEST(Device, NotABlockDevice) {
    auto r = check_device("/dev/null");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "/dev/null: not a block device");
    r = check_device("/");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().text(), "/: not a block device");
}

TEST(Device, Empty) {
    EXPECT_FALSE(check_device("").ok());
}

namespace {

std::string find_block_device() {
    DIR* d = opendir("/dev");
    if (d == nullptr)
        return {};
    std::string found;
    while (dirent* e = readdir(d)) {
        std::string path = std::string("/dev/") + e->d_name;
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
            found = path;
            break;
        }
    }
    closedir(d);
    return found;
}

} // namespace

TEST(Device, BlockDeviceAccepted) {
    const std::string dev = find_block_device();
    if (dev.empty())
        GTEST_SKIP() << "no block device under /dev";
    auto r = check_device(dev);
    ASSERT_TRUE(r.ok()) << r.error().text();
    EXPECT_EQ(*r, dev);

    // A relative path is made absolute: the kernel must not see our cwd.
    char cwd[4096];
    ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
    ASSERT_EQ(chdir("/dev"), 0);
    auto rel = check_device(dev.substr(5));
    ASSERT_EQ(chdir(cwd), 0);
    ASSERT_TRUE(rel.ok()) << rel.error().text();
    EXPECT_EQ(*rel, dev);
}

TEST(ErrorText, Formats) {
    EXPECT_EQ(Error::kernel(EINVAL, "bad name").text(), "bad name (Invalid argument)");
    EXPECT_EQ(Error::kernel(EEXIST, "").text(), "File exists");
    EXPECT_EQ(Error::kernel(EPERM, "").text(),
              "permission denied: dstor needs CAP_NET_ADMIN (run as root)");
    // With the kernel's message (it names the capability it wanted), that message.
    EXPECT_EQ(
        Error::kernel(EPERM, "opening a block device needs CAP_SYS_ADMIN (as well as "
                             "CAP_NET_ADMIN)")
            .text(),
        "permission denied: opening a block device needs CAP_SYS_ADMIN (as well as CAP_NET_ADMIN)");
    // EPERM of dstor's own (a system call) is not the kernel's refusal of a command.
    EXPECT_EQ(Error::sys(EPERM, "/dev/x").text(), "/dev/x: Operation not permitted");
    EXPECT_EQ(Error::sys(ENOENT, "/dev/x").text(), "/dev/x: No such file or directory");
    EXPECT_EQ(Error::user("plain sentence").text(), "plain sentence");
}

TEST(Rate, SuffixesArePowersOf1000) {
    const std::pair<const char*, std::uint64_t> ok[] = {
        {"200M", 200000000},         {"200m", 200000000},  {"1M", DSTOR_MC_MIN_RATE},
        {"1000K", 1000000},          {"1000k", 1000000},   {"1000000", 1000000},
        {"100G", DSTOR_MC_MAX_RATE}, {"1.5G", 1500000000}, {"2.5g", 2500000000},
        {"0.001G", 1000000},         {"10.25M", 10250000}, {"100000000000", 100000000000},
    };
    for (const auto& [text, want] : ok) {
        auto r = parse_rate(text);
        ASSERT_TRUE(r.ok()) << text << ": " << r.error().text();
        EXPECT_EQ(*r, want) << text;
    }
}

TEST(Rate, Rejects) {
    // Out of range, not a number, not whole, a suffix of another kind.
    for (const char* bad : {"",
                            "0",
                            "999999",
                            "999K",
                            "0.5M",
                            "101G",
                            "100000000001",
                            "1T",
                            "M",
                            "1MM",
                            "1 M",
                            " 1M",
                            "1M ",
                            "-1M",
                            "+1M",
                            "1.M",
                            ".5G",
                            "1..5G",
                            "1.5.5G",
                            "1e9",
                            "0x10M",
                            "1Mbit",
                            "1.0000005M",
                            "99999999999999999999",
                            "18446744073709551616G",
                            "200Mi"}) {
        auto r = parse_rate(bad);
        ASSERT_FALSE(r.ok()) << "'" << bad << "'";
        EXPECT_EQ(r.error().text(), "--rate must be bits per second from 1M to 100G, with an "
                                    "optional K, M or G (powers of 1000): e.g. 200M")
            << bad;
    }
}

TEST(BlockSize, SuffixesArePowersOf1024) {
    const std::pair<const char*, std::uint32_t> ok[] = {
        {"4K", 4096},
        {"4k", 4096},
        {"64K", 65536},
        {"65536", 65536},
        {"1M", 1 << 20},
        {"1m", 1 << 20},
        {"0.5M", 1 << 19},
        {"4096", DSTOR_MC_MIN_BLOCK},
        {"1024K", DSTOR_MC_MAX_BLOCK},
    };
    for (const auto& [text, want] : ok) {
        auto r = parse_block_size(text);
        ASSERT_TRUE(r.ok()) << text << ": " << r.error().text();
        EXPECT_EQ(*r, want) << text;
    }
}

TEST(BlockSize, Rejects) {
    // Not a power of two, out of range, not a number.
    for (const char* bad : {"", "0", "2K", "4095", "3K", "48K", "96K", "2M", "1G", "1.5K", "2048",
                            "64KB", "64KiB", "K", "-64K", "64 K", "4294967296"}) {
        auto r = parse_block_size(bad);
        ASSERT_FALSE(r.ok()) << "'" << bad << "'";
        EXPECT_EQ(r.error().text(), "--block-size must be a power of two from 4K to 1M bytes, "
                                    "with an optional K or M (powers of 1024): e.g. 64K")
            << bad;
    }
}

TEST(FormatScaled, Suffixes) {
    EXPECT_EQ(format_scaled(0, 1000), "0");
    EXPECT_EQ(format_scaled(999, 1000), "999");
    EXPECT_EQ(format_scaled(1000, 1000), "1K");
    EXPECT_EQ(format_scaled(200000000, 1000), "200M");
    EXPECT_EQ(format_scaled(1500000000, 1000), "1.5G");
    EXPECT_EQ(format_scaled(1234567, 1000), "1.23M");
    EXPECT_EQ(format_scaled(DSTOR_MC_MAX_RATE, 1000), "100G");
    EXPECT_EQ(format_scaled(4096, 1024), "4K");
    EXPECT_EQ(format_scaled(65536, 1024), "64K");
    EXPECT_EQ(format_scaled(1 << 20, 1024), "1M");
    EXPECT_EQ(format_scaled(1023, 1024), "1023");
    EXPECT_EQ(format_scaled(UINT64_MAX, 1000), "18.45E");
    // What parse_rate prints parses back.
    for (std::uint64_t v : {1000000ULL, 200000000ULL, 1500000000ULL, 100000000000ULL})
        EXPECT_EQ(*parse_rate(format_scaled(v, 1000)), v);
}

TEST(InterfaceName, Checks) {
    for (const char* ok :
         {"eth0", "lo", "br-1234", "v-mx-99999", "enp0s31f6", "a.b", "wg_0", "123456789012345"})
        EXPECT_FALSE(check_interface_name(ok)) << ok;
    EXPECT_EQ(*check_interface_name(""), "the interface name is empty");
    EXPECT_EQ(*check_interface_name("1234567890123456"),
              "the interface name '1234567890123456' is 16 characters long (at most 15)");
    EXPECT_EQ(*check_interface_name("."), "'.' is not an interface name");
    EXPECT_EQ(*check_interface_name(".."), "'..' is not an interface name");
    EXPECT_EQ(*check_interface_name("eth0:1"), "the interface name 'eth0:1' contains ':'");
    EXPECT_EQ(*check_interface_name("a/b"), "the interface name 'a/b' contains '/'");
    EXPECT_EQ(*check_interface_name("a b"), "the interface name 'a b' contains a space");
    EXPECT_NE(check_interface_name("a\tb")->find("0x09"), std::string::npos);
}

TEST(InterfaceName, Resolves) {
    // The loopback device exists in every network namespace.
    auto lo = resolve_interface("lo");
    ASSERT_TRUE(lo.ok()) << lo.error().text();
    EXPECT_GT(*lo, 0u);
    EXPECT_EQ(interface_name(*lo), "lo");

    auto none = resolve_interface("dstor-noif0");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().text(),
              "no interface 'dstor-noif0' in this network namespace (see 'ip link')");
    auto bad = resolve_interface("eth0:1");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().text(), "the interface name 'eth0:1' contains ':'");

    EXPECT_FALSE(interface_name(0));
    EXPECT_FALSE(interface_name(0x7ffffff0));
}
