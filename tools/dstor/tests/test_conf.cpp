#include <gtest/gtest.h>

#include "conf.hpp"

using namespace dstor;

namespace {

Conf read(std::string_view text, const std::string& file = "a.conf") {
    Conf c;
    parse_conf_text(text, file, c);
    return c;
}

// The one error of `text` (failing the test when there are others).
std::string one_error(std::string_view text) {
    Conf c = read(text);
    conf_objects(c);
    EXPECT_EQ(c.errors.size(), 1u) << ::testing::PrintToString(c.errors);
    return c.errors.empty() ? "" : c.errors.front();
}

} // namespace

TEST(Conf, AFullFile) {
    Conf c = read("# dstor.conf\n"
                  "\n"
                  "[global]\n"
                  "crypto-workers = 3\n"
                  "\n"
                  "[export data]\n"
                  "device = /dev/vdb\n"
                  "listen = 192.0.2.1\n"
                  "read-only = no\n"
                  "allow = 192.0.2.0/24=rw\n"
                  "  allow =198.51.100.7=ro  \n"
                  "max-sessions = 8\n"
                  "; another comment\n"
                  "[import data]\n"
                  "peer = [2001:db8::1]:7000\n"
                  "read-only = yes\n"
                  "connections = 2\n"
                  "timeout = 10\n"
                  "reconnect = 1:5\n"
                  "[sync golden]\n"
                  "mcast = eth0\n"
                  "target = /dev/vdc\n");
    auto o = conf_objects(c);
    ASSERT_TRUE(c.errors.empty()) << ::testing::PrintToString(c.errors);
    ASSERT_EQ(o.exports.size(), 1u);
    const auto& e = o.exports[0].spec;
    EXPECT_EQ(e.name, "data");
    EXPECT_EQ(e.device, "/dev/vdb");
    EXPECT_FALSE(e.read_only);
    ASSERT_TRUE(e.listen);
    EXPECT_EQ(e.listen->port, 7420);
    EXPECT_EQ(e.acls.size(), 2u);
    EXPECT_EQ(e.max_sessions, 8u);
    ASSERT_EQ(o.imports.size(), 1u);
    const auto& i = o.imports[0].spec;
    EXPECT_TRUE(i.read_only);
    EXPECT_EQ(i.connections, 2u);
    EXPECT_EQ(i.peer.port, 7000);
    EXPECT_EQ(i.timers.timeout, 10u);
    EXPECT_EQ(i.timers.reconnect_min, 1u);
    EXPECT_EQ(i.timers.reconnect_max, 5u);
    EXPECT_FALSE(i.timers.retries);
    ASSERT_EQ(o.syncs.size(), 1u);
    EXPECT_EQ(o.syncs[0].spec.device, "/dev/vdc");
    ASSERT_EQ(o.settings.size(), 1u);
    EXPECT_EQ(o.settings[0].settings.crypto_workers, 3u);
}

TEST(Conf, EmptyAndCommentsOnly) {
    for (const char* t : {"", "\n", "# x\n; y\n   \n", "# no newline at the end"}) {
        Conf c = read(t);
        auto o = conf_objects(c);
        EXPECT_TRUE(c.errors.empty()) << t;
        EXPECT_TRUE(c.sections.empty()) << t;
        EXPECT_TRUE(o.exports.empty() && o.imports.empty() && o.syncs.empty());
    }
}

TEST(Conf, ErrorsNameFileAndLine) {
    EXPECT_EQ(one_error("[export a]\ndevice = /dev/x\nlisten = 10.0.0.1\ncolour = blue\n"),
              "a.conf:4: [export a]: unknown key 'colour' (known: device, listen, read-only, "
              "key, allow, mcast, rate, block-size, querier, tree, uuid, max-sessions)");
    EXPECT_EQ(one_error("device = /dev/x\n"),
              "a.conf:1: 'device' outside a section: put it under [global], [export NAME], "
              "[import NAME] or [sync NAME]");
    EXPECT_EQ(one_error("[volume a]\n"), "a.conf:1: unknown section [volume a]: sections are "
                                         "[export NAME], [import NAME], [sync NAME] and [global]");
    EXPECT_EQ(one_error("[export]\n"), "a.conf:1: [export] needs a name: [export NAME]");
    EXPECT_EQ(one_error("[global x]\n"), "a.conf:1: [global] takes no name");
    EXPECT_EQ(one_error("[export a\n"), "a.conf:1: a section header ends with ']'");
    EXPECT_NE(one_error("[export a/b]\n").find("a.conf:1: [export a/b]: "), std::string::npos);
    EXPECT_EQ(one_error("[import a]\npeer = 10.0.0.1\njunk\n"),
              "a.conf:3: expected KEY = VALUE or a [section], got 'junk'");
    EXPECT_EQ(one_error("[import a]\npeer =\n"), "a.conf:2: [import a]: peer has no value");
    EXPECT_EQ(one_error("[import a]\npeer = 10.0.0.1\nread-only = maybe\n"),
              "a.conf:3: [import a]: read-only = 'maybe': yes or no");
    EXPECT_EQ(one_error("[import a]\npeer = 10.0.0.1\ntimeout = 5\ntimeout = 6\n"),
              "a.conf:4: [import a]: timeout given twice (first at line 3)");
}

TEST(Conf, ValuesAreCheckedByTheCommandsOwnParser) {
    // The line of the key the command's message names.
    auto e = one_error("[import a]\npeer = 10.0.0.1\ntimeout = 0\nretries = 3\n");
    EXPECT_EQ(e.rfind("a.conf:3: [import a]: ", 0), 0u) << e;
    EXPECT_EQ(e.find("--"), std::string::npos) << e;
    EXPECT_NE(e.find("timeout"), std::string::npos) << e;
    e = one_error("[import a]\npeer = 10.0.0.1:99999\n");
    EXPECT_EQ(e.rfind("a.conf:2: [import a]: ", 0), 0u) << e;
    e = one_error("[export a]\ndevice = /dev/x\nlisten = 10.0.0.1\nallow = 10.0.0.0/8=rx\n");
    EXPECT_EQ(e.rfind("a.conf:4: [export a]: ", 0), 0u) << e;
    e = one_error("[import a]\npeer = 10.0.0.1\nkeepalive = 10\ndead-after = 5\n");
    EXPECT_NE(e.find("[import a]: "), std::string::npos) << e;
    // "key" is not "keepalive": the line of keepalive, not of key.
    e = one_error("[import a]\npeer = 10.0.0.1\nkey = /k\nkeepalive = 0\n");
    EXPECT_EQ(e.rfind("a.conf:4: ", 0), 0u) << e;
    // A missing required key: the section's line.
    e = one_error("\n[export a]\nlisten = 10.0.0.1\n");
    EXPECT_EQ(e.rfind("a.conf:2: [export a]: ", 0), 0u) << e;
    EXPECT_NE(e.find("device"), std::string::npos) << e;
    // [global]: one setting per key, each checked.
    e = one_error("[global]\ncrypto-workers = 0\n");
    EXPECT_EQ(e.rfind("a.conf:2: [global]: ", 0), 0u) << e;
}

TEST(Conf, AValueStartingWithADashStaysAValue) {
    for (const char* dev : {"--read-only", "-x"}) {
        Conf c = read(std::string("[export a]\ndevice = ") + dev + "\nlisten = 10.0.0.1\n");
        auto o = conf_objects(c);
        ASSERT_TRUE(c.errors.empty()) << ::testing::PrintToString(c.errors);
        ASSERT_EQ(o.exports.size(), 1u);
        EXPECT_EQ(o.exports[0].spec.device, dev);
        EXPECT_FALSE(o.exports[0].spec.read_only);
    }
}

TEST(Conf, ASectionTwiceAcrossFiles) {
    Conf c;
    parse_conf_text("[export a]\ndevice = /dev/x\nlisten = 10.0.0.1\n", "/etc/dstor/dstor.conf", c);
    parse_conf_text("\n[export a]\ndevice = /dev/y\n", "/etc/dstor/conf.d/b.conf", c);
    auto o = conf_objects(c);
    ASSERT_EQ(c.errors.size(), 1u) << ::testing::PrintToString(c.errors);
    EXPECT_EQ(c.errors[0], "/etc/dstor/conf.d/b.conf:2: [export a] again (first at "
                           "/etc/dstor/dstor.conf:1)");
    // The same name as an import is another object.
    Conf d = read("[export a]\ndevice = /dev/x\nlisten = 10.0.0.1\n[import a]\npeer = 10.0.0.2\n");
    conf_objects(d);
    EXPECT_TRUE(d.errors.empty()) << ::testing::PrintToString(d.errors);
}

TEST(Conf, EveryErrorOfAFileIsReported) {
    Conf c = read("[export a]\ncolour = red\n[export b]\nsize = 3\n[import c]\npeer = x\n");
    conf_objects(c);
    // One error per bad line; a section with a bad line is not checked
    // further (no "device is required" after "unknown key").
    ASSERT_EQ(c.errors.size(), 3u) << ::testing::PrintToString(c.errors);
    EXPECT_EQ(c.errors[0].rfind("a.conf:2: ", 0), 0u);
    EXPECT_EQ(c.errors[1].rfind("a.conf:4: ", 0), 0u);
    EXPECT_EQ(c.errors[2].rfind("a.conf:6: [import c]: ", 0), 0u);
}

TEST(Conf, BinaryInput) {
    Conf c = read(std::string_view("[export a]\n\0\n", 13));
    ASSERT_EQ(c.errors.size(), 1u);
    EXPECT_EQ(c.errors[0], "a.conf:2: a NUL byte: not a text file");
}
