#include "validate.hpp"

#include <linux/dstor.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
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

} // namespace

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
    if (text.starts_with("/dev/"))
        text.remove_prefix(5);
    if (!text.starts_with("dstor"))
        return std::nullopt;
    text.remove_prefix(5);
    if (text.empty() || (text.size() > 1 && text.front() == '0'))
        return std::nullopt;
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return n;
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

} // namespace dstor
