// The progress of a sync: counters to blocks done, rate and ETA, and the
// lines, bar and summary `dstor sync --wait` prints. No socket is opened.
#include <gtest/gtest.h>

#include <linux/dstor.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <map>
#include <regex>
#include <sstream>
#include <vector>

#include "progress.hpp"
#include "sync_sample.hpp"

using namespace dstor;

namespace {

SyncInfo receiving() {
    return samples::sample_sync();
}

SyncInfo done() {
    SyncInfo y = receiving();
    y.state = DSTOR_SYNC_STATE_DONE;
    y.stats.sync_received = 770;
    y.stats.sync_verified = 768;
    y.stats.sync_bytes = 12582912;
    y.elapsed_ms = 12300;
    y.mcast.root = McastRoot{};
    (*y.mcast.root)[0] = 0x5e;
    (*y.mcast.root)[31] = 0x3a;
    return y;
}

} // namespace

TEST(SyncProgress, FromCounters) {
    const SyncProgress p = sync_progress(receiving());
    EXPECT_EQ(p.total, 1024u);
    EXPECT_EQ(p.done, 554u); // already good + verified
    EXPECT_EQ(p.bytes, 4915200u);
    EXPECT_DOUBLE_EQ(p.seconds, 12.345);
    ASSERT_TRUE(p.rate);
    EXPECT_NEAR(*p.rate, 4915200 / 12.345, 1e-6); // bytes over elapsed
    // 470 blocks of 16 KiB left at that rate: 19.3 s, rounded up.
    EXPECT_EQ(p.eta, 20u);
}

TEST(SyncProgress, GivenRate) {
    // --wait's measured rate wins; the ETA follows it.
    const SyncProgress p = sync_progress(receiving(), 470.0 * 16384 / 60);
    ASSERT_TRUE(p.rate);
    EXPECT_EQ(p.eta, 60u);
    EXPECT_FALSE(sync_progress(receiving(), 0.0).eta); // no progress: no ETA
}

TEST(SyncProgress, Partial) {
    // Just added: nothing known.
    SyncInfo y;
    y.name = "g";
    y.state = DSTOR_SYNC_STATE_WAITING;
    SyncProgress p = sync_progress(y);
    EXPECT_EQ(p.total, 0u);
    EXPECT_EQ(p.done, 0u);
    EXPECT_FALSE(p.rate);
    EXPECT_FALSE(p.eta);

    // Hashing: blocks known from the tree, no data yet.
    y.state = DSTOR_SYNC_STATE_HASHING;
    y.mcast.blocks = 100;
    y.mcast.block_size = 4096;
    y.elapsed_ms = 2000;
    y.stats.sync_good = 40;
    y.stats.sync_bytes = 0;
    p = sync_progress(y);
    EXPECT_EQ(p.total, 100u); // DSTOR_A_MCAST_BLOCKS when SYNC_BLOCKS is not there
    EXPECT_EQ(p.done, 40u);
    EXPECT_EQ(p.rate, 0.0);
    EXPECT_FALSE(p.eta);

    // Never more done than total; no ETA without the block size or once over.
    y = receiving();
    y.stats.sync_verified = 2000;
    EXPECT_EQ(sync_progress(y).done, 1024u);
    EXPECT_FALSE(sync_progress(y).eta);
    y = receiving();
    y.mcast.block_size.reset();
    EXPECT_FALSE(sync_progress(y).eta);
    EXPECT_FALSE(sync_progress(done()).eta);
    y = receiving();
    y.state = DSTOR_SYNC_STATE_FAILED;
    EXPECT_FALSE(sync_progress(y).eta);
    y.elapsed_ms = 0;
    EXPECT_FALSE(sync_progress(y).rate);
}

TEST(RateMeter, SlidingWindow) {
    RateMeter m(5);
    EXPECT_FALSE(m.rate());
    m.add(0, 0);
    EXPECT_FALSE(m.rate());
    m.add(0.5, 500);
    EXPECT_FALSE(m.rate()); // under a second
    m.add(1.0, 1000);
    EXPECT_DOUBLE_EQ(*m.rate(), 1000);
    for (int i = 2; i <= 10; i++)
        m.add(i, 1000 * static_cast<std::uint64_t>(i));
    EXPECT_DOUBLE_EQ(*m.rate(), 1000);
    // The rate doubles; after a full window the old speed is forgotten.
    for (int i = 11; i <= 20; i++)
        m.add(i, 10000 + 2000 * static_cast<std::uint64_t>(i - 10));
    EXPECT_DOUBLE_EQ(*m.rate(), 2000);
    // Stalled: the rate falls to zero within the window.
    for (int i = 21; i <= 26; i++)
        m.add(i, 30000);
    EXPECT_DOUBLE_EQ(*m.rate(), 0);
}

TEST(Format, Duration) {
    const std::pair<std::uint64_t, const char*> cases[] = {
        {0, "0:00"},           {42, "0:42"},
        {60, "1:00"},          {723, "12:03"},
        {3599, "59:59"},       {3723, "1:02:03"},
        {360000, "100:00:00"}, {UINT64_MAX, "5124095576030431:00:15"},
    };
    for (const auto& [seconds, text] : cases)
        EXPECT_EQ(format_duration(seconds), text) << seconds;
}

TEST(Format, SecondsAndByteRates) {
    // Elapsed: tenths under a minute, then as a duration.
    const std::pair<double, const char*> seconds[] = {
        {0, "0.0 s"},      {0.84, "0.8 s"}, {12.345, "12.3 s"},
        {59.9, "59.9 s"},  {59.96, "1:00"}, {75.4, "1:15"},
        {3723, "1:02:03"}, {-1, "0.0 s"},   {std::nan(""), "0.0 s"},
    };
    for (const auto& [v, text] : seconds)
        EXPECT_EQ(format_seconds(v), text) << v;
    // Rates: powers of 1000, three significant digits.
    const std::pair<double, const char*> rates[] = {
        {0, "0 B/s"},          {512, "512 B/s"},      {999.4, "999 B/s"},
        {1000, "1.00 kB/s"},   {12340, "12.34 kB/s"}, {398152.69, "398.2 kB/s"},
        {999999, "1.00 MB/s"}, {1.25e6, "1.25 MB/s"}, {2.4e9, "2.40 GB/s"},
        {5e15, "5000.0 TB/s"}, {-3, "0 B/s"},         {std::nan(""), "0 B/s"},
    };
    for (const auto& [v, text] : rates)
        EXPECT_EQ(format_byte_rate(v), text) << v;
}

TEST(Progress, Lines) {
    EXPECT_EQ(progress_line(receiving(), sync_progress(receiving())),
              "golden: receiving, 554/1024 blocks (54%), 398.2 kB/s, ETA 0:20");
    SyncInfo y;
    y.name = "g";
    y.state = DSTOR_SYNC_STATE_WAITING;
    EXPECT_EQ(progress_line(y, sync_progress(y)), "g: waiting for the export's announcement");
    y.state = DSTOR_SYNC_STATE_TREE;
    EXPECT_EQ(progress_line(y, sync_progress(y)), "g: fetching the leaf hashes");
    y.state = DSTOR_SYNC_STATE_HASHING;
    y.stats.sync_blocks = 1000;
    y.stats.sync_good = 250;
    EXPECT_EQ(progress_line(y, sync_progress(y)),
              "g: hashing the target, 250/1000 blocks (25%), ETA -:--");
    y.state = DSTOR_SYNC_STATE_VERIFYING;
    y.stats.sync_verified = 750;
    EXPECT_EQ(progress_line(y, sync_progress(y)),
              "g: verifying the target, 1000/1000 blocks (100%), ETA -:--");
    EXPECT_EQ(progress_line(done(), sync_progress(done())),
              "golden: done, 1024/1024 blocks (100%), 1.02 MB/s");
}

TEST(Progress, Bar) {
    const SyncInfo y = receiving();
    const SyncProgress p = sync_progress(y);
    const std::string tail = " 54% 554/1024 398.2 kB/s ETA 0:20";
    // 80 columns: the bar takes what the rest leaves (37), 554/1024 of it filled.
    std::string bar = progress_bar(y, p, 80);
    EXPECT_EQ(bar, "golden [" + std::string(20, '#') + std::string(17, '.') + "]" + tail);
    EXPECT_EQ(bar.size(), 79u); // never the last column: no wrap
    // Wide terminals: at most 40 columns of bar.
    EXPECT_EQ(progress_bar(y, p, 200),
              "golden [" + std::string(21, '#') + std::string(19, '.') + "]" + tail);
    // Narrow ones: at least 10, and the line is cut to fit.
    bar = progress_bar(y, p, 40);
    EXPECT_EQ(bar, ("golden [#####.....]" + tail).substr(0, 39));
    EXPECT_EQ(progress_bar(y, p, 1), "");
    EXPECT_EQ(progress_bar(y, p, 0), "");

    // Other states are named; before the tree there is no bar.
    SyncInfo h = y;
    h.state = DSTOR_SYNC_STATE_HASHING;
    EXPECT_NE(progress_bar(h, sync_progress(h), 100).find("ETA 0:20 hashing"), std::string::npos);
    SyncInfo w;
    w.name = "g";
    w.state = DSTOR_SYNC_STATE_WAITING;
    EXPECT_EQ(progress_bar(w, sync_progress(w), 80), "g: waiting for the export's announcement...");
    EXPECT_EQ(progress_bar(done(), sync_progress(done()), 60),
              "golden [" + std::string(20, '#') + "] 100% 1024/1024 1.02 MB/s done");
}

TEST(Progress, Summary) {
    const std::string out = sync_summary(done());
    EXPECT_EQ(out, "sync 4 done: /dev/sdb now equals golden (merkle root 5e" +
                       std::string(60, '0') +
                       "3a)\n"
                       "  blocks total 1024, already good 256, received 770, verified 768\n"
                       "  bytes received 12582912 (12.00 MiB), elapsed 12.3 s, 1.02 MB/s\n");
    // What the selftests read from it (sed 's/.*bytes received \([0-9]*\).*/\1/p').
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("bytes received ([0-9]+)")));
    EXPECT_EQ(m[1], "12582912");
    ASSERT_TRUE(std::regex_search(out, m, std::regex("already good ([0-9]+)")));
    EXPECT_EQ(m[1], "256");

    // Seeds: their blocks count as done, their bytes are named.
    SyncInfo seeded = done();
    seeded.stats.sync_seeded = 500;
    seeded.stats.sync_seeded_bytes = 8192000;
    seeded.stats.sync_verified = 268;
    const std::string s = sync_summary(seeded);
    EXPECT_NE(s.find("already good 256, from seeds 500, received 770, verified 268\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find(", from seeds 8192000 (7.81 MiB, not fetched), elapsed"), std::string::npos)
        << s;
    EXPECT_EQ(sync_progress(seeded).done, 1024u);
    SyncInfo seeding = seeded;
    seeding.state = DSTOR_SYNC_STATE_SEEDING;
    EXPECT_EQ(sync_state_name(seeding.state), "seeding");

    // Counters the kernel did not send are zeros; no root, no device.
    SyncInfo bare;
    bare.name = "g";
    bare.state = DSTOR_SYNC_STATE_DONE;
    EXPECT_EQ(sync_summary(bare), "sync ? done: the target now equals g\n"
                                  "  blocks total 0, already good 0, received 0, verified 0\n"
                                  "  bytes received 0 (0 B), elapsed 0.0 s\n");
}

// ---- dstor sync --wait, against a fake kernel --------------------------------------

namespace {

// Replies of SYNC_GET in order, signals by poll round, a clock that moves
// 0.5 s a round, and what was asked of them.
struct FakeKernel {
    std::vector<Result<SyncInfo>> replies;
    std::map<int, int> signal_at; // round -> signal number
    Result<void> remove_result;
    int gets = 0, removes = 0, rounds = 0;
    std::vector<int> waits;
    std::ostringstream out, err;

    SyncFollower io(bool tty = false) {
        SyncFollower f;
        f.get = [this]() -> Result<SyncInfo> {
            if (gets >= static_cast<int>(replies.size()))
                return Error::kernel(ENOENT, "no sync 4");
            return replies[gets++];
        };
        f.remove = [this] {
            ++removes;
            return remove_result;
        };
        f.wait = [this](int ms) -> Result<int> {
            waits.push_back(ms);
            auto it = signal_at.find(rounds++);
            return it == signal_at.end() ? 0 : it->second;
        };
        f.now = [this] { return 0.5 * rounds; };
        f.out = &out;
        f.err = &err;
        f.tty = tty;
        f.width = 80;
        return f;
    }
};

SyncInfo in_state(std::uint32_t state) {
    SyncInfo y = receiving();
    y.state = state;
    return y;
}

} // namespace

TEST(Follow, UntilDone) {
    FakeKernel k;
    SyncInfo first; // as SYNC_ADD returns it
    first.index = 4;
    first.name = "golden";
    first.state = DSTOR_SYNC_STATE_WAITING;
    for (int i = 0; i < 8; i++)
        k.replies.emplace_back(in_state(DSTOR_SYNC_STATE_RECEIVING));
    k.replies.emplace_back(done());
    testing::internal::CaptureStderr();
    const int code = follow_sync("sync", first, k.io());
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(code, EXIT_OK);
    EXPECT_EQ(k.removes, 1); // nothing left behind
    EXPECT_EQ(k.gets, 9);
    EXPECT_EQ(k.waits, std::vector<int>(9, 500)); // polled every 0.5 s
    EXPECT_EQ(k.out.str(), sync_summary(done()));
    // Not a terminal: a plain line at most every 2 s (rounds 0, 4, 8 of 0.5 s).
    const std::string err = k.err.str();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 3) << err;
    EXPECT_EQ(err.find('\r'), std::string::npos);
    EXPECT_EQ(err.substr(0, err.find('\n')), "golden: waiting for the export's announcement");
}

TEST(Follow, BarOnATerminal) {
    FakeKernel k;
    k.replies.emplace_back(done());
    testing::internal::CaptureStderr();
    EXPECT_EQ(follow_sync("sync", receiving(), k.io(true)), EXIT_OK);
    testing::internal::GetCapturedStderr();
    // One bar, redrawn in place, its line ended before the summary.
    EXPECT_EQ(k.err.str(),
              "\r" + progress_bar(receiving(), sync_progress(receiving()), 80) + "\x1b[K\n");
}

TEST(Follow, Failed) {
    FakeKernel k;
    k.replies.emplace_back(in_state(DSTOR_SYNC_STATE_FAILED));
    testing::internal::CaptureStderr();
    EXPECT_EQ(follow_sync("sync", receiving(), k.io()), EXIT_FAIL);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "dstor: sync: sync 4 of 'golden' failed after 12.3 s (554/1024 blocks done): "
              "the kernel log says why (dmesg)\n");
    EXPECT_EQ(k.removes, 1);
    EXPECT_EQ(k.out.str(), "");
}

// --every: the first round converged (idle): the summary, and the sync stays.
TEST(Follow, PeriodicStaysAfterItsFirstRound) {
    FakeKernel k;
    SyncInfo idle = done();
    idle.state = DSTOR_SYNC_STATE_IDLE;
    idle.every = 600;
    idle.scrub = 86400;
    k.replies.emplace_back(in_state(DSTOR_SYNC_STATE_RECEIVING));
    k.replies.emplace_back(idle);
    testing::internal::CaptureStderr();
    EXPECT_EQ(follow_sync("sync", receiving(), k.io()), EXIT_OK);
    testing::internal::GetCapturedStderr();
    EXPECT_EQ(k.removes, 0);
    EXPECT_EQ(k.out.str(), sync_summary(idle));
    EXPECT_NE(k.out.str().find("\n  runs a round every 10m, scrubs every 1d: 'dstor sync del "),
              std::string::npos)
        << k.out.str();
}

TEST(Follow, Signals) {
    for (const auto& [sig, code] : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
        FakeKernel k;
        for (int i = 0; i < 5; i++)
            k.replies.emplace_back(receiving());
        k.signal_at[2] = sig;
        testing::internal::CaptureStderr();
        EXPECT_EQ(follow_sync("sync", receiving(), k.io(true)), code);
        EXPECT_EQ(testing::internal::GetCapturedStderr(),
                  "dstor: sync: interrupted; sync 4 of 'golden' removed (blocks written so far "
                  "stay)\n");
        EXPECT_EQ(k.removes, 1);
        EXPECT_EQ(k.gets, 2);
        EXPECT_EQ(k.err.str().back(), '\n'); // the bar's line is ended
    }
}

TEST(Follow, GoneOrUnreadable) {
    FakeKernel gone; // deleted by someone else: nothing to remove
    testing::internal::CaptureStderr();
    EXPECT_EQ(follow_sync("sync", receiving(), gone.io()), EXIT_FAIL);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "dstor: sync: sync 4 of 'golden' is gone (removed by someone else?)\n");
    EXPECT_EQ(gone.removes, 0);

    FakeKernel bad;
    bad.replies.emplace_back(Error::user("malformed kernel reply: bad DSTOR_A_SYNC_STATE"));
    testing::internal::CaptureStderr();
    EXPECT_EQ(follow_sync("sync", receiving(), bad.io()), EXIT_FAIL);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "dstor: sync: malformed kernel reply: bad DSTOR_A_SYNC_STATE\n");
    EXPECT_EQ(bad.removes, 1);
}

TEST(Follow, RemoveFails) {
    FakeKernel k;
    k.remove_result = Error::kernel(EPERM, "");
    testing::internal::CaptureStderr();
    EXPECT_EQ(follow_sync("sync", done(), k.io()), EXIT_FAIL); // done, but left behind
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "dstor: sync: cannot remove sync 4 of 'golden': permission denied: dstor needs "
              "CAP_NET_ADMIN (run as root)\n");
    EXPECT_EQ(k.out.str(), sync_summary(done()));
    EXPECT_EQ(k.gets, 0);
}
