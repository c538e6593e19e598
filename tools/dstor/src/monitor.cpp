// dstor monitor [--json]: subscribe to the "events" multicast group of the
// dstor family and print one line per DSTOR_CMD_EVENT until SIGINT or SIGTERM.
// Events are sent in the network namespace of the import: run it there.
#include "monitor.hpp"

#include <CLI/CLI.hpp>
#include <linux/dstor.h>
#include <linux/genetlink.h>
#include <poll.h>

#include <cerrno>
#include <iostream>
#include <map>

#include "attrs.hpp"
#include "commands.hpp"
#include "show.hpp"

namespace dstor {


std::string event_name(std::uint32_t event) {
    switch (event) {
    case DSTOR_EVENT_LINK_LOST:
        return "link-lost";
    case DSTOR_EVENT_RECONNECTED:
        return "reconnected";
    case DSTOR_EVENT_FAILED:
        return "failed";
    case DSTOR_EVENT_REMOVED:
        return "removed";
    case DSTOR_EVENT_SYNC_ROUND:
        return "sync-round";
    case DSTOR_EVENT_SYNC_FAILED:
        return "sync-failed";
    default:
        return "event-" + std::to_string(event);
    }
}

namespace {

bool sync_event(const ImportEvent& ev) {
    return ev.event == DSTOR_EVENT_SYNC_ROUND || ev.event == DSTOR_EVENT_SYNC_FAILED;
}

// "sync 3 NAME@PEER /dev/vdb sync-round: equal" (or "5 repaired", ", scrub
// found 2 corrupt"), "... sync-failed: REASON".
std::string format_sync_event(const ImportEvent& ev) {
    std::string out = "sync " + (ev.index ? std::to_string(*ev.index) : std::string("?")) + ' ' +
                      ev.name.value_or("");
    if (ev.peer)
        out += '@' + format_endpoint(*ev.peer);
    if (ev.device)
        out += ' ' + *ev.device;
    out += ' ' + event_name(ev.event) + ": ";
    if (ev.event == DSTOR_EVENT_SYNC_FAILED)
        return out + ev.reason.value_or("see the kernel log");
    out += ev.repaired.value_or(0) ? std::to_string(*ev.repaired) + " repaired" : "equal";
    if (ev.corrupt)
        out += ", scrub found " + std::to_string(*ev.corrupt) + " corrupt";
    return out;
}

} // namespace

std::string format_event(const ImportEvent& ev, std::optional<std::uint32_t> connections) {
    if (sync_event(ev))
        return format_sync_event(ev);
    if (ev.connections)
        connections = ev.connections;
    std::string out = ev.index ? "dstor" + std::to_string(*ev.index) : std::string("(no device)");
    if (ev.name || ev.peer) {
        out += ' ';
        out += ev.name.value_or("");
        if (ev.peer)
            out += '@' + format_endpoint(*ev.peer);
    }
    out += ' ' + event_name(ev.event);
    if (ev.queue)
        out += " connection " + std::to_string(*ev.queue);
    std::string detail;
    if (ev.state)
        detail = "state " + state_name(ev.state);
    if (ev.connected) {
        detail += detail.empty() ? "" : ", ";
        detail += std::to_string(*ev.connected);
        if (connections)
            detail += '/' + std::to_string(*connections);
        detail += " connected";
    }
    if (!detail.empty())
        out += " (" + detail + ')';
    if (ev.reason)
        out += ": " + *ev.reason;
    return out;
}

nlohmann::ordered_json event_json(const ImportEvent& ev) {
    auto j = nlohmann::ordered_json::object();
    j["event"] = event_name(ev.event);
    if (sync_event(ev)) {
        put_json(j, "sync", ev.index);
        put_json(j, "name", ev.name);
        if (ev.peer)
            j["peer"] = format_endpoint(*ev.peer);
        put_json(j, "target", ev.device);
        put_json(j, "repaired", ev.repaired);
        put_json(j, "corrupt", ev.corrupt);
        put_json(j, "reason", ev.reason);
        return j;
    }
    if (ev.index) {
        j["index"] = *ev.index;
        j["device"] = "/dev/dstor" + std::to_string(*ev.index);
    }
    if (ev.name)
        j["name"] = *ev.name;
    if (ev.peer)
        j["peer"] = format_endpoint(*ev.peer);
    if (ev.state)
        j["state"] = state_name(ev.state);
    if (ev.connected)
        j["connected"] = *ev.connected;
    if (ev.queue)
        j["queue"] = *ev.queue;
    if (ev.reason)
        j["reason"] = *ev.reason;
    return j;
}

Parsed<MonitorCommand> parse_monitor_args(const std::vector<std::string>& args) {
    CLI::App app("Print import events (link lost, reconnected, failed, removed) and the rounds "
                 "of periodic syncs (sync-round, sync-failed) as they happen, one line each, "
                 "until interrupted.",
                 "dstor monitor");
    bool json = false;
    app.add_flag("--json", json,
                 "One JSON object per line: {\"event\":...,\"index\":...,\"device\":...,"
                 "\"name\":...,\"peer\":...,\"state\":...,\"connected\":...,\"queue\":...,"
                 "\"reason\":...}");
    app.footer("Events are sent in the network namespace of the import or sync: run dstor\n"
               "monitor there (ip netns exec NS dstor monitor). A sync's events have \"sync\",\n"
               "\"target\", \"repaired\", \"corrupt\" and \"reason\" in JSON.\n"
               "SIGINT and SIGTERM end it (exit 0).");
    auto p = parse_cli(app, "monitor", args);
    if (!p.cmd)
        return carry<MonitorCommand>(std::move(p));
    Parsed<MonitorCommand> out;
    out.command = p.command;
    out.cmd = MonitorCommand{json};
    return out;
}

namespace {

// The configured connection count of each import, for "1/2 connected": events
// carry only the connections that are up. Filled from a dump at start and by
// a DSTOR_CMD_IMPORT_GET for an index seen first in an event; best effort.
class ConnectionCounts {
public:
    explicit ConnectionCounts(std::optional<nl::Socket> query) : query_(std::move(query)) {
        if (!query_)
            return;
        if (auto imports = dump_imports(*query_))
            for (const auto& i : *imports)
                if (i.index && i.connections)
                    counts_[*i.index] = *i.connections;
    }

    std::optional<std::uint32_t> lookup(const ImportEvent& ev) {
        if (!ev.index || sync_event(ev))
            return std::nullopt;
        if (auto it = counts_.find(*ev.index); it != counts_.end())
            return it->second;
        if (!query_ || ev.event == DSTOR_EVENT_REMOVED)
            return std::nullopt;
        std::optional<std::uint32_t> n;
        nl::Message msg = query_->request(DSTOR_CMD_IMPORT_GET);
        put_import_get(msg, *ev.index);
        auto r = query_->transact(msg, [&n](const nlmsghdr* nlh) -> Result<void> {
            auto info = parse_import_info(nlh);
            if (info)
                n = info->connections;
            return {};
        });
        if (r && n)
            counts_[*ev.index] = *n;
        return n;
    }

    // After the import's "removed": its index may be reused.
    void forget(std::uint32_t index) { counts_.erase(index); }
    void clear() { counts_.clear(); }

private:
    std::optional<nl::Socket> query_;
    std::map<std::uint32_t, std::uint32_t> counts_;
};

} // namespace

int run_monitor(const std::vector<std::string>& args) {
    auto p = parse_monitor_args(args);
    if (!p.cmd)
        return emit(p);
    const bool json = p.cmd->json;

    // SIGINT and SIGTERM are read from a signalfd polled next to the socket,
    // so that no signal is lost between a check and a blocking receive.
    auto sigfd = SignalFd::open();
    if (!sigfd) {
        report(p.command, sigfd.error());
        return EXIT_FAIL;
    }

    auto sock = open_dstor_or_report(p.command);
    if (!sock)
        return EXIT_FAIL;
    auto group = sock->group(DSTOR_GENL_MCGRP_EVENTS);
    if (!group) {
        report(p.command, "the dstor module has no \"" DSTOR_GENL_MCGRP_EVENTS
                          "\" multicast group (an older module?)");
        return EXIT_FAIL;
    }
    if (auto r = sock->join(*group); !r) {
        report(p.command, r.error());
        return EXIT_FAIL;
    }

    // Text lines show "connected/connections": a second socket looks the
    // counts up (after joining, so that no import added meanwhile is missed).
    std::optional<nl::Socket> query;
    if (!json)
        if (auto q = open_dstor())
            query = std::move(*q);
    ConnectionCounts counts(std::move(query));

    const std::uint16_t family = sock->family();
    bool write_failed = false;
    auto on_event = [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != family || mnl_nlmsg_get_payload_len(nlh) < sizeof(genlmsghdr))
            return {};
        const auto* genl = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(nlh));
        if (genl->cmd != DSTOR_CMD_EVENT)
            return {};
        auto ev = parse_import_event(nlh);
        if (!ev) {
            report(p.command, ev.error()); // one bad event does not end the monitor
            return {};
        }
        if (json)
            std::cout << event_json(*ev).dump(-1, ' ', false,
                                              nlohmann::ordered_json::error_handler_t::replace);
        else
            std::cout << format_event(*ev, counts.lookup(*ev));
        std::cout << '\n' << std::flush;
        if (!std::cout) {
            write_failed = true;
            return Error::user("cannot write to standard output");
        }
        if (ev->event == DSTOR_EVENT_REMOVED && ev->index)
            counts.forget(*ev->index);
        return {};
    };

    for (;;) {
        pollfd fds[2] = {{sock->fd(), POLLIN, 0}, {sigfd->fd(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            report(p.command, Error::sys(errno, "poll"));
            return EXIT_FAIL;
        }
        if (fds[1].revents & POLLIN)
            return EXIT_OK; // SIGINT or SIGTERM
        if (!(fds[0].revents & (POLLIN | POLLERR)))
            continue;
        auto r = sock->receive(on_event);
        if (r)
            continue;
        if (write_failed) {
            report(p.command, r.error());
            return EXIT_FAIL;
        }
        if (r.error().err == ENOBUFS) {
            // The socket's buffer overflowed: events were dropped, keep going.
            report(p.command, "events were lost (netlink receive buffer overrun)");
            counts.clear();
            continue;
        }
        if (r.error().err == EINTR)
            continue;
        report(p.command, r.error());
        return EXIT_FAIL;
    }
}

} // namespace dstor
