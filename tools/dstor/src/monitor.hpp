// dstor monitor: the text and JSON lines of DSTOR_CMD_EVENT notifications
// (exposed for tests).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace dstor {

// "link-lost", "reconnected", "failed", "removed", or "event-N".
std::string event_name(std::uint32_t event);

// One human line, without the newline:
//   dstor0 d0@192.0.2.1:7420 link-lost connection 1 (state reconnecting, 1/2 connected)
// and, when the event says why the import is down, ": REASON" at the end.
// `connections` is the import's configured connection count when known from
// elsewhere (events do not carry it); DSTOR_A_CONNECTIONS in the event wins.
std::string format_event(const ImportEvent& ev, std::optional<std::uint32_t> connections = {});

// One compact JSON object, keys in this order, absent ones omitted:
//   {"event":"link-lost","index":0,"device":"/dev/dstor0","name":"d0",
//    "peer":"192.0.2.1:7420","state":"reconnecting","connected":1,"queue":1,
//    "reason":"nothing heard from the peer"}
nlohmann::ordered_json event_json(const ImportEvent& ev);

} // namespace dstor
