// The objects of the command line, one file each: export.cpp, import.cpp,
// show.cpp, monitor.cpp. Each has a parser that turns the words after the object name into
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

// dstor import add NAME --peer ADDR[:PORT] [--read-only] [--connections N] [TIMERS]
// dstor import set /dev/dstorN | dstorN | N | NAME TIMERS
// dstor import del /dev/dstorN | dstorN | NAME
//   TIMERS: [--timeout S] [--retries N] [--reconnect MIN:MAX] [--keepalive S] [--dead-after S]
struct ImportAdd {
    ImportSpec spec;
};
struct ImportSet {
    ImportRef target; // a name is resolved to an index by a dump before sending
    Timers timers;    // at least one set
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

} // namespace dstor
