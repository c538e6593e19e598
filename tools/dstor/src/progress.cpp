#include "progress.hpp"

#include <linux/dstor.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>

#include "show.hpp"

namespace dstor {

namespace {

bool running(std::optional<std::uint32_t> state) {
    const std::uint32_t s = state.value_or(0);
    return s != DSTOR_SYNC_STATE_DONE && s != DSTOR_SYNC_STATE_FAILED &&
           s != DSTOR_SYNC_STATE_IDLE;
}

std::string percent(const SyncProgress& p) {
    // Floor: 100% only once every block is done.
    return std::to_string(p.total == 0 ? 0 : p.done * 100 / p.total) + "%";
}

std::string eta_text(const SyncProgress& p) {
    return p.eta ? format_duration(*p.eta) : std::string("-:--");
}

} // namespace

std::string sync_state_name(std::optional<std::uint32_t> state) {
    static const char* const names[] = {"unknown",   "waiting",   "tree", "hashing",
                                        "receiving", "verifying", "done", "failed",
                                        "seeding",   "idle"};
    static_assert(std::size(names) == DSTOR_SYNC_STATE_IDLE + 1);
    const std::uint32_t i = state.value_or(0);
    return names[i < std::size(names) ? i : 0];
}

std::string mc_state_name(std::optional<std::uint32_t> state) {
    static const char* const names[] = {"unknown", "hashing", "serving", "failed"};
    static_assert(std::size(names) == DSTOR_MC_STATE_FAILED + 1);
    const std::uint32_t i = state.value_or(0);
    return names[i < std::size(names) ? i : 0];
}

SyncProgress sync_progress(const SyncInfo& sync, std::optional<double> rate) {
    SyncProgress p;
    const Stats& s = sync.stats;
    p.total = s.sync_blocks.value_or(sync.mcast.blocks.value_or(0));
    p.done = std::min(p.total, s.sync_good.value_or(0) + s.sync_seeded.value_or(0) +
                                   s.sync_verified.value_or(0));
    p.bytes = s.sync_bytes.value_or(0);
    p.seconds = static_cast<double>(sync.elapsed_ms.value_or(0)) / 1000.0;
    if (rate)
        p.rate = rate;
    else if (sync.elapsed_ms && *sync.elapsed_ms > 0 && s.sync_bytes)
        p.rate = static_cast<double>(p.bytes) / p.seconds;
    const std::uint64_t left = p.total - p.done;
    if (running(sync.state) && left > 0 && sync.mcast.block_size && p.rate && *p.rate > 0) {
        const double data = static_cast<double>(left) * *sync.mcast.block_size;
        p.eta = static_cast<std::uint64_t>(std::ceil(data / *p.rate));
    }
    return p;
}

void RateMeter::add(double seconds, std::uint64_t bytes) {
    samples_.emplace_back(seconds, bytes);
    // Keep one sample at or before the window's start, so the window is full.
    while (samples_.size() > 2 && samples_[1].first <= seconds - window_)
        samples_.pop_front();
}

std::optional<double> RateMeter::rate() const {
    if (samples_.size() < 2)
        return std::nullopt;
    const auto& [t0, b0] = samples_.front();
    const auto& [t1, b1] = samples_.back();
    if (t1 - t0 < 1.0 || b1 < b0)
        return std::nullopt;
    return static_cast<double>(b1 - b0) / (t1 - t0);
}

std::string format_duration(std::uint64_t seconds) {
    char buf[48];
    const std::uint64_t h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
    if (h > 0)
        std::snprintf(buf, sizeof(buf), "%llu:%02llu:%02llu", static_cast<unsigned long long>(h),
                      static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
    else
        std::snprintf(buf, sizeof(buf), "%llu:%02llu", static_cast<unsigned long long>(m),
                      static_cast<unsigned long long>(s));
    return buf;
}

std::string format_interval(std::uint32_t seconds) {
    if (seconds % 86400 == 0)
        return std::to_string(seconds / 86400) + "d";
    if (seconds % 3600 == 0)
        return std::to_string(seconds / 3600) + "h";
    if (seconds % 60 == 0)
        return std::to_string(seconds / 60) + "m";
    return std::to_string(seconds) + "s";
}

std::string format_seconds(double seconds) {
    if (!(seconds >= 0))
        seconds = 0;
    if (seconds >= 59.95)
        return format_duration(static_cast<std::uint64_t>(std::llround(seconds)));
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f s", seconds);
    return buf;
}

std::string format_byte_rate(double bytes_per_second) {
    static const char* const units[] = {"kB/s", "MB/s", "GB/s", "TB/s"};
    if (!(bytes_per_second >= 0))
        bytes_per_second = 0;
    char buf[48];
    if (bytes_per_second < 1000) {
        std::snprintf(buf, sizeof(buf), "%.0f B/s", bytes_per_second);
        return buf;
    }
    double v = bytes_per_second / 1000;
    std::size_t u = 0;
    while (v >= 999.995 && u + 1 < std::size(units)) {
        v /= 1000;
        ++u;
    }
    std::snprintf(buf, sizeof(buf), v < 99.995 ? "%.2f %s" : "%.1f %s", v, units[u]);
    return buf;
}

std::string sync_activity(std::optional<std::uint32_t> state, bool by_peer) {
    switch (state.value_or(0)) {
    case DSTOR_SYNC_STATE_WAITING:
        return by_peer ? "connecting to the exporter" : "waiting for the export's announcement";
    case DSTOR_SYNC_STATE_TREE:
        return by_peer ? "comparing the merkle trees" : "fetching the leaf hashes";
    case DSTOR_SYNC_STATE_HASHING:
        return "hashing the target";
    case DSTOR_SYNC_STATE_SEEDING:
        return "copying blocks from the seeds";
    case DSTOR_SYNC_STATE_VERIFYING:
        return "verifying the target";
    default: // receiving, done, failed: the state's name says it

        return sync_state_name(state);
    }
}

std::string progress_line(const SyncInfo& sync, const SyncProgress& p) {
    std::string out = sync.name + ": " + sync_activity(sync.state, sync.peer && !sync.mcast.ifindex);
    if (p.total == 0)
        return out;
    out += ", " + std::to_string(p.done) + "/" + std::to_string(p.total) + " blocks (" +
           percent(p) + ")";
    if (p.rate)
        out += ", " + format_byte_rate(*p.rate);
    if (running(sync.state))
        out += ", ETA " + eta_text(p);
    return out;
}

std::string progress_bar(const SyncInfo& sync, const SyncProgress& p, std::size_t width) {
    const std::size_t room = width > 1 ? width - 1 : 0;
    std::string out;
    if (p.total == 0) {
        out = sync.name + ": " + sync_activity(sync.state, sync.peer && !sync.mcast.ifindex) + "...";
    } else {
        // "NAME [bar] 44% 460/1024 1.25 MB/s ETA 0:42 hashing": the bar
        // takes what the rest leaves, 10 to 40 columns; the state is named
        // while it is not plain receiving.
        // (Appended word by word: GCC 12 warns wrongly about " " + string.)
        std::string tail;
        auto word = [&tail](const std::string& w) {
            tail += ' ';
            tail += w;
        };
        word(percent(p));
        word(std::to_string(p.done) + "/" + std::to_string(p.total));
        if (p.rate)
            word(format_byte_rate(*p.rate));
        if (running(sync.state))
            word("ETA " + eta_text(p));
        if (sync.state != std::uint32_t{DSTOR_SYNC_STATE_RECEIVING})
            word(sync_state_name(sync.state));
        const std::size_t fixed = sync.name.size() + 3 + tail.size();
        const std::size_t bar = std::clamp<std::size_t>(room > fixed ? room - fixed : 0, 10, 40);
        const auto filled = static_cast<std::size_t>(bar * p.done / p.total);
        out = sync.name + " [" + std::string(filled, '#') + std::string(bar - filled, '.') + "]" +
              tail;
    }
    if (out.size() > room)
        out.resize(room);
    return out;
}

std::string sync_summary(const SyncInfo& sync) {
    const SyncProgress p = sync_progress(sync);
    const Stats& s = sync.stats;
    auto n = [](const std::optional<std::uint64_t>& v) { return std::to_string(v.value_or(0)); };
    std::string out = "sync " + (sync.index ? std::to_string(*sync.index) : std::string("?")) +
                      " done: " + sync.device.value_or("the target") + " now equals " + sync.name;
    if (sync.mcast.root)
        out += " (merkle root " + format_hex(*sync.mcast.root) + ")";
    out += "\n  blocks total " + n(s.sync_blocks) + ", already good " + n(s.sync_good);
    if (s.sync_seeded.value_or(0) > 0)
        out += ", from seeds " + n(s.sync_seeded);
    out += ", received " + n(s.sync_received) + ", verified " + n(s.sync_verified) + "\n";
    out += "  bytes received " + std::to_string(p.bytes) + " (" + human_bytes(p.bytes) + ")";
    if (s.sync_seeded_bytes.value_or(0) > 0)
        out += ", from seeds " + std::to_string(*s.sync_seeded_bytes) + " (" +
               human_bytes(*s.sync_seeded_bytes) + ", not fetched)";
    out += ", elapsed " + format_seconds(p.seconds);
    if (p.rate)
        out += ", " + format_byte_rate(*p.rate);
    if (sync.peer)
        out += "\n  tree hashes " + n(s.sync_tree_hashes) + ", requests " + n(s.sync_requests) +
               ", bytes on the wire " + n(s.sync_wire_bytes) + " (" +
               human_bytes(s.sync_wire_bytes.value_or(0)) + ")";
    if (sync.every) {
        out += "\n  runs a round every " + format_interval(*sync.every);
        if (sync.scrub)
            out += ", scrubs every " + format_interval(*sync.scrub);
        out += ": 'dstor sync del " + std::to_string(sync.index.value_or(0)) + "' stops it";
    }
    return out + "\n";
}

namespace {

// What --wait draws: a bar redrawn in place on a terminal, else a plain line
// at most every 2 s.
class Display {
public:
    explicit Display(const SyncFollower& io) : io_(io) {}

    void show(const SyncInfo& sync, const SyncProgress& p, double now) {
        if (io_.tty) {
            *io_.err << '\r' << progress_bar(sync, p, io_.width) << "\x1b[K" << std::flush;
            drawn_ = true;
        } else if (!printed_ || now - last_ >= 2.0) {
            *io_.err << progress_line(sync, p) << '\n' << std::flush;
            last_ = now;
            printed_ = true;
        }
    }

    // End the bar's line, so that what follows starts on its own.
    void finish() {
        if (drawn_)
            *io_.err << '\n' << std::flush;
        drawn_ = false;
    }

private:
    const SyncFollower& io_;
    bool drawn_ = false;
    bool printed_ = false;
    double last_ = 0; // when the last line was printed
};

} // namespace

int follow_sync(const std::string& command, SyncInfo info, const SyncFollower& io) {
    const std::string which =
        "sync " + std::to_string(info.index.value_or(0)) + " of '" + info.name + "'";
    Display display(io);
    RateMeter meter;
    auto remove = [&](int code) {
        if (auto r = io.remove(); !r) {
            report(command, "cannot remove " + which + ": " + r.error().text());
            return code == EXIT_OK ? EXIT_FAIL : code;
        }
        return code;
    };
    for (;;) {
        const double now = io.now();
        meter.add(now, info.stats.sync_bytes.value_or(0));
        // A periodic sync's first round converged: it carries on.
        const bool idle = info.state == std::uint32_t{DSTOR_SYNC_STATE_IDLE};
        if (info.state == std::uint32_t{DSTOR_SYNC_STATE_DONE} || idle) {
            display.finish();
            if (io.json)
                *io.out << sync_json(info).dump(2, ' ', false,
                                                nlohmann::ordered_json::error_handler_t::replace)
                        << '\n'
                        << std::flush;
            else
                *io.out << sync_summary(info) << std::flush;
            if (!*io.out) {
                report(command, "cannot write to standard output");
                return remove(EXIT_FAIL);
            }
            return idle ? EXIT_OK : remove(EXIT_OK);
        }
        if (info.state == std::uint32_t{DSTOR_SYNC_STATE_FAILED}) {
            display.finish();
            const SyncProgress p = sync_progress(info);
            report(command, which + " failed after " + format_seconds(p.seconds) + " (" +
                                std::to_string(p.done) + "/" + std::to_string(p.total) +
                                " blocks done): " +
                                info.reason.value_or("the kernel log says why (dmesg)"));
            return remove(EXIT_FAIL);
        }
        display.show(info, sync_progress(info, meter.rate()), now);

        auto sig = io.wait(500);
        if (!sig || *sig > 0) {
            display.finish();
            if (!sig) {
                report(command, sig.error());
                return remove(EXIT_FAIL);
            }
            const int code = remove(128 + *sig);
            report(command, "interrupted; " + which + " removed (blocks written so far stay)");
            return code;
        }
        auto next = io.get();
        if (!next) {
            display.finish();
            if (next.error().from_kernel && next.error().err == ENOENT) {
                report(command, which + " is gone (removed by someone else?)");
                return EXIT_FAIL;
            }
            report(command, next.error());
            return remove(EXIT_FAIL);
        }
        info = std::move(*next);
    }
}

} // namespace dstor
