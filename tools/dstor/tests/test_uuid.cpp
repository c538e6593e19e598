// --uuid parsing and the standard form `dstor show` prints.
#include <gtest/gtest.h>

#include "uuid.hpp"
#include "uuid_sample.hpp"

using namespace dstor;

namespace {

const Uuid& sample = samples::sample_uuid;

void expect_not_a_uuid(const std::string& text) {
    auto r = parse_uuid(text);
    ASSERT_FALSE(r.ok()) << "'" << text << "' parsed";
    EXPECT_EQ(r.error().err, 0); // dstor's own refusal, not the kernel's
    EXPECT_NE(r.error().text().find("not a UUID (expected 8-4-4-4-12 hex digits"),
              std::string::npos)
        << r.error().text();
}

} // namespace

TEST(Uuid, AcceptedForms) {
    // The standard form and 32 digits without dashes, in either case.
    for (const char* text :
         {"0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E",
          "0f8FaD5b-D9cB-469f-A165-70867728950e", "0f8fad5bd9cb469fa16570867728950e",
          "0F8FAD5BD9CB469FA16570867728950E"}) {
        auto r = parse_uuid(text);
        ASSERT_TRUE(r.ok()) << text << ": " << r.error().text();
        EXPECT_EQ(*r, sample) << text;
    }
}

TEST(Uuid, BadLengths) {
    for (const char* text :
         {"", "0", "0f8fad5b", "0f8fad5b-d9cb-469f-a165-70867728950",
          "0f8fad5b-d9cb-469f-a165-70867728950e0", "0f8fad5bd9cb469fa16570867728950",
          "0f8fad5bd9cb469fa16570867728950e0", "{0f8fad5b-d9cb-469f-a165-70867728950e}",
          "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e", " 0f8fad5b-d9cb-469f-a165-70867728950e"})
        expect_not_a_uuid(text);
}

TEST(Uuid, DashesOnlyWhereTheStandardFormHasThem) {
    for (const char* text : {"0f8fad5bd-9cb-469f-a165-70867728950e",  // 36, a dash misplaced
                             "0f8fad5b-d9cb-469f-a16570867728-950e",  // 36, last dash moved
                             "0f8fad5b-d9cb-469f-a165-7086772895-e",  // an extra dash
                             "0f8fad5b-d9cb-469f-a165-70867728950-",  // 36, a dash for a digit
                             "0f8fad5b-d9cb469fa16570867728950e",     // some dashes only
                             "0f8fad5b:d9cb:469f:a165:70867728950e"}) // other separators
        expect_not_a_uuid(text);
}

TEST(Uuid, BadHex) {
    for (const char* text :
         {"0f8fad5g-d9cb-469f-a165-70867728950e", "0f8fad5bd9cb469fa16570867728950z",
          "0x8fad5bd9cb469fa16570867728950e", "+f8fad5b-d9cb-469f-a165-70867728950e",
          "0f8fad5b-d9cb-469f-a165-70867728950\xe9"})
        expect_not_a_uuid(text);
}

TEST(Uuid, NilIsRefused) {
    for (const char* text :
         {"00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000"}) {
        auto r = parse_uuid(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.error().text(), "the nil UUID (all zero) identifies nothing");
    }
    // One bit set is an identity.
    EXPECT_TRUE(parse_uuid("00000000-0000-0000-0000-000000000001").ok());
}

TEST(Uuid, Format) {
    EXPECT_EQ(format_uuid(sample), samples::sample_uuid_text);
    Uuid max{};
    max.fill(0xff);
    EXPECT_EQ(format_uuid(max), "ffffffff-ffff-ffff-ffff-ffffffffffff");
    // Round trip, from either accepted form.
    for (const char* text :
         {"A0B1C2D3-E4F5-0617-2839-4A5B6C7D8E9F", "a0b1c2d3e4f5061728394a5b6c7d8e9f"})
        EXPECT_EQ(format_uuid(*parse_uuid(text)), "a0b1c2d3-e4f5-0617-2839-4a5b6c7d8e9f");
}
