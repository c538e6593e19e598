// The progress of a sync, as `dstor show` and `dstor sync --wait` print it:
// blocks done of total, data rate, time left, and the lines and bar made of
// them (exposed for tests; nothing here talks to the kernel).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "error.hpp"
#include "model.hpp"

namespace dstor {

// "waiting", "tree", "hashing", "receiving", "verifying", "done", "failed",
// or "unknown" (enum dstor_sync_state).
std::string sync_state_name(std::optional<std::uint32_t> state);

// "hashing", "serving", "failed", or "unknown" (enum dstor_mc_state).
std::string mc_state_name(std::optional<std::uint32_t> state);

struct SyncProgress {
    std::uint64_t total = 0;          // blocks of the export; 0 until known
    std::uint64_t done = 0;           // already good + verified, at most total
    std::uint64_t bytes = 0;          // data bytes received (duplicates included)
    double seconds = 0;               // since the sync started
    std::optional<double> rate;       // bytes per second
    std::optional<std::uint64_t> eta; // seconds until every block is done
};

// The progress of `sync`. The rate is `rate` when given (--wait measures it
// over the last seconds), else the bytes received over the elapsed time; the
// ETA is the data of the blocks not done at that rate, while the sync runs.
SyncProgress sync_progress(const SyncInfo& sync, std::optional<double> rate = std::nullopt);

// Bytes per second over a sliding window of samples (--wait).
class RateMeter {
public:
    explicit RateMeter(double window_seconds = 5) : window_(window_seconds) {}

    // `bytes` received in total at `seconds` (monotonic, non-decreasing).
    void add(double seconds, std::uint64_t bytes);
    // Over the samples of the last window; nothing before a second has passed.
    std::optional<double> rate() const;

private:
    double window_;
    std::deque<std::pair<double, std::uint64_t>> samples_;
};

// "0:42", "12:03", "1:02:03".
std::string format_duration(std::uint64_t seconds);

// An interval as --every takes it: "90s", "10m", "1h", "7d".
std::string format_interval(std::uint32_t seconds);

// "0.8 s", "12.3 s" under a minute, else format_duration.
std::string format_seconds(double seconds);

// "512 B/s", "12.3 kB/s", "1.25 MB/s", "2.40 GB/s" (powers of 1000).
std::string format_byte_rate(double bytes_per_second);

// What the sync is doing: "waiting for the export's announcement", "fetching
// the leaf hashes", "hashing the target", "receiving", "verifying the
// target", "done", "failed".
std::string sync_activity(std::optional<std::uint32_t> state, bool by_peer = false);

// One plain progress line (no newline), for --wait when not on a terminal:
//   golden: receiving, 460/1024 blocks (44%), 1.25 MB/s, ETA 0:42
std::string progress_line(const SyncInfo& sync, const SyncProgress& p);

// The one-line bar for a terminal `width` columns wide (no newline, no
// control characters), at most width - 1 characters:
//   golden [########............] 44% 460/1024 1.25 MB/s ETA 0:42
std::string progress_bar(const SyncInfo& sync, const SyncProgress& p, std::size_t width);

// What --wait prints once the sync is done (lines, with newlines):
//   sync 0 done: /dev/sdb now equals golden (merkle root 5e3a...)
//     blocks total 1024, already good 256, received 768, verified 768
//     bytes received 12582912 (12.00 MiB), elapsed 12.3 s, 1.02 MB/s
std::string sync_summary(const SyncInfo& sync);

// What `dstor sync --wait` needs from the world (tests give fakes).
struct SyncFollower {
    std::function<Result<SyncInfo>()> get;   // DSTOR_CMD_SYNC_GET of the sync
    std::function<Result<void>()> remove;    // DSTOR_CMD_SYNC_DEL; gone already is fine
    std::function<Result<int>(int ms)> wait; // up to `ms` for a signal: its number, or 0
    std::function<double()> now;             // seconds, monotonic
    std::ostream* out = nullptr;             // the summary
    bool json = false;                       // ... as sync_json's object
    std::ostream* err = nullptr;             // the progress
    bool tty = false;                        // err is a terminal: draw a bar
    std::size_t width = 80;                  // its columns
};

// Follow a sync, `first` as SYNC_ADD returned it: show its progress on
// io.err every 0.5 s (a bar redrawn in place on a terminal, else a line at
// most every 2 s) until its state is done (print sync_summary, or with
// io.json the sync's JSON object, on io.out,
// EXIT_OK) or failed (EXIT_FAIL), or a signal comes (128 + its number);
// then remove it. A sync that vanished is EXIT_FAIL; a removal that fails
// turns EXIT_OK into EXIT_FAIL. Errors are reported as "dstor: COMMAND: ...".
int follow_sync(const std::string& command, SyncInfo first, const SyncFollower& io);

} // namespace dstor
