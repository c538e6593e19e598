// The objects of the command line, one file each: export.cpp, import.cpp,
// sync.cpp, show.cpp, monitor.cpp, acl.cpp, set.cpp, keys.cpp (genkey and
// keyid), apply.cpp (apply, down and showconf: the configuration files),
// index.cpp (casync index and chunk store).
// Each has a parser that turns the words after the object name into a
// command of the data model without touching netlink (tests use it), and a
// run_* function that parses, validates, talks to the kernel and returns the
// exit code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "casync.hpp"
#include "cli.hpp"
#include "model.hpp"

namespace dstor {

// dstor export add NAME --device PATH --listen ADDR[:PORT] [--read-only] [--key FILE]
//                      [--allow PREFIX=ro|rw]... [--uuid UUID] [--max-sessions N]
//                      [--mcast IFACE [--rate RATE] [--block-size SIZE] [--querier]]
//   (with --mcast, --read-only is required and --listen optional; the
//   interface is resolved when the command runs)
// dstor export set NAME --key FILE | --no-key
// dstor export del NAME
// dstor export rehash NAME
// Key files are named here and read when the command runs (read_key_file).
struct ExportAdd {
    ExportSpec spec;                     // spec.key is filled from key_file by the run
    std::optional<std::string> key_file; // --key
};
struct ExportSet {
    std::string name;
    std::optional<std::string> key_file; // --key FILE; none: --no-key (a zero key)
};
struct ExportDel {
    std::string name;
};
struct ExportRehash {
    std::string name;
};
using ExportCommand = std::variant<ExportAdd, ExportSet, ExportDel, ExportRehash>;
Parsed<ExportCommand> parse_export_args(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

// dstor import add NAME --peer ADDR[:PORT] [--read-only] [--connections N] [--key FILE] [TIMERS]
// dstor import set /dev/dstorN | dstorN | N | NAME [TIMERS] [--key FILE | --no-key]
// dstor import del /dev/dstorN | dstorN | NAME
//   TIMERS: [--timeout S] [--retries N] [--reconnect MIN:MAX] [--keepalive S] [--dead-after S]
struct ImportAdd {
    ImportSpec spec;                     // spec.key is filled from key_file by the run
    std::optional<std::string> key_file; // --key
};
struct ImportSet {
    ImportRef target; // a name is resolved to an index by a dump before sending
    Timers timers;
    std::optional<std::string> key_file; // --key; at least one timer or a key
    bool no_key = false;                 // --no-key: remove the key (a zero key)
};
struct ImportDel {
    ImportRef target;
};
using ImportCommand = std::variant<ImportAdd, ImportSet, ImportDel>;
Parsed<ImportCommand> parse_import_args(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);

// The index of the one import of the export `name` among `imports` (a dump);
// an error when there is none or more than one.
Result<std::uint32_t> find_import(const std::vector<ImportInfo>& imports, const std::string& name);

// dstor sync NAME --mcast IFACE --target DEV [--key FILE] [--wait]
// dstor sync del INDEX
// dstor sync list [--json]
// The interface, the target and the key file are looked at when the command runs.
struct SyncAdd {
    SyncSpec spec;                       // ifindex and key are filled by the run
    std::optional<std::string> key_file; // --key
    bool wait = false;                   // --wait
    bool json = false;                   // --json: the --wait summary as JSON
    std::vector<std::string> seeds;      // --seed, in order
};
struct SyncDel {
    std::uint32_t index = 0;
};
struct SyncList {
    bool json = false;
};
using SyncCommand = std::variant<SyncAdd, SyncDel, SyncList>;
Parsed<SyncCommand> parse_sync_args(const std::vector<std::string>& args);
int run_sync(const std::vector<std::string>& args);

// dstor show [--json]
struct ShowCommand {
    bool json = false;
};
Parsed<ShowCommand> parse_show_args(const std::vector<std::string>& args);
int run_show(const std::vector<std::string>& args);

// dstor monitor [--json]
struct MonitorCommand {
    bool json = false;
};
Parsed<MonitorCommand> parse_monitor_args(const std::vector<std::string>& args);
int run_monitor(const std::vector<std::string>& args);

// dstor acl add EXPORT PREFIX ro|rw
// dstor acl del EXPORT PREFIX
// dstor acl list EXPORT [--json]
struct AclAdd {
    std::string name; // the export
    AclEntry entry;
};
struct AclDel {
    std::string name;
    Prefix prefix;
};
struct AclShow {
    std::string name;
    bool json = false;
};
using AclCommand = std::variant<AclAdd, AclDel, AclShow>;
Parsed<AclCommand> parse_acl_args(const std::vector<std::string>& args);
int run_acl(const std::vector<std::string>& args);

// dstor set crypto-workers N | max-sessions N | max-host-sessions N (one per command)
struct SetCommand {
    Settings settings; // at least one set
};
Parsed<SetCommand> parse_set_args(const std::vector<std::string>& args);
int run_set(const std::vector<std::string>& args);

// dstor genkey: a new key, base64, on stdout.
struct GenkeyCommand {};
Parsed<GenkeyCommand> parse_genkey_args(const std::vector<std::string>& args);
int run_genkey(const std::vector<std::string>& args);

// dstor keyid FILE: the key's fingerprint (16 hex digits).
struct KeyidCommand {
    std::string file;
};
Parsed<KeyidCommand> parse_keyid_args(const std::vector<std::string>& args);
int run_keyid(const std::vector<std::string>& args);

// dstor index DEVICE|EXPORT --caibx FILE --store DIR [--compression zstd|xz|none]
//             [--block-size SIZE] [--force] [--allow-plaintext]
// A casync blob index and chunk store of the image (index.cpp, casync.hpp).
// SOURCE is a path when one exists (or it has a '/'), else an export's name.
struct IndexCommand {
    std::string source;
    std::string caibx;
    std::string store;
    casync::Compression compression = casync::Compression::zstd;
    std::optional<std::uint32_t> block_size; // --block-size
    bool force = false;
    bool allow_plaintext = false;
};
Parsed<IndexCommand> parse_index_args(const std::vector<std::string>& args);
int run_index(const std::vector<std::string>& args);

// What an export's name stands for: its device, and the chunk size
// (--block-size, else the export's multicast block size, else
// DSTOR_MC_DEFAULT_BLOCK). An error for no such export, or a keyed one
// without --allow-plaintext.
struct IndexSource {
    std::string device;
    std::uint32_t block_size = 0;
};
Result<IndexSource> index_source_from_exports(const IndexCommand& c,
                                              const std::vector<ExportInfo>& exports);

// dstor apply [--dry-run] [--prune] [--retry S] [FILE...], dstor down [--dry-run] [FILE...],
// dstor showconf: the configuration files (conf.hpp, plan.hpp; apply.cpp).
int run_apply(const std::vector<std::string>& args);
int run_down(const std::vector<std::string>& args);
int run_showconf(const std::vector<std::string>& args);

// Read the key file of a --key option into `key`; on failure print the
// error ("dstor: FILE: reason") and return false.
bool load_key(const std::optional<std::string>& file, std::optional<Key>& key);

// write(2) all of `data` to `fd`, retrying on EINTR and short writes (keys.cpp).
bool write_all(int fd, std::string_view data);

} // namespace dstor
