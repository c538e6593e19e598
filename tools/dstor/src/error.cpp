#include "error.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>

namespace dstor {

std::string Error::text() const {
    if (!from_kernel) {
        if (err == 0)
            return msg;
        return msg.empty() ? std::string(std::strerror(err)) : msg + ": " + std::strerror(err);
    }
    // The kernel names the capability it wanted (CAP_SYS_ADMIN to open a
    // block device); without a message it was genetlink's CAP_NET_ADMIN.
    if (err == EPERM && msg.empty())
        return "permission denied: dstor needs CAP_NET_ADMIN (run as root)";
    if (err == EPERM)
        return "permission denied: " + msg;
    if (msg.empty())
        return std::strerror(err);
    return msg + " (" + std::strerror(err) + ")";
}

void report(const std::string& command, const std::string& text) {
    std::cerr << "dstor: ";
    if (!command.empty())
        std::cerr << command << ": ";
    std::cerr << text << '\n';
}

void report(const std::string& command, const Error& error) {
    report(command, error.text());
}

} // namespace dstor
