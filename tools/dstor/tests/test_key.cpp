// Keys: base64, key files, fingerprints, genkey and keyid. Files live in a
// private temporary directory; nothing here talks to the kernel.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/dstor.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <string>

#include "commands.hpp"
#include "key.hpp"

using namespace dstor;

namespace {

// The bytes 0x00 .. 0x1f, and their base64.
Key counting_key() {
    Key k;
    for (std::size_t i = 0; i < k.bytes.size(); i++)
        k.bytes[i] = static_cast<std::uint8_t>(i);
    return k;
}
constexpr const char* counting_b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

// Computed once with:
//   printf 'dstor key id' | cat - keybytes | sha256sum
// fa6ba051529db573d12bab6a63bab4fe9c4d786f1993aa58ba013c5ad1dfc320 (0x00 .. 0x1f)
// f4ba89138cf4b8de5aab3561227216bdd5ac410d75f31c906ed96e4b4224ae07 (32 x 0xff)
constexpr const char* counting_id = "fa6ba051529db573";
constexpr const char* ones_id = "f4ba89138cf4b8de";

std::string bad_key_text(Result<Key> r) {
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().text();
}

class KeyFile : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dstor-key-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // A file holding `content` with exactly `mode`.
    std::string write(const std::string& name, const std::string& content, mode_t mode) {
        const std::string path = dir_ + "/" + name;
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::write(fd, content.data(), content.size()),
                  static_cast<ssize_t>(content.size()));
        EXPECT_EQ(::fchmod(fd, mode), 0);
        ::close(fd);
        return path;
    }

    std::string dir_;
};

mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
}

} // namespace

// ---- base64 -------------------------------------------------------------------------

TEST(KeyText, EncodeIsBase64AndANewline) {
    KeyText t;
    encode_key(counting_key(), t);
    EXPECT_EQ(t.base64(), counting_b64);
    EXPECT_EQ(t.line(), std::string(counting_b64) + "\n");
    EXPECT_EQ(KEY_BASE64_LEN, 44u);
}

TEST(KeyText, DecodeGood) {
    auto k = decode_key(counting_b64);
    ASSERT_TRUE(k.ok()) << k.error().text();
    EXPECT_EQ(*k, counting_key());
    k = decode_key(std::string(counting_b64) + "\n"); // one trailing newline
    ASSERT_TRUE(k.ok()) << k.error().text();
    EXPECT_EQ(*k, counting_key());
    k = decode_key("//////////////////////////////////////////8=");
    ASSERT_TRUE(k.ok());
    for (auto b : k->bytes)
        EXPECT_EQ(b, 0xff);
}

TEST(KeyText, RoundTripOfRandomKeys) {
    std::set<std::string> seen;
    for (int i = 0; i < 64; i++) {
        auto k = generate_key();
        ASSERT_TRUE(k.ok());
        KeyText t;
        encode_key(*k, t);
        auto back = decode_key(t.line());
        ASSERT_TRUE(back.ok()) << back.error().text();
        EXPECT_EQ(*back, *k);
        seen.insert(std::string(t.base64()));
    }
    EXPECT_EQ(seen.size(), 64u);
}

TEST(KeyText, DecodeRefusesBadBase64) {
    const std::string msg = "not a dstor key (expected 32 bytes in base64)";
    const std::string good = counting_b64;
    for (std::string bad : {
             good.substr(0, 10) + "*" + good.substr(11), // not base64
             good.substr(0, 10) + "-" + good.substr(11), // base64url is not base64
             good.substr(0, 10) + " " + good.substr(11),
             good.substr(0, 43) + "A",          // no padding
             good.substr(0, 42) + "==",         // padding too early
             good.substr(0, 42) + "9=",         // non-canonical: unused bits set
             "=" + good.substr(1),              // padding first
             " " + good,                        // leading space
             good + " ",                        // trailing space
             good + "\n\n",                     // two newlines
             good + "\r\n",                     // CRLF
             "\n" + good,                       // newline first
             good.substr(0, 42) + "=\n" + "\n", // newline and more
             std::string("not a key\n"),
             std::string(""),
             std::string("\n"),
         })
        EXPECT_EQ(bad_key_text(decode_key(bad)), msg) << "'" << bad << "'";
}

TEST(KeyText, DecodeRefusesWrongLength) {
    const std::string msg = "not a dstor key (expected 32 bytes in base64)";
    // base64 of 31, 33, 24 and 48 bytes
    EXPECT_EQ(bad_key_text(decode_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==")), msg);
    EXPECT_EQ(bad_key_text(decode_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g")), msg);
    EXPECT_EQ(bad_key_text(decode_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYX")), msg);
    EXPECT_EQ(bad_key_text(decode_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
                                      "LS4v")),
              msg);
}

TEST(KeyText, DecodeRefusesTheZeroKey) {
    // All zero bytes mean "no key" to the kernel: a file holding them must
    // not silently turn authentication off.
    EXPECT_EQ(bad_key_text(decode_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
              "not a dstor key (all its bytes are zero)");
    EXPECT_TRUE(Key{}.zero());
    EXPECT_FALSE(counting_key().zero());
}

// ---- key id -------------------------------------------------------------------------

TEST(KeyId, KnownAnswer) {
    EXPECT_EQ(format_key_id(key_id(counting_key())), counting_id);
    Key ones;
    ones.bytes.fill(0xff);
    EXPECT_EQ(format_key_id(key_id(ones)), ones_id);
}

TEST(KeyId, MatchesSha256OfLabelAndKey) {
    // Independently of key_id(): one SHA-256 over the concatenation.
    for (int i = 0; i < 8; i++) {
        auto k = generate_key();
        ASSERT_TRUE(k.ok());
        std::string input = "dstor key id";
        input.append(reinterpret_cast<const char*>(k->bytes.data()), k->bytes.size());
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        ASSERT_EQ(EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr), 1);
        ASSERT_EQ(len, 32u);
        KeyId want{};
        std::copy_n(md, want.size(), want.begin());
        EXPECT_EQ(key_id(*k), want);
    }
}

TEST(KeyId, Format) {
    EXPECT_EQ(format_key_id(KeyId{}), "0000000000000000");
    EXPECT_EQ(format_key_id(KeyId{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}),
              "0123456789abcdef");
    EXPECT_EQ(format_key_id(KeyId{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
              "ffffffffffffffff");
}

// ---- key files ----------------------------------------------------------------------

TEST_F(KeyFile, Good) {
    for (const std::string& content : {std::string(counting_b64) + "\n", std::string(counting_b64)}) {
        const auto path = write("k", content, 0600);
        auto k = read_key_file(path);
        ASSERT_TRUE(k.ok()) << k.error().text();
        EXPECT_EQ(*k, counting_key());
    }
    // Only reading and writing by group or others matter.
    for (mode_t mode : {0400, 0600, 0700, 0610, 0601, 0711, 0000}) {
        const auto path = write("m", std::string(counting_b64) + "\n", mode);
        auto k = read_key_file(path);
        if (::geteuid() != 0 && !(mode & 0400)) {
            EXPECT_FALSE(k.ok()); // the owner cannot read it either
            continue;
        }
        EXPECT_TRUE(k.ok()) << std::oct << mode << ": " << k.error().text();
    }
}

TEST_F(KeyFile, AccessibleByOthersIsRefused) {
    for (mode_t mode : {0644, 0640, 0604, 0620, 0602, 0666, 0660, 0606, 0777}) {
        const auto path = write("open", std::string(counting_b64) + "\n", mode);
        EXPECT_EQ(bad_key_text(read_key_file(path)),
                  path + ": key file is accessible by group or others: chmod 600 " + path)
            << std::oct << mode;
    }
    // The mode is checked before the content.
    const auto bad = write("bad-open", "junk", 0644);
    EXPECT_NE(bad_key_text(read_key_file(bad)).find("group or others"), std::string::npos);
}

TEST_F(KeyFile, BadContentIsRefused) {
    const std::string msg = ": not a dstor key (expected 32 bytes in base64)";
    for (const std::string& content : {
             std::string("not a key\n"),
             std::string(""),
             std::string(counting_b64) + "\n\n",
             std::string(counting_b64) + std::string(1000, 'A'),
             std::string(counting_b64).substr(0, 43) + "\n",
             std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n"), // 31 bytes
         }) {
        const auto path = write("bad", content, 0600);
        EXPECT_EQ(bad_key_text(read_key_file(path)), path + msg) << content;
    }
}

TEST_F(KeyFile, SymlinkIsRefused) {
    const auto target = write("real", std::string(counting_b64) + "\n", 0600);
    const auto link = dir_ + "/link";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    EXPECT_EQ(bad_key_text(read_key_file(link)),
              link + ": not a regular file (a symbolic link)");
    ASSERT_TRUE(read_key_file(target).ok());
}

TEST_F(KeyFile, DirectoryAndFifoAreRefused) {
    const auto d = dir_ + "/d";
    ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
    EXPECT_EQ(bad_key_text(read_key_file(d)), d + ": not a regular file (a directory)");
    const auto fifo = dir_ + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(bad_key_text(read_key_file(fifo)), fifo + ": not a regular file"); // no hang
    EXPECT_EQ(bad_key_text(read_key_file("/dev/null")), "/dev/null: not a regular file");
}

TEST_F(KeyFile, MissingFile) {
    const auto path = dir_ + "/none";
    EXPECT_EQ(bad_key_text(read_key_file(path)), path + ": No such file or directory");
}

TEST_F(KeyFile, LoadKey) {
    std::optional<Key> key;
    EXPECT_TRUE(load_key(std::nullopt, key));
    EXPECT_FALSE(key);
    EXPECT_TRUE(load_key(write("k", counting_b64, 0600), key));
    ASSERT_TRUE(key);
    EXPECT_EQ(*key, counting_key());
    std::optional<Key> other;
    ::testing::internal::CaptureStderr();
    EXPECT_FALSE(load_key(write("o", counting_b64, 0644), other));
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(other);
    // Named by the file, not the command.
    EXPECT_EQ(err, "dstor: " + dir_ + "/o: key file is accessible by group or others: chmod 600 " +
                       dir_ + "/o\n");
}

// ---- genkey -------------------------------------------------------------------------

TEST_F(KeyFile, RestrictOutput) {
    struct Case {
        mode_t before, after;
        bool warns;
    } cases[] = {
        {0644, 0600, true}, {0640, 0600, true},  {0604, 0600, true},
        {0600, 0600, false}, {0400, 0400, false}, {0602, 0602, false}, // others can't read
    };
    for (const auto& c : cases) {
        const auto path = write("out", "", c.before);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        auto r = restrict_key_output(fd, path);
        ::close(fd);
        ASSERT_TRUE(r.ok()) << r.error().text();
        EXPECT_EQ(r->has_value(), c.warns) << std::oct << c.before;
        if (c.warns) {
            EXPECT_EQ(**r, path + " was readable by others; set its mode to 0600");
        }
        EXPECT_EQ(mode_of(path), c.after) << std::oct << c.before;
    }
    // Not a regular file: left alone.
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    auto r = restrict_key_output(p[1], "pipe");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value());
    ::close(p[0]);
    ::close(p[1]);
}

TEST_F(KeyFile, GenkeyWritesAPrivateKeyFile) {
    // `dstor genkey > out` with a umask that made `out` 0644.
    const auto path = write("out", "", 0644);
    std::cout.flush();
    const int saved = ::dup(STDOUT_FILENO);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    ::close(fd);
    ::testing::internal::CaptureStderr();
    const int rc = run_genkey({});
    const std::string err = ::testing::internal::GetCapturedStderr();
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);

    EXPECT_EQ(rc, EXIT_OK);
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(err, "dstor: genkey: " + path + " was readable by others; set its mode to 0600\n");
    std::ifstream in(path, std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    ASSERT_EQ(content.size(), KEY_BASE64_LEN + 1);
    EXPECT_EQ(content.back(), '\n');
    auto k = read_key_file(path); // what genkey writes, every reader accepts
    ASSERT_TRUE(k.ok()) << k.error().text();
    EXPECT_FALSE(k->zero());
}

TEST_F(KeyFile, Keyid) {
    const auto path = write("k", std::string(counting_b64) + "\n", 0600);
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(run_keyid({path}), EXIT_OK);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), std::string(counting_id) + "\n");

    const auto open = write("open", std::string(counting_b64) + "\n", 0644);
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(run_keyid({open}), EXIT_USAGE);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), ""); // no key, no fingerprint
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("group or others"), std::string::npos);
}

TEST(KeyArgs, GenkeyAndKeyid) {
    auto g = parse_genkey_args({});
    ASSERT_TRUE(g.cmd.has_value()) << g.output;
    EXPECT_EQ(g.command, "genkey");
    g = parse_genkey_args({"extra"});
    EXPECT_FALSE(g.cmd.has_value());
    EXPECT_EQ(g.exit_code, EXIT_USAGE);
    g = parse_genkey_args({"--help"});
    EXPECT_EQ(g.exit_code, EXIT_OK);
    EXPECT_NE(g.output.find("dstor genkey > KEYFILE"), std::string::npos) << g.output;

    auto k = parse_keyid_args({"/etc/dstor/k1"});
    ASSERT_TRUE(k.cmd.has_value()) << k.output;
    EXPECT_EQ(k.command, "keyid");
    EXPECT_EQ(k.cmd->file, "/etc/dstor/k1");
    k = parse_keyid_args({});
    EXPECT_EQ(k.exit_code, EXIT_USAGE);
    EXPECT_NE(k.output.find("FILE is required"), std::string::npos) << k.output;
    k = parse_keyid_args({""});
    EXPECT_EQ(k.exit_code, EXIT_USAGE);
    k = parse_keyid_args({"a", "b"});
    EXPECT_EQ(k.exit_code, EXIT_USAGE);
    k = parse_keyid_args({"--help"});
    EXPECT_EQ(k.exit_code, EXIT_OK);
    EXPECT_NE(k.output.find("dstor key id"), std::string::npos);
}
