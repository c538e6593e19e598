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
    EXPECT_EQ(Error::kernel(EPERM, "whatever").text(),
              "permission denied: dstor needs CAP_NET_ADMIN (run as root)");
    EXPECT_EQ(Error::sys(ENOENT, "/dev/x").text(), "/dev/x: No such file or directory");
    EXPECT_EQ(Error::user("plain sentence").text(), "plain sentence");
}
