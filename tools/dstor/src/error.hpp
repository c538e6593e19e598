// Errors as values: an errno plus the kernel's extended ACK text, or a
// sentence of dstor's own. Nothing here throws.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dstor {

struct Error {
    int err = 0;              // positive errno; 0 when dstor itself found the problem
    std::string msg;          // the kernel's extack message, or dstor's own sentence
    bool from_kernel = false; // err/msg came from a netlink NLMSG_ERROR

    static Error user(std::string m) { return Error{0, std::move(m), false}; }
    static Error sys(int e, std::string what) { return Error{e, std::move(what), false}; }
    static Error kernel(int e, std::string extack) { return Error{e, std::move(extack), true}; }

    // One line, without the "dstor: <command>: " prefix:
    //   kernel:  "<extack> (<strerror>)", or "<strerror>" without extack;
    //            EPERM becomes a hint to run as root.
    //   sys:     "<what>: <strerror>"
    //   user:    "<msg>"
    std::string text() const;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : e_(std::move(error)) {}

    bool ok() const { return !e_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *e_; }

private:
    std::optional<Error> e_;
};

// Exit codes of the tool.
inline constexpr int EXIT_OK = 0;
inline constexpr int EXIT_FAIL = 1;  // the system or the kernel refused
inline constexpr int EXIT_USAGE = 2; // dstor refused the arguments

// "dstor: <command>: <text>" on stderr.
void report(const std::string& command, const std::string& text);
void report(const std::string& command, const Error& error);

} // namespace dstor
