// dstor: configure the dstor kernel module (network block device exports and
// imports over TCP, multicast exports and syncs). A {name, fn, help} table
// drives dispatch and usage.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "error.hpp"

namespace {

using dstor::EXIT_OK;
using dstor::EXIT_USAGE;

int run_help(const std::vector<std::string>& args);

struct Subcommand {
    const char* name;
    int (*fn)(const std::vector<std::string>& args);
    const char* help;
};

const Subcommand subcommands[] = {
    {"show", dstor::run_show, "Shows exports, imports, syncs and module settings (the default)"},
    {"export", dstor::run_export, "Serves local block devices over TCP or multicast, sets keys"},
    {"import", dstor::run_import, "Attaches a peer's export as /dev/dstorN, tunes its timers"},
    {"sync", dstor::run_sync, "Brings a local device up to date with a multicast export"},
    {"acl", dstor::run_acl, "Lists, adds and removes who may connect to an export"},
    {"set", dstor::run_set, "Changes module-wide settings (crypto-workers, session limits)"},
    {"apply", dstor::run_apply, "Makes the running state equal to /etc/dstor/*.conf"},
    {"showconf", dstor::run_showconf, "Prints the running state as a configuration file"},
    {"down", dstor::run_down, "Removes what the configuration files list, imports first"},
    {"monitor", dstor::run_monitor, "Prints import events (link lost, reconnected, ...)"},
    {"index", dstor::run_index, "Writes a casync index and chunk store of a device or export"},
    {"genkey", dstor::run_genkey, "Prints a new pre-shared key: dstor genkey > KEYFILE"},
    {"keyid", dstor::run_keyid, "Prints the fingerprint of a key file"},
    {"help", run_help, "Shows this help, or an object's: dstor help OBJECT"},
};

const Subcommand* find(const std::string& name) {
    for (const auto& s : subcommands)
        if (name == s.name)
            return &s;
    return nullptr;
}

void usage(std::ostream& os) {
    os << "Usage: dstor <object> [<args>]\n\n"
          "Available objects:\n";
    for (const auto& s : subcommands)
        os << "  " << s.name << std::string(10 - std::strlen(s.name), ' ') << s.help << '\n';
    os << "\nPass --help to any object for its usage; `dstor' alone is `dstor show'.\n"
          "Exit status: 0 success, 1 the system or the kernel refused, 2 bad arguments.\n";
}

int run_help(const std::vector<std::string>& args) {
    if (args.empty()) {
        usage(std::cout);
        return EXIT_OK;
    }
    const Subcommand* s = find(args.front());
    if (s == nullptr || s->fn == run_help) {
        dstor::report("help", "'" + args.front() + "' is not a dstor object (see 'dstor help')");
        return EXIT_USAGE;
    }
    return s->fn({"--help"});
}

int dispatch(int argc, char** argv) {
    if (argc < 2)
        return dstor::run_show({});
    const std::string object = argv[1];
    if (object == "--help" || object == "-h") {
        usage(std::cout);
        return EXIT_OK;
    }
    if (object == "--version" || object == "-V") {
        std::cout << "dstor " << DSTOR_VERSION << '\n';
        return EXIT_OK;
    }
    const Subcommand* s = find(object);
    if (s == nullptr) {
        dstor::report("", "'" + object + "' is not a dstor object (see 'dstor help')");
        return EXIT_USAGE;
    }
    return s->fn(std::vector<std::string>(argv + 2, argv + argc));
}

} // namespace

int main(int argc, char** argv) {
    try {
        return dispatch(argc, argv);
    } catch (const std::exception& e) {
        dstor::report("", std::string("internal error: ") + e.what());
    } catch (...) {
        dstor::report("", "internal error");
    }
    return dstor::EXIT_FAIL;
}
