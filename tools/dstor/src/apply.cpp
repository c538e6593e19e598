// dstor apply | down | showconf: the configuration files (conf.hpp,
// dstor.conf(5)) against the running state. plan.cpp decides what to do;
// this file reads the files, checks them, asks the kernel what runs, and
// runs each change as the dstor command it prints (run_export, run_import,
// run_acl, run_set, run_sync), so an apply does exactly what its output says.
//
// Files: /etc/dstor/dstor.conf and /etc/dstor/conf.d/*.conf (in name order;
// missing ones are fine), or the FILEs named (which must exist). The
// directory is $DSTOR_CONF_DIR when set (tests).
// Record of the objects apply created: /run/dstor/applied-netns-INODE, one
// file per network namespace (dstor objects are per namespace, /run is
// not); the directory is $DSTOR_STATE_DIR when set.
// Record of the uuids of exports listed without one, which must outlive a
// reboot: /var/lib/dstor/export-uuids ($DSTOR_LIB_DIR when set).
#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "conf.hpp"
#include "plan.hpp"
#include "show.hpp"
#include "validate.hpp"

namespace dstor {

namespace {

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string conf_dir() {
    return env_or("DSTOR_CONF_DIR", "/etc/dstor");
}

// ---- reading and checking the files -----------------------------------------

// Read FILEs, or the default files, into `conf`; unreadable files are errors.
void read_files(const std::vector<std::string>& named, Conf& conf) {
    std::vector<std::pair<std::string, bool>> files; // path, must exist
    for (const auto& f : named)
        files.emplace_back(f, true);
    if (named.empty()) {
        const std::string dir = conf_dir();
        files.emplace_back(dir + "/dstor.conf", false);
        std::vector<std::string> d;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir + "/conf.d", ec))
            if (entry.path().extension() == ".conf")
                d.push_back(entry.path().string());
        std::sort(d.begin(), d.end());
        for (const auto& f : d)
            files.emplace_back(f, false);
    }
    for (const auto& [path, must] : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            const int err = errno;
            if (err == ENOENT && !must)
                continue;
            conf.errors.push_back(path + ": " + std::strerror(err));
            continue;
        }
        std::ostringstream text;
        text << in.rdbuf();
        parse_conf_text(text.str(), path, conf);
    }
}

// "FILE:LINE: [KIND NAME]: " of `key` in the section, or of the section.
std::string where(const Conf& conf, const std::string& kind, const std::string& name,
                  const std::string& key) {
    for (const auto& s : conf.sections) {
        if (s.kind != kind || s.name != name)
            continue;
        int line = s.line;
        for (const auto& e : s.entries)
            if (e.key == key)
                line = e.line;
        return s.file + ":" + std::to_string(line) + ": [" + kind + " " + name + "]: ";
    }
    return "[" + kind + " " + name + "]: ";
}

// What the commands would check before asking the kernel, for every object
// at once: key files, devices, interfaces. Fills in keys, absolute device
// paths and interface indexes.
void check_objects(Conf& conf, ConfObjects& objs) {
    auto key = [&conf](const std::string& kind, const std::string& name,
                       const std::optional<std::string>& file, std::optional<Key>& out) {
        if (!file)
            return;
        auto k = read_key_file(*file);
        if (k)
            out = *k;
        else
            conf.errors.push_back(where(conf, kind, name, "key") + k.error().text());
    };
    auto device = [&conf](const std::string& kind, const std::string& name, const char* what,
                          std::string& path) {
        auto d = check_device(path);
        if (d)
            path = *d;
        else
            conf.errors.push_back(where(conf, kind, name, what) + d.error().text());
    };
    auto iface = [&conf](const std::string& kind, const std::string& name,
                         const std::string& interface, std::uint32_t& ifindex) {
        auto i = resolve_interface(interface);
        if (i)
            ifindex = *i;
        else
            conf.errors.push_back(where(conf, kind, name, "mcast") + i.error().text());
    };
    for (auto& e : objs.exports) {
        key("export", e.spec.name, e.key_file, e.spec.key);
        device("export", e.spec.name, "device", e.spec.device);
        if (e.spec.mcast)
            iface("export", e.spec.name, e.spec.mcast->interface, e.spec.mcast->ifindex);
    }
    for (auto& i : objs.imports)
        key("import", i.spec.name, i.key_file, i.spec.key);
    for (auto& y : objs.syncs) {
        key("sync", y.spec.name, y.key_file, y.spec.key);
        device("sync", y.spec.name, "target", y.spec.device);
        if (!y.spec.interface.empty())
            iface("sync", y.spec.name, y.spec.interface, y.spec.ifindex);
    }
}

// Every error, FILE:LINE: first, then one line under the command's name.
int refuse(const std::string& command, const Conf& conf) {
    for (const auto& e : conf.errors)
        std::cerr << e << '\n';
    report(command, std::to_string(conf.errors.size()) +
                        (conf.errors.size() == 1 ? " error" : " errors") +
                        " in the configuration: nothing changed");
    return EXIT_USAGE;
}

// ---- the running state ----------------------------------------------------------

// Two paths of one block device (a by-id link and its /dev name).
bool same_device(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && S_ISBLK(sa.st_mode) &&
           S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
}

// A wanted device that is the running one under another path takes the
// running one's spelling: not a change.
void same_spelling(ConfObjects& want, const Running& have) {
    for (auto& w : want.exports)
        for (const auto& h : have.exports)
            if (h.name == w.spec.name && h.device && same_device(*h.device, w.spec.device))
                w.spec.device = *h.device;
    for (auto& w : want.syncs)
        for (const auto& h : have.syncs)
            if (h.name == w.spec.name && h.device && same_device(*h.device, w.spec.device))
                w.spec.device = *h.device;
}

// Replace the file `path` with `text` (its directory made if need be): a
// reader sees the old record or the new one, never a part. False on failure.
bool write_record(const std::string& path, const std::string& text) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (out.flush() && std::rename(tmp.c_str(), path.c_str()) == 0)
            return true;
    }
    std::remove(tmp.c_str());
    return false;
}

// ---- the identities of exports listed without a uuid ----------------------------
// An export's uuid is its identity: its importers resume only against the
// one they were made of. A section without `uuid` gets the one the kernel
// picked at its first apply, recorded here, whenever it is added again on
// the same device (after a reboot, or a `dstor down`): otherwise every
// importer would fail after the exporter rebooted. Another device under the
// name gets a new identity.

std::string kept_uuids_path() {
    return env_or("DSTOR_LIB_DIR", "/var/lib/dstor") + "/export-uuids";
}

// The kept uuid of each export `want` lists without one, on the same device.
std::map<std::string, Uuid> kept_uuids(const ConfObjects& want,
                                       const std::map<std::string, KeptUuid>& kept) {
    std::map<std::string, Uuid> out;
    for (const auto& w : want.exports) {
        auto k = kept.find(w.spec.name);
        if (!w.spec.uuid && k != kept.end() && same_device(k->second.device, w.spec.device))
            out.emplace(w.spec.name, k->second.uuid);
    }
    return out;
}

// After a run: record the uuid of each running export `want` lists without
// one (on the device the file names). A failure to write is said, not fatal.
void record_kept_uuids(const std::string& command, const ConfObjects& want,
                       std::map<std::string, KeptUuid> kept) {
    if (std::none_of(want.exports.begin(), want.exports.end(),
                     [](const ExportAdd& w) { return !w.spec.uuid; }))
        return;
    auto have = running_or_report(command); // with the uuids the kernel picked
    if (!have)
        return;
    const auto before = kept;
    for (const auto& w : want.exports)
        for (const auto& h : have->exports)
            if (!w.spec.uuid && h.name == w.spec.name && h.uuid && h.device &&
                same_device(*h.device, w.spec.device))
                kept[w.spec.name] = KeptUuid{w.spec.device, *h.uuid};
    if (kept == before)
        return;
    const std::string path = kept_uuids_path();
    if (!write_record(path, format_kept_uuids(kept)))
        report(command, path + ": cannot write the record of export uuids: an export listed "
                               "without a uuid will get a new one when it is added again");
}

// Imports whose device (or a partition of it) is mounted here, or held by
// another block device (dm, md): "mounted on /srv".
std::map<std::uint32_t, std::string> imports_in_use(const Running& have) {
    std::map<std::uint32_t, std::string> out;
    const std::string mountinfo = read_text("/proc/self/mountinfo");
    for (const auto& i : have.imports) {
        if (!i.index)
            continue;
        const std::string disk = "dstor" + std::to_string(*i.index);
        const std::filesystem::path sys = "/sys/block/" + disk;
        std::set<std::string> devnums;
        auto devnum = [&devnums](const std::filesystem::path& dev) {
            std::string n = read_text(dev.string());
            while (!n.empty() && (n.back() == '\n' || n.back() == ' '))
                n.pop_back();
            if (!n.empty())
                devnums.insert(n);
        };
        devnum(sys / "dev");
        std::error_code ec;
        for (const auto& part : std::filesystem::directory_iterator(sys, ec))
            if (part.path().filename().string().rfind(disk, 0) == 0)
                devnum(part.path() / "dev");
        auto points = mount_points(mountinfo, devnums);
        if (!points.empty()) {
            std::string text;
            for (const auto& p : points)
                text += (text.empty() ? "" : ", ") + p;
            out[*i.index] = "mounted on " + text;
            continue;
        }
        for (const auto& h : std::filesystem::directory_iterator(sys / "holders", ec)) {
            out[*i.index] = "held by " + h.path().filename().string();
            break;
        }
    }
    return out;
}

// ---- the record of what apply created -------------------------------------------

std::string applied_path() {
    struct stat st {};
    const std::string ns =
        stat("/proc/self/ns/net", &st) == 0 ? std::to_string(st.st_ino) : std::string("unknown");
    return env_or("DSTOR_STATE_DIR", "/run/dstor") + "/applied-netns-" + ns;
}

void write_applied(const std::string& command, const std::set<std::string>& applied) {
    const std::string path = applied_path();
    if (!write_record(path, format_applied(applied)))
        report(command, path + ": cannot write the record of applied objects");
}

// ---- running a plan ----------------------------------------------------------------

// Run one action as the command it is, its standard output dropped (the
// device or index an add prints): apply prints the command lines.
int run_action(const Action& a) {
    const std::vector<std::string> rest(a.args.begin() + 1, a.args.end());
    std::ostringstream quiet;
    auto* saved = std::cout.rdbuf(quiet.rdbuf());
    int rc = EXIT_FAIL;
    if (a.args[0] == "export")
        rc = run_export(rest);
    else if (a.args[0] == "import")
        rc = run_import(rest);
    else if (a.args[0] == "acl")
        rc = run_acl(rest);
    else if (a.args[0] == "set")
        rc = run_set(rest);
    else if (a.args[0] == "sync")
        rc = run_sync(rest);
    std::cout.rdbuf(saved);
    return rc;
}

struct Options {
    std::vector<std::string> files;
    bool dry_run = false, prune = false;
    std::string retry_text;  // apply --retry S
    std::uint32_t retry = 0; // its seconds
};

bool is_import_add(const Action& a) {
    return a.args.size() >= 2 && a.args[0] == "import" && a.args[1] == "add";
}

// An import add that failed, tried again every 2 s until `deadline`: at boot
// its exporter may come up after us. Each distinct reason is printed once.
int retry_import(const std::string& command, const Action& a, const std::string& first_error,
                 std::chrono::steady_clock::time_point deadline) {
    using namespace std::chrono;
    std::cerr << first_error;
    const auto left = duration_cast<seconds>(deadline - steady_clock::now()).count();
    report(command, a.object + ": retrying every 2 s for up to " + std::to_string(left) + " s");
    std::string last = first_error;
    while (steady_clock::now() + seconds(2) <= deadline) {
        std::this_thread::sleep_for(seconds(2));
        std::ostringstream err;
        auto* saved = std::cerr.rdbuf(err.rdbuf());
        const int rc = run_action(a);
        std::cerr.rdbuf(saved);
        if (rc == EXIT_OK) {
            report(command, a.object + ": connected");
            return rc;
        }
        if (err.str() != last)
            std::cerr << err.str();
        last = err.str();
    }
    report(command, a.object + ": gave up after --retry");
    return EXIT_FAIL;
}

// Print and (unless dry_run) run the plan. `keep_going`: run the rest after a
// failure (down: the objects are independent); apply stops at the first.
int execute(const std::string& command, const Plan& plan, bool dry_run, bool keep_going,
            std::uint32_t retry, PlanState& state) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(retry);
    for (const auto& r : plan.refusals)
        report(command, r);
    if (plan.actions.empty() && plan.refusals.empty())
        std::cout << "dstor: nothing to change\n";
    bool failed = false, changed = false;
    for (const auto& a : plan.actions) {
        std::cout << command_line(a.args) << std::endl;
        if (dry_run)
            continue;
        int rc;
        if (retry && is_import_add(a)) {
            std::ostringstream err;
            auto* saved = std::cerr.rdbuf(err.rdbuf());
            rc = run_action(a);
            std::cerr.rdbuf(saved);
            if (rc != EXIT_OK)
                rc = retry_import(command, a, err.str(), deadline);
        } else {
            rc = run_action(a);
        }
        if (rc != EXIT_OK) {
            failed = true;
            if (keep_going)
                continue;
            break;
        }
        if (a.record == Action::Record::add)
            changed = state.applied.insert(a.object).second || changed;
        else if (a.record == Action::Record::remove)
            changed = state.applied.erase(a.object) > 0 || changed;
    }
    if (changed)
        write_applied(command, state.applied);
    if (failed)
        report(command, keep_going ? "some changes failed (above)"
                                   : "stopped at the change that failed (above)");
    if (flush_stdout(command) != EXIT_OK)
        return EXIT_FAIL;
    return failed || !plan.refusals.empty() ? EXIT_FAIL : EXIT_OK;
}

Parsed<Options> parse_args(const std::string& object, const std::string& help,
                           const std::vector<std::string>& args) {
    CLI::App app(help, "dstor " + object);
    Options o;
    app.add_option("FILE", o.files,
                   "Configuration files (default: /etc/dstor/dstor.conf and "
                   "/etc/dstor/conf.d/*.conf)")
        ->type_name("");
    app.add_flag("--dry-run,-n", o.dry_run, "Print the changes, make none");
    if (object == "apply") {
        app.add_flag("--prune", o.prune,
                     "Also remove objects the files do not list that apply did not create");
        app.add_option("--retry", o.retry_text,
                       "An import that cannot connect yet (its exporter not up): try again "
                       "every 2 s for up to S seconds, 0 to 3600 (default 0; dstor.service: 120)")
            ->type_name("S");
    }
    app.footer("See dstor.conf(5). Each change is printed as the dstor command it amounts to.");
    auto p = parse_cli(app, object, args);
    if (!p.cmd)
        return carry<Options>(std::move(p));
    if (!o.retry_text.empty()) {
        auto r = parse_apply_retry(o.retry_text);
        if (!r)
            return Parsed<Options>::usage_error(p.command, r.error().text());
        o.retry = *r;
    }
    Parsed<Options> out;
    out.command = p.command;
    out.cmd = std::move(o);
    return out;
}

// apply and down: parse the arguments, read and check the files (apply
// checks key files, devices and interfaces too: `check`), ask the kernel
// what runs, plan, and print and run the plan.
int run_conf(const std::string& object, const std::string& help,
             const std::vector<std::string>& args, bool apply) {
    auto p = parse_args(object, help, args);
    if (!p.cmd)
        return emit(p);
    Conf conf;
    read_files(p.cmd->files, conf);
    ConfObjects want = conf_objects(conf);
    if (apply)
        check_objects(conf, want);
    if (!conf.errors.empty())
        return refuse(p.command, conf);

    auto have = running_or_report(p.command);
    if (!have)
        return EXIT_FAIL;
    PlanState state;
    state.applied = parse_applied(read_text(applied_path()));
    state.in_use = imports_in_use(*have);
    state.prune = p.cmd->prune;
    const auto kept = parse_kept_uuids(read_text(kept_uuids_path()));
    state.kept_uuids = kept_uuids(want, kept);
    same_spelling(want, *have);
    // down goes on after a failure: the objects it removes are independent.
    Plan plan = apply ? plan_apply(want, *have, state) : plan_down(want, *have, state);
    const int rc = execute(p.command, plan, p.cmd->dry_run, !apply, p.cmd->retry, state);
    if (apply && !p.cmd->dry_run)
        record_kept_uuids(p.command, want, kept);
    return rc;
}

} // namespace

int run_apply(const std::vector<std::string>& args) {
    return run_conf("apply", "Make the running state equal to the configuration files.", args,
                    true);
}

int run_down(const std::vector<std::string>& args) {
    return run_conf("down", "Remove what the configuration files list: imports first.", args,
                    false);
}

int run_showconf(const std::vector<std::string>& args) {
    CLI::App app("Print the running state as a configuration file (dstor.conf(5)).",
                 "dstor showconf");
    app.footer("Keys are named by a file in /etc/dstor or /etc/dstor/keys that holds the same\n"
               "key (same key id); a key with no such file gets a comment and a key line naming\n"
               "/etc/dstor/keys/KEYID.key, which apply refuses until that file exists.\n"
               "Example: dstor showconf > /etc/dstor/dstor.conf");
    auto p = parse_cli(app, "showconf", args);
    if (!p.cmd)
        return emit(p);
    auto have = running_or_report(p.command);
    if (!have)
        return EXIT_FAIL;
    // Key files: any file in the directory or its keys/ that reads as a key.
    const std::string dir = conf_dir();
    std::map<KeyId, std::string> key_files;
    for (const auto& d : {dir, dir + "/keys"}) {
        std::vector<std::string> files;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(d, ec))
            if (e.is_regular_file(ec) && !e.is_symlink(ec))
                files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            if (auto k = read_key_file(f))
                key_files.emplace(key_id(*k), f);
    }
    std::cout << format_conf(*have, key_files, dir);
    return flush_stdout(p.command);
}

} // namespace dstor
