// The module's wire format (kernel/proto.h), compiled unchanged as C from C++.
#include <gtest/gtest.h>

#include <linux/dstor.h>

#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
#include "proto.h"
}

namespace {

struct Frame {
    u8 b[DSTOR_HDR_LEN];
};

Frame encode(const dstor_hdr& h) {
    Frame f{};
    dstor_hdr_encode(f.b, &h);
    return f;
}

int decode(const dstor_hdr& h) {
    Frame f = encode(h);
    dstor_hdr out{};
    return dstor_hdr_decode(f.b, &out);
}

dstor_hdr req(u8 op, u64 offset, u32 length, u32 payload = 0, u8 flags = 0) {
    dstor_hdr h{};
    h.op = op;
    h.flags = flags;
    h.handle = 0x0102030405060708ULL;
    h.offset = offset;
    h.length = length;
    h.payload = payload;
    return h;
}

dstor_hdr reply(u16 status, u32 payload = 0) {
    dstor_hdr h{};
    h.op = DSTOR_OP_REPLY;
    h.status = status;
    h.handle = 42;
    h.payload = payload;
    return h;
}

} // namespace

// ---- integers -------------------------------------------------------------

TEST(ProtoBytes, BigEndian) {
    u8 b[8] = {};
    dstor_put16(b, 0x1234);
    EXPECT_EQ(b[0], 0x12);
    EXPECT_EQ(b[1], 0x34);
    EXPECT_EQ(dstor_get16(b), 0x1234);
    dstor_put32(b, 0xdeadbeef);
    EXPECT_EQ(b[0], 0xde);
    EXPECT_EQ(b[3], 0xef);
    EXPECT_EQ(dstor_get32(b), 0xdeadbeefU);
    dstor_put64(b, 0x0123456789abcdefULL);
    EXPECT_EQ(b[0], 0x01);
    EXPECT_EQ(b[7], 0xef);
    EXPECT_EQ(dstor_get64(b), 0x0123456789abcdefULL);
    dstor_put64(b, UINT64_MAX);
    EXPECT_EQ(dstor_get64(b), UINT64_MAX);
}

// ---- header ---------------------------------------------------------------

TEST(ProtoHeader, Layout) {
    dstor_hdr h = req(DSTOR_OP_WRITE, 0x1122334455667788ULL & ~511ULL, 4096, 4096, DSTOR_RQ_FUA);
    Frame f = encode(h);
    EXPECT_EQ(std::memcmp(f.b, "DSTR", 4), 0);
    EXPECT_EQ(f.b[4], DSTOR_OP_WRITE);
    EXPECT_EQ(f.b[5], DSTOR_RQ_FUA);
    EXPECT_EQ(dstor_get16(f.b + 6), 0);
    EXPECT_EQ(dstor_get64(f.b + 8), h.handle);
    EXPECT_EQ(dstor_get64(f.b + 16), h.offset);
    EXPECT_EQ(dstor_get32(f.b + 24), 4096U);
    EXPECT_EQ(dstor_get32(f.b + 28), 4096U);
}

TEST(ProtoHeader, RoundTrip) {
    const dstor_hdr valid[] = {
        req(DSTOR_OP_READ, 0, 512),
        req(DSTOR_OP_READ, 1ULL << 40, DSTOR_MAX_IO, 0),
        req(DSTOR_OP_WRITE, 4096, 4096, 4096, DSTOR_RQ_FUA),
        req(DSTOR_OP_WRITE, 0, DSTOR_MAX_IO, DSTOR_MAX_IO, DSTOR_RQ_PREFLUSH),
        req(DSTOR_OP_FLUSH, 0, 0),
        req(DSTOR_OP_DISCARD, 512, DSTOR_MAX_RANGE),
        req(DSTOR_OP_WRITE_ZEROES, 512, 1024, 0, DSTOR_RQ_NOUNMAP),
        req(DSTOR_OP_WRITE_ZEROES, 0, DSTOR_MAX_RANGE),
        req(DSTOR_OP_HELLO, 0, 0, DSTOR_HELLO_LEN),
        req(DSTOR_OP_PING, 0, 0),
        req(DSTOR_OP_PONG, 0, 0),
        reply(DSTOR_ST_OK),
        reply(DSTOR_ST_OK, DSTOR_MAX_IO),
        reply(DSTOR_ST_IOERR),
        reply(DSTOR_ST_NOSPC),
    };
    for (const auto& h : valid) {
        SCOPED_TRACE(std::to_string(h.op));
        Frame f = encode(h);
        dstor_hdr out{};
        ASSERT_EQ(dstor_hdr_decode(f.b, &out), 0);
        EXPECT_EQ(out.op, h.op);
        EXPECT_EQ(out.flags, h.flags);
        EXPECT_EQ(out.status, h.status);
        EXPECT_EQ(out.handle, h.handle);
        EXPECT_EQ(out.offset, h.offset);
        EXPECT_EQ(out.length, h.length);
        EXPECT_EQ(out.payload, h.payload);
    }
}

TEST(ProtoHeader, HelloReplyPayloadDependsOnStatus) {
    dstor_hdr h{};
    h.op = DSTOR_OP_HELLO_REPLY;
    h.payload = DSTOR_HELLO_REPLY_LEN;
    EXPECT_EQ(decode(h), 0);
    h.payload = 0;
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_PAYLOAD);
    h.status = DSTOR_ST_NOEXPORT;
    EXPECT_EQ(decode(h), 0);
    h.payload = DSTOR_HELLO_REPLY_LEN;
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_PAYLOAD);
}

TEST(ProtoHeader, BadMagic) {
    Frame f = encode(req(DSTOR_OP_READ, 0, 512));
    dstor_hdr out{};
    for (int i = 0; i < 4; i++) {
        Frame g = f;
        g.b[i] ^= 0x20;
        EXPECT_EQ(dstor_hdr_decode(g.b, &out), -DSTOR_EPROTO_MAGIC) << i;
    }
    Frame zero{};
    EXPECT_EQ(dstor_hdr_decode(zero.b, &out), -DSTOR_EPROTO_MAGIC);
}

TEST(ProtoHeader, BadOp) {
    EXPECT_EQ(decode(req(0, 0, 0)), -DSTOR_EPROTO_OP);
    EXPECT_EQ(decode(req(__DSTOR_OP_MAX, 0, 0)), -DSTOR_EPROTO_OP);
    EXPECT_EQ(decode(req(0xff, 0, 0)), -DSTOR_EPROTO_OP);
}

TEST(ProtoHeader, BadStatus) {
    EXPECT_EQ(decode(reply(__DSTOR_ST_MAX)), -DSTOR_EPROTO_STATUS);
    EXPECT_EQ(decode(reply(0xffff)), -DSTOR_EPROTO_STATUS);
    dstor_hdr h = req(DSTOR_OP_READ, 0, 512);
    h.status = DSTOR_ST_IOERR; // requests carry no status
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_STATUS);
}

TEST(ProtoHeader, UnknownFlagBits) {
    for (unsigned bit = 3; bit < 8; bit++)
        EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 512, 512, static_cast<u8>(1U << bit))),
                  -DSTOR_EPROTO_FLAGS)
            << bit;
}

TEST(ProtoHeader, FlagsOnlyOnRequests) {
    dstor_hdr r = reply(DSTOR_ST_OK);
    r.flags = DSTOR_RQ_FUA;
    EXPECT_EQ(decode(r), -DSTOR_EPROTO_FLAGS);
    dstor_hdr hr{};
    hr.op = DSTOR_OP_HELLO_REPLY;
    hr.payload = DSTOR_HELLO_REPLY_LEN;
    hr.flags = DSTOR_RQ_PREFLUSH;
    EXPECT_EQ(decode(hr), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_HELLO, 0, 0, DSTOR_HELLO_LEN, DSTOR_RQ_FUA)),
              -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_PING, 0, 0, 0, DSTOR_RQ_FUA)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_PONG, 0, 0, 0, DSTOR_RQ_PREFLUSH)), -DSTOR_EPROTO_FLAGS);
}

TEST(ProtoHeader, NounmapOnlyOnWriteZeroes) {
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE_ZEROES, 0, 512, 0, DSTOR_RQ_NOUNMAP)), 0);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 512, 512, DSTOR_RQ_NOUNMAP)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 0, 512, 0, DSTOR_RQ_NOUNMAP)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_DISCARD, 0, 512, 0, DSTOR_RQ_NOUNMAP)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_FLUSH, 0, 0, 0, DSTOR_RQ_NOUNMAP)), -DSTOR_EPROTO_FLAGS);
}

TEST(ProtoHeader, ReadWriteLengthAndPayload) {
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 0, 0)), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 0, DSTOR_MAX_IO + DSTOR_SECTOR)), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 0, 512, 512)), -DSTOR_EPROTO_PAYLOAD); // read with payload
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 0, 0)), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 1024, 512)), -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 512, 1024)), -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 512, 0)), -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(
        decode(req(DSTOR_OP_WRITE, 0, DSTOR_MAX_IO + DSTOR_SECTOR, DSTOR_MAX_IO + DSTOR_SECTOR)),
        -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, UINT32_MAX, UINT32_MAX)), -DSTOR_EPROTO_LENGTH);
}

TEST(ProtoHeader, RangeOps) {
    for (u8 op : {u8(DSTOR_OP_DISCARD), u8(DSTOR_OP_WRITE_ZEROES)}) {
        SCOPED_TRACE(op);
        EXPECT_EQ(decode(req(op, 0, 0)), -DSTOR_EPROTO_LENGTH);
        EXPECT_EQ(decode(req(op, 0, DSTOR_MAX_RANGE + DSTOR_SECTOR)), -DSTOR_EPROTO_LENGTH);
        EXPECT_EQ(decode(req(op, 0, 512, 512)), -DSTOR_EPROTO_PAYLOAD);
        EXPECT_EQ(decode(req(op, 0, DSTOR_MAX_RANGE)), 0);
    }
}

TEST(ProtoHeader, Flush) {
    EXPECT_EQ(decode(req(DSTOR_OP_FLUSH, 0, 512)), -DSTOR_EPROTO_LENGTH); // flush with length
    EXPECT_EQ(decode(req(DSTOR_OP_FLUSH, 512, 0)), -DSTOR_EPROTO_ALIGN); // flush with offset
    EXPECT_EQ(decode(req(DSTOR_OP_FLUSH, 0, 0, 8)), -DSTOR_EPROTO_PAYLOAD);
}

TEST(ProtoHeader, Misaligned) {
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 1, 512)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 256, 512)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 0, 1000)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 100, 100)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 511, 512, 512)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_DISCARD, 512, 513)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE_ZEROES, 7, 512)), -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(decode(req(DSTOR_OP_READ, UINT64_MAX, 512)), -DSTOR_EPROTO_ALIGN);
}

TEST(ProtoHeader, ReplyPayloadBound) {
    EXPECT_EQ(decode(reply(DSTOR_ST_OK, DSTOR_MAX_IO + 1)), -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(decode(reply(DSTOR_ST_OK, UINT32_MAX)), -DSTOR_EPROTO_PAYLOAD);
}

TEST(ProtoHeader, PingPongCarryNothing) {
    for (u8 op : {u8(DSTOR_OP_PING), u8(DSTOR_OP_PONG)}) {
        EXPECT_EQ(decode(req(op, 0, 0, 1)), -DSTOR_EPROTO_PAYLOAD);
        EXPECT_EQ(decode(req(op, 0, 512)), -DSTOR_EPROTO_PAYLOAD);
        EXPECT_EQ(decode(req(op, 512, 0)), -DSTOR_EPROTO_PAYLOAD);
    }
}

TEST(ProtoHeader, HelloPayload) {
    dstor_hdr h = req(DSTOR_OP_HELLO, 0, 0, 0);
    h.handle = 0;
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_PAYLOAD);
    h.payload = DSTOR_HELLO_LEN + 1;
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_PAYLOAD);
    h.payload = DSTOR_HELLO_V1_LEN; // read, so that a version 1 importer can be told VERSION
    EXPECT_EQ(decode(h), 0);
    h.payload = DSTOR_HELLO_LEN;
    EXPECT_EQ(decode(h), 0);
    h.offset = 512; // hellos carry no offset or length
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_LENGTH);
    h.offset = 0;
    h.length = 512;
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_LENGTH);
}

TEST(ProtoHeader, FlagsOnlyWhereTheyMeanSomething) {
    EXPECT_EQ(decode(req(DSTOR_OP_READ, 0, 512, 0, DSTOR_RQ_FUA)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_DISCARD, 0, 512, 0, DSTOR_RQ_PREFLUSH)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_FLUSH, 0, 0, 0, DSTOR_RQ_PREFLUSH)), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(DSTOR_OP_WRITE, 0, 512, 512, DSTOR_RQ_FUA | DSTOR_RQ_PREFLUSH)), 0);
}

TEST(ProtoHeader, StatusBelongsToItsOp) {
    EXPECT_EQ(decode(reply(DSTOR_ST_BUSY)), -DSTOR_EPROTO_STATUS);     // hello status in a reply
    EXPECT_EQ(decode(reply(DSTOR_ST_NOEXPORT)), -DSTOR_EPROTO_STATUS);
    dstor_hdr p = req(DSTOR_OP_PONG, 0, 0);
    p.status = DSTOR_ST_IOERR;
    EXPECT_EQ(decode(p), -DSTOR_EPROTO_STATUS);
    dstor_hdr hr{};
    hr.op = DSTOR_OP_HELLO_REPLY;
    hr.status = DSTOR_ST_IOERR; // data status in a hello reply
    EXPECT_EQ(decode(hr), -DSTOR_EPROTO_STATUS);
    hr.status = DSTOR_ST_DENIED;
    EXPECT_EQ(decode(hr), 0);
    // The session limits are hello statuses too.
    for (u16 st : {u16{DSTOR_ST_LIMIT_EXPORT}, u16{DSTOR_ST_LIMIT_HOST}}) {
        hr.status = st;
        EXPECT_EQ(decode(hr), 0) << st;
        EXPECT_EQ(decode(reply(st)), -DSTOR_EPROTO_STATUS) << st;
    }
}

// ---- dstor_range_ok ---------------------------------------------------------

TEST(ProtoRange, Bounds) {
    EXPECT_TRUE(dstor_range_ok(0, 0, 0));
    EXPECT_TRUE(dstor_range_ok(0, 512, 512));
    EXPECT_FALSE(dstor_range_ok(0, 1024, 512));
    EXPECT_FALSE(dstor_range_ok(512, 512, 512));
    EXPECT_TRUE(dstor_range_ok(512, 0, 512));
    EXPECT_FALSE(dstor_range_ok(1024, 0, 512));
    EXPECT_TRUE(dstor_range_ok(1ULL << 40, DSTOR_MAX_IO, (1ULL << 40) + DSTOR_MAX_IO));
    EXPECT_FALSE(dstor_range_ok(1ULL << 40, DSTOR_MAX_IO, (1ULL << 40) + DSTOR_MAX_IO - 1));
}

TEST(ProtoRange, NoOverflowNearUint64Max) {
    // offset + length wraps to a small number: a naive check would pass these.
    EXPECT_FALSE(dstor_range_ok(UINT64_MAX, 1, UINT64_MAX));
    EXPECT_FALSE(dstor_range_ok(UINT64_MAX - 511, 1024, UINT64_MAX));
    EXPECT_FALSE(dstor_range_ok(UINT64_MAX - 511, UINT32_MAX, 1ULL << 30));
    EXPECT_FALSE(dstor_range_ok(UINT64_MAX, UINT32_MAX, 4096));
    EXPECT_FALSE(dstor_range_ok(UINT64_MAX - 100, 512, UINT64_MAX));
    EXPECT_FALSE(dstor_range_ok(UINT64_MAX - 511, 512, UINT64_MAX)); // ends at 2^64
    EXPECT_TRUE(dstor_range_ok(UINT64_MAX - 512, 512, UINT64_MAX));  // ends at 2^64 - 1
    EXPECT_TRUE(dstor_range_ok(UINT64_MAX, 0, UINT64_MAX));
    EXPECT_TRUE(dstor_range_ok(0, UINT32_MAX, UINT64_MAX));
}

// ---- HELLO ------------------------------------------------------------------

namespace {

dstor_hello sample_hello() {
    dstor_hello m{};
    m.version_min = 1;
    m.version_max = 3;
    m.flags = DSTOR_HELLO_READ_ONLY;
    m.session = 0xfedcba9876543210ULL;
    m.queue = 2;
    m.nr_queues = 4;
    std::strcpy(m.name, "disk1");
    return m;
}

struct HelloBuf {
    u8 b[DSTOR_HELLO_LEN];
};

HelloBuf encode(const dstor_hello& m) {
    HelloBuf h;
    std::memset(h.b, 0xaa, sizeof(h.b)); // encode must clear padding itself
    dstor_hello_encode(h.b, &m);
    return h;
}

int decode(const HelloBuf& h) {
    dstor_hello out;
    return dstor_hello_decode(h.b, &out);
}

} // namespace

TEST(ProtoHello, RoundTrip) {
    const dstor_hello m = sample_hello();
    HelloBuf h = encode(m);
    EXPECT_EQ(dstor_get16(h.b), 1);
    EXPECT_EQ(dstor_get16(h.b + 2), 3);
    EXPECT_EQ(dstor_get32(h.b + 4), DSTOR_HELLO_READ_ONLY);
    EXPECT_EQ(dstor_get64(h.b + 8), m.session);
    EXPECT_EQ(dstor_get16(h.b + 16), 2);
    EXPECT_EQ(dstor_get16(h.b + 18), 4);
    EXPECT_EQ(dstor_get32(h.b + 20), 0U); // ciphers 0 (no key), reserved 0
    EXPECT_EQ(std::memcmp(h.b + 24, "disk1", 6), 0);
    for (int i = 24 + 5; i < DSTOR_HELLO_LEN; i++) // name padding, then a zero nonce
        EXPECT_EQ(h.b[i], 0) << i;

    dstor_hello out;
    std::memset(&out, 0x55, sizeof(out));
    ASSERT_EQ(dstor_hello_decode(h.b, &out), 0);
    EXPECT_EQ(out.version_min, m.version_min);
    EXPECT_EQ(out.version_max, m.version_max);
    EXPECT_EQ(out.flags, m.flags);
    EXPECT_EQ(out.session, m.session);
    EXPECT_EQ(out.queue, m.queue);
    EXPECT_EQ(out.nr_queues, m.nr_queues);
    EXPECT_STREQ(out.name, "disk1");
    EXPECT_EQ(out.name[DSTOR_WIRE_NAME_LEN - 1], 0);
}

TEST(ProtoHello, LongestName) {
    dstor_hello m = sample_hello();
    std::memset(m.name, 'n', DSTOR_WIRE_NAME_LEN - 1);
    m.name[DSTOR_WIRE_NAME_LEN - 1] = 0;
    HelloBuf h = encode(m);
    dstor_hello out;
    ASSERT_EQ(dstor_hello_decode(h.b, &out), 0);
    EXPECT_EQ(std::string(out.name), std::string(DSTOR_WIRE_NAME_LEN - 1, 'n'));
}

TEST(ProtoHello, EncodeTruncatesAnUnterminatedName) {
    dstor_hello m = sample_hello();
    std::memset(m.name, 'n', DSTOR_WIRE_NAME_LEN); // no NUL at all
    HelloBuf h = encode(m);
    EXPECT_EQ(h.b[24 + DSTOR_WIRE_NAME_LEN - 1], 0);
    EXPECT_EQ(decode(h), 0);
}

TEST(ProtoHello, NameRejections) {
    HelloBuf h = encode(sample_hello());
    HelloBuf unterminated = h;
    std::memset(unterminated.b + 24, 'x', DSTOR_WIRE_NAME_LEN);
    EXPECT_EQ(decode(unterminated), -DSTOR_EPROTO_NAME);

    HelloBuf garbage = h;
    garbage.b[24 + 10] = 'g'; // after "disk1\0"
    EXPECT_EQ(decode(garbage), -DSTOR_EPROTO_NAME);
    HelloBuf last = h; // the name's last byte (the nonce follows it)
    last.b[24 + DSTOR_WIRE_NAME_LEN - 1] = 1;
    EXPECT_EQ(decode(last), -DSTOR_EPROTO_NAME);

    HelloBuf empty = h;
    std::memset(empty.b + 24, 0, DSTOR_WIRE_NAME_LEN);
    EXPECT_EQ(decode(empty), -DSTOR_EPROTO_NAME);
}

TEST(ProtoHello, Versions) {
    dstor_hello m = sample_hello();
    m.version_min = 2;
    m.version_max = 1;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_VERSION);
    m.version_min = 0;
    m.version_max = 1;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_VERSION);
    m.version_min = 5;
    m.version_max = 5;
    EXPECT_EQ(decode(encode(m)), 0); // no common version is a HELLO_REPLY status
}

TEST(ProtoHello, OtherRejections) {
    HelloBuf h = encode(sample_hello());
    h.b[21] = 1;
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_RESERVED);

    dstor_hello m = sample_hello();
    m.flags = 1U << 2; // the first flag bit no one defined
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_FLAGS);
    m = sample_hello();
    m.nr_queues = 0;
    m.queue = 0;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_QUEUE);
    m = sample_hello();
    m.queue = m.nr_queues;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_QUEUE);
    m = sample_hello();
    m.nr_queues = DSTOR_MAX_QUEUES + 1;
    m.queue = 0;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_QUEUE);
}

TEST(ProtoHello, LayoutIs128Bytes) {
    static_assert(DSTOR_HELLO_LEN == 128);
    static_assert(24 + DSTOR_WIRE_NAME_LEN == 88); // the nonce follows the name
    // Version 1's whole HELLO is the first 120 bytes; the timers follow.
    static_assert(88 + DSTOR_NONCE_LEN == DSTOR_HELLO_V1_LEN);
    static_assert(DSTOR_HELLO_V1_LEN + 8 == DSTOR_HELLO_LEN);
    dstor_hdr h = req(DSTOR_OP_HELLO, 0, 0, DSTOR_HELLO_LEN);
    EXPECT_EQ(decode(h), 0);
    h.payload = 100; // the layout before keys
    EXPECT_EQ(decode(h), -DSTOR_EPROTO_PAYLOAD);
}

TEST(ProtoHello, Timers) {
    dstor_hello m = sample_hello();
    m.keepalive = 5;
    m.dead_after = 15;
    HelloBuf h = encode(m);
    EXPECT_EQ(dstor_get16(h.b + 120), 5);
    EXPECT_EQ(dstor_get16(h.b + 122), 15);
    for (int i = 124; i < DSTOR_HELLO_LEN; i++)
        EXPECT_EQ(h.b[i], 0) << i;
    dstor_hello out;
    std::memset(&out, 0x55, sizeof(out));
    ASSERT_EQ(dstor_hello_decode(h.b, &out), 0);
    EXPECT_EQ(out.keepalive, 5);
    EXPECT_EQ(out.dead_after, 15);

    m.dead_after = DSTOR_MAX_TIMER;
    EXPECT_EQ(decode(encode(m)), 0);
    // Both or neither, dead-after past the keepalive, and at most DSTOR_MAX_TIMER.
    const std::pair<u16, u16> bad[] = {
        {5, 0}, {0, 15}, {5, 5}, {15, 5}, {5, DSTOR_MAX_TIMER + 1}, {1, 0xffff}};
    for (const auto& [keepalive, dead_after] : bad) {
        m.keepalive = keepalive;
        m.dead_after = dead_after;
        EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_LENGTH) << keepalive << " " << dead_after;
    }
    for (int r = 124; r < DSTOR_HELLO_LEN; r++) { // reserved bytes after the timers
        HelloBuf g = encode(sample_hello());
        g.b[r] = 0x01;
        EXPECT_EQ(decode(g), -DSTOR_EPROTO_RESERVED) << r;
    }
}

TEST(ProtoHello, VersionsOfEitherLength) {
    // A version 1 HELLO (120 bytes) and a version 2 one share their first bytes.
    u8 v1[DSTOR_HELLO_V1_LEN] = {};
    dstor_put16(v1, 1);
    dstor_put16(v1 + 2, 1);
    u16 min = 0, max = 0;
    dstor_hello_versions(v1, &min, &max);
    EXPECT_EQ(min, 1);
    EXPECT_EQ(max, 1);
    HelloBuf h = encode(sample_hello());
    dstor_hello_versions(h.b, &min, &max);
    EXPECT_EQ(min, 1);
    EXPECT_EQ(max, 3);
}

TEST(ProtoHello, AuthCiphersAndNonce) {
    dstor_hello m = sample_hello();
    m.flags = DSTOR_HELLO_READ_ONLY | DSTOR_HELLO_AUTH;
    m.ciphers = DSTOR_WIRE_CIPHERS;
    for (int i = 0; i < DSTOR_NONCE_LEN; i++)
        m.nonce[i] = static_cast<u8>(0xa0 + i);
    HelloBuf h = encode(m);
    EXPECT_EQ(dstor_get32(h.b + 4), DSTOR_HELLO_READ_ONLY | DSTOR_HELLO_AUTH);
    EXPECT_EQ(h.b[20], (1U << DSTOR_WIRE_AES_GCM) | (1U << DSTOR_WIRE_CHACHA20_POLY1305));
    EXPECT_EQ(h.b[21], 0);
    EXPECT_EQ(h.b[22], 0);
    EXPECT_EQ(h.b[23], 0);
    EXPECT_EQ(std::memcmp(h.b + 24, "disk1", 6), 0);
    EXPECT_EQ(std::memcmp(h.b + 88, m.nonce, DSTOR_NONCE_LEN), 0);
    EXPECT_EQ(h.b[88 + DSTOR_NONCE_LEN - 1], 0xa0 + DSTOR_NONCE_LEN - 1);

    dstor_hello out;
    std::memset(&out, 0x55, sizeof(out));
    ASSERT_EQ(dstor_hello_decode(h.b, &out), 0);
    EXPECT_EQ(out.flags, m.flags);
    EXPECT_EQ(out.ciphers, m.ciphers);
    EXPECT_EQ(std::memcmp(out.nonce, m.nonce, DSTOR_NONCE_LEN), 0);
    EXPECT_STREQ(out.name, "disk1");

    // One cipher is enough.
    m.ciphers = 1U << DSTOR_WIRE_CHACHA20_POLY1305;
    EXPECT_EQ(decode(encode(m)), 0);
}

TEST(ProtoHello, CiphersGoWithAKeyOnly) {
    dstor_hello m = sample_hello();
    m.flags |= DSTOR_HELLO_AUTH; // a key but no cipher
    m.ciphers = 0;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_FLAGS);

    m = sample_hello(); // ciphers without a key
    m.ciphers = 1U << DSTOR_WIRE_AES_GCM;
    EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_FLAGS);

    m = sample_hello(); // unknown cipher bits
    m.flags |= DSTOR_HELLO_AUTH;
    for (u8 bad : {u8{1}, u8{1U << 3}, u8{0x80}, u8{DSTOR_WIRE_CIPHERS | 0x10}}) {
        m.ciphers = bad;
        EXPECT_EQ(decode(encode(m)), -DSTOR_EPROTO_FLAGS) << int(bad);
    }

    for (int r = 21; r <= 23; r++) { // reserved bytes after ciphers
        HelloBuf h = encode(sample_hello());
        h.b[r] = 0x01;
        EXPECT_EQ(decode(h), -DSTOR_EPROTO_RESERVED) << r;
    }
}

TEST(ProtoHello, NonceIsNotPartOfTheName) {
    // A nonce with no zero byte next to a full-length name: the name ends at
    // offset 87 whatever the nonce holds.
    dstor_hello m = sample_hello();
    m.flags |= DSTOR_HELLO_AUTH;
    m.ciphers = 1U << DSTOR_WIRE_AES_GCM;
    std::memset(m.name, 'n', DSTOR_WIRE_NAME_LEN - 1);
    m.name[DSTOR_WIRE_NAME_LEN - 1] = 0;
    std::memset(m.nonce, 0xff, DSTOR_NONCE_LEN);
    HelloBuf h = encode(m);
    dstor_hello out;
    ASSERT_EQ(dstor_hello_decode(h.b, &out), 0);
    EXPECT_EQ(std::string(out.name), std::string(DSTOR_WIRE_NAME_LEN - 1, 'n'));
    EXPECT_EQ(out.nonce[0], 0xff);
}

// ---- AUTH_CHALLENGE / AUTH_RESPONSE -------------------------------------------------

namespace {

dstor_challenge sample_challenge() {
    dstor_challenge c{};
    c.cipher = DSTOR_WIRE_AES_GCM;
    for (int i = 0; i < DSTOR_NONCE_LEN; i++)
        c.nonce[i] = static_cast<u8>(i + 1);
    for (int i = 0; i < DSTOR_PROOF_LEN; i++)
        c.proof[i] = static_cast<u8>(0xc0 + i);
    return c;
}

} // namespace

TEST(ProtoChallenge, Layout) {
    static_assert(DSTOR_CHALLENGE_LEN == 4 + DSTOR_NONCE_LEN + DSTOR_PROOF_LEN);
    static_assert(DSTOR_RESPONSE_LEN == DSTOR_PROOF_LEN);
    const dstor_challenge c = sample_challenge();
    u8 b[DSTOR_CHALLENGE_LEN];
    std::memset(b, 0xaa, sizeof(b)); // encode must clear the reserved bytes
    dstor_challenge_encode(b, &c);
    EXPECT_EQ(b[0], DSTOR_WIRE_AES_GCM);
    EXPECT_EQ(b[1], 0);
    EXPECT_EQ(b[2], 0);
    EXPECT_EQ(b[3], 0);
    EXPECT_EQ(std::memcmp(b + 4, c.nonce, DSTOR_NONCE_LEN), 0);
    EXPECT_EQ(std::memcmp(b + 36, c.proof, DSTOR_PROOF_LEN), 0);
    EXPECT_EQ(b[DSTOR_CHALLENGE_LEN - 1], 0xc0 + DSTOR_PROOF_LEN - 1);

    dstor_challenge out;
    std::memset(&out, 0x55, sizeof(out));
    ASSERT_EQ(dstor_challenge_decode(b, DSTOR_WIRE_CIPHERS, &out), 0);
    EXPECT_EQ(out.cipher, c.cipher);
    EXPECT_EQ(std::memcmp(out.nonce, c.nonce, DSTOR_NONCE_LEN), 0);
    EXPECT_EQ(std::memcmp(out.proof, c.proof, DSTOR_PROOF_LEN), 0);
}

TEST(ProtoChallenge, CipherMustBeOneOffered) {
    u8 b[DSTOR_CHALLENGE_LEN];
    dstor_challenge c = sample_challenge();
    dstor_challenge out{};
    dstor_challenge_encode(b, &c);
    EXPECT_EQ(dstor_challenge_decode(b, 1U << DSTOR_WIRE_AES_GCM, &out), 0);
    EXPECT_EQ(dstor_challenge_decode(b, 1U << DSTOR_WIRE_CHACHA20_POLY1305, &out),
              -DSTOR_EPROTO_FLAGS);
    c.cipher = DSTOR_WIRE_CHACHA20_POLY1305;
    dstor_challenge_encode(b, &c);
    EXPECT_EQ(dstor_challenge_decode(b, DSTOR_WIRE_CIPHERS, &out), 0);
    EXPECT_EQ(out.cipher, DSTOR_WIRE_CHACHA20_POLY1305);
    for (u8 bad : {u8{0}, u8{3}, u8{7}, u8{8}, u8{200}, u8{255}}) {
        c.cipher = bad;
        dstor_challenge_encode(b, &c);
        // Even an offer of every bit does not admit a cipher past bit 7.
        EXPECT_EQ(dstor_challenge_decode(b, bad < 8 ? DSTOR_WIRE_CIPHERS : 0xff, &out),
                  -DSTOR_EPROTO_FLAGS)
            << int(bad);
    }
}

TEST(ProtoChallenge, ReservedBytes) {
    const dstor_challenge c = sample_challenge();
    for (int r = 1; r <= 3; r++) {
        u8 b[DSTOR_CHALLENGE_LEN];
        dstor_challenge_encode(b, &c);
        b[r] = 0x10;
        dstor_challenge out{};
        EXPECT_EQ(dstor_challenge_decode(b, DSTOR_WIRE_CIPHERS, &out), -DSTOR_EPROTO_RESERVED)
            << r;
    }
}

TEST(ProtoChallenge, HeaderPayloads) {
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_CHALLENGE, 0, 0, DSTOR_CHALLENGE_LEN)), 0);
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_RESPONSE, 0, 0, DSTOR_RESPONSE_LEN)), 0);
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_CHALLENGE, 0, 0, DSTOR_RESPONSE_LEN)),
              -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_RESPONSE, 0, 0, DSTOR_CHALLENGE_LEN)),
              -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_RESPONSE, 0, 0, 0)), -DSTOR_EPROTO_PAYLOAD);
    // No offset, length, status or flags.
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_CHALLENGE, 512, 0, DSTOR_CHALLENGE_LEN)),
              -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_RESPONSE, 0, 512, DSTOR_RESPONSE_LEN)),
              -DSTOR_EPROTO_LENGTH);
    dstor_hdr st = req(DSTOR_OP_AUTH_CHALLENGE, 0, 0, DSTOR_CHALLENGE_LEN);
    st.status = DSTOR_ST_AUTH;
    EXPECT_EQ(decode(st), -DSTOR_EPROTO_STATUS);
    EXPECT_EQ(decode(req(DSTOR_OP_AUTH_RESPONSE, 0, 0, DSTOR_RESPONSE_LEN, DSTOR_RQ_FUA)),
              -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(decode(req(__DSTOR_OP_MAX, 0, 0)), -DSTOR_EPROTO_OP);
}

TEST(ProtoChallenge, AuthStatusIsAHelloStatus) {
    dstor_hdr hr{};
    hr.op = DSTOR_OP_HELLO_REPLY;
    hr.status = DSTOR_ST_AUTH;
    EXPECT_EQ(decode(hr), 0); // a refusal carries no payload
    hr.payload = DSTOR_HELLO_REPLY_LEN;
    EXPECT_EQ(decode(hr), -DSTOR_EPROTO_PAYLOAD);
    EXPECT_EQ(decode(reply(DSTOR_ST_AUTH)), -DSTOR_EPROTO_STATUS); // not a data status
    hr.status = __DSTOR_ST_MAX;
    hr.payload = 0;
    EXPECT_EQ(decode(hr), -DSTOR_EPROTO_STATUS);
}

// ---- sealed records -----------------------------------------------------------------

TEST(ProtoRecord, LengthBounds) {
    // A header record, or a payload record of 1 to DSTOR_SEAL_CHUNK bytes.
    static_assert(DSTOR_REC_HDR == DSTOR_HDR_LEN + DSTOR_TAG_LEN);
    static_assert(DSTOR_REC_MIN == 1 + DSTOR_TAG_LEN);
    static_assert(DSTOR_REC_MAX == DSTOR_SEAL_CHUNK + DSTOR_TAG_LEN);
    EXPECT_TRUE(dstor_rec_len_ok(DSTOR_REC_HDR));
    EXPECT_FALSE(dstor_rec_len_ok(0));
    EXPECT_FALSE(dstor_rec_len_ok(DSTOR_REC_MIN - 1));
    EXPECT_TRUE(dstor_rec_len_ok(DSTOR_REC_MIN));
    EXPECT_TRUE(dstor_rec_len_ok(DSTOR_REC_MIN + DSTOR_CHALLENGE_LEN));
    EXPECT_TRUE(dstor_rec_len_ok(DSTOR_REC_MAX));
    EXPECT_FALSE(dstor_rec_len_ok(DSTOR_REC_MAX + 1));
    EXPECT_FALSE(dstor_rec_len_ok(UINT32_MAX));
}

TEST(ProtoRecord, NextLength) {
    // No payload left: a header record; else the next chunk of the payload.
    EXPECT_EQ(dstor_rec_next_len(0), u32{DSTOR_REC_HDR});
    EXPECT_EQ(dstor_rec_next_len(1), u32{1 + DSTOR_TAG_LEN});
    EXPECT_EQ(dstor_rec_next_len(512), u32{512 + DSTOR_TAG_LEN});
    EXPECT_EQ(dstor_rec_next_len(DSTOR_SEAL_CHUNK - 1), u32{DSTOR_REC_MAX - 1});
    EXPECT_EQ(dstor_rec_next_len(DSTOR_SEAL_CHUNK), u32{DSTOR_REC_MAX});
    EXPECT_EQ(dstor_rec_next_len(DSTOR_MAX_IO), u32{DSTOR_REC_MAX});
    // Every length it asks for is one the receiver accepts.
    for (u32 left : {0U, 1U, 4096U, DSTOR_SEAL_CHUNK + 1U, DSTOR_MAX_IO})
        EXPECT_TRUE(dstor_rec_len_ok(dstor_rec_next_len(left))) << left;
    // A whole READ reply: the payload takes DSTOR_MAX_IO / DSTOR_SEAL_CHUNK records.
    u32 left = DSTOR_MAX_IO, records = 0;
    while (left > 0) {
        left -= dstor_rec_next_len(left) - DSTOR_TAG_LEN;
        ++records;
    }
    EXPECT_EQ(records, DSTOR_MAX_IO / DSTOR_SEAL_CHUNK);
}

TEST(ProtoRecord, NonceIsFourZerosAndACounter) {
    u8 iv[12];
    std::memset(iv, 0xee, sizeof(iv));
    dstor_nonce(iv, 0);
    for (u8 b : iv)
        EXPECT_EQ(b, 0);
    dstor_nonce(iv, 0x0102030405060708ULL);
    const u8 want[12] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(std::memcmp(iv, want, sizeof(want)), 0);
    dstor_nonce(iv, UINT64_MAX);
    EXPECT_EQ(dstor_get32(iv), 0U);
    EXPECT_EQ(dstor_get64(iv + 4), UINT64_MAX);
}

TEST(ProtoRecord, Labels) {
    // Both ends hash these bytes; a change is a protocol change.
    EXPECT_STREQ(DSTOR_LABEL_KEY_ID, "dstor key id");
    EXPECT_STREQ(DSTOR_LABEL_SERVER, "dstor v2 server proof");
    EXPECT_STREQ(DSTOR_LABEL_CLIENT, "dstor v2 client proof");
    EXPECT_STREQ(DSTOR_LABEL_C2S, "dstor v2 c2s");
    EXPECT_STREQ(DSTOR_LABEL_S2C, "dstor v2 s2c");
    // The wire cipher numbers are the netlink ones.
    EXPECT_EQ(DSTOR_WIRE_AES_GCM, DSTOR_CIPHER_AES_GCM);
    EXPECT_EQ(DSTOR_WIRE_CHACHA20_POLY1305, DSTOR_CIPHER_CHACHA20_POLY1305);
}

// ---- HELLO_REPLY ------------------------------------------------------------

namespace {

dstor_hello_reply sample_reply() {
    dstor_hello_reply m{};
    m.version = DSTOR_PROTO_VERSION;
    m.flags = DSTOR_EXP_FLUSH | DSTOR_EXP_FUA | DSTOR_EXP_DISCARD;
    m.size = 1ULL << 34;
    m.logical_block_size = 512;
    m.physical_block_size = 4096;
    m.max_io = DSTOR_MAX_IO;
    m.max_range = DSTOR_MAX_RANGE;
    for (int i = 0; i < DSTOR_WIRE_UUID_LEN; i++)
        m.uuid[i] = static_cast<u8>(0x10 + i);
    m.incarnation = 0x8877665544332211ULL;
    return m;
}

int decode_reply(const dstor_hello_reply& m, dstor_hello_reply* out = nullptr) {
    u8 b[DSTOR_HELLO_REPLY_LEN];
    std::memset(b, 0xaa, sizeof(b));
    dstor_hello_reply_encode(b, &m);
    dstor_hello_reply tmp{};
    return dstor_hello_reply_decode(b, out != nullptr ? out : &tmp);
}

} // namespace

TEST(ProtoHelloReply, RoundTrip) {
    const dstor_hello_reply m = sample_reply();
    u8 b[DSTOR_HELLO_REPLY_LEN];
    dstor_hello_reply_encode(b, &m);
    EXPECT_EQ(dstor_get16(b), DSTOR_PROTO_VERSION);
    EXPECT_EQ(dstor_get16(b + 2), 0);
    EXPECT_EQ(dstor_get64(b + 8), m.size);
    static_assert(DSTOR_HELLO_REPLY_LEN == 48 + 8); // the uuid at 32, the incarnation at 48
    static_assert(DSTOR_WIRE_UUID_LEN == DSTOR_UUID_LEN);
    EXPECT_EQ(std::memcmp(b + 32, m.uuid, DSTOR_WIRE_UUID_LEN), 0);
    EXPECT_EQ(dstor_get64(b + 48), m.incarnation);

    dstor_hello_reply out{};
    ASSERT_EQ(decode_reply(m, &out), 0);
    EXPECT_EQ(out.version, m.version);
    EXPECT_EQ(out.flags, m.flags);
    EXPECT_EQ(out.size, m.size);
    EXPECT_EQ(out.logical_block_size, m.logical_block_size);
    EXPECT_EQ(out.physical_block_size, m.physical_block_size);
    EXPECT_EQ(out.max_io, m.max_io);
    EXPECT_EQ(out.max_range, m.max_range);
    EXPECT_EQ(std::memcmp(out.uuid, m.uuid, DSTOR_WIRE_UUID_LEN), 0);
    EXPECT_EQ(out.incarnation, m.incarnation);

    dstor_hello_reply all = sample_reply();
    all.flags = DSTOR_EXP_ALL;
    all.logical_block_size = 4096;
    all.physical_block_size = 65536;
    all.max_io = 4096;
    all.max_range = 4096;
    EXPECT_EQ(decode_reply(all), 0);
    all.max_range = 0; // discard advertised without a range
    EXPECT_EQ(decode_reply(all), -DSTOR_EPROTO_LENGTH);
    all.flags = DSTOR_EXP_FLUSH;
    EXPECT_EQ(decode_reply(all), 0);
    all.max_io = 4608; // not a multiple of the 4096-byte block
    EXPECT_EQ(decode_reply(all), -DSTOR_EPROTO_LENGTH);
    all.max_io = 4096;
    all.size = 0;
    EXPECT_EQ(decode_reply(all), -DSTOR_EPROTO_SIZE);
}

TEST(ProtoHelloReply, Rejections) {
    u8 b[DSTOR_HELLO_REPLY_LEN];
    const dstor_hello_reply good = sample_reply();
    dstor_hello_reply_encode(b, &good);
    b[3] = 1;
    dstor_hello_reply out{};
    EXPECT_EQ(dstor_hello_reply_decode(b, &out), -DSTOR_EPROTO_RESERVED);

    auto with = [&](auto change) {
        dstor_hello_reply m = sample_reply();
        change(m);
        return decode_reply(m);
    };
    EXPECT_EQ(with([](auto& m) { m.version = DSTOR_PROTO_VERSION + 1; }), -DSTOR_EPROTO_VERSION);
    EXPECT_EQ(with([](auto& m) { m.version = DSTOR_PROTO_VERSION_MIN - 1; }), -DSTOR_EPROTO_VERSION);
    // Version 2 without KA_LEAD, version 3 with it; KA_LEAD is not version 2's.
    EXPECT_EQ(with([](auto& m) { m.version = 2; }), 0);
    EXPECT_EQ(with([](auto& m) { m.flags |= DSTOR_EXP_KA_LEAD; }), 0);
    EXPECT_EQ(with([](auto& m) {
                  m.version = 2;
                  m.flags |= DSTOR_EXP_KA_LEAD;
              }),
              -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(with([](auto& m) { m.version = 0; }), -DSTOR_EPROTO_VERSION);
    EXPECT_EQ(with([](auto& m) { m.flags = DSTOR_EXP_ALL + 1; }), -DSTOR_EPROTO_FLAGS);
    // TREE is version 4's.
    EXPECT_EQ(with([](auto& m) { m.flags |= DSTOR_EXP_TREE; }), 0);
    EXPECT_EQ(with([](auto& m) {
                  m.version = 3;
                  m.flags |= DSTOR_EXP_TREE;
              }),
              -DSTOR_EPROTO_FLAGS);
    // Bad block sizes.
    EXPECT_EQ(with([](auto& m) { m.logical_block_size = 0; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.logical_block_size = 256; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.logical_block_size = 1000; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.logical_block_size = m.physical_block_size = 8192; }),
              -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.physical_block_size = 256; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.physical_block_size = 3 * 512; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.physical_block_size = 131072; }), -DSTOR_EPROTO_LENGTH);
    // Size not a multiple of the logical block size.
    EXPECT_EQ(with([](auto& m) {
                  m.size = (1ULL << 34) + 512;
                  m.logical_block_size = 4096;
              }),
              -DSTOR_EPROTO_ALIGN);
    EXPECT_EQ(with([](auto& m) { m.size = 1000; }), -DSTOR_EPROTO_ALIGN);
    // Transfer limits.
    EXPECT_EQ(with([](auto& m) { m.max_io = 2048; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.max_io = DSTOR_MAX_IO + 512; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.max_io = 4096 + 100; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.max_range = DSTOR_MAX_RANGE + 512; }), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(with([](auto& m) { m.max_range = 1000; }), -DSTOR_EPROTO_LENGTH);
}

// ---- handles ----------------------------------------------------------------

TEST(ProtoHandle, MakeAndSplit) {
    const struct {
        u32 gen, tag;
    } cases[] = {{0, 0},
                 {1, 2},
                 {0xffffffffU, 0},
                 {0, 0xffffffffU},
                 {0xffffffffU, 0xffffffffU},
                 {7, (3U << 16) | 127}};
    for (const auto& c : cases) {
        const u64 h = dstor_handle_make(c.gen, c.tag);
        EXPECT_EQ(dstor_handle_gen(h), c.gen);
        EXPECT_EQ(dstor_handle_tag(h), c.tag);
    }
    EXPECT_EQ(dstor_handle_make(1, 2), 0x0000000100000002ULL);
    EXPECT_NE(dstor_handle_make(1, 5), dstor_handle_make(2, 5)); // stale generation differs
}

// Version 4's trees (Documentation/reconciliation.md): specified in proto.h,
// not spoken yet.
namespace {

dstor_tree_info tree_info() {
    dstor_tree_info m{};
    m.size = 64ULL << 20;
    m.block_size = 4096;
    m.leaf = DSTOR_TREE_LEAF_V3;
    m.generation = 0x0102030405060708ULL;
    for (int i = 0; i < DSTOR_TREE_HASH; i++)
        m.root[i] = static_cast<u8>(0xa0 + i);
    return m;
}

int tree_info_decode(const dstor_tree_info& m, int poke = -1, u8 v = 0) {
    u8 b[DSTOR_TREE_INFO_LEN];
    dstor_tree_info out{};
    dstor_tree_info_encode(b, &m);
    if (poke >= 0)
        b[poke] = v;
    return dstor_tree_info_decode(b, &out);
}

}  // namespace

TEST(ProtoTree, TreeOpsDecode) {
    EXPECT_EQ(DSTOR_PROTO_VERSION_TREE, 4);
    EXPECT_EQ(DSTOR_PROTO_VERSION, DSTOR_PROTO_VERSION_PENDING);
    EXPECT_EQ(DSTOR_OP_TREE_INFO, 13);
    EXPECT_EQ(DSTOR_OP_TREE_FP, 14);
    EXPECT_EQ(DSTOR_ST_STALE, 13);
    // One tree: the multicast export's block sizes are the tree's.
    EXPECT_EQ(DSTOR_TREE_BS_MIN, DSTOR_MC_MIN_BLOCK);
    EXPECT_EQ(DSTOR_TREE_BS_MAX, DSTOR_MC_MAX_BLOCK);
    EXPECT_EQ(DSTOR_EXP_TREE & DSTOR_EXP_ALL_V3, 0U);
    EXPECT_NE(DSTOR_EXP_TREE & DSTOR_EXP_ALL, 0U);

    dstor_hdr info{};
    info.op = DSTOR_OP_TREE_INFO;
    EXPECT_EQ(decode(info), 0);
    info.length = 1;
    EXPECT_EQ(decode(info), -DSTOR_EPROTO_LENGTH);
    info.length = 0;
    info.payload = 8;
    EXPECT_EQ(decode(info), -DSTOR_EPROTO_PAYLOAD);

    // TREE_FP: offset and length name nodes, so no sector alignment.
    dstor_hdr fp{};
    fp.op = DSTOR_OP_TREE_FP;
    fp.offset = dstor_tree_fp_offset(3, 7);
    fp.length = 1;
    fp.payload = DSTOR_TREE_GEN_LEN;
    EXPECT_EQ(decode(fp), 0);
    fp.length = DSTOR_TREE_FP_MAX;
    EXPECT_EQ(decode(fp), 0);
    fp.length = DSTOR_TREE_FP_MAX + 1;
    EXPECT_EQ(decode(fp), -DSTOR_EPROTO_LENGTH);
    fp.length = 0;
    EXPECT_EQ(decode(fp), -DSTOR_EPROTO_LENGTH);
    fp.length = 2;
    fp.payload = 0;
    EXPECT_EQ(decode(fp), -DSTOR_EPROTO_PAYLOAD);
    fp.payload = DSTOR_TREE_GEN_LEN;
    fp.flags = DSTOR_RQ_FUA;
    EXPECT_EQ(decode(fp), -DSTOR_EPROTO_FLAGS);

    // STALE in a reply, never in a HELLO_REPLY or a request.
    dstor_hdr r{};
    r.op = DSTOR_OP_REPLY;
    r.status = DSTOR_ST_STALE;
    EXPECT_EQ(decode(r), 0);
    dstor_hdr hr{};
    hr.op = DSTOR_OP_HELLO_REPLY;
    hr.status = DSTOR_ST_STALE;
    EXPECT_EQ(decode(hr), -DSTOR_EPROTO_STATUS);
    fp.flags = 0;
    fp.status = DSTOR_ST_STALE;
    EXPECT_EQ(decode(fp), -DSTOR_EPROTO_STATUS);
}

TEST(ProtoTree, Shape) {
    EXPECT_EQ(dstor_tree_top(1), 0U);
    EXPECT_EQ(dstor_tree_top(2), 1U);
    EXPECT_EQ(dstor_tree_top(3), 2U);
    EXPECT_EQ(dstor_tree_top(16384), 14U);
    EXPECT_EQ(dstor_tree_top(16385), 15U);
    EXPECT_EQ(dstor_tree_top(DSTOR_TREE_MAX_LEAVES), 40U);
    EXPECT_EQ(dstor_tree_nodes(5, 0), 5U);
    EXPECT_EQ(dstor_tree_nodes(5, 1), 3U);
    EXPECT_EQ(dstor_tree_nodes(5, 2), 2U);
    EXPECT_EQ(dstor_tree_nodes(5, 3), 1U);
    EXPECT_EQ(dstor_tree_leaves(8192, 4096), 2U);
    EXPECT_EQ(dstor_tree_leaves(8193, 4096), 3U);
    EXPECT_EQ(dstor_tree_leaves(~0ULL, 1U << 20), 1ULL << 44);
}

TEST(ProtoTree, ChildrenAtTheEndOfALevelAreFewer) {
    struct Case {
        u64 n;
        u32 level;
        u64 j;
        u32 count;
        u64 first;
        const char* why;
    };
    const Case cases[] = {
        {100, 4, 6, 4, 96, "100 leaves: level 4's last node covers 96..99"},
        {100, 4, 5, 16, 80, "a whole node"},
        {100, 7, 0, 13, 0, "the top (level 7) to level 3: 13 nodes"},
        {100, 4, 7, 0, 112, "past the end of level 4"},
        {4, 2, 0, 4, 0, "two levels left: four leaves"},
        {5, 1, 2, 1, 4, "one level left, at the end"},
        {5, 0, 3, 1, 3, "a leaf is itself"},
    };
    for (const Case& c : cases) {
        u64 first = ~0ULL;
        EXPECT_EQ(dstor_tree_children(c.n, c.level, c.j, 4, &first), c.count) << c.why;
        EXPECT_EQ(first, c.first) << c.why;
    }
    // A node index whose children would not fit 56 bits.
    u64 first = 0;
    EXPECT_EQ(dstor_tree_children(100, 4, 1ULL << 60, 4, &first), 0U);
}

TEST(ProtoTree, FingerprintRequestsStayInTheTree) {
    const u64 n = 100;  // levels 0..7
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 0), 100, n), 0);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 99), 1, n), 0);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(7, 0), 1, n), 0);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(4, 6), 1, n), 0);
    // Past the end of a level, a level that does not exist, no nodes.
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 99), 2, n), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 100), 1, n), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(4, 7), 1, n), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(8, 0), 1, n), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(255, 0), 1, n), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 0), 0, n), -DSTOR_EPROTO_LENGTH);
    // A count that wraps first + count.
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, DSTOR_TREE_FIRST_MASK), 2, n),
              -DSTOR_EPROTO_LENGTH);
    // At most DSTOR_TREE_FP_MAX nodes, whatever the tree.
    const u64 big = 1 << 20;
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 0), DSTOR_TREE_FP_MAX, big), 0);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 0), DSTOR_TREE_FP_MAX + 1, big),
              -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 0), 1, 0), -DSTOR_EPROTO_LENGTH);
    EXPECT_EQ(dstor_tree_fp_check(dstor_tree_fp_offset(0, 0), 1, DSTOR_TREE_MAX_LEAVES + 1),
              -DSTOR_EPROTO_LENGTH);
    // The largest reply fits one sealed record; one more node would not.
    EXPECT_EQ(DSTOR_TREE_FP_MAX, 511);
    EXPECT_LE(dstor_tree_fp_reply_len(DSTOR_TREE_FP_MAX), u32(DSTOR_SEAL_CHUNK));
    EXPECT_GT(dstor_tree_fp_reply_len(DSTOR_TREE_FP_MAX + 1), u32(DSTOR_SEAL_CHUNK));
    // The level never spills into the node index, nor the index into the level.
    EXPECT_EQ(dstor_tree_fp_offset(3, ~0ULL), (3ULL << 56) | DSTOR_TREE_FIRST_MASK);
}

TEST(ProtoTree, InfoRoundTrip) {
    dstor_tree_info m = tree_info(), out{};
    u8 b[DSTOR_TREE_INFO_LEN];
    dstor_tree_info_encode(b, &m);
    EXPECT_EQ(b[0], 0);
    EXPECT_EQ(b[4], 0x04);      // 64 MiB, big-endian
    EXPECT_EQ(b[10], 0x10);     // 4096
    EXPECT_EQ(b[12], DSTOR_TREE_LEAF_V3);
    EXPECT_EQ(b[16], 0x01);
    EXPECT_EQ(b[24], 0xa0);
    ASSERT_EQ(dstor_tree_info_decode(b, &out), 0);
    EXPECT_EQ(out.size, m.size);
    EXPECT_EQ(out.block_size, m.block_size);
    EXPECT_EQ(out.generation, m.generation);
    EXPECT_EQ(memcmp(out.root, m.root, DSTOR_TREE_HASH), 0);
}

TEST(ProtoTree, InfoRefusals) {
    EXPECT_EQ(tree_info_decode(tree_info()), 0);
    EXPECT_EQ(tree_info_decode(tree_info(), 13, 4), -DSTOR_EPROTO_FLAGS);
    EXPECT_EQ(tree_info_decode(tree_info(), 13, 0x80), -DSTOR_EPROTO_FLAGS);
    // PENDING (version 5) with a published tree, never while building.
    EXPECT_EQ(tree_info_decode(tree_info(), 13, DSTOR_TREE_PENDING), 0);
    // "built" only while building, and then below 1000 per mille.
    EXPECT_EQ(tree_info_decode(tree_info(), 15, 1), -DSTOR_EPROTO_RESERVED);
    EXPECT_EQ(tree_info_decode(tree_info(), 12, 2), -DSTOR_EPROTO_VERSION);
    dstor_tree_info m = tree_info();
    m.flags = DSTOR_TREE_BUILDING;
    EXPECT_EQ(tree_info_decode(m), -DSTOR_EPROTO_RESERVED);  // a root while building
    memset(m.root, 0, sizeof(m.root));
    EXPECT_EQ(tree_info_decode(m), 0);
    m.flags = DSTOR_TREE_BUILDING | DSTOR_TREE_PENDING;
    EXPECT_EQ(tree_info_decode(m), -DSTOR_EPROTO_RESERVED);
    m.flags = DSTOR_TREE_BUILDING;
    m.built = DSTOR_TREE_BUILT_MAX;
    EXPECT_EQ(tree_info_decode(m), 0);
    m.built = DSTOR_TREE_BUILT_MAX + 1;
    EXPECT_EQ(tree_info_decode(m), -DSTOR_EPROTO_RESERVED);
    m = tree_info();
    for (u32 bs : {0U, 512U, 2048U, 12288U, 2U << 20}) {
        m.block_size = bs;
        EXPECT_EQ(tree_info_decode(m), -DSTOR_EPROTO_LENGTH) << bs;
    }
    m = tree_info();
    m.size = 0;
    EXPECT_EQ(tree_info_decode(m), -DSTOR_EPROTO_SIZE);
    m.size = (DSTOR_TREE_MAX_LEAVES << 12) + 1;  // one leaf too many
    EXPECT_EQ(tree_info_decode(m), -DSTOR_EPROTO_SIZE);
    m.size = DSTOR_TREE_MAX_LEAVES << 12;
    EXPECT_EQ(tree_info_decode(m), 0);
    // A short last block.
    m.size = (64ULL << 20) + 512;
    EXPECT_EQ(tree_info_decode(m), 0);
}
