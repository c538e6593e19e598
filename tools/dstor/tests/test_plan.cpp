#include <gtest/gtest.h>

#include <unistd.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "commands.hpp"
#include "conf.hpp"
#include "plan.hpp"
#include "uuid_sample.hpp"
#include "validate.hpp"

using namespace dstor;

namespace {

Key make_key(std::uint8_t fill) {
    Key k;
    k.bytes.fill(fill);
    return k;
}

// Key files of the tests: path -> key, as apply loads them.
const std::map<std::string, Key>& keys() {
    static const std::map<std::string, Key> k{{"/etc/dstor/a.key", make_key(1)},
                                              {"/etc/dstor/b.key", make_key(2)}};
    return k;
}

// The objects of `text`, keys loaded; the test fails on any error.
ConfObjects want(std::string_view text) {
    Conf c;
    parse_conf_text(text, "t.conf", c);
    ConfObjects o = conf_objects(c);
    EXPECT_TRUE(c.errors.empty()) << ::testing::PrintToString(c.errors);
    auto load = [](const std::optional<std::string>& file, std::optional<Key>& key) {
        if (file)
            key = keys().at(*file);
    };
    for (auto& e : o.exports)
        load(e.key_file, e.spec.key);
    for (auto& i : o.imports)
        load(i.key_file, i.spec.key);
    for (auto& y : o.syncs)
        load(y.key_file, y.spec.key);
    return o;
}

std::vector<std::string> lines(const Plan& p) {
    std::vector<std::string> out;
    for (const auto& a : p.actions)
        out.push_back(command_line(a.args));
    return out;
}

Endpoint ep(const std::string& text) {
    auto e = parse_endpoint(text);
    EXPECT_TRUE(e) << text;
    return *e;
}

AclEntry acl(const std::string& text) {
    auto a = parse_allow(text);
    EXPECT_TRUE(a) << text;
    return *a;
}

Timers default_timers() {
    return Timers{DSTOR_DEFAULT_TIMEOUT,       DSTOR_DEFAULT_RETRIES,   DSTOR_DEFAULT_RECONNECT_MIN,
                  DSTOR_DEFAULT_RECONNECT_MAX, DSTOR_DEFAULT_KEEPALIVE, DSTOR_DEFAULT_DEAD_AFTER};
}

constexpr const char* full_conf = "[global]\n"
                                  "crypto-workers = 4\n"
                                  "[export data]\n"
                                  "device = /dev/ram0\n"
                                  "listen = 192.0.2.1\n"
                                  "key = /etc/dstor/a.key\n"
                                  "allow = 192.0.2.0/24=rw\n"
                                  "allow = 198.51.100.7=ro\n"
                                  "[import data]\n"
                                  "peer = 192.0.2.1:7420\n"
                                  "key = /etc/dstor/a.key\n"
                                  "timeout = 10\n"
                                  "[sync golden]\n"
                                  "mcast = eth0\n"
                                  "target = /dev/ram2\n";

// The running state `full_conf` makes.
Running full_running() {
    Running r;
    ExportInfo e;
    e.name = "data";
    e.device = "/dev/ram0";
    e.listen = ep("192.0.2.1:7420");
    e.key_id = key_id(make_key(1));
    e.acls = std::vector<AclEntry>{acl("198.51.100.7=ro"), acl("192.0.2.0/24=rw")};
    e.uuid = samples::sample_uuid;
    e.max_sessions = DSTOR_DEFAULT_MAX_SESSIONS;
    r.exports.push_back(e);
    ImportInfo i;
    i.index = 3;
    i.name = "data";
    i.peer = ep("192.0.2.1:7420");
    i.connections = 2;
    i.timers = default_timers();
    i.timers.timeout = 10;
    i.key_id = key_id(make_key(1));
    r.imports.push_back(i);
    SyncInfo y;
    y.index = 1;
    y.name = "golden";
    y.device = "/dev/ram2";
    y.mcast.ifindex = 2;
    y.mcast.interface = "eth0";
    r.syncs.push_back(y);
    r.module = ModuleInfo{4, 0, DSTOR_DEFAULT_MAX_SESSIONS, DSTOR_DEFAULT_MAX_HOST_SESSIONS, 0};
    return r;
}

} // namespace

TEST(Plan, NothingWantedNothingRunning) {
    Plan p = plan_apply(want(""), Running{}, PlanState{});
    EXPECT_TRUE(p.actions.empty());
    EXPECT_TRUE(p.refusals.empty());
}

TEST(Plan, AddsWhatIsMissingInOrder) {
    Running r;
    r.module = ModuleInfo{2, 0, std::nullopt, std::nullopt, 0};
    Plan p = plan_apply(want(full_conf), r, PlanState{});
    EXPECT_EQ(lines(p), (std::vector<std::string>{
                            "dstor set crypto-workers 4",
                            "dstor export add data --device /dev/ram0 --listen 192.0.2.1:7420 "
                            "--key /etc/dstor/a.key --allow 192.0.2.0/24=rw --allow "
                            "198.51.100.7/32=ro",
                            "dstor import add data --peer 192.0.2.1:7420 --name data --key /etc/dstor/a.key "
                            "--timeout 10",
                            "dstor sync golden --mcast eth0 --target /dev/ram2",
                        }));
    ASSERT_EQ(p.actions.size(), 4u);
    EXPECT_EQ(p.actions[0].record, Action::Record::none);
    EXPECT_EQ(p.actions[1].object, "export data");
    EXPECT_EQ(p.actions[1].record, Action::Record::add);
    EXPECT_EQ(p.actions[2].object, "import data");
    EXPECT_EQ(p.actions[3].object, "sync golden");
}

TEST(Plan, EqualStateChangesNothing) {
    // Unset uuid, max-sessions and connections are the kernel's choice;
    // unset timers are the defaults the kernel reports; the access list's
    // order does not matter.
    Plan p = plan_apply(want(full_conf), full_running(), PlanState{});
    EXPECT_TRUE(p.actions.empty()) << ::testing::PrintToString(lines(p));
    EXPECT_TRUE(p.refusals.empty());
}

TEST(Plan, KeysAclsAndTimersChangeInPlace) {
    std::string text = full_conf;
    text.replace(text.find("key = /etc/dstor/a.key"), 22, "key = /etc/dstor/b.key");
    text.replace(text.find("allow = 198.51.100.7=ro"), 23, "allow = 2001:db8::/32=ro");
    text.replace(text.find("allow = 192.0.2.0/24=rw"), 23, "allow = 192.0.2.0/24=ro");
    text.replace(text.find("key = /etc/dstor/a.key"), 23, "reconnect = 2:60\n");
    text.replace(text.find("timeout = 10"), 12, "timeout = 10\nkeepalive = 7");
    Plan p = plan_apply(want(text), full_running(), PlanState{});
    EXPECT_EQ(lines(p), (std::vector<std::string>{
                            "dstor export set data --key /etc/dstor/b.key",
                            "dstor acl add data 192.0.2.0/24 ro",
                            "dstor acl add data 2001:db8::/32 ro",
                            "dstor acl del data 198.51.100.7/32",
                            "dstor import set /dev/dstor3 --reconnect 2:60 --keepalive 7 --no-key",
                        }));
    EXPECT_TRUE(p.refusals.empty());
    for (const auto& a : p.actions)
        EXPECT_EQ(a.record, Action::Record::none);
}

TEST(Plan, ALineLeftOutGoesBackToTheDefault) {
    Running r = full_running();
    r.imports[0].timers.retries = 9;
    Plan p = plan_apply(want(full_conf), r, PlanState{});
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor import set /dev/dstor3 --retries 5"}));
    // An export's key removed from the file: --no-key.
    std::string text = full_conf;
    text.erase(text.find("key = /etc/dstor/a.key\n"), 23);
    p = plan_apply(want(text), full_running(), PlanState{});
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor export set data --no-key"}));
}

TEST(Plan, WhatCannotChangeInPlaceIsAddedAgain) {
    std::string text = full_conf;
    text.replace(text.find("/dev/ram0"), 9, "/dev/ram1");
    text.replace(text.find("peer = 192.0.2.1:7420"), 21, "peer = 192.0.2.1:7421");
    Plan p = plan_apply(want(text), full_running(), PlanState{});
    auto l = lines(p);
    ASSERT_EQ(l.size(), 4u) << ::testing::PrintToString(l);
    EXPECT_EQ(l[0], "dstor import del /dev/dstor3");
    EXPECT_EQ(l[1], "dstor export del data");
    EXPECT_EQ(l[2].rfind("dstor export add data --device /dev/ram1 ", 0), 0u);
    EXPECT_EQ(l[3].rfind("dstor import add data --peer 192.0.2.1:7421 ", 0), 0u);
    EXPECT_EQ(p.actions[0].record, Action::Record::remove);
    EXPECT_EQ(p.actions[3].record, Action::Record::add);

    for (const char* change : {"read-only = yes\n", "uuid = 11111111-2222-4333-8444-555555555555\n",
                               "max-sessions = 3\n"}) {
        std::string t = full_conf;
        t.insert(t.find("allow ="), change);
        EXPECT_EQ(lines(plan_apply(want(t), full_running(), PlanState{})).size(), 2u) << change;
    }
    for (const char* change : {"read-only = yes\n", "connections = 4\n", "name = disk9\n"}) {
        std::string t = full_conf;
        t.insert(t.find("timeout ="), change);
        const std::string opt = change[0] == 'r'   ? "--name data --read-only"
                                : change[0] == 'c' ? "--name data --connections 4"
                                                   : "--name disk9";
        EXPECT_EQ(lines(plan_apply(want(t), full_running(), PlanState{})),
                  (std::vector<std::string>{"dstor import del /dev/dstor3",
                                            "dstor import add data --peer 192.0.2.1:7420 " + opt +
                                                " --key /etc/dstor/a.key --timeout 10"}))
            << change;
    }
    // The same device under another spelling is the executor's to resolve;
    // the same peer with its default port spelled out is no change.
    std::string t = full_conf;
    t.replace(t.find("peer = 192.0.2.1:7420"), 21, "peer = 192.0.2.1");
    EXPECT_TRUE(plan_apply(want(t), full_running(), PlanState{}).actions.empty());
}

TEST(Plan, AnImportInUseIsNotRemoved) {
    std::string text = full_conf;
    text.replace(text.find("peer = 192.0.2.1:7420"), 21, "peer = 192.0.2.9");
    PlanState s;
    s.in_use[3] = "mounted on /srv";
    Plan p = plan_apply(want(text), full_running(), s);
    EXPECT_TRUE(p.actions.empty()) << ::testing::PrintToString(lines(p));
    ASSERT_EQ(p.refusals.size(), 1u);
    EXPECT_EQ(p.refusals[0], "import data (/dev/dstor3) is mounted on /srv: its peer changed, "
                             "which needs it removed and added again: left as it is (unmount "
                             "it, then run dstor apply again)");
    // Its timers are left alone too: nothing is done for it.
    text.replace(text.find("timeout = 10"), 12, "timeout = 11");
    EXPECT_TRUE(plan_apply(want(text), full_running(), s).actions.empty());
}

TEST(Plan, OnlyWhatApplyCreatedIsRemoved) {
    Running r = full_running();
    // Nothing listed, nothing recorded: everything stays.
    EXPECT_TRUE(plan_apply(want(""), r, PlanState{}).actions.empty());
    PlanState s;
    s.applied = {"export data", "sync golden", "import other"};
    Plan p = plan_apply(want(""), r, s);
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor sync del 1", "dstor export del data"}));
    EXPECT_EQ(p.actions[0].record, Action::Record::remove);
    // --prune: all of it, imports first.
    s.prune = true;
    p = plan_apply(want(""), r, s);
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor import del /dev/dstor3",
                                                  "dstor sync del 1", "dstor export del data"}));
    // An import in use is refused even then.
    s.in_use[3] = "mounted on /mnt/a b";
    p = plan_apply(want(""), r, s);
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor sync del 1", "dstor export del data"}));
    ASSERT_EQ(p.refusals.size(), 1u);
    EXPECT_NE(p.refusals[0].find("/dev/dstor3) is mounted on /mnt/a b"), std::string::npos);
}

TEST(Plan, ImportsAreMatchedByNameThenPeer) {
    Running r = full_running();
    ImportInfo other = r.imports[0];
    other.index = 1;
    other.peer = ep("192.0.2.5:7420");
    r.imports.push_back(other);
    // The one with the file's peer is the match (not the lower index).
    EXPECT_TRUE(plan_apply(want(full_conf), r, PlanState{}).actions.empty());
    // The other one goes only with --prune, and the record stays.
    PlanState s;
    s.applied = {"import data"};
    EXPECT_TRUE(plan_apply(want(full_conf), r, s).actions.empty());
    s.prune = true;
    Plan p = plan_apply(want(full_conf), r, s);
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor import del /dev/dstor1"}));
    EXPECT_EQ(p.actions[0].record, Action::Record::none);
}

TEST(Plan, SettingsOnlyWhenTheyDiffer) {
    Running r;
    r.module = ModuleInfo{4, 0, 100, 200, 0};
    EXPECT_TRUE(plan_apply(want("[global]\ncrypto-workers = 4\nmax-sessions = 100\n"), r, {})
                    .actions.empty());
    EXPECT_EQ(lines(plan_apply(want("[global]\nmax-host-sessions = 50\n"), r, {})),
              (std::vector<std::string>{"dstor set max-host-sessions 50"}));
}

TEST(Plan, SyncsAddedAgainWhenTheyDiffer) {
    std::string text = full_conf;
    text.replace(text.find("mcast = eth0"), 12, "mcast = eth1");
    EXPECT_EQ(lines(plan_apply(want(text), full_running(), {})),
              (std::vector<std::string>{"dstor sync del 1",
                                        "dstor sync golden --mcast eth1 --target /dev/ram2"}));
    // An export named like a sync verb goes last.
    EXPECT_EQ(lines(plan_apply(want("[sync list]\nmcast = eth0\ntarget = /dev/x\n"), {}, {})),
              (std::vector<std::string>{"dstor sync --mcast eth0 --target /dev/x list"}));
}

// Over TCP: --peer, --every and --scrub from the file; each compared.
TEST(Plan, PeriodicSyncsAndTrees) {
    constexpr const char* text = "[export data]\ndevice = /dev/ram0\nlisten = 192.0.2.1\n"
                                 "tree = yes\nblock-size = 4K\n"
                                 "[sync data]\npeer = 192.0.2.1\ntarget = /dev/sdb\n"
                                 "every = 10m\nscrub = 7d\n";
    EXPECT_EQ(lines(plan_apply(want(text), {}, {})),
              (std::vector<std::string>{
                  "dstor export add data --device /dev/ram0 --listen 192.0.2.1:7420 --tree "
                  "--block-size 4096",
                  "dstor sync data --peer 192.0.2.1:7420 --target /dev/sdb --every 600 "
                  "--scrub 604800"}));
    Running r;
    ExportInfo e;
    e.name = "data";
    e.device = "/dev/ram0";
    e.listen = ep("192.0.2.1:7420");
    e.tree = TreeInfo{};
    e.tree->block_size = 4096;
    r.exports.push_back(e);
    SyncInfo y;
    y.index = 5;
    y.name = "data";
    y.device = "/dev/sdb";
    y.peer = ep("192.0.2.1:7420");
    y.every = 600;
    y.scrub = 604800;
    r.syncs.push_back(y);
    EXPECT_TRUE(plan_apply(want(text), r, {}).actions.empty());
    // What runs, as a file, applies to nothing.
    EXPECT_TRUE(plan_apply(want(format_conf(r, {})), r, {}).actions.empty())
        << format_conf(r, {});
    // Another interval, or no tree: added again.
    r.syncs[0].every = 60;
    r.exports[0].tree.reset();
    EXPECT_EQ(lines(plan_apply(want(text), r, {})),
              (std::vector<std::string>{
                  "dstor sync del 5", "dstor export del data",
                  "dstor export add data --device /dev/ram0 --listen 192.0.2.1:7420 --tree "
                  "--block-size 4096",
                  "dstor sync data --peer 192.0.2.1:7420 --target /dev/sdb --every 600 "
                  "--scrub 604800"}));
}

TEST(Plan, MulticastExportsCompareTheirDefaults) {
    constexpr const char* text = "[export img]\ndevice = /dev/ram0\nread-only = yes\n"
                                 "mcast = eth0\nrate = 200M\n";
    Running r;
    ExportInfo e;
    e.name = "img";
    e.device = "/dev/ram0";
    e.read_only = true;
    e.mcast = McastInfo{};
    e.mcast->ifindex = 2;
    e.mcast->interface = "eth0";
    e.mcast->rate = 200000000;
    e.mcast->block_size = DSTOR_MC_DEFAULT_BLOCK;
    r.exports.push_back(e);
    EXPECT_TRUE(plan_apply(want(text), r, {}).actions.empty());
    r.exports[0].mcast->rate = DSTOR_MC_DEFAULT_RATE;
    EXPECT_EQ(lines(plan_apply(want(text), r, {})),
              (std::vector<std::string>{"dstor export del img",
                                        "dstor export add img --device /dev/ram0 --read-only "
                                        "--mcast eth0 --rate 200000000"}));
}

TEST(Plan, DownRemovesWhatTheFilesListImportsFirst) {
    Running r = full_running();
    ExportInfo other;
    other.name = "other";
    r.exports.push_back(other);
    Plan p = plan_down(want(full_conf), r, PlanState{});
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor import del /dev/dstor3",
                                                  "dstor sync del 1", "dstor export del data"}));
    for (const auto& a : p.actions)
        EXPECT_EQ(a.record, Action::Record::remove);
    PlanState s;
    s.in_use[3] = "mounted on /srv";
    p = plan_down(want(full_conf), r, s);
    EXPECT_EQ(lines(p), (std::vector<std::string>{"dstor sync del 1", "dstor export del data"}));
    ASSERT_EQ(p.refusals.size(), 1u);
    EXPECT_EQ(p.refusals[0],
              "import data (/dev/dstor3) is mounted on /srv: not removed (unmount it first)");
    // Nothing running: nothing to do.
    EXPECT_TRUE(plan_down(want(full_conf), Running{}, {}).actions.empty());
}

TEST(Plan, CommandLinesQuoteForAShell) {
    EXPECT_EQ(command_line({"export", "add", "a", "--device", "/dev/disk/by-id/x:y"}),
              "dstor export add a --device /dev/disk/by-id/x:y");
    EXPECT_EQ(command_line({"import", "add", "a", "--peer", "[2001:db8::1]:7420"}),
              "dstor import add a --peer '[2001:db8::1]:7420'");
    EXPECT_EQ(command_line({"x", "it's here", ""}), "dstor x 'it'\\''s here' ''");
}

TEST(Plan, TheRecordOfAppliedObjects) {
    std::set<std::string> a{"export data", "import data", "sync golden"};
    EXPECT_EQ(parse_applied(format_applied(a)), a);
    EXPECT_EQ(parse_applied("# x\nexport a\nbogus b\nimport a b c\n\nsync  s \n"),
              (std::set<std::string>{"export a", "sync s"}));
}

TEST(Plan, MountPointsFromMountinfo) {
    const char* mi = "22 1 0:21 / / rw,relatime shared:1 - rootfs rootfs rw\n"
                     "36 22 251:0 / /srv rw,relatime shared:2 - ext4 /dev/dstor0 rw\n"
                     "37 22 251:1 / /mnt/a\\040b rw - ext4 /dev/dstor0p1 rw\n"
                     "38 22 251:16 / /other rw - ext4 /dev/dstor1 rw\n";
    EXPECT_EQ(mount_points(mi, {"251:0", "251:1"}), (std::vector<std::string>{"/srv", "/mnt/a b"}));
    EXPECT_TRUE(mount_points(mi, {"8:0"}).empty());

    // Read-write only: per mount ("ro" on a bind) and per file system
    // ("ro" after the separator); optional fields before it.
    const char* rw = "40 22 7:0 / /a rw,relatime shared:5 master:1 - ext4 /dev/loop0 rw\n"
                     "41 22 7:0 / /b ro,relatime - ext4 /dev/loop0 rw\n"
                     "42 22 7:1 / /c rw - ext4 /dev/loop1 ro,errors=continue\n"
                     "43 22 7:2 / /d ro - ext4 /dev/loop2 ro\n";
    EXPECT_EQ(mount_points(rw, {"7:0"}, true), (std::vector<std::string>{"/a"}));
    EXPECT_TRUE(mount_points(rw, {"7:1", "7:2"}, true).empty());
    EXPECT_EQ(mount_points(rw, {"7:1", "7:2"}).size(), 2u);
}

// showconf: a file that apply reads back as the same state.
TEST(Showconf, RoundTrip) {
    Running r = full_running();
    // A second export, multicast and read-only, with a limit of its own.
    ExportInfo m;
    m.name = "img";
    m.device = "/dev/ram1";
    m.listen = ep("[2001:db8::1]:7000");
    m.read_only = true;
    m.max_sessions = 8;
    m.mcast = McastInfo{};
    m.mcast->ifindex = 2;
    m.mcast->interface = "eth0";
    m.mcast->rate = 123456789;
    m.mcast->block_size = 1 << 20;
    m.mcast->querier = true;
    m.key_id = key_id(make_key(2));
    r.exports.push_back(m);
    r.imports[0].read_only = true;
    r.imports[0].local = "disk9";
    r.imports[0].timers.reconnect_min = 3;
    r.syncs[0].key_id = key_id(make_key(1));

    std::map<KeyId, std::string> files{{key_id(make_key(1)), "/etc/dstor/a.key"},
                                       {key_id(make_key(2)), "/etc/dstor/b.key"}};
    const std::string text = format_conf(r, files);
    EXPECT_EQ(text.find("key material"), std::string::npos);
    ConfObjects o = want(text);
    ASSERT_EQ(o.exports.size(), 2u) << text;
    ASSERT_EQ(o.imports.size(), 1u) << text;
    ASSERT_EQ(o.syncs.size(), 1u) << text;
    ASSERT_EQ(o.settings.size(), 3u) << text;
    // Field by field: what runs is what the file says.
    EXPECT_EQ(o.exports[0].spec.uuid, r.exports[0].uuid);
    EXPECT_FALSE(o.exports[0].spec.max_sessions); // the module's default
    EXPECT_EQ(o.exports[0].spec.acls, *r.exports[0].acls);
    EXPECT_EQ(o.exports[1].spec.max_sessions, 8u);
    EXPECT_EQ(o.exports[1].spec.mcast->rate, 123456789u);
    EXPECT_EQ(o.exports[1].key_file, "/etc/dstor/b.key");
    EXPECT_EQ(o.imports[0].spec.timers, r.imports[0].timers);
    EXPECT_EQ(o.imports[0].spec.connections, 2u);
    EXPECT_TRUE(o.imports[0].spec.read_only);
    EXPECT_EQ(o.imports[0].spec.local, "disk9");
    EXPECT_EQ(o.syncs[0].key_file, "/etc/dstor/a.key");
    // And applying it changes nothing.
    Plan p = plan_apply(o, r, PlanState{});
    EXPECT_TRUE(p.actions.empty()) << text << ::testing::PrintToString(lines(p));
}

TEST(Showconf, AKeyWithoutAFileIsNeverDropped) {
    Running r = full_running();
    const std::string text = format_conf(r, {}, "/etc/dstor");
    const std::string id = format_key_id(key_id(make_key(1)));
    EXPECT_NE(text.find("# key: id " + id + ", no file with this key found in /etc/dstor\n"),
              std::string::npos)
        << text;
    // A key line naming a file to create: apply refuses until it exists,
    // rather than removing the key.
    EXPECT_NE(text.find("key = /etc/dstor/keys/" + id + ".key\n"), std::string::npos) << text;
    Conf c;
    parse_conf_text(text, "s.conf", c);
    conf_objects(c);
    EXPECT_TRUE(c.errors.empty()) << ::testing::PrintToString(c.errors);
}

TEST(Showconf, EmptyState) {
    const std::string text = format_conf(Running{}, {});
    ConfObjects o = want(text);
    EXPECT_TRUE(o.exports.empty() && o.imports.empty() && o.syncs.empty() && o.settings.empty());
}

// apply refuses a file with any error before it talks to the kernel: these
// run without the module.
class ApplyRefuses : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/dstor-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ + "/" + name) << text;
        return dir_ + "/" + name;
    }

    // run(args) -> exit code and stderr.
    template <class F>
    std::pair<int, std::string> run(F fn, const std::vector<std::string>& args) {
        ::testing::internal::CaptureStderr();
        ::testing::internal::CaptureStdout();
        int rc = fn(args);
        out_ = ::testing::internal::GetCapturedStdout();
        return {rc, ::testing::internal::GetCapturedStderr()};
    }

    std::string dir_, out_;
};

TEST_F(ApplyRefuses, AFileWithAnError) {
    const std::string good = write("a.conf", "[export a]\ndevice = /dev/null\nlisten = 10.0.0.1\n");
    const std::string bad = write("b.conf", "[import b]\npeer = 10.0.0.1\ntimeout = 0\n");
    auto [rc, err] = run(run_apply, {good, bad});
    EXPECT_EQ(rc, EXIT_USAGE);
    // Both files are checked: /dev/null is no block device, timeout 0 is out of range.
    EXPECT_NE(err.find(good + ":2: [export a]: /dev/null: not a block device"), std::string::npos)
        << err;
    EXPECT_NE(err.find(bad + ":3: [import b]: "), std::string::npos) << err;
    EXPECT_NE(err.find("dstor: apply: 2 errors in the configuration: nothing changed"),
              std::string::npos)
        << err;
    EXPECT_TRUE(out_.empty()) << out_;
}

TEST_F(ApplyRefuses, MissingAndUnreadableKeyFiles) {
    const std::string loose = write("loose.key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=\n");
    chmod(loose.c_str(), 0644);
    const std::string f =
        write("k.conf", "[import a]\npeer = 10.0.0.1\nkey = " + dir_ +
                            "/none.key\n[import b]\npeer = 10.0.0.1\nkey = " + loose + "\n");
    auto [rc, err] = run(run_apply, {f});
    EXPECT_EQ(rc, EXIT_USAGE);
    EXPECT_NE(err.find(f + ":3: [import a]: " + dir_ + "/none.key"), std::string::npos) << err;
    EXPECT_NE(err.find(f + ":6: [import b]: " + loose), std::string::npos) << err;
}

TEST_F(ApplyRefuses, ANamedFileThatDoesNotExist) {
    auto [rc, err] = run(run_apply, {dir_ + "/nope.conf"});
    EXPECT_EQ(rc, EXIT_USAGE);
    EXPECT_NE(err.find(dir_ + "/nope.conf: No such file or directory"), std::string::npos) << err;
    std::tie(rc, err) = run(run_down, {dir_ + "/nope.conf"});
    EXPECT_EQ(rc, EXIT_USAGE);
}

TEST_F(ApplyRefuses, DefaultFilesComeFromTheDirectory) {
    std::filesystem::create_directories(dir_ + "/conf.d");
    write("conf.d/b.conf", "[export a]\ncolour = red\n");
    write("conf.d/a.conf", "[export a]\nsize = 3\n");
    write("conf.d/c.txt", "not read\n");
    setenv("DSTOR_CONF_DIR", dir_.c_str(), 1);
    auto [rc, err] = run(run_apply, {"--dry-run"});
    unsetenv("DSTOR_CONF_DIR");
    EXPECT_EQ(rc, EXIT_USAGE);
    // dstor.conf is missing (fine), conf.d/*.conf in name order.
    EXPECT_EQ(err.find(dir_ + "/conf.d/a.conf:2: "), 0u) << err;
    EXPECT_NE(err.find(dir_ + "/conf.d/b.conf:1: [export a] again"), std::string::npos) << err;
    EXPECT_EQ(err.find("c.txt"), std::string::npos) << err;
}

TEST(Plan, AnExportListedWithoutAUuidIsAddedWithTheKeptOne) {
    PlanState state;
    state.kept_uuids["data"] = samples::sample_uuid;
    Running r;
    r.module = ModuleInfo{4, 0, std::nullopt, std::nullopt, 0};
    Plan p = plan_apply(want(full_conf), r, state);
    ASSERT_GE(p.actions.size(), 1u);
    EXPECT_EQ(command_line(p.actions[0].args),
              std::string("dstor export add data --device /dev/ram0 --listen 192.0.2.1:7420 "
                          "--key /etc/dstor/a.key --allow 192.0.2.0/24=rw --allow "
                          "198.51.100.7/32=ro --uuid ") +
                  samples::sample_uuid_text);
    // Added again because its device changed: the same kept uuid is used
    // only if apply found it for that device (apply.cpp); the planner adds
    // with whatever it is given.
    // A running export is never compared with the kept uuid: one made by
    // hand with another uuid is left as it is.
    Running running = full_running();
    running.exports[0].uuid = Uuid{};
    p = plan_apply(want(full_conf), running, state);
    EXPECT_TRUE(p.actions.empty()) << ::testing::PrintToString(lines(p));
    // A uuid in the file wins.
    std::string text = full_conf;
    text.replace(text.find("allow = 192.0.2.0/24=rw"), 23,
                 "allow = 192.0.2.0/24=rw\nuuid = 00000000-0000-4000-8000-000000000001");
    p = plan_apply(want(text), r, state);
    ASSERT_GE(p.actions.size(), 1u);
    EXPECT_EQ(p.actions[0].args.back(), "00000000-0000-4000-8000-000000000001");
}

TEST(Plan, KeptUuidsRecord) {
    std::map<std::string, KeptUuid> kept{
        {"data", KeptUuid{"/dev/vdb", samples::sample_uuid}},
        {"odd", KeptUuid{"/dev/disk/by-id/a b", *parse_uuid("00000000-0000-4000-8000-000000000001")}},
    };
    const std::string text = format_kept_uuids(kept);
    EXPECT_EQ(parse_kept_uuids(text), kept);
    EXPECT_NE(text.find(std::string("data ") + samples::sample_uuid_text + " /dev/vdb\n"),
              std::string::npos);
    // Lines that do not parse are skipped, the others kept.
    EXPECT_EQ(parse_kept_uuids("data not-a-uuid /dev/vdb\n"
                               "bad/name 0f8fad5b-d9cb-469f-a165-70867728950e /dev/x\n"
                               "nodevice 0f8fad5b-d9cb-469f-a165-70867728950e\n"
                               "# data 0f8fad5b-d9cb-469f-a165-70867728950e /dev/y\n"
                               "ok 0f8fad5b-d9cb-469f-a165-70867728950e /dev/vdc\n"),
              (std::map<std::string, KeptUuid>{{"ok", KeptUuid{"/dev/vdc", samples::sample_uuid}}}));
}
