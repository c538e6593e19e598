// The planner of `dstor apply` and `dstor down`: what the configuration files
// want (conf.hpp's ConfObjects, keys loaded) and what the kernel runs (the
// dumps of `dstor show`) in, an ordered list of dstor command lines out.
// Pure: no netlink, no file system; apply.cpp runs the plan, tests check it.
//
// Objects are matched by kind and name: [export NAME] is the export NAME,
// [sync NAME] the sync of the export NAME, [import NAME] the import of the
// export NAME (when several imports have that name, the one with the same
// peer, else the lowest index; the others count as not listed).
//
// What differs is changed in place where the kernel can do it without
// disturbing I/O: an export's key (export set), its access list (acl add,
// then acl del, so that it never opens on the way), an import's timers and
// key (import set). Anything else that differs (an export's device, listen,
// read-only, uuid, max-sessions or multicast settings; an import's peer,
// read-only or connections; a sync's target, interface or key) removes the
// object and adds it again, except an import in use (PlanState::in_use):
// that is refused and left as it is. Options a file leaves out are not
// compared when the kernel picks them (uuid, max-sessions, connections);
// timers and multicast rate and block size left out mean the defaults.
//
// Objects the files do not list are removed when apply made them (recorded
// in PlanState::applied), or all of them with --prune.
//
// Order: settings, then removals (imports, syncs, exports), in-place export
// changes, export adds, import changes and adds, sync adds: an export of this
// namespace is up before an import of it is added.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "conf.hpp"
#include "model.hpp"

namespace dstor {

struct PlanState {
    // "export NAME", "import NAME", "sync NAME": objects apply created.
    std::set<std::string> applied;
    // Imports that must not be removed, by index: why ("mounted on /srv").
    std::map<std::uint32_t, std::string> in_use;
    bool prune = false; // remove every object the files do not list
    // Exports a file lists without a uuid: the uuid to add each with, by
    // name (apply's record of the one it had on the same device), so that
    // its importers resume after the exporter reboots. Used when the export
    // is added, never compared with a running one.
    std::map<std::string, Uuid> kept_uuids;
};

// One change: the words after "dstor" (run as that command), and what it
// does to the record of objects apply created.
struct Action {
    std::vector<std::string> args; // {"export", "add", "data", "--device", ...}
    std::string object;            // "export data": the record it touches
    enum class Record { none, add, remove } record = Record::none;
};

struct Plan {
    std::vector<Action> actions;
    std::vector<std::string> refusals; // one sentence each, nothing done for them
};

// apply: make `have` equal to `want`. want's specs carry their keys (a key
// file's key in spec.key) and resolved devices and interfaces.
Plan plan_apply(const ConfObjects& want, const Running& have, const PlanState& state);

// down: remove every object `want` lists that runs: imports, syncs, exports.
Plan plan_down(const ConfObjects& want, const Running& have, const PlanState& state);

// "dstor export add data --device /dev/vdb ...": the words quoted for a
// shell where needed.
std::string command_line(const std::vector<std::string>& args);

// The record of the identities of exports listed without a uuid
// (/var/lib/dstor/export-uuids): by export name, the device as the file
// spells it and the uuid the export had there. One "NAME UUID DEVICE" a
// line, '#' comments; lines that do not parse are skipped.
struct KeptUuid {
    std::string device;
    Uuid uuid;
    bool operator==(const KeptUuid&) const = default;
};
std::map<std::string, KeptUuid> parse_kept_uuids(std::string_view text);
std::string format_kept_uuids(const std::map<std::string, KeptUuid>& kept);

// The record of objects apply created: one "KIND NAME" a line, '#' comments.
std::set<std::string> parse_applied(std::string_view text);
std::string format_applied(const std::set<std::string>& applied);

// Mount points in /proc/self/mountinfo text of the devices `devnums`
// ("MAJOR:MINOR"), unescaped; `writable`: only those mounted read-write.
std::vector<std::string> mount_points(std::string_view mountinfo,
                                      const std::set<std::string>& devnums,
                                      bool writable = false);

// `dstor showconf`: the running state as a configuration file. `key_files`
// maps key ids to the files holding them; a key with no file gets a comment
// and key = CONF_DIR/keys/KEYID.key, a file to create: apply refuses the
// file until it exists (never a file without the key: that would remove
// it). [global] carries the module settings; an export's max-sessions only
// when it is not the module's default.
std::string format_conf(const Running& have, const std::map<KeyId, std::string>& key_files,
                        const std::string& conf_dir = "/etc/dstor");

} // namespace dstor
