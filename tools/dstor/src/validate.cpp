#include "validate.hpp"

#include <linux/dstor.h>
#include <linux/fs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace dstor {

namespace {

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

std::string printable(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u == ' ')
        return "a space";
    if (u > ' ' && u < 0x7f)
        return std::string("'") + c + "'";
    char buf[24];
    std::snprintf(buf, sizeof(buf), "the byte 0x%02x", u);
    return buf;
}

// A canonical decimal (no sign, no leading zero, no spaces) that fits a u32.
std::optional<std::uint32_t> parse_decimal(std::string_view text) {
    if (text.empty() || (text.size() > 1 && text.front() == '0'))
        return std::nullopt;
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return n;
}

// Any decimal that fits a u32: digits only (no sign, no spaces).
std::optional<std::uint32_t> parse_number(std::string_view text) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return n;
}

// A number from `min` to `max`; the error names `what` and the range:
// "WHAT must be a number[UNIT] from MIN to MAX".
Result<std::uint32_t> parse_bounded(std::string_view text, std::string_view what, std::uint32_t min,
                                    std::uint32_t max, const char* unit = "") {
    auto n = parse_number(text);
    if (!n || *n < min || *n > max)
        return Error::user(std::string(what) + " must be a number" + unit + " from " +
                           std::to_string(min) + " to " + std::to_string(max));
    return *n;
}

// Digits with an optional fraction and an optional K, M or G (either case)
// meaning `base`, base^2, base^3: "200M", "1.5G", "4096". Nothing when the
// text is not such a number, its value is not whole, or it overflows.
std::optional<std::uint64_t> parse_scaled(std::string_view text, std::uint64_t base) {
    std::uint64_t mult = 1;
    constexpr std::string_view suffixes = "KMGkmg";
    if (const auto pos = text.empty() ? suffixes.npos : suffixes.find(text.back());
        pos != suffixes.npos) {
        for (std::size_t i = 0; i <= pos % 3; i++)
            mult *= base;
        text.remove_suffix(1);
    }
    // All digits into `mantissa`; `scale` is 10^(digits after the dot).
    std::uint64_t mantissa = 0, scale = 1;
    std::size_t whole_digits = 0, frac_digits = 0;
    bool dot = false;
    for (char c : text) {
        if (c == '.' && !dot) {
            dot = true;
            continue;
        }
        if (c < '0' || c > '9' || __builtin_mul_overflow(mantissa, 10, &mantissa) ||
            __builtin_add_overflow(mantissa, static_cast<std::uint64_t>(c - '0'), &mantissa))
            return std::nullopt;
        ++(dot ? frac_digits : whole_digits);
        if (dot && __builtin_mul_overflow(scale, 10, &scale))
            return std::nullopt;
    }
    std::uint64_t v = 0;
    if (whole_digits == 0 || (dot && frac_digits == 0) ||
        __builtin_mul_overflow(mantissa, mult, &v) || v % scale != 0)
        return std::nullopt;
    return v / scale;
}

} // namespace

std::string format_scaled(std::uint64_t value, std::uint64_t base) {
    static const char suffixes[] = "KMGTPE";
    if (value < base)
        return std::to_string(value);
    double v = static_cast<double>(value);
    std::size_t i = 0;
    for (v /= static_cast<double>(base); v >= static_cast<double>(base) && i + 2 < sizeof(suffixes);
         v /= static_cast<double>(base))
        ++i;
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", v);
    std::string out = buf;
    while (out.back() == '0')
        out.pop_back();
    if (out.back() == '.')
        out.pop_back();
    return out + suffixes[i];
}

Result<std::uint64_t> parse_rate(std::string_view text) {
    auto v = parse_scaled(text, 1000);
    if (!v || *v < DSTOR_MC_MIN_RATE || *v > DSTOR_MC_MAX_RATE)
        return Error::user("--rate must be bits per second from " +
                           format_scaled(DSTOR_MC_MIN_RATE, 1000) + " to " +
                           format_scaled(DSTOR_MC_MAX_RATE, 1000) +
                           ", with an optional K, M or G (powers of 1000): e.g. 200M");
    return *v;
}

Result<std::uint32_t> parse_block_size(std::string_view text) {
    auto v = parse_scaled(text, 1024);
    if (!v || *v < DSTOR_MC_MIN_BLOCK || *v > DSTOR_MC_MAX_BLOCK || (*v & (*v - 1)) != 0)
        return Error::user("--block-size must be a power of two from " +
                           format_scaled(DSTOR_MC_MIN_BLOCK, 1024) + " to " +
                           format_scaled(DSTOR_MC_MAX_BLOCK, 1024) +
                           " bytes, with an optional K or M (powers of 1024): e.g. 64K");
    return static_cast<std::uint32_t>(*v);
}

Result<std::uint32_t> parse_chunk_size(std::string_view text) {
    auto v = parse_scaled(text, 1024);
    if (!v || *v < INDEX_MIN_CHUNK || *v > INDEX_MAX_CHUNK || (*v & (*v - 1)) != 0)
        return Error::user("--block-size must be a power of two from " +
                           format_scaled(INDEX_MIN_CHUNK, 1024) + " to " +
                           format_scaled(INDEX_MAX_CHUNK, 1024) +
                           " bytes, with an optional K or M (powers of 1024): e.g. 64K");
    return static_cast<std::uint32_t>(*v);
}

std::optional<std::string> check_interface_name(std::string_view name) {
    if (name.empty())
        return "the interface name is empty";
    if (name.size() >= IF_NAMESIZE)
        return "the interface name '" + std::string(name) + "' is " + std::to_string(name.size()) +
               " characters long (at most " + std::to_string(IF_NAMESIZE - 1) + ")";
    if (name == ".")
        return "'.' is not an interface name";
    if (name == "..")
        return "'..' is not an interface name";
    for (char c : name)
        if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return "the interface name '" + std::string(name) + "' contains " + printable(c);
    return std::nullopt;
}

Result<std::uint32_t> resolve_interface(const std::string& name) {
    if (auto bad = check_interface_name(name))
        return Error::user(*bad);
    const unsigned int index = if_nametoindex(name.c_str());
    if (index == 0) {
        if (errno == ENODEV || errno == ENXIO || errno == ENOENT)
            return Error::user("no interface '" + name +
                               "' in this network namespace (see 'ip link')");
        return Error::sys(errno, "interface '" + name + "'");
    }
    return index;
}

std::optional<std::string> interface_name(std::uint32_t ifindex) {
    char buf[IF_NAMESIZE] = {};
    if (ifindex == 0 || if_indextoname(ifindex, buf) == nullptr)
        return std::nullopt;
    return std::string(buf);
}

std::optional<std::string> check_name(std::string_view name) {
    constexpr std::size_t max = DSTOR_NAME_MAX - 1;
    if (name.empty())
        return "the name is empty";
    if (name.size() > max)
        return "the name is " + std::to_string(name.size()) + " characters long (at most " +
               std::to_string(max) + ")";
    for (char c : name)
        if (!name_char(c))
            return "the name '" + std::string(name) + "' contains " + printable(c) +
                   ": only letters, digits, '.', '_' and '-' are allowed";
    return std::nullopt;
}

std::optional<std::string> check_local_name(std::string_view name) {
    if (auto bad = check_name(name))
        return bad;
    if (name == "." || name == "..")
        return "the name '" + std::string(name) + "' is not a file name";
    // The udev rule names partitions NAME-partN.
    if (auto at = name.rfind("-part"); at != std::string_view::npos) {
        auto digits = name.substr(at + 5);
        if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos)
            return "the name '" + std::string(name) + "' ends in -partN, which partitions' links use";
    }
    return std::nullopt;
}

Result<std::uint32_t> parse_connections(std::string_view text) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 1 ||
        n > DSTOR_MAX_CONNECTIONS)
        return Error::user("--connections must be a number from 1 to " +
                           std::to_string(DSTOR_MAX_CONNECTIONS));
    return n;
}

std::optional<std::uint32_t> parse_device_index(std::string_view text) {
    // A link to the device (/dev/disk/by-dstor/NAME, by-id, by-uuid...).
    std::string target;
    if (text.starts_with("/") && !text.starts_with("/dev/dstor")) {
        std::error_code ec;
        auto real = std::filesystem::canonical(std::string(text), ec);
        if (ec)
            return std::nullopt;
        target = real.string();
        text = target;
    }
    if (text.starts_with("/dev/"))
        text.remove_prefix(5);
    if (!text.starts_with("dstor"))
        return std::nullopt;
    text.remove_prefix(5);
    return parse_decimal(text);
}

std::optional<std::uint32_t> parse_index(std::string_view text) {
    return parse_decimal(text);
}

Result<std::uint32_t> parse_interval(std::string_view text, std::string_view what) {
    std::uint64_t unit = 1;
    std::string_view digits = text;
    if (!digits.empty()) {
        switch (digits.back()) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            unit = 0;
            break;
        }
        if (unit)
            digits.remove_suffix(1);
        else
            unit = 1;
    }
    const std::string quoted = std::string(what) + " '" + std::string(text) + "'";
    auto n = parse_number(digits);
    if (!n)
        return Error::user(quoted + ": not a duration (seconds, or a number with s, m, h or d)");
    const std::uint64_t seconds = *n * unit;
    if (seconds < DSTOR_SYNC_MIN_EVERY || seconds > DSTOR_SYNC_MAX_EVERY || seconds / unit != *n)
        return Error::user(quoted + ": must be from " + std::to_string(DSTOR_SYNC_MIN_EVERY) +
                           " s to " + std::to_string(DSTOR_SYNC_MAX_EVERY / 86400) + " days");
    return static_cast<std::uint32_t>(seconds);
}

Result<std::uint32_t> parse_timeout(std::string_view text) {
    return parse_bounded(text, "--timeout", 1, DSTOR_MAX_SECONDS, " of seconds");
}

Result<std::uint32_t> parse_apply_retry(std::string_view text) {
    return parse_bounded(text, "--retry", 0, DSTOR_MAX_SECONDS, " of seconds");
}

Result<std::uint32_t> parse_retries(std::string_view text) {
    return parse_bounded(text, "--retries", 0, DSTOR_MAX_RETRIES, "");
}

Result<std::uint32_t> parse_keepalive(std::string_view text) {
    return parse_bounded(text, "--keepalive", 1, DSTOR_MAX_SECONDS, " of seconds");
}

Result<std::uint32_t> parse_dead_after(std::string_view text) {
    return parse_bounded(text, "--dead-after", 2, DSTOR_MAX_SECONDS, " of seconds");
}

Result<Reconnect> parse_reconnect(std::string_view text) {
    const auto colon = text.find(':');
    auto min = parse_number(text.substr(0, colon));
    auto max = colon == std::string_view::npos ? min : parse_number(text.substr(colon + 1));
    auto in_range = [](const std::optional<std::uint32_t>& n) {
        return n && *n >= 1 && *n <= DSTOR_MAX_SECONDS;
    };
    if (!in_range(min) || !in_range(max))
        return Error::user("--reconnect must be MIN:MAX or N, seconds from 1 to " +
                           std::to_string(DSTOR_MAX_SECONDS));
    if (*min > *max)
        return Error::user("--reconnect " + std::string(text) + ": the minimum (" +
                           std::to_string(*min) + " s) exceeds the maximum (" +
                           std::to_string(*max) + " s)");
    return Reconnect{*min, *max};
}

std::optional<std::string> check_timers(const Timers& t) {
    if (t.keepalive && t.dead_after && *t.dead_after <= *t.keepalive)
        return "--dead-after (" + std::to_string(*t.dead_after) +
               " s) must be longer than --keepalive (" + std::to_string(*t.keepalive) + " s)";
    if (t.reconnect_min && t.reconnect_max && *t.reconnect_min > *t.reconnect_max)
        return "the reconnect minimum (" + std::to_string(*t.reconnect_min) +
               " s) exceeds the maximum (" + std::to_string(*t.reconnect_max) + " s)";
    return std::nullopt;
}

Result<std::uint32_t> parse_perm(std::string_view text) {
    if (text == "ro")
        return std::uint32_t{DSTOR_PERM_RO};
    if (text == "rw")
        return std::uint32_t{DSTOR_PERM_RW};
    return Error::user("permission '" + std::string(text) + "' is neither ro nor rw");
}

Result<AclEntry> parse_allow(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos)
        return Error::user("expected PREFIX=ro or PREFIX=rw");
    auto prefix = parse_prefix(text.substr(0, eq));
    if (!prefix)
        return prefix.error();
    auto perm = parse_perm(text.substr(eq + 1));
    if (!perm)
        return perm.error();
    return AclEntry{*prefix, *perm};
}

std::optional<std::string> check_acls(const std::vector<AclEntry>& acls) {
    if (acls.size() > DSTOR_MAX_ACLS)
        return std::to_string(acls.size()) + " access entries (at most " +
               std::to_string(DSTOR_MAX_ACLS) + ")";
    for (std::size_t i = 0; i < acls.size(); i++)
        for (std::size_t j = 0; j < i; j++)
            if (acls[i].prefix == acls[j].prefix)
                return format_prefix(acls[i].prefix) + " is given twice";
    return std::nullopt;
}

Result<std::uint32_t> parse_crypto_workers(std::string_view text) {
    return parse_bounded(text, "crypto-workers", 1, DSTOR_MAX_CRYPTO_WORKERS);
}

Result<std::uint32_t> parse_session_limit(std::string_view text, std::string_view what) {
    return parse_bounded(text, what, 1, DSTOR_MAX_SESSION_LIMIT);
}

Result<std::string> check_device(const std::string& path) {
    if (path.empty())
        return Error::user("the device path is empty");
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return Error::user(path + ": no such file");
        return Error::sys(errno, path);
    }
    if (!S_ISBLK(st.st_mode))
        return Error::user(path + ": not a block device");
    std::string abs = path;
    if (path.front() != '/') {
        std::error_code ec;
        auto p = std::filesystem::absolute(path, ec);
        if (ec)
            return Error::sys(ec.value(), path);
        abs = p.lexically_normal().string();
    }
    if (abs.size() >= DSTOR_PATH_MAX)
        return Error::user(abs + ": path too long (at most " + std::to_string(DSTOR_PATH_MAX - 1) +
                           " bytes)");
    return abs;
}

Result<std::uint64_t> image_size(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return Error::sys(errno, path);
    if (S_ISREG(st.st_mode))
        return static_cast<std::uint64_t>(st.st_size);
    if (S_ISBLK(st.st_mode)) {
        std::uint64_t size = 0;
        if (::ioctl(fd, BLKGETSIZE64, &size) != 0)
            return Error::sys(errno, path);
        return size;
    }
    return Error::user(path + ": not a block device or regular file");
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace dstor
