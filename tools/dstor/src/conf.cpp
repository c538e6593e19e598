#include "conf.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "validate.hpp"

namespace dstor {

namespace {

struct Kind {
    std::string_view name;
    std::vector<std::string_view> keys;  // in the order of the command's help
    std::vector<std::string_view> flags; // keys that take yes or no
    std::string_view repeatable;         // a key that may be given more than once
};

const std::array<Kind, 4>& kinds() {
    static const std::array<Kind, 4> k{{
        {"export",
         {"device", "listen", "read-only", "key", "allow", "mcast", "rate", "block-size", "querier",
          "tree", "uuid", "max-sessions"},
         {"read-only", "querier", "tree"},
         "allow"},
        {"import",
         {"peer", "name", "read-only", "connections", "key", "timeout", "retries", "reconnect",
          "keepalive", "dead-after"},
         {"read-only"},
         ""},
        {"sync", {"mcast", "peer", "target", "key", "root", "every", "scrub"}, {}, ""},
        {"global", {"crypto-workers", "max-sessions", "max-host-sessions"}, {}, ""},
    }};
    return k;
}

const Kind* find_kind(std::string_view name) {
    for (const auto& k : kinds())
        if (k.name == name)
            return &k;
    return nullptr;
}

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string_view trim(std::string_view s) {
    const char* blank = " \t\r";
    auto b = s.find_first_not_of(blank);
    if (b == std::string_view::npos)
        return {};
    return s.substr(b, s.find_last_not_of(blank) - b + 1);
}

std::string where(const std::string& file, int line) {
    return file + ":" + std::to_string(line) + ": ";
}

std::string section_title(const ConfSection& s) {
    return "[" + s.kind + (s.name.empty() ? "" : " " + s.name) + "]";
}

std::string join(const std::vector<std::string_view>& v) {
    std::string out;
    for (auto s : v)
        out += (out.empty() ? "" : ", ") + std::string(s);
    return out;
}

// "yes"/"no" and their usual spellings; nothing for anything else.
std::optional<bool> parse_bool(std::string_view v) {
    for (auto t : {"yes", "true", "on", "1"})
        if (v == t)
            return true;
    for (auto f : {"no", "false", "off", "0"})
        if (v == f)
            return false;
    return std::nullopt;
}

// `[kind NAME]` or `[global]` on `line`: the section, or an error.
std::optional<std::string> parse_header(std::string_view text, ConfSection& s) {
    if (text.back() != ']')
        return "a section header ends with ']'";
    auto inner = trim(text.substr(1, text.size() - 2));
    auto sp = inner.find_first_of(" \t");
    auto kind = inner.substr(0, sp);
    auto name = sp == std::string_view::npos ? std::string_view{} : trim(inner.substr(sp));
    const Kind* k = find_kind(kind);
    if (!k)
        return "unknown section [" + std::string(inner) +
               "]: sections are [export NAME], [import NAME], [sync NAME] and [global]";
    s.kind = std::string(kind);
    s.name = std::string(name);
    if (kind == "global") {
        if (!name.empty())
            return "[global] takes no name";
        return std::nullopt;
    }
    if (name.empty())
        return "[" + s.kind + "] needs a name: [" + s.kind + " NAME]";
    if (auto bad = check_name(name))
        return "[" + s.kind + " " + s.name + "]: " + *bad;
    return std::nullopt;
}

// The message of the command's parser, in the file's words: "--timeout" is
// "timeout" here. The line is the first key the message names, else the
// section's.
std::string attribute(const ConfSection& s, std::string message) {
    int line = s.line;
    for (const auto& e : s.entries) {
        std::string opt = "--" + e.key;
        auto at = message.find(opt);
        if (at == std::string::npos)
            continue;
        // A whole option name: "--key" is not "--keepalive".
        auto end = at + opt.size();
        if (end < message.size() &&
            (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-'))
            continue;
        line = e.line;
        break;
    }
    for (std::string::size_type at; (at = message.find("--")) != std::string::npos;)
        message.erase(at, 2);
    return where(s.file, line) + section_title(s) + ": " + message;
}

// The words after the object name that the section amounts to.
std::vector<std::string> section_args(const ConfSection& s, const Kind& k) {
    std::vector<std::string> args;
    if (s.kind == "export" || s.kind == "import")
        args.push_back("add");
    // `dstor sync NAME`: a name that is one of sync's verbs (del, list)
    // goes after the options, as sync's usage says.
    if (s.kind != "sync")
        args.push_back(s.name);
    for (const auto& e : s.entries) {
        if (contains(k.flags, e.key)) {
            if (*parse_bool(e.value))
                args.push_back("--" + e.key);
            continue;
        }
        // --opt=value: a value that starts with '-' stays a value.
        args.push_back("--" + e.key + "=" + e.value);
    }
    if (s.kind == "sync")
        args.push_back(s.name);
    return args;
}

} // namespace

void parse_conf_text(std::string_view text, const std::string& file, Conf& conf) {
    ConfSection* cur = nullptr;
    const Kind* kind = nullptr;
    bool skip = false; // the current section's header was bad
    int line = 0;
    while (!text.empty() || line == 0) {
        auto nl = text.find('\n');
        auto raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        line++;
        auto t = trim(raw);
        auto err = [&](const std::string& m) {
            conf.errors.push_back(where(file, line) + m);
            if (cur)
                cur->bad = true;
        };
        if (raw.find('\0') != std::string_view::npos) {
            err("a NUL byte: not a text file");
            return;
        }
        if (t.empty() || t[0] == '#' || t[0] == ';') {
            if (text.empty())
                break;
            continue;
        }
        if (t[0] == '[') {
            cur = nullptr; // the section before is complete
            ConfSection s;
            s.file = file;
            s.line = line;
            if (auto bad = parse_header(t, s)) {
                err(*bad);
                cur = nullptr;
                skip = true;
                continue;
            }
            skip = false;
            for (const auto& o : conf.sections)
                if (o.kind == s.kind && o.name == s.name) {
                    err(section_title(s) + " again (first at " + o.file + ":" +
                        std::to_string(o.line) + ")");
                    skip = true;
                }
            if (skip) {
                cur = nullptr;
                continue;
            }
            conf.sections.push_back(std::move(s));
            cur = &conf.sections.back();
            kind = find_kind(cur->kind);
            continue;
        }
        auto eq = t.find('=');
        if (eq == std::string_view::npos) {
            err("expected KEY = VALUE or a [section], got '" + std::string(t) + "'");
            continue;
        }
        auto key = trim(t.substr(0, eq));
        auto value = trim(t.substr(eq + 1));
        if (skip)
            continue; // its section was refused: one error is enough
        if (!cur) {
            std::string msg(1, '\'');
            msg.append(key).append("' outside a section: put it under [global], "
                                   "[export NAME], [import NAME] or [sync NAME]");
            err(msg);
            continue;
        }
        std::string title = section_title(*cur);
        if (!contains(kind->keys, key)) {
            err(title + ": unknown key '" + std::string(key) + "' (known: " + join(kind->keys) +
                ")");
            continue;
        }
        if (value.empty()) {
            err(title + ": " + std::string(key) + " has no value");
            continue;
        }
        if (contains(kind->flags, key) && !parse_bool(value)) {
            err(title + ": " + std::string(key) + " = '" + std::string(value) + "': yes or no");
            continue;
        }
        if (key != kind->repeatable) {
            auto dup = std::find_if(cur->entries.begin(), cur->entries.end(),
                                    [&](const ConfEntry& e) { return e.key == key; });
            if (dup != cur->entries.end()) {
                err(title + ": " + std::string(key) + " given twice (first at line " +
                    std::to_string(dup->line) + ")");
                continue;
            }
        }
        cur->entries.push_back({std::string(key), std::string(value), line});
    }
}

ConfObjects conf_objects(Conf& conf) {
    ConfObjects out;
    for (const auto& s : conf.sections) {
        if (s.bad)
            continue; // its error is reported already
        const Kind& k = *find_kind(s.kind);
        if (s.kind == "global") {
            for (const auto& e : s.entries) {
                auto p = parse_set_args({e.key, e.value});
                if (p.cmd)
                    out.settings.push_back(*p.cmd);
                else
                    conf.errors.push_back(where(s.file, e.line) + "[global]: " + p.output);
            }
            continue;
        }
        auto args = section_args(s, k);
        if (s.kind == "export") {
            auto p = parse_export_args(args);
            if (p.cmd && std::holds_alternative<ExportAdd>(*p.cmd))
                out.exports.push_back(std::get<ExportAdd>(*p.cmd));
            else
                conf.errors.push_back(attribute(s, p.output));
        } else if (s.kind == "import") {
            auto p = parse_import_args(args);
            if (p.cmd && std::holds_alternative<ImportAdd>(*p.cmd))
                out.imports.push_back(std::get<ImportAdd>(*p.cmd));
            else
                conf.errors.push_back(attribute(s, p.output));
        } else {
            auto p = parse_sync_args(args);
            if (p.cmd && std::holds_alternative<SyncAdd>(*p.cmd))
                out.syncs.push_back(std::get<SyncAdd>(*p.cmd));
            else
                conf.errors.push_back(attribute(s, p.output));
        }
    }
    return out;
}

} // namespace dstor
