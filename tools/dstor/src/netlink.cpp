#include "netlink.hpp"

#include <linux/genetlink.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <utility>

namespace dstor::nl {

// ---- Nest -----------------------------------------------------------------

Nest::Nest(Nest&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)), start_(std::exchange(other.start_, nullptr)) {}

void Nest::end() noexcept {
    if (msg_ != nullptr && start_ != nullptr)
        mnl_attr_nest_end(msg_->hdr(), start_);
    start_ = nullptr;
}

// ---- Message --------------------------------------------------------------

Message::Message(std::uint16_t type, std::uint16_t flags, std::uint8_t cmd, std::uint8_t version)
    : buf_(capacity) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
    genl->cmd = cmd;
    genl->version = version;
}

Message& Message::operator=(Message&& other) noexcept {
    if (this != &other) {
        wipe();
        buf_ = std::move(other.buf_);
        overflow_ = other.overflow_;
    }
    return *this;
}

void Message::wipe() noexcept {
    if (!buf_.empty())
        OPENSSL_cleanse(buf_.data(), buf_.size());
}

void Message::put_u8(std::uint16_t type, std::uint8_t v) {
    overflow_ |= !mnl_attr_put_u8_check(hdr(), buf_.size(), type, v);
}

void Message::put_u16(std::uint16_t type, std::uint16_t v) {
    overflow_ |= !mnl_attr_put_u16_check(hdr(), buf_.size(), type, v);
}

void Message::put_u32(std::uint16_t type, std::uint32_t v) {
    overflow_ |= !mnl_attr_put_u32_check(hdr(), buf_.size(), type, v);
}

void Message::put_u64(std::uint16_t type, std::uint64_t v) {
    overflow_ |= !mnl_attr_put_u64_check(hdr(), buf_.size(), type, v);
}

void Message::put_str(std::uint16_t type, std::string_view s) {
    const std::string z(s);
    overflow_ |= !mnl_attr_put_strz_check(hdr(), buf_.size(), type, z.c_str());
}

void Message::put_bin(std::uint16_t type, const void* data, std::size_t len) {
    overflow_ |= !mnl_attr_put_check(hdr(), buf_.size(), type, len, data);
}

void Message::put_flag(std::uint16_t type) {
    static const char none = 0; // libmnl copies 0 bytes from here
    put_bin(type, &none, 0);
}

Nest Message::nest(std::uint16_t type) {
    nlattr* start = mnl_attr_nest_start_check(hdr(), buf_.size(), type);
    if (start == nullptr)
        overflow_ = true;
    return Nest(this, start);
}

// ---- receiving ------------------------------------------------------------

namespace {

struct ExtackView {
    const char* msg = nullptr;
    std::size_t msg_len = 0;
    bool has_miss_type = false;
    std::uint32_t miss_type = 0;
};

int extack_attr(const nlattr* attr, void* data) noexcept {
    auto* v = static_cast<ExtackView*>(data);
    switch (mnl_attr_get_type(attr)) {
    case NLMSGERR_ATTR_MSG:
        if (mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0) {
            v->msg = static_cast<const char*>(mnl_attr_get_payload(attr));
            v->msg_len = strnlen(v->msg, mnl_attr_get_payload_len(attr));
        }
        break;
    case NLMSGERR_ATTR_MISS_TYPE:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
            v->has_miss_type = true;
            v->miss_type = mnl_attr_get_u32(attr);
        }
        break;
    default:
        break;
    }
    return MNL_CB_OK;
}

// Parse the extack TLVs that start `offset` bytes into the payload of `nlh`.
Error error_from(const nlmsghdr* nlh, int error, std::size_t offset) {
    Error e = Error::kernel(error < 0 ? -error : error, {});
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
        return e;
    if (MNL_ALIGN(offset) > mnl_nlmsg_get_payload_len(nlh))
        return e;
    ExtackView v;
    mnl_attr_parse(nlh, static_cast<unsigned int>(offset), extack_attr, &v);
    if (v.msg != nullptr && v.msg_len > 0) {
        e.msg.assign(v.msg, v.msg_len);
        // NL_SET_ERR_MSG_MOD prefixes the module name; the tool prints its own.
        constexpr std::string_view prefix = "dstor: ";
        if (e.msg.starts_with(prefix))
            e.msg.erase(0, prefix.size());
    } else if (v.has_miss_type)
        e.msg = "missing required attribute " + std::to_string(v.miss_type);
    return e;
}

struct Exchange {
    const ReplyFn* on_reply = nullptr;
    std::optional<Error> error;
    bool done = false;
};

int data_cb(const nlmsghdr* nlh, void* data) noexcept {
    auto* x = static_cast<Exchange*>(data);
    if (x->on_reply == nullptr || !*x->on_reply)
        return MNL_CB_OK;
    try {
        auto r = (*x->on_reply)(nlh);
        if (!r) {
            x->error = r.error();
            return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
    } catch (const std::exception& ex) {
        x->error = Error::user(std::string("internal error: ") + ex.what());
    } catch (...) {
        x->error = Error::user("internal error");
    }
    return MNL_CB_ERROR;
}

int noop_cb(const nlmsghdr*, void*) noexcept {
    return MNL_CB_OK;
}

int error_cb(const nlmsghdr* nlh, void* data) noexcept {
    auto* x = static_cast<Exchange*>(data);
    try {
        Error e = parse_error_message(nlh);
        if (e.err == 0) {
            x->done = true;
            return MNL_CB_STOP;
        }
        x->error = std::move(e);
    } catch (...) {
        x->error = Error::sys(ENOMEM, "netlink");
    }
    return MNL_CB_ERROR;
}

int done_cb(const nlmsghdr* nlh, void* data) noexcept {
    auto* x = static_cast<Exchange*>(data);
    x->done = true;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
        return MNL_CB_STOP;
    int status = 0;
    std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(status));
    if (status >= 0)
        return MNL_CB_STOP;
    try {
        x->error = parse_error_message(nlh);
    } catch (...) {
        x->error = Error::sys(ENOMEM, "netlink");
    }
    return MNL_CB_ERROR;
}

int overrun_cb(const nlmsghdr*, void* data) noexcept {
    auto* x = static_cast<Exchange*>(data);
    x->error = Error::sys(ENOBUFS, "netlink overrun");
    return MNL_CB_ERROR;
}

} // namespace

Error parse_error_message(const nlmsghdr* nlh) {
    const std::size_t len = mnl_nlmsg_get_payload_len(nlh);
    if (nlh->nlmsg_type == NLMSG_DONE) {
        int status = 0;
        if (len >= sizeof(status))
            std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(status));
        return error_from(nlh, status, sizeof(int));
    }
    if (nlh->nlmsg_type != NLMSG_ERROR || len < sizeof(nlmsgerr))
        return Error::sys(EBADMSG, "malformed netlink error message");
    nlmsgerr err{};
    std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
    std::size_t offset = sizeof(nlmsgerr);
    // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        if (err.msg.nlmsg_len < sizeof(nlmsghdr))
            return Error::kernel(-err.error, {});
        offset = sizeof(int) + err.msg.nlmsg_len;
    }
    return error_from(nlh, err.error, offset);
}

Result<bool> dispatch(const void* buf, std::size_t len, std::uint32_t seq, std::uint32_t portid,
                      const ReplyFn& on_reply) {
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
        nullptr, noop_cb, error_cb, done_cb, overrun_cb,
    };
    Exchange x;
    x.on_reply = &on_reply;
    errno = 0;
    const int ret = mnl_cb_run2(buf, len, seq, portid, data_cb, &x, ctl, NLMSG_MIN_TYPE);
    if (x.error)
        return *x.error;
    if (ret < 0) {
        if (errno == EINTR)
            return Error::user("the kernel's list changed during the dump; try again");
        return Error::sys(errno != 0 ? errno : EPROTO, "netlink");
    }
    return x.done || ret == MNL_CB_STOP;
}

// ---- family resolution ----------------------------------------------------

namespace {

template <std::size_t Max>
struct Attrs {
    const nlattr* tb[Max + 1] = {};

    static int collect(const nlattr* attr, void* data) noexcept {
        auto* a = static_cast<Attrs*>(data);
        const auto type = mnl_attr_get_type(attr);
        if (type <= Max)
            a->tb[type] = attr;
        return MNL_CB_OK;
    }
};

using GroupList = std::vector<std::pair<std::string, std::uint32_t>>;

// One entry of CTRL_ATTR_MCAST_GROUPS: a nest of CTRL_ATTR_MCAST_GRP_*. An
// entry without a usable name and id is skipped: only `dstor monitor` needs
// groups, and it says so when its group is missing.
int mcast_group(const nlattr* entry, void* data) noexcept {
    auto* groups = static_cast<GroupList*>(data);
    Attrs<CTRL_ATTR_MCAST_GRP_MAX> g;
    if (mnl_attr_parse_nested(entry, Attrs<CTRL_ATTR_MCAST_GRP_MAX>::collect, &g) < 0)
        return MNL_CB_OK;
    const nlattr* name = g.tb[CTRL_ATTR_MCAST_GRP_NAME];
    const nlattr* id = g.tb[CTRL_ATTR_MCAST_GRP_ID];
    if (name == nullptr || id == nullptr || mnl_attr_validate(id, MNL_TYPE_U32) < 0 ||
        mnl_attr_validate(name, MNL_TYPE_STRING) < 0)
        return MNL_CB_OK;
    const auto* p = static_cast<const char*>(mnl_attr_get_payload(name));
    try {
        groups->emplace_back(std::string(p, strnlen(p, mnl_attr_get_payload_len(name))),
                             mnl_attr_get_u32(id));
    } catch (...) {
        return MNL_CB_ERROR;
    }
    return MNL_CB_OK;
}

} // namespace

Result<FamilyInfo> parse_family(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(genlmsghdr))
        return Error::user("malformed family reply: truncated message");
    Attrs<CTRL_ATTR_MAX> a;
    if (mnl_attr_parse(nlh, sizeof(genlmsghdr), Attrs<CTRL_ATTR_MAX>::collect, &a) < 0)
        return Error::user("malformed family reply: bad attribute layout");
    FamilyInfo f;
    if (const nlattr* id = a.tb[CTRL_ATTR_FAMILY_ID]) {
        if (mnl_attr_validate(id, MNL_TYPE_U16) < 0)
            return Error::user("malformed family reply: bad CTRL_ATTR_FAMILY_ID");
        f.id = mnl_attr_get_u16(id);
    }
    if (const nlattr* groups = a.tb[CTRL_ATTR_MCAST_GROUPS])
        if (mnl_attr_parse_nested(groups, mcast_group, &f.groups) < 0)
            return Error::sys(ENOMEM, "family reply");
    return f;
}

// ---- Socket ---------------------------------------------------------------

Socket::Socket(mnl_socket* nl, std::uint32_t portid) noexcept
    : nl_(nl), portid_(portid), seq_(static_cast<std::uint32_t>(std::time(nullptr))) {}

Socket::Socket(Socket&& other) noexcept
    : nl_(std::exchange(other.nl_, nullptr)), portid_(other.portid_), seq_(other.seq_),
      family_(other.family_), version_(other.version_), groups_(std::move(other.groups_)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        if (nl_ != nullptr)
            mnl_socket_close(nl_);
        nl_ = std::exchange(other.nl_, nullptr);
        portid_ = other.portid_;
        seq_ = other.seq_;
        family_ = other.family_;
        version_ = other.version_;
        groups_ = std::move(other.groups_);
    }
    return *this;
}

Socket::~Socket() {
    if (nl_ != nullptr)
        mnl_socket_close(nl_);
}

Result<Socket> Socket::open() {
    mnl_socket* nl = mnl_socket_open(NETLINK_GENERIC);
    if (nl == nullptr)
        return Error::sys(errno, "cannot open a generic netlink socket");
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int e = errno;
        mnl_socket_close(nl);
        return Error::sys(e, "cannot bind the netlink socket");
    }
    // Extended ACKs carry the kernel's reason; capped ACKs do not echo the
    // request. Both exist since Linux 4.12; without them errors lose their text.
    int one = 1;
    mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
    return Socket(nl, mnl_socket_get_portid(nl));
}

Result<Socket> Socket::open_family(const char* name, std::uint8_t version) {
    auto sock = open();
    if (!sock)
        return sock;
    auto family = sock->resolve(name);
    if (!family)
        return family.error();
    sock->family_ = family->id;
    sock->groups_ = std::move(family->groups);
    sock->version_ = version;
    return sock;
}

Result<FamilyInfo> Socket::resolve(const char* name) {
    Message msg(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
    msg.put_str(CTRL_ATTR_FAMILY_NAME, name);
    FamilyInfo family;
    auto r = transact(msg, [&family](const nlmsghdr* nlh) -> Result<void> {
        auto f = parse_family(nlh);
        if (!f)
            return f.error();
        family = std::move(*f);
        return {};
    });
    if (!r)
        return r.error();
    if (family.id == 0)
        return Error::kernel(ENOENT, "no family id in the reply");
    return family;
}

Result<std::uint32_t> Socket::group(std::string_view name) const {
    for (const auto& [n, id] : groups_)
        if (n == name)
            return id;
    return Error::user("the kernel family has no multicast group '" + std::string(name) + "'");
}

Result<void> Socket::join(std::uint32_t group) {
    if (mnl_socket_setsockopt(nl_, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
        return Error::sys(errno, "cannot join the netlink multicast group");
    return {};
}

Result<void> Socket::receive(const ReplyFn& on_msg) {
    std::vector<char> buf(32768);
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0)
        return Error::sys(errno, "netlink receive");
    // Notifications carry sequence 0 and port id 0: no sequence check.
    auto r = dispatch(buf.data(), static_cast<std::size_t>(n), 0, 0, on_msg);
    if (!r)
        return r.error();
    return {};
}

Message Socket::request(std::uint8_t cmd) const {
    return Message(family_, NLM_F_REQUEST | NLM_F_ACK, cmd, version_);
}

Message Socket::dump(std::uint8_t cmd) const {
    return Message(family_, NLM_F_REQUEST | NLM_F_DUMP, cmd, version_);
}

Result<void> Socket::transact(Message& msg, const ReplyFn& on_reply) {
    if (msg.overflow())
        return Error::sys(EMSGSIZE, "netlink request too large");
    nlmsghdr* nlh = msg.hdr();
    nlh->nlmsg_seq = ++seq_;
    nlh->nlmsg_pid = 0;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0)
        return Error::sys(errno, "netlink send");

    // Large enough for any dump skb the kernel builds (it sizes them from
    // the largest receive buffer seen, capped at 32 KiB).
    std::vector<char> buf(32768);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::sys(errno, "netlink receive");
        }
        auto done =
            dispatch(buf.data(), static_cast<std::size_t>(n), nlh->nlmsg_seq, portid_, on_reply);
        if (!done)
            return done.error();
        if (*done)
            return {};
    }
}

} // namespace dstor::nl
