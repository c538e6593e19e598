// dstor monitor's lines: events built as the kernel sends them, parsed and
// printed as text and as JSON. No socket is opened.
#include <gtest/gtest.h>

#include <linux/dstor.h>
#include <linux/genetlink.h>

#include "attrs.hpp"
#include "monitor.hpp"

using namespace dstor;

namespace {

struct Event {
    alignas(8) char data[1024] = {};
    nlmsghdr* nlh;

    explicit Event(std::uint32_t event) {
        nlh = mnl_nlmsg_put_header(data);
        nlh->nlmsg_type = 0x1d;
        auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
        genl->cmd = DSTOR_CMD_EVENT;
        genl->version = DSTOR_GENL_VERSION;
        mnl_attr_put_u32(nlh, DSTOR_A_EVENT, event);
    }

    // What dstor_netlink_event() sends about import 0 "d0" from 192.0.2.1:7420.
    Event& import(std::uint32_t state, std::uint32_t connected) {
        mnl_attr_put_u32(nlh, DSTOR_A_INDEX, 0);
        mnl_attr_put_strz(nlh, DSTOR_A_NAME, "d0");
        nlattr* peer = mnl_attr_nest_start(nlh, DSTOR_A_PEER);
        const std::uint8_t v4[4] = {192, 0, 2, 1};
        mnl_attr_put(nlh, DSTOR_A_ENDPOINT_IPV4, 4, v4);
        mnl_attr_put_u16(nlh, DSTOR_A_ENDPOINT_PORT, 7420);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_put_u32(nlh, DSTOR_A_STATE, state);
        mnl_attr_put_u32(nlh, DSTOR_A_CONNECTED, connected);
        return *this;
    }
    Event& queue(std::uint32_t q) {
        mnl_attr_put_u32(nlh, DSTOR_A_QUEUE, q);
        return *this;
    }

    ImportEvent parse() const {
        auto ev = parse_import_event(nlh);
        EXPECT_TRUE(ev.ok()) << ev.error().text();
        return ev.ok() ? *ev : ImportEvent{};
    }
};

std::string json_line(const ImportEvent& ev) {
    return event_json(ev).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace

TEST(Monitor, EventNames) {
    EXPECT_EQ(event_name(DSTOR_EVENT_LINK_LOST), "link-lost");
    EXPECT_EQ(event_name(DSTOR_EVENT_RECONNECTED), "reconnected");
    EXPECT_EQ(event_name(DSTOR_EVENT_FAILED), "failed");
    EXPECT_EQ(event_name(DSTOR_EVENT_REMOVED), "removed");
    EXPECT_EQ(event_name(0), "event-0");
    EXPECT_EQ(event_name(99), "event-99");
}

TEST(Monitor, LinkLostHumanLine) {
    const auto ev =
        Event(DSTOR_EVENT_LINK_LOST).import(DSTOR_STATE_RECONNECTING, 1).queue(1).parse();
    EXPECT_EQ(
        format_event(ev, 2u),
        "dstor0 d0@192.0.2.1:7420 link-lost connection 1 (state reconnecting, 1/2 connected)");
    // Without a known connection count.
    EXPECT_EQ(format_event(ev),
              "dstor0 d0@192.0.2.1:7420 link-lost connection 1 (state reconnecting, 1 connected)");
}

TEST(Monitor, LinkLostJsonLine) {
    const auto ev =
        Event(DSTOR_EVENT_LINK_LOST).import(DSTOR_STATE_RECONNECTING, 1).queue(1).parse();
    EXPECT_EQ(json_line(ev),
              R"({"event":"link-lost","index":0,"device":"/dev/dstor0","name":"d0",)"
              R"("peer":"192.0.2.1:7420","state":"reconnecting","connected":1,"queue":1})");
}

TEST(Monitor, ImportEventsWithoutQueue) {
    const auto failed = Event(DSTOR_EVENT_FAILED).import(DSTOR_STATE_FAILED, 0).parse();
    EXPECT_EQ(format_event(failed, 2u),
              "dstor0 d0@192.0.2.1:7420 failed (state failed, 0/2 connected)");
    EXPECT_EQ(json_line(failed),
              R"({"event":"failed","index":0,"device":"/dev/dstor0","name":"d0",)"
              R"("peer":"192.0.2.1:7420","state":"failed","connected":0})");

    const auto removed = Event(DSTOR_EVENT_REMOVED).import(DSTOR_STATE_DELETING, 0).parse();
    EXPECT_EQ(format_event(removed),
              "dstor0 d0@192.0.2.1:7420 removed (state deleting, 0 connected)");
    EXPECT_EQ(json_line(removed).find("queue"), std::string::npos);
}

TEST(Monitor, Reconnected) {
    const auto ev =
        Event(DSTOR_EVENT_RECONNECTED).import(DSTOR_STATE_CONNECTED, 2).queue(0).parse();
    EXPECT_EQ(format_event(ev, 2u),
              "dstor0 d0@192.0.2.1:7420 reconnected connection 0 (state connected, 2/2 connected)");
    EXPECT_EQ(json_line(ev),
              R"({"event":"reconnected","index":0,"device":"/dev/dstor0","name":"d0",)"
              R"("peer":"192.0.2.1:7420","state":"connected","connected":2,"queue":0})");
}

TEST(Monitor, ConnectionsInTheEventWin) {
    Event e(DSTOR_EVENT_LINK_LOST);
    e.import(DSTOR_STATE_RECONNECTING, 3).queue(2);
    mnl_attr_put_u32(e.nlh, DSTOR_A_CONNECTIONS, 4);
    const auto ev = e.parse();
    EXPECT_EQ(
        format_event(ev, 9u),
        "dstor0 d0@192.0.2.1:7420 link-lost connection 2 (state reconnecting, 3/4 connected)");
}

TEST(Monitor, UnknownEventAndSparseAttributes) {
    const auto ev = Event(42).parse();
    EXPECT_EQ(format_event(ev), "(no device) event-42");
    EXPECT_EQ(json_line(ev), R"({"event":"event-42"})");

    Event named(77);
    mnl_attr_put_u32(named.nlh, DSTOR_A_INDEX, 12);
    mnl_attr_put_strz(named.nlh, DSTOR_A_NAME, "x");
    mnl_attr_put_u32(named.nlh, DSTOR_A_STATE, 99);
    const auto ev2 = named.parse();
    EXPECT_EQ(format_event(ev2), "dstor12 x event-77 (state unknown)");
    EXPECT_EQ(
        json_line(ev2),
        R"({"event":"event-77","index":12,"device":"/dev/dstor12","name":"x","state":"unknown"})");
}

TEST(Monitor, Ipv6PeerAndOddName) {
    Event e(DSTOR_EVENT_LINK_LOST);
    mnl_attr_put_u32(e.nlh, DSTOR_A_INDEX, 1);
    mnl_attr_put_strz(e.nlh, DSTOR_A_NAME, "n\xff");
    nlattr* peer = mnl_attr_nest_start(e.nlh, DSTOR_A_PEER);
    std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 1;
    mnl_attr_put(e.nlh, DSTOR_A_ENDPOINT_IPV6, 16, v6);
    mnl_attr_put_u16(e.nlh, DSTOR_A_ENDPOINT_PORT, 7421);
    mnl_attr_nest_end(e.nlh, peer);
    const auto ev = e.parse();
    EXPECT_EQ(format_event(ev), "dstor1 n\xff@[2001:db8::1]:7421 link-lost");
    std::string line;
    EXPECT_NO_THROW(line = json_line(ev)); // invalid UTF-8 is replaced, not thrown
    EXPECT_TRUE(nlohmann::json::accept(line));
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Monitor, SyncRounds) {
    EXPECT_EQ(event_name(DSTOR_EVENT_SYNC_ROUND), "sync-round");
    EXPECT_EQ(event_name(DSTOR_EVENT_SYNC_FAILED), "sync-failed");
    // What dstor_nl_sync_event() sends about sync 3 of "g" from 192.0.2.1.
    auto sync = [](std::uint32_t event) {
        Event e(event);
        mnl_attr_put_u32(e.nlh, DSTOR_A_INDEX, 3);
        mnl_attr_put_strz(e.nlh, DSTOR_A_NAME, "g");
        mnl_attr_put_strz(e.nlh, DSTOR_A_DEVICE, "/dev/vdb");
        nlattr* peer = mnl_attr_nest_start(e.nlh, DSTOR_A_PEER);
        const std::uint8_t v4[4] = {192, 0, 2, 1};
        mnl_attr_put(e.nlh, DSTOR_A_ENDPOINT_IPV4, 4, v4);
        mnl_attr_put_u16(e.nlh, DSTOR_A_ENDPOINT_PORT, 7420);
        mnl_attr_nest_end(e.nlh, peer);
        return e;
    };
    Event equal = sync(DSTOR_EVENT_SYNC_ROUND);
    mnl_attr_put_u64(equal.nlh, DSTOR_A_SYNC_REPAIRED, 0);
    EXPECT_EQ(format_event(equal.parse()), "sync 3 g@192.0.2.1:7420 /dev/vdb sync-round: equal");

    Event scrub = sync(DSTOR_EVENT_SYNC_ROUND);
    mnl_attr_put_u64(scrub.nlh, DSTOR_A_SYNC_REPAIRED, 7);
    mnl_attr_put_u64(scrub.nlh, DSTOR_A_SYNC_CORRUPT, 5);
    EXPECT_EQ(format_event(scrub.parse(), 4u),
              "sync 3 g@192.0.2.1:7420 /dev/vdb sync-round: 7 repaired, scrub found 5 corrupt");
    EXPECT_EQ(json_line(scrub.parse()),
              R"({"event":"sync-round","sync":3,"name":"g","peer":"192.0.2.1:7420",)"
              R"("target":"/dev/vdb","repaired":7,"corrupt":5})");

    Event failed = sync(DSTOR_EVENT_SYNC_FAILED);
    mnl_attr_put_u64(failed.nlh, DSTOR_A_SYNC_REPAIRED, 0);
    mnl_attr_put_strz(failed.nlh, DSTOR_A_REASON, "connection refused");
    EXPECT_EQ(format_event(failed.parse()),
              "sync 3 g@192.0.2.1:7420 /dev/vdb sync-failed: connection refused");
    EXPECT_EQ(json_line(failed.parse()),
              R"({"event":"sync-failed","sync":3,"name":"g","peer":"192.0.2.1:7420",)"
              R"("target":"/dev/vdb","repaired":0,"reason":"connection refused"})");
}

TEST(Monitor, Reason) {
    Event e(DSTOR_EVENT_FAILED);
    e.import(DSTOR_STATE_FAILED, 0);
    mnl_attr_put_strz(e.nlh, DSTOR_A_REASON,
                      "the export is not the one this import was made of (another export under "
                      "that name: its uuid differs)");
    const auto ev = e.parse();
    EXPECT_EQ(format_event(ev, 2u),
              "dstor0 d0@192.0.2.1:7420 failed (state failed, 0/2 connected): the export is not "
              "the one this import was made of (another export under that name: its uuid "
              "differs)");
    EXPECT_EQ(json_line(ev), R"({"event":"failed","index":0,"device":"/dev/dstor0","name":"d0",)"
                             R"("peer":"192.0.2.1:7420","state":"failed","connected":0,)"
                             R"("reason":"the export is not the one this import was made of )"
                             R"x((another export under that name: its uuid differs)"})x");

    Event lost(DSTOR_EVENT_LINK_LOST);
    lost.import(DSTOR_STATE_RECONNECTING, 1).queue(1);
    mnl_attr_put_strz(lost.nlh, DSTOR_A_REASON, "nothing heard from the peer");
    const auto ev2 = lost.parse();
    EXPECT_EQ(format_event(ev2, 2u), "dstor0 d0@192.0.2.1:7420 link-lost connection 1 (state "
                                     "reconnecting, 1/2 connected): nothing heard from the peer");
    EXPECT_EQ(json_line(ev2),
              R"({"event":"link-lost","index":0,"device":"/dev/dstor0","name":"d0",)"
              R"("peer":"192.0.2.1:7420","state":"reconnecting","connected":1,"queue":1,)"
              R"("reason":"nothing heard from the peer"})");

    // A reason without anything else still ends the line.
    ImportEvent bare;
    bare.event = DSTOR_EVENT_FAILED;
    bare.reason = "protocol error from the peer";
    EXPECT_EQ(format_event(bare), "(no device) failed: protocol error from the peer");
}
