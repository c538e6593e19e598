// RAII over libmnl for generic netlink: a socket that resolves a family and
// runs request/ACK and dump exchanges with extended ACKs, a move-only message
// builder and a nest guard. Errors are values (Error) carrying the errno and
// the kernel's extack text; no exception crosses a libmnl callback.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"

namespace dstor::nl {

class Message;

// Closes the nested attribute it opened when it goes out of scope (or on end()).
// The Message must outlive it and must not move while it is open.
class [[nodiscard]] Nest {
public:
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    Nest(Nest&& other) noexcept;
    Nest& operator=(Nest&&) = delete;
    ~Nest() { end(); }

    void end() noexcept;

private:
    friend class Message;
    Nest(Message* msg, nlattr* start) noexcept : msg_(msg), start_(start) {}

    Message* msg_;
    nlattr* start_; // nullptr when the message had no room, or once closed
};

// One generic netlink message in its own buffer. Attributes that do not fit
// mark the message as overflowed; Socket::transact() then refuses to send it.
// The buffer is wiped when the message goes away: requests may carry a key.
class Message {
public:
    // Room for DSTOR_MAX_ACLS IPv6 entries (40 bytes each) in one EXPORT_ADD.
    static constexpr std::size_t capacity = 16384;

    Message(std::uint16_t type, std::uint16_t flags, std::uint8_t cmd, std::uint8_t version);
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    Message(Message&&) noexcept = default;
    Message& operator=(Message&& other) noexcept;
    ~Message() { wipe(); }

    void put_u8(std::uint16_t type, std::uint8_t v);
    void put_u16(std::uint16_t type, std::uint16_t v);
    void put_u32(std::uint16_t type, std::uint32_t v);
    void put_u64(std::uint16_t type, std::uint64_t v);
    void put_str(std::uint16_t type, std::string_view s); // NUL-terminated
    void put_bin(std::uint16_t type, const void* data, std::size_t len);
    void put_flag(std::uint16_t type); // NLA_FLAG: no payload
    Nest nest(std::uint16_t type);

    nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
    const nlmsghdr* hdr() const { return reinterpret_cast<const nlmsghdr*>(buf_.data()); }
    std::size_t size() const { return hdr()->nlmsg_len; }
    bool overflow() const { return overflow_; }

private:
    friend class Nest;
    void wipe() noexcept;

    std::vector<char> buf_;
    bool overflow_ = false;
};

// Called for each data message of a reply or dump. A returned Error ends the
// exchange; so does an exception, which is caught before it reaches libmnl.
using ReplyFn = std::function<Result<void>(const nlmsghdr*)>;

// What CTRL_CMD_GETFAMILY says about a family: its id and its multicast
// groups (CTRL_ATTR_MCAST_GROUPS), name -> id.
struct FamilyInfo {
    std::uint16_t id = 0;
    std::vector<std::pair<std::string, std::uint32_t>> groups;
};

// Parse one reply of CTRL_CMD_GETFAMILY. Exposed for tests.
Result<FamilyInfo> parse_family(const nlmsghdr* nlh);

class Socket {
public:
    // A NETLINK_GENERIC socket with NETLINK_EXT_ACK and NETLINK_CAP_ACK.
    static Result<Socket> open();
    // open() and resolve the family `name` and its multicast groups; a
    // missing family is ENOENT.
    static Result<Socket> open_family(const char* name, std::uint8_t version);

    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    ~Socket();

    std::uint16_t family() const { return family_; }
    int fd() const { return mnl_socket_get_fd(nl_); }

    // The id of the resolved family's multicast group `name`.
    Result<std::uint32_t> group(std::string_view name) const;
    // Subscribe to a multicast group (NETLINK_ADD_MEMBERSHIP).
    Result<void> join(std::uint32_t group);
    // Receive one buffer of notifications (blocking) and pass each data
    // message to `on_msg`. EINTR is returned as an error (err == EINTR) so
    // the caller can look at its signals; ENOBUFS means notifications were lost.
    Result<void> receive(const ReplyFn& on_msg);

    // A "do" request (NLM_F_REQUEST | NLM_F_ACK) or a dump (NLM_F_REQUEST | NLM_F_DUMP)
    // for the resolved family.
    Message request(std::uint8_t cmd) const;
    Message dump(std::uint8_t cmd) const;

    // Send `msg`, pass each data message of the answer to `on_reply`, and
    // return once the ACK (or NLMSG_DONE) arrives, or the first error.
    Result<void> transact(Message& msg, const ReplyFn& on_reply = {});

private:
    Socket(mnl_socket* nl, std::uint32_t portid) noexcept;
    Result<FamilyInfo> resolve(const char* name);

    mnl_socket* nl_ = nullptr;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
    std::uint16_t family_ = 0;
    std::uint8_t version_ = 0;
    std::vector<std::pair<std::string, std::uint32_t>> groups_;
};

// The errno and extack text of an NLMSG_ERROR (error 0 is an ACK: err == 0),
// or of an NLMSG_DONE that ends a failed dump. Exposed for tests.
Error parse_error_message(const nlmsghdr* nlh);

// Run libmnl's callbacks over one received buffer: true once the exchange is
// over (ACK or DONE), false when more is to come. Exposed for tests.
Result<bool> dispatch(const void* buf, std::size_t len, std::uint32_t seq, std::uint32_t portid,
                      const ReplyFn& on_reply);

} // namespace dstor::nl
