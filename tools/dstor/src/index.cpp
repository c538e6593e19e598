// dstor index DEVICE|EXPORT --caibx FILE --store DIR: a casync blob index of
// an image and the chunk store it refers to, one chunk per dstor block. The
// formats are in casync.cpp; this file reads the image and writes the files.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <linux/dstor.h>
#include <linux/fs.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "casync.hpp"
#include "commands.hpp"
#include "fd.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

using casync::Compression;

// A file removed on scope exit unless kept: the temporary index.
class TempFile {
public:
    TempFile() = default;
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (!path.empty())
            ::unlinkat(dirfd, path.c_str(), 0);
    }
    int dirfd = AT_FDCWD;
    std::string path; // empty: nothing to remove
};

// pread(2) exactly `len` bytes at `off`; a short file is EIO.
bool read_exactly(int fd, char* buf, std::size_t len, std::uint64_t off) {
    while (len > 0) {
        const ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        buf += n;
        len -= static_cast<std::size_t>(n);
        off += static_cast<std::uint64_t>(n);
    }
    return true;
}

std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<IndexSource> resolve_source(const IndexCommand& c) {
    struct stat st {};
    if (::stat(c.source.c_str(), &st) == 0 || errno != ENOENT ||
        c.source.find('/') != std::string::npos) {
        // A path: opened (and any error said) by the caller.
        return IndexSource{c.source, c.block_size.value_or(DSTOR_MC_DEFAULT_BLOCK)};
    }
    // Not a path: the name of a running export.
    auto sock = open_dstor();
    if (!sock)
        return Error::user(
            "'" + c.source +
            "' is not a file or device, and no export can be looked up: " + sock.error().text());
    auto exports = dump_exports(*sock);
    if (!exports)
        return Error::user("'" + c.source + "' is not a file or device, and listing the exports " +
                           "failed: " + exports.error().text());
    return index_source_from_exports(c, *exports);
}

// Open (creating the last component if missing) and probe the store: a
// store that cannot take a file fails here, before anything is written.
Result<int> open_store(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
        return Error::sys(errno, "cannot create the store " + dir);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::sys(errno, "cannot open the store " + dir);
    const std::string probe = ".dstor-index." + std::to_string(::getpid()) + ".tmp";
    const int p = ::openat(fd, probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (p < 0) {
        const int err = errno;
        ::close(fd);
        return Error::sys(err, "cannot write to the store " + dir);
    }
    ::close(p);
    ::unlinkat(fd, probe.c_str(), 0);
    return fd;
}

// Whether the store holds the chunk in either form casync reads.
bool have_chunk(int store, const casync::ChunkId& id) {
    struct stat st {};
    for (Compression c : {Compression::zstd, Compression::none})
        if (::fstatat(store, casync::chunk_path(id, c).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            return true;
    return false;
}

// Write one chunk file: to a temporary name next to it, then renamed, so
// that a chunk file is complete or absent. Read-only, as casync makes them.
Result<void> save_chunk(int store, const std::string& store_name, const std::string& rel,
                        std::string_view data, std::uint64_t serial) {
    const std::string dir = rel.substr(0, 4);
    if (::mkdirat(store, dir.c_str(), 0777) != 0 && errno != EEXIST)
        return Error::sys(errno, "cannot create " + store_name + "/" + dir);
    const std::string tmp =
        rel + "." + std::to_string(::getpid()) + "-" + std::to_string(serial) + ".tmp";
    Fd fd(::openat(store, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (fd.get() < 0)
        return Error::sys(errno, "cannot create " + store_name + "/" + tmp);
    if (!write_all(fd.get(), data) || !fd.close()) {
        const int err = errno;
        ::unlinkat(store, tmp.c_str(), 0);
        return Error::sys(err, "cannot write " + store_name + "/" + tmp);
    }
    if (::renameat(store, tmp.c_str(), store, rel.c_str()) != 0) {
        const int err = errno;
        ::unlinkat(store, tmp.c_str(), 0);
        return Error::sys(err, "cannot rename " + store_name + "/" + tmp);
    }
    return {};
}

struct Totals {
    std::uint64_t chunks = 0;
    std::uint64_t written = 0; // new chunk files
    std::uint64_t bytes = 0;   // their size on disk
};

// The signal SIGINT or SIGTERM that arrived, or 0 (never waits).
int pending_signal(const SignalFd& signals) {
    pollfd pfd{signals.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0)
        return 0;
    const int sig = signals.take();
    return sig > 0 ? sig : SIGTERM;
}

// On SIGINT or SIGTERM (checked between chunks) `interrupted` is the
// signal, and the error says the index was not written.
Result<Totals> write_index(const IndexCommand& c, const IndexSource& src, const SignalFd& signals,
                           int& interrupted) {
    Fd image(::open(src.device.c_str(), O_RDONLY | O_CLOEXEC));
    if (image.get() < 0)
        return Error::sys(errno, src.device);
    auto size = image_size(image.get(), src.device);
    if (!size)
        return size.error();
    if (*size == 0)
        return Error::user(src.device + " is empty: casync has no index for no data");

    // The index: refused early when it exists (without --force), written
    // to a temporary name in its directory and renamed at the end.
    struct stat st {};
    if (::stat(c.caibx.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return Error::user(c.caibx + " is a directory");
        if (!c.force)
            return Error::user(c.caibx + " exists (add --force to replace it)");
    }
    TempFile tmp;
    std::string tmpl = dir_of(c.caibx) + "/." + base_of(c.caibx) + ".XXXXXX";
    Fd index(::mkstemp(tmpl.data()));
    if (index.get() < 0)
        return Error::sys(errno, "cannot create the index in " + dir_of(c.caibx));
    tmp.path = tmpl;
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(index.get(), 0666 & ~mask) != 0)
        return Error::sys(errno, tmpl);

    auto store_fd = open_store(c.store);
    if (!store_fd)
        return store_fd.error();
    Fd store(*store_fd);

    Totals t;
    std::string out = casync::encode_head(src.block_size);
    std::string block(src.block_size, '\0');
    for (std::uint64_t off = 0; off < *size; off += src.block_size) {
        if ((interrupted = pending_signal(signals)) != 0)
            return Error::user(std::string(::strsignal(interrupted)) + ": " + c.caibx +
                               " not written (the chunk files written so far are complete)");
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(src.block_size, *size - off));
        if (!read_exactly(image.get(), block.data(), n, off))
            return Error::sys(errno,
                              "cannot read " + src.device + " at byte " + std::to_string(off));
        const std::string_view data(block.data(), n);
        auto id = casync::chunk_id(data);
        if (!id)
            return id.error();
        out += casync::encode_item(off + n, *id);
        t.chunks++;
        if (!have_chunk(store.get(), *id)) {
            auto packed = casync::compress(data, c.compression);
            if (!packed)
                return packed.error();
            auto saved = save_chunk(store.get(), c.store, casync::chunk_path(*id, c.compression),
                                    *packed, t.chunks);
            if (!saved)
                return saved.error();
            t.written++;
            t.bytes += packed->size();
        }
        if (out.size() >= (1U << 20)) {
            if (!write_all(index.get(), out))
                return Error::sys(errno, "cannot write " + tmpl);
            out.clear();
        }
    }
    out += casync::encode_tail(t.chunks);
    if (!write_all(index.get(), out))
        return Error::sys(errno, "cannot write " + tmpl);

    // The chunks on disk before an index that names them.
    if (::syncfs(store.get()) != 0)
        return Error::sys(errno, "cannot sync the store " + c.store);
    if (::fsync(index.get()) != 0 || !index.close())
        return Error::sys(errno, "cannot write " + tmpl);
    if (c.force) {
        if (::rename(tmpl.c_str(), c.caibx.c_str()) != 0)
            return Error::sys(errno, "cannot rename " + tmpl + " to " + c.caibx);
        tmp.path.clear();
    } else {
        // link(2) fails when the index appeared meanwhile: never replaced
        // without --force.
        if (::link(tmpl.c_str(), c.caibx.c_str()) != 0) {
            if (errno == EEXIST)
                return Error::user(c.caibx + " exists (add --force to replace it)");
            return Error::sys(errno, "cannot create " + c.caibx);
        }
    }
    return t;
}

} // namespace

Result<IndexSource> index_source_from_exports(const IndexCommand& c,
                                              const std::vector<ExportInfo>& exports) {
    for (const auto& e : exports) {
        if (e.name != c.source)
            continue;
        if (e.key_id && !c.allow_plaintext)
            return Error::user("export " + e.name +
                               " has a key, and the casync store holds its data in plaintext: "
                               "add --allow-plaintext to index it anyway");
        if (!e.device)
            return Error::user("the kernel did not say which device export " + e.name + " serves");
        IndexSource s{*e.device, DSTOR_MC_DEFAULT_BLOCK};
        if (c.block_size)
            s.block_size = *c.block_size;
        else if (e.mcast && e.mcast->block_size)
            s.block_size = *e.mcast->block_size;
        return s;
    }
    return Error::user("'" + c.source + "' is neither a file or device nor a dstor export");
}

Parsed<IndexCommand> parse_index_args(const std::vector<std::string>& args) {
    CLI::App app("Write a casync blob index (.caibx) of a device, an image file or a running "
                 "export, and the casync chunk store it refers to: one chunk per block.",
                 "dstor index");
    std::string source, caibx, store, compression = "zstd", block_size;
    bool force = false, allow_plaintext = false;
    app.add_option("SOURCE", source,
                   "DEVICE|EXPORT: a block device or image file, or the name of a running "
                   "export")
        ->type_name("")
        ->required();
    app.add_option("--caibx", caibx, "The index to write")->type_name("FILE")->required();
    app.add_option("--store", store,
                   "The chunk store: DIR/xxxx/<chunk id>.cacnk (created if missing; chunks "
                   "already there are kept)")
        ->type_name("DIR")
        ->required();
    app.add_option("--compression", compression, "Chunk files: zstd (default), xz or none")
        ->type_name("ALGO");
    app.add_option("--block-size", block_size,
                   "Bytes per chunk, a power of two from " + format_scaled(INDEX_MIN_CHUNK, 1024) +
                       " to " + format_scaled(INDEX_MAX_CHUNK, 1024) + " (default: an export's " +
                       "multicast block size, else " + format_scaled(DSTOR_MC_DEFAULT_BLOCK, 1024) +
                       ")")
        ->type_name("SIZE");
    app.add_flag("--force", force, "Replace the index FILE if it exists");
    app.add_flag("--allow-plaintext", allow_plaintext,
                 "Index an export that has a key (the store is not encrypted)");
    app.footer("Chunk ids are SHA-512/256 of the uncompressed chunk, as casync's default.\n"
               "Restore with: casync extract --store=DIR FILE OUTPUT [--seed=OLD-IMAGE]\n"
               "Chunks are fixed-size and aligned: between two versions of an image only\n"
               "blocks that are equal at the same offset are shared.");
    auto p = parse_cli(app, "index", args);
    if (!p.cmd)
        return carry<IndexCommand>(std::move(p));
    IndexCommand c;
    c.source = source;
    c.caibx = caibx;
    c.store = store;
    c.force = force;
    c.allow_plaintext = allow_plaintext;
    if (source.empty())
        return Parsed<IndexCommand>::usage_error(p.command, "DEVICE|EXPORT is empty");
    if (caibx.empty() || store.empty())
        return Parsed<IndexCommand>::usage_error(p.command,
                                                 "--caibx and --store must not be empty");
    auto comp = casync::parse_compression(compression);
    if (!comp)
        return Parsed<IndexCommand>::usage_error(
            p.command, "--compression must be zstd, xz or none, not '" + compression + "'");
    c.compression = *comp;
    if (app.count("--block-size") > 0) {
        auto b = parse_chunk_size(block_size);
        if (!b)
            return Parsed<IndexCommand>::usage_error(p.command, b.error().text());
        c.block_size = *b;
    }
    Parsed<IndexCommand> out;
    out.command = p.command;
    out.cmd = c;
    return out;
}

int run_index(const std::vector<std::string>& args) {
    auto p = parse_index_args(args);
    if (!p.cmd)
        return emit(p);
    auto src = resolve_source(*p.cmd);
    if (!src) {
        report(p.command, src.error());
        return EXIT_FAIL;
    }
    // SIGINT and SIGTERM stop the run between chunks, so that the
    // temporary index is removed and no chunk file is left half-written.
    auto signals = SignalFd::open();
    if (!signals) {
        report(p.command, signals.error());
        return EXIT_FAIL;
    }
    int interrupted = 0;
    auto t = write_index(*p.cmd, *src, *signals, interrupted);
    if (!t) {
        report(p.command, t.error());
        return interrupted != 0 ? 128 + interrupted : EXIT_FAIL;
    }
    std::cout << p.cmd->caibx << ": " << t->chunks << " chunks, " << t->written
              << " new chunks written, " << t->bytes << " bytes written (" << src->device << ", "
              << format_scaled(src->block_size, 1024) << " blocks, store " << p.cmd->store << ")\n";
    return flush_stdout(p.command);
}

} // namespace dstor
