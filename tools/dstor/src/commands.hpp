// The objects of the command line, one file each: export.cpp, import.cpp,
// show.cpp. Each has a parser that turns the words after the object name into
// a command of the data model without touching netlink (tests use it), and a
// run_* function that parses, validates, talks to the kernel and returns the
// exit code.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "cli.hpp"
#include "model.hpp"

namespace dstor {

// dstor export add NAME --device PATH --listen ADDR[:PORT] [--read-only]
// dstor export del NAME
struct ExportAdd {
    ExportSpec spec;
};
struct ExportDel {
    std::string name;
};
using ExportCommand = std::variant<ExportAdd, ExportDel>;
Parsed<ExportCommand> parse_export_args(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

// dstor import add NAME --peer ADDR[:PORT] [--read-only] [--connections N]
// dstor import del /dev/dstorN | dstorN | NAME
struct ImportAdd {
    ImportSpec spec;
};
struct ImportDel {
    ImportRef target;
};
using ImportCommand = std::variant<ImportAdd, ImportDel>;
Parsed<ImportCommand> parse_import_args(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);

// dstor show [--json]
struct ShowCommand {
    bool json = false;
};
Parsed<ShowCommand> parse_show_args(const std::vector<std::string>& args);
int run_show(const std::vector<std::string>& args);

} // namespace dstor
