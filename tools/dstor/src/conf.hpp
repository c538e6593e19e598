// Configuration files (dstor.conf(5)): /etc/dstor/dstor.conf and
// /etc/dstor/conf.d/*.conf, read by `dstor apply`.
//
//   # a comment (a line whose first non-blank character is # or ;)
//   [global]
//   crypto-workers = 4
//
//   [export data]
//   device = /dev/vdb
//   listen = 192.0.2.1
//   allow = 192.0.2.0/24=rw
//   allow = 198.51.100.7=ro
//
//   [import data]
//   peer = 192.0.2.1:7420
//   key = /etc/dstor/data.key
//   timeout = 10
//
// One section per object: [export NAME], [import NAME], [sync NAME] and at
// most one [global]. Keys are the command line's options without their
// dashes (`dstor export add NAME --device ...` is [export NAME] with
// device = ...); read-only and querier take yes or no; allow may be given
// more than once, any other key once. A value is the rest of the line,
// blanks around it dropped: no quotes, no comments after a value.
//
// Each section becomes the command it stands for and goes through that
// command's own parser, so a file is checked exactly like the command line;
// every problem is reported as FILE:LINE: message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace dstor {

struct ConfEntry {
    std::string key, value;
    int line = 0;
};

struct ConfSection {
    std::string kind; // export, import, sync, global
    std::string name; // empty for global
    std::string file;
    int line = 0;
    std::vector<ConfEntry> entries;
    bool bad = false; // a line of it was refused: not checked further
};

struct Conf {
    std::vector<ConfSection> sections;
    std::vector<std::string> errors; // "FILE:LINE: message", in file order
};

// Read `text`, the contents of `file`, into `conf`: its sections are
// appended, and its errors. A section named twice (in any file read into
// the same conf) is an error.
void parse_conf_text(std::string_view text, const std::string& file, Conf& conf);

// The objects the sections describe, each as the command that creates it,
// checked by that command's parser. Errors go to conf.errors.
struct ConfObjects {
    std::vector<ExportAdd> exports;
    std::vector<ImportAdd> imports;
    std::vector<SyncAdd> syncs;
    std::vector<SetCommand> settings; // [global], one command per key
};
ConfObjects conf_objects(Conf& conf);

} // namespace dstor
