#include "key.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>

extern "C" {
#include "fd.hpp"
#include "proto.h" // DSTOR_LABEL_KEY_ID: the kernel's label, not a copy
}

namespace dstor {

namespace {

constexpr const char* not_a_key = "not a dstor key (expected 32 bytes in base64)";

static_assert(KEY_BASE64_LEN == 44 && DSTOR_KEY_LEN % 3 == 2,
              "decode_key expects one '=' of padding");

// The 6-bit value of a base64 character, or -1.
int b64_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

} // namespace

Key::~Key() {
    OPENSSL_cleanse(bytes.data(), bytes.size());
}

bool Key::zero() const {
    std::uint8_t acc = 0;
    for (auto b : bytes)
        acc |= b;
    return acc == 0;
}

KeyText::~KeyText() {
    OPENSSL_cleanse(chars.data(), chars.size());
}

Result<Key> generate_key() {
    Key key;
    if (RAND_bytes(key.bytes.data(), static_cast<int>(key.bytes.size())) != 1)
        return Error::user("the random number generator failed (RAND_bytes)");
    return key;
}

void encode_key(const Key& key, KeyText& out) {
    // EVP_EncodeBlock writes KEY_BASE64_LEN characters and a NUL; the NUL
    // lands where the newline goes.
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.chars.data()), key.bytes.data(),
                    static_cast<int>(key.bytes.size()));
    out.chars[KEY_BASE64_LEN] = '\n';
}

Result<Key> decode_key(std::string_view text) {
    if (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    // 43 characters of data and one '=': 258 bits, the last 2 of them zero.
    if (text.size() != KEY_BASE64_LEN || text.back() != '=')
        return Error::user(not_a_key);
    Key key;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t out = 0;
    for (std::size_t i = 0; i + 1 < KEY_BASE64_LEN; i++) {
        const int v = b64_value(text[i]);
        if (v < 0)
            return Error::user(not_a_key);
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            key.bytes[out++] = static_cast<std::uint8_t>(acc >> bits);
            acc &= (1U << bits) - 1;
        }
    }
    if (bits != 2 || acc != 0 || out != DSTOR_KEY_LEN) // non-canonical: unused bits set
        return Error::user(not_a_key);
    if (key.zero())
        return Error::user("not a dstor key (all its bytes are zero)");
    return key;
}

Result<Key> read_key_file(const std::string& path) {
    auto fail = [&path](const std::string& why) { return Error::user(path + ": " + why); };
    // O_NOFOLLOW: a symbolic link is refused, not followed; O_NONBLOCK: a
    // FIFO does not hang the open (it is refused below).
    Fd f(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (f.get() < 0) {
        if (errno == ELOOP)
            return fail("not a regular file (a symbolic link)");
        return Error::sys(errno, path);
    }
    struct stat st {};
    if (::fstat(f.get(), &st) != 0)
        return Error::sys(errno, path);
    if (S_ISDIR(st.st_mode))
        return fail("not a regular file (a directory)");
    if (!S_ISREG(st.st_mode))
        return fail("not a regular file");
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
        return fail("key file is accessible by group or others: chmod 600 " + path);

    // One byte more than the longest valid content tells "too long" apart.
    std::array<char, KEY_BASE64_LEN + 2> buf{};
    std::size_t n = 0;
    while (n < buf.size()) {
        const ssize_t r = ::read(f.get(), buf.data() + n, buf.size() - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            const int e = errno;
            OPENSSL_cleanse(buf.data(), buf.size());
            return Error::sys(e, path);
        }
        if (r == 0)
            break;
        n += static_cast<std::size_t>(r);
    }
    auto key = decode_key(std::string_view(buf.data(), n));
    OPENSSL_cleanse(buf.data(), buf.size());
    if (!key)
        return fail(key.error().msg);
    return key;
}

KeyId key_id(const Key& key) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    const bool ok =
        ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
        EVP_DigestUpdate(ctx.get(), DSTOR_LABEL_KEY_ID, sizeof(DSTOR_LABEL_KEY_ID) - 1) == 1 &&
        EVP_DigestUpdate(ctx.get(), key.bytes.data(), key.bytes.size()) == 1 &&
        EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) == 1 && len >= DSTOR_KEY_ID_LEN;
    if (!ok)
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    KeyId id{};
    std::copy_n(digest.begin(), id.size(), id.begin());
    OPENSSL_cleanse(digest.data(), digest.size());
    return id;
}

bool parse_hex(std::string_view text, std::span<std::uint8_t> out) {
    if (text.size() != 2 * out.size())
        return false;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < out.size(); i++) {
        const int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

std::string format_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * bytes.size());
    for (auto b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 0xf];
    }
    return out;
}

std::string format_key_id(const KeyId& id) {
    return format_hex(id);
}

Result<std::optional<std::string>> restrict_key_output(int fd, const std::string& name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return Error::sys(errno, name);
    if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_IRGRP | S_IROTH)))
        return std::optional<std::string>{};
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0)
        return Error::sys(errno, name + " is readable by others and its mode cannot be set to "
                                        "0600; no key written");
    return std::optional<std::string>{name + " was readable by others; set its mode to 0600"};
}

} // namespace dstor
