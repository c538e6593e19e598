#include "plan.hpp"

#include <linux/dstor.h>

#include <algorithm>
#include <sstream>

#include "endpoint.hpp"
#include "show.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

// ---- comparing ----------------------------------------------------------------

// The address the kernel uses: the scope's spelling does not matter.
bool same_endpoint(const Endpoint& a, const Endpoint& b) {
    return a.family == b.family && a.addr == b.addr && a.port == b.port && a.ifindex == b.ifindex;
}

std::optional<KeyId> want_key_id(const std::optional<Key>& key) {
    if (!key || key->zero())
        return std::nullopt;
    return key_id(*key);
}

// Timers a file leaves out are the kernel's defaults.
Timers with_defaults(Timers t) {
    t.timeout = t.timeout.value_or(DSTOR_DEFAULT_TIMEOUT);
    t.retries = t.retries.value_or(DSTOR_DEFAULT_RETRIES);
    t.reconnect_min = t.reconnect_min.value_or(DSTOR_DEFAULT_RECONNECT_MIN);
    t.reconnect_max = t.reconnect_max.value_or(DSTOR_DEFAULT_RECONNECT_MAX);
    t.keepalive = t.keepalive.value_or(DSTOR_DEFAULT_KEEPALIVE);
    t.dead_after = t.dead_after.value_or(DSTOR_DEFAULT_DEAD_AFTER);
    return t;
}

constexpr std::optional<std::uint32_t> Timers::*timer_fields[] = {
    &Timers::timeout,       &Timers::retries,   &Timers::reconnect_min,
    &Timers::reconnect_max, &Timers::keepalive, &Timers::dead_after,
};

// The interface of a multicast object: by name when the kernel's ifindex
// has one here, else by index.
bool same_interface(const std::string& want_name, std::uint32_t want_ifindex,
                    const McastInfo& have) {
    if (have.interface)
        return *have.interface == want_name;
    return !have.ifindex || want_ifindex == 0 || *have.ifindex == want_ifindex;
}

// What keeps the running export from being the wanted one, if anything.
std::optional<std::string> export_differs(const ExportSpec& want, const ExportInfo& have) {
    if (have.device && *have.device != want.device)
        return "device";
    if (want.listen.has_value() != have.listen.has_value() ||
        (want.listen && !same_endpoint(*want.listen, *have.listen)))
        return "listen";
    if (want.read_only != have.read_only)
        return "read-only";
    if (want.uuid && have.uuid && *want.uuid != *have.uuid)
        return "uuid";
    if (want.max_sessions && have.max_sessions && *want.max_sessions != *have.max_sessions)
        return "max-sessions";
    if (want.mcast.has_value() != have.mcast.has_value())
        return "mcast";
    if (want.mcast) {
        const McastSpec& w = *want.mcast;
        const McastInfo& h = *have.mcast;
        if (!same_interface(w.interface, w.ifindex, h))
            return "mcast";
        if (h.rate && w.rate.value_or(DSTOR_MC_DEFAULT_RATE) != *h.rate)
            return "rate";
        if (h.block_size && w.block_size.value_or(DSTOR_MC_DEFAULT_BLOCK) != *h.block_size)
            return "block-size";
        if (w.querier != h.querier)
            return "querier";
    }
    // A multicast export's tree is the multicast one: no --tree of its own.
    if (!want.mcast && want.tree_block_size.value_or(0) !=
                           (have.tree ? have.tree->block_size.value_or(0) : 0))
        return "tree";
    return std::nullopt;
}

std::optional<std::string> import_differs(const ImportSpec& want, const ImportInfo& have) {
    if (have.peer && !same_endpoint(want.peer, *have.peer))
        return "peer";
    if (want.read_only != have.read_only)
        return "read-only";
    if (want.connections != 0 && have.connections && want.connections != *have.connections)
        return "connections";
    // The local name is fixed once added (udev made its link then).
    if (!want.local.empty() && have.local != want.local)
        return "name";
    return std::nullopt;
}

std::optional<std::string> sync_differs(const SyncSpec& want, const SyncInfo& have) {
    if (have.device && *have.device != want.device)
        return "target";
    if (want.peer.has_value() != have.peer.has_value() ||
        (want.peer && !same_endpoint(*want.peer, *have.peer)))
        return "peer";
    if (!want.interface.empty() && !same_interface(want.interface, want.ifindex, have.mcast))
        return "mcast";
    if (want.every != have.every.value_or(0))
        return "every";
    if (want.scrub != have.scrub.value_or(0))
        return "scrub";
    if (want_key_id(want.key) != have.key_id)
        return "key";
    return std::nullopt;
}

// ---- command lines ------------------------------------------------------------

std::string device_of(std::uint32_t index) {
    return "/dev/dstor" + std::to_string(index);
}

void put_timers(std::vector<std::string>& a, const Timers& t) {
    auto put = [&a](const char* option, const std::optional<std::uint32_t>& v) {
        if (v) {
            a.push_back(option);
            a.push_back(std::to_string(*v));
        }
    };
    put("--timeout", t.timeout);
    put("--retries", t.retries);
    if (t.reconnect_min && t.reconnect_max) {
        a.push_back("--reconnect");
        a.push_back(std::to_string(*t.reconnect_min) + ":" + std::to_string(*t.reconnect_max));
    }
    put("--keepalive", t.keepalive);
    put("--dead-after", t.dead_after);
}

Action export_add(const ExportAdd& e) {
    const ExportSpec& s = e.spec;
    Action a{
        {"export", "add", s.name, "--device", s.device}, "export " + s.name, Action::Record::add};
    if (s.listen) {
        a.args.push_back("--listen");
        a.args.push_back(format_endpoint(*s.listen));
    }
    if (s.read_only)
        a.args.push_back("--read-only");
    if (e.key_file) {
        a.args.push_back("--key");
        a.args.push_back(*e.key_file);
    }
    for (const auto& acl : s.acls) {
        a.args.push_back("--allow");
        a.args.push_back(format_prefix(acl.prefix) + "=" + perm_name(acl.perm));
    }
    if (s.mcast) {
        a.args.push_back("--mcast");
        a.args.push_back(s.mcast->interface);
        if (s.mcast->rate) {
            a.args.push_back("--rate");
            a.args.push_back(std::to_string(*s.mcast->rate));
        }
        if (s.mcast->block_size) {
            a.args.push_back("--block-size");
            a.args.push_back(std::to_string(*s.mcast->block_size));
        }
        if (s.mcast->querier)
            a.args.push_back("--querier");
    }
    if (s.tree_block_size && !s.mcast) {
        a.args.insert(a.args.end(),
                      {"--tree", "--block-size", std::to_string(*s.tree_block_size)});
    }
    if (s.uuid) {
        a.args.push_back("--uuid");
        a.args.push_back(format_uuid(*s.uuid));
    }
    if (s.max_sessions) {
        a.args.push_back("--max-sessions");
        a.args.push_back(std::to_string(*s.max_sessions));
    }
    return a;
}

Action export_del(const std::string& name, Action::Record record) {
    return Action{{"export", "del", name}, "export " + name, record};
}

Action import_add(const ImportAdd& i) {
    const ImportSpec& s = i.spec;
    Action a{{"import", "add", s.name, "--peer", format_endpoint(s.peer)},
             "import " + s.name,
             Action::Record::add};
    // A file names each export's import once, so the export's name is a
    // local name no other import of the files takes.
    a.args.push_back("--name");
    a.args.push_back(s.local.empty() ? s.name : s.local);
    if (s.read_only)
        a.args.push_back("--read-only");
    if (s.connections != 0) {
        a.args.push_back("--connections");
        a.args.push_back(std::to_string(s.connections));
    }
    if (i.key_file) {
        a.args.push_back("--key");
        a.args.push_back(*i.key_file);
    }
    put_timers(a.args, s.timers);
    return a;
}

Action import_del(const ImportInfo& i, Action::Record record) {
    return Action{{"import", "del", device_of(*i.index)}, "import " + i.name, record};
}

Action sync_add(const SyncAdd& y) {
    const SyncSpec& s = y.spec;
    Action a{{"sync"}, "sync " + s.name, Action::Record::add};
    // An export named like a verb goes after the options (sync's usage).
    const bool verb = s.name == "del" || s.name == "list";
    if (!verb)
        a.args.push_back(s.name);
    if (s.peer)
        a.args.insert(a.args.end(), {"--peer", format_endpoint(*s.peer)});
    if (!s.interface.empty())
        a.args.insert(a.args.end(), {"--mcast", s.interface});
    a.args.insert(a.args.end(), {"--target", s.device});
    if (s.every)
        a.args.insert(a.args.end(), {"--every", std::to_string(s.every)});
    if (s.scrub)
        a.args.insert(a.args.end(), {"--scrub", std::to_string(s.scrub)});
    if (y.key_file) {
        a.args.push_back("--key");
        a.args.push_back(*y.key_file);
    }
    if (s.root) {
        a.args.push_back("--root");
        a.args.push_back(format_hex(*s.root));
    }
    if (verb)
        a.args.push_back(s.name);
    return a;
}

Action sync_del(const SyncInfo& y, Action::Record record) {
    return Action{{"sync", "del", std::to_string(*y.index)}, "sync " + y.name, record};
}

// The running objects of one kind with this name, lowest index first.
template <class Info>
std::vector<const Info*> named(const std::vector<Info>& have, const std::string& name) {
    std::vector<const Info*> out;
    for (const auto& h : have)
        if (h.name == name && h.index)
            out.push_back(&h);
    std::sort(out.begin(), out.end(),
              [](const Info* a, const Info* b) { return *a->index < *b->index; });
    return out;
}

struct Planner {
    Planner(const Running& h, const PlanState& s) : have(h), state(s) {}

    const Running& have;
    const PlanState& state;
    Plan plan;
    std::vector<Action> settings, del_imports, del_syncs, del_exports, export_changes, export_adds,
        import_changes, import_adds, sync_adds;

    bool removable(const std::string& object) const {
        return state.prune || state.applied.count(object) > 0;
    }

    // The import `i` is to go; false (and a refusal) when it is in use.
    bool may_remove(const ImportInfo& i, const std::string& why) {
        auto used = state.in_use.find(*i.index);
        if (used == state.in_use.end())
            return true;
        plan.refusals.push_back("import " + i.name + " (" + device_of(*i.index) + ") is " +
                                used->second + ": " + why);
        return false;
    }

    void globals(const std::vector<SetCommand>& want) {
        Settings s;
        for (const auto& c : want) {
            s.crypto_workers =
                c.settings.crypto_workers ? c.settings.crypto_workers : s.crypto_workers;
            s.max_sessions = c.settings.max_sessions ? c.settings.max_sessions : s.max_sessions;
            s.max_host_sessions =
                c.settings.max_host_sessions ? c.settings.max_host_sessions : s.max_host_sessions;
        }
        const std::optional<ModuleInfo>& m = have.module;
        auto one = [this](const char* name, const std::optional<std::uint32_t>& want,
                          const std::optional<std::uint32_t>& now) {
            if (want && (!now || *now != *want))
                settings.push_back(
                    {{"set", name, std::to_string(*want)}, "", Action::Record::none});
        };
        one("crypto-workers", s.crypto_workers, m ? m->workers : std::nullopt);
        one("max-sessions", s.max_sessions, m ? m->max_sessions : std::nullopt);
        one("max-host-sessions", s.max_host_sessions, m ? m->max_host_sessions : std::nullopt);
    }

    // An export added from a section without a uuid: with the one it had.
    Action add_export(ExportAdd w) const {
        if (!w.spec.uuid) {
            auto kept = state.kept_uuids.find(w.spec.name);
            if (kept != state.kept_uuids.end())
                w.spec.uuid = kept->second;
        }
        return export_add(w);
    }

    void exports(const std::vector<ExportAdd>& want) {
        std::set<std::string> listed;
        for (const auto& w : want) {
            listed.insert(w.spec.name);
            auto it = std::find_if(have.exports.begin(), have.exports.end(),
                                   [&w](const ExportInfo& e) { return e.name == w.spec.name; });
            if (it == have.exports.end()) {
                export_adds.push_back(add_export(w));
                continue;
            }
            if (export_differs(w.spec, *it)) {
                del_exports.push_back(export_del(w.spec.name, Action::Record::remove));
                export_adds.push_back(add_export(w));
                continue;
            }
            if (want_key_id(w.spec.key) != it->key_id) {
                Action a{{"export", "set", w.spec.name}, "", Action::Record::none};
                if (w.key_file && w.spec.key) {
                    a.args.push_back("--key");
                    a.args.push_back(*w.key_file);
                } else {
                    a.args.push_back("--no-key");
                }
                export_changes.push_back(std::move(a));
            }
            // New and changed entries first, then the ones to drop: the
            // list never goes through empty (open to every peer).
            const std::vector<AclEntry> now = it->acls.value_or(std::vector<AclEntry>{});
            for (const auto& acl : w.spec.acls) {
                auto same = std::find_if(now.begin(), now.end(), [&acl](const AclEntry& n) {
                    return n.prefix == acl.prefix;
                });
                if (same == now.end() || same->perm != acl.perm)
                    export_changes.push_back({{"acl", "add", w.spec.name, format_prefix(acl.prefix),
                                               perm_name(acl.perm)},
                                              "",
                                              Action::Record::none});
            }
            for (const auto& n : now)
                if (std::none_of(w.spec.acls.begin(), w.spec.acls.end(),
                                 [&n](const AclEntry& acl) { return acl.prefix == n.prefix; }))
                    export_changes.push_back({{"acl", "del", w.spec.name, format_prefix(n.prefix)},
                                              "",
                                              Action::Record::none});
        }
        for (const auto& e : have.exports)
            if (!listed.count(e.name) && removable("export " + e.name))
                del_exports.push_back(export_del(e.name, Action::Record::remove));
    }

    void imports(const std::vector<ImportAdd>& want) {
        std::set<std::string> listed;
        std::set<std::uint32_t> matched;
        for (const auto& w : want) {
            listed.insert(w.spec.name);
            auto candidates = named(have.imports, w.spec.name);
            if (candidates.empty()) {
                import_adds.push_back(import_add(w));
                continue;
            }
            const ImportInfo* h = candidates.front();
            for (const auto* c : candidates)
                if (c->peer && same_endpoint(*c->peer, w.spec.peer)) {
                    h = c;
                    break;
                }
            matched.insert(*h->index);
            if (auto why = import_differs(w.spec, *h)) {
                if (may_remove(*h, "its " + *why +
                                       " changed, which needs it removed and added again: left "
                                       "as it is (unmount it, then run dstor apply again)")) {
                    del_imports.push_back(import_del(*h, Action::Record::remove));
                    import_adds.push_back(import_add(w));
                }
                continue;
            }
            Action a{{"import", "set", device_of(*h->index)}, "", Action::Record::none};
            const Timers want_t = with_defaults(w.spec.timers);
            Timers delta;
            for (auto f : timer_fields)
                if (h->timers.*f && *(h->timers.*f) != *(want_t.*f))
                    delta.*f = want_t.*f;
            if (delta.reconnect_min || delta.reconnect_max) {
                delta.reconnect_min = want_t.reconnect_min;
                delta.reconnect_max = want_t.reconnect_max;
            }
            put_timers(a.args, delta);
            if (want_key_id(w.spec.key) != h->key_id) {
                if (w.key_file && w.spec.key) {
                    a.args.push_back("--key");
                    a.args.push_back(*w.key_file);
                } else {
                    a.args.push_back("--no-key");
                }
            }
            if (a.args.size() > 3)
                import_changes.push_back(std::move(a));
        }
        for (const auto& i : have.imports) {
            if (!i.index || matched.count(*i.index))
                continue;
            // Another import of a listed name: only --prune removes it, and
            // the record stays with the listed one.
            const bool other = listed.count(i.name) > 0;
            if (other ? !state.prune : !removable("import " + i.name))
                continue;
            if (may_remove(i, "the files no longer list it, but it stays (unmount it, then run "
                              "dstor apply again)"))
                del_imports.push_back(
                    import_del(i, other ? Action::Record::none : Action::Record::remove));
        }
    }

    void syncs(const std::vector<SyncAdd>& want) {
        std::set<std::string> listed;
        std::set<std::uint32_t> matched;
        for (const auto& w : want) {
            listed.insert(w.spec.name);
            auto candidates = named(have.syncs, w.spec.name);
            if (candidates.empty()) {
                sync_adds.push_back(sync_add(w));
                continue;
            }
            const SyncInfo* h = candidates.front();
            matched.insert(*h->index);
            if (sync_differs(w.spec, *h)) {
                del_syncs.push_back(sync_del(*h, Action::Record::remove));
                sync_adds.push_back(sync_add(w));
            }
        }
        for (const auto& y : have.syncs) {
            if (!y.index || matched.count(*y.index))
                continue;
            const bool other = listed.count(y.name) > 0;
            if (other ? state.prune : removable("sync " + y.name))
                del_syncs.push_back(
                    sync_del(y, other ? Action::Record::none : Action::Record::remove));
        }
    }

    Plan finish() {
        for (auto* part : {&settings, &del_imports, &del_syncs, &del_exports, &export_changes,
                           &export_adds, &import_changes, &import_adds, &sync_adds})
            for (auto& a : *part)
                plan.actions.push_back(std::move(a));
        return std::move(plan);
    }
};

} // namespace

Plan plan_apply(const ConfObjects& want, const Running& have, const PlanState& state) {
    Planner p(have, state);
    p.globals(want.settings);
    p.exports(want.exports);
    p.imports(want.imports);
    p.syncs(want.syncs);
    return p.finish();
}

Plan plan_down(const ConfObjects& want, const Running& have, const PlanState& state) {
    Planner p(have, state);
    for (const auto& w : want.imports)
        for (const auto* h : named(have.imports, w.spec.name))
            if (p.may_remove(*h, "not removed (unmount it first)"))
                p.del_imports.push_back(import_del(*h, Action::Record::remove));
    for (const auto& w : want.syncs)
        for (const auto* h : named(have.syncs, w.spec.name))
            p.del_syncs.push_back(sync_del(*h, Action::Record::remove));
    for (const auto& w : want.exports)
        for (const auto& e : have.exports)
            if (e.name == w.spec.name)
                p.del_exports.push_back(export_del(e.name, Action::Record::remove));
    return p.finish();
}

std::string command_line(const std::vector<std::string>& args) {
    std::string out = "dstor";
    for (const auto& a : args) {
        out += ' ';
        const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) ||
                   std::string_view("_./:=@%+,-").find(c) != std::string_view::npos;
        });
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a)
            out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += '\'';
    }
    return out;
}

std::map<std::string, KeptUuid> parse_kept_uuids(std::string_view text) {
    std::map<std::string, KeptUuid> out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string name, uuid, device;
        if (!(words >> name >> uuid) || name[0] == '#' || !std::getline(words >> std::ws, device) ||
            device.empty() || check_name(name))
            continue;
        if (auto u = parse_uuid(uuid))
            out[name] = KeptUuid{device, *u};
    }
    return out;
}

std::string format_kept_uuids(const std::map<std::string, KeptUuid>& kept) {
    std::string out = "# The uuid of each export dstor apply added from a section without one,\n"
                      "# and the device it had then: added again on that device, the export\n"
                      "# gets it back, so that its importers resume. NAME UUID DEVICE.\n";
    for (const auto& [name, k] : kept)
        out += name + " " + format_uuid(k.uuid) + " " + k.device + "\n";
    return out;
}

std::set<std::string> parse_applied(std::string_view text) {
    std::set<std::string> out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string kind, name, extra;
        if (!(words >> kind >> name) || kind[0] == '#' || (words >> extra))
            continue;
        if (kind == "export" || kind == "import" || kind == "sync")
            out.insert(kind + " " + name);
    }
    return out;
}

std::string format_applied(const std::set<std::string>& applied) {
    std::string out = "# Objects `dstor apply` created in this network namespace; it removes\n"
                      "# them when the configuration files no longer list them.\n";
    for (const auto& a : applied)
        out += a + "\n";
    return out;
}

namespace {

// mountinfo escapes blanks, tabs, newlines and backslashes as \ooo.
std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

} // namespace

std::vector<std::string> mount_points(std::string_view mountinfo,
                                      const std::set<std::string>& devnums, bool writable) {
    auto first = [](const std::string& opts) { return opts.substr(0, opts.find(',')); };
    std::vector<std::string> out;
    std::istringstream in{std::string(mountinfo)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string id, parent, devnum, root, point, opts, word, fstype, source, super;
        if (!(words >> id >> parent >> devnum >> root >> point >> opts))
            continue;
        // Optional fields up to "-", then the file system's type, source
        // and options: read-only there is read-only for every mount.
        while (words >> word && word != "-") {
        }
        words >> fstype >> source >> super;
        if (!devnums.count(devnum))
            continue;
        if (writable && (first(opts) != "rw" || first(super) == "ro"))
            continue;
        out.push_back(unescape(point));
    }
    return out;
}

// ---- showconf -------------------------------------------------------------------

namespace {

void key_lines(std::ostream& os, const std::optional<KeyId>& id,
               const std::map<KeyId, std::string>& key_files, const std::string& conf_dir) {
    if (!id)
        return;
    auto f = key_files.find(*id);
    if (f != key_files.end()) {
        os << "key = " << f->second << '\n';
        return;
    }
    const std::string hex = format_key_id(*id);
    os << "# key: id " << hex << ", no file with this key found in " << conf_dir << "\n"
       << "# put the key in this file (mode 0600): apply refuses this file until then\n"
       << "key = " << conf_dir << "/keys/" << hex << ".key\n";
}

void timer_lines(std::ostream& os, const Timers& t) {
    if (t.timeout)
        os << "timeout = " << *t.timeout << '\n';
    if (t.retries)
        os << "retries = " << *t.retries << '\n';
    if (t.reconnect_min && t.reconnect_max)
        os << "reconnect = " << *t.reconnect_min << ':' << *t.reconnect_max << '\n';
    if (t.keepalive)
        os << "keepalive = " << *t.keepalive << '\n';
    if (t.dead_after)
        os << "dead-after = " << *t.dead_after << '\n';
}

} // namespace

std::string format_conf(const Running& have, const std::map<KeyId, std::string>& key_files,
                        const std::string& conf_dir) {
    std::ostringstream os;
    os << "# dstor showconf: the running state of this network namespace (dstor.conf(5))\n";
    if (have.module) {
        const ModuleInfo& m = *have.module;
        if (m.workers || m.max_sessions || m.max_host_sessions)
            os << "\n[global]\n";
        if (m.workers)
            os << "crypto-workers = " << *m.workers << '\n';
        if (m.max_sessions)
            os << "max-sessions = " << *m.max_sessions << '\n';
        if (m.max_host_sessions)
            os << "max-host-sessions = " << *m.max_host_sessions << '\n';
    }
    for (const auto& e : have.exports) {
        os << "\n[export " << e.name << "]\n";
        if (e.device)
            os << "device = " << *e.device << '\n';
        if (e.listen)
            os << "listen = " << format_endpoint(*e.listen) << '\n';
        if (e.read_only)
            os << "read-only = yes\n";
        key_lines(os, e.key_id, key_files, conf_dir);
        for (const auto& a : e.acls.value_or(std::vector<AclEntry>{}))
            os << "allow = " << format_prefix(a.prefix) << '=' << perm_name(a.perm) << '\n';
        if (e.mcast) {
            if (e.mcast->interface)
                os << "mcast = " << *e.mcast->interface << '\n';
            else if (e.mcast->ifindex)
                os << "# mcast: interface " << *e.mcast->ifindex << " has no name here\n";
            if (e.mcast->rate)
                os << "rate = " << *e.mcast->rate << '\n';
            if (e.mcast->block_size)
                os << "block-size = " << *e.mcast->block_size << '\n';
            if (e.mcast->querier)
                os << "querier = yes\n";
        } else if (e.tree && e.tree->block_size) {
            os << "tree = yes\nblock-size = " << *e.tree->block_size << '\n';
        }
        if (e.uuid)
            os << "uuid = " << format_uuid(*e.uuid) << '\n';
        if (e.max_sessions && (!have.module || !have.module->max_sessions ||
                               *have.module->max_sessions != *e.max_sessions))
            os << "max-sessions = " << *e.max_sessions << '\n';
    }
    std::set<std::string> seen;
    for (const auto& i : have.imports) {
        if (!seen.insert(i.name).second) {
            os << "\n# another import of " << i.name
               << (i.index ? " (" + device_of(*i.index) + ")" : std::string())
               << " is not listed: a file names each import once\n";
            continue;
        }
        os << "\n[import " << i.name << "]\n";
        if (i.peer)
            os << "peer = " << format_endpoint(*i.peer) << '\n';
        if (i.local)
            os << "name = " << *i.local << '\n';
        if (i.read_only)
            os << "read-only = yes\n";
        if (i.connections)
            os << "connections = " << *i.connections << '\n';
        key_lines(os, i.key_id, key_files, conf_dir);
        timer_lines(os, i.timers);
    }
    seen.clear();
    for (const auto& y : have.syncs) {
        if (!seen.insert(y.name).second) {
            os << "\n# another sync of " << y.name
               << " is not listed: a file names each sync once\n";
            continue;
        }
        os << "\n[sync " << y.name << "]\n";
        if (y.peer)
            os << "peer = " << format_endpoint(*y.peer) << '\n';
        else if (y.mcast.interface)
            os << "mcast = " << *y.mcast.interface << '\n';
        if (y.every)
            os << "every = " << *y.every << '\n';
        if (y.scrub)
            os << "scrub = " << *y.scrub << '\n';
        if (y.device)
            os << "target = " << *y.device << '\n';
        key_lines(os, y.key_id, key_files, conf_dir);
    }
    return os.str();
}

} // namespace dstor
