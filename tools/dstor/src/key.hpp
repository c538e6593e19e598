// Pre-shared keys: generating, encoding, reading key files, fingerprints.
// Key material lives only in Key and KeyText, which wipe themselves
// (OPENSSL_cleanse) when they go away; nothing here prints a key.
//
// A key file holds exactly the base64 of DSTOR_KEY_LEN random bytes (44
// characters, as `dstor genkey` writes them), optionally followed by one
// newline. It must be a regular file (not a symbolic link) that neither the
// group nor others may read or write.
#pragma once

#include <linux/dstor.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "error.hpp"

namespace dstor {

// Characters of a key in base64, padding included (44 for 32 bytes).
inline constexpr std::size_t KEY_BASE64_LEN = 4 * ((DSTOR_KEY_LEN + 2) / 3);

struct Key {
    std::array<std::uint8_t, DSTOR_KEY_LEN> bytes{};

    Key() = default;
    Key(const Key&) = default;
    Key& operator=(const Key&) = default;
    ~Key(); // wipes the bytes

    // All zero bytes: "no key" to the kernel (DSTOR_CMD_EXPORT_SET --no-key).
    bool zero() const;
    bool operator==(const Key&) const = default;
};

// The fingerprint of a key, as DSTOR_A_KEY_ID carries it.
using KeyId = std::array<std::uint8_t, DSTOR_KEY_ID_LEN>;

// A key as base64 text followed by a newline; wiped when it goes away.
struct KeyText {
    std::array<char, KEY_BASE64_LEN + 1> chars{};

    KeyText() = default;
    KeyText(const KeyText&) = delete;
    KeyText& operator=(const KeyText&) = delete;
    ~KeyText();

    std::string_view base64() const { return {chars.data(), KEY_BASE64_LEN}; }
    std::string_view line() const { return {chars.data(), chars.size()}; } // with '\n'
};

// DSTOR_KEY_LEN bytes from the OpenSSL CSPRNG (RAND_bytes).
Result<Key> generate_key();

// The base64 of `key` (EVP_EncodeBlock) and a newline.
void encode_key(const Key& key, KeyText& out);

// Exactly the canonical base64 of DSTOR_KEY_LEN bytes, with at most one
// trailing newline; all zero bytes are refused too. The error says
// "not a dstor key (...)" and never repeats the text.
Result<Key> decode_key(std::string_view text);

// Read the key file `path`. Errors name the file: "PATH: <reason>".
// The one function every --key option and `dstor keyid` use.
Result<Key> read_key_file(const std::string& path);

// The first DSTOR_KEY_ID_LEN bytes of SHA-256(DSTOR_LABEL_KEY_ID || key);
// the label is "dstor key id", without its NUL.
KeyId key_id(const Key& key);

// Two lowercase hex digits per byte.
std::string format_hex(std::span<const std::uint8_t> bytes);

// Exactly 2 * out.size() hex digits, either case, into `out`; false (and
// `out` unspecified) for anything else.
bool parse_hex(std::string_view text, std::span<std::uint8_t> out);

// 16 lowercase hex digits.
std::string format_key_id(const KeyId& id);

// `dstor genkey`'s guard: if `fd` is a regular file whose mode lets group
// or others read it, set its mode to 0600 and return the warning to print
// ("NAME was readable by others; set its mode to 0600"). An error when the
// mode cannot be changed: the caller must not write the key then.
Result<std::optional<std::string>> restrict_key_output(int fd, const std::string& name);

} // namespace dstor
