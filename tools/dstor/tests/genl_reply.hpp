// Generic netlink replies built by hand, as the kernel would send them,
// for the tests of the tool's decoders.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/dstor.h>
#include <linux/genetlink.h>

#include <cstdint>

namespace dstor_test {

// The family id the replies carry (any id: the decoders do not check it).
constexpr std::uint16_t family = 0x1d;

struct Buffer {
    alignas(8) char data[32768] = {};
    nlmsghdr* nlh() { return reinterpret_cast<nlmsghdr*>(data); }
};

// A dstor reply header for `cmd` at the start of `b`.
inline nlmsghdr* genl_reply(Buffer& b, std::uint8_t cmd) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(b.data);
    nlh->nlmsg_type = family;
    auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
    genl->cmd = cmd;
    genl->version = DSTOR_GENL_VERSION;
    return nlh;
}

} // namespace dstor_test
