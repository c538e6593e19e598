// dstor genkey, dstor keyid FILE: make a pre-shared key and show its
// fingerprint. The key primitives are in key.cpp.
#include <CLI/CLI.hpp>
#include <linux/dstor.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <iostream>

#include "commands.hpp"
#include "key.hpp"

namespace dstor {

namespace {

constexpr const char* key_file_rules =
    "A key file holds the base64 of 32 random bytes and one newline, as 'dstor genkey'\n"
    "writes it. dstor refuses key files that group or others may read or write, that\n"
    "are not regular files (symbolic links included), or that hold anything else.";

// What stdout is, for the genkey warning: the file's path when known.
std::string stdout_name() {
    std::array<char, 4096> buf{};
    const ssize_t n = ::readlink("/proc/self/fd/1", buf.data(), buf.size() - 1);
    if (n <= 0)
        return "standard output";
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

} // namespace

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool load_key(const std::optional<std::string>& file, std::optional<Key>& key) {
    if (!file)
        return true;
    auto k = read_key_file(*file);
    if (!k) {
        report("", k.error()); // "dstor: FILE: reason"
        return false;
    }
    key = *k;
    return true;
}

Parsed<GenkeyCommand> parse_genkey_args(const std::vector<std::string>& args) {
    CLI::App app("Print a new pre-shared key (32 random bytes, base64) on standard output.",
                 "dstor genkey");
    app.footer("Example: umask 077; dstor genkey > KEYFILE   (or just: dstor genkey > KEYFILE)\n"
               "When standard output is a file that group or others may read, dstor sets its\n"
               "mode to 0600 before writing, and says so. Give KEYFILE to 'dstor export add\n"
               "--key' on the exporter and 'dstor import add --key' on each importer; copy it\n"
               "only over a secure channel. 'dstor keyid KEYFILE' prints its fingerprint.");
    auto p = parse_cli(app, "genkey", args);
    if (!p.cmd)
        return carry<GenkeyCommand>(std::move(p));
    Parsed<GenkeyCommand> out;
    out.command = p.command;
    out.cmd = GenkeyCommand{};
    return out;
}

int run_genkey(const std::vector<std::string>& args) {
    auto p = parse_genkey_args(args);
    if (!p.cmd)
        return emit(p);

    // Close the file to others before the key is in it.
    auto warning = restrict_key_output(STDOUT_FILENO, stdout_name());
    if (!warning) {
        report(p.command, warning.error());
        return EXIT_FAIL;
    }
    if (*warning)
        report(p.command, **warning);

    auto key = generate_key();
    if (!key) {
        report(p.command, key.error());
        return EXIT_FAIL;
    }
    KeyText text;
    encode_key(*key, text);
    if (!write_all(STDOUT_FILENO, text.line())) {
        report(p.command, Error::sys(errno, "cannot write to standard output"));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

Parsed<KeyidCommand> parse_keyid_args(const std::vector<std::string>& args) {
    CLI::App app("Print the fingerprint of a key file: 16 hex digits, as 'dstor show' prints "
                 "them for exports and imports that hold the key.",
                 "dstor keyid");
    std::string file;
    app.add_option("FILE", file, "Key file")->type_name("")->required();
    app.footer(std::string(key_file_rules) +
               "\nThe fingerprint is the first 8 bytes of SHA-256(\"dstor key id\" || key).");
    auto p = parse_cli(app, "keyid", args);
    if (!p.cmd)
        return carry<KeyidCommand>(std::move(p));
    if (file.empty())
        return Parsed<KeyidCommand>::usage_error(p.command, "FILE is empty");
    Parsed<KeyidCommand> out;
    out.command = p.command;
    out.cmd = KeyidCommand{file};
    return out;
}

int run_keyid(const std::vector<std::string>& args) {
    auto p = parse_keyid_args(args);
    if (!p.cmd)
        return emit(p);
    std::optional<Key> key;
    if (!load_key(p.cmd->file, key))
        return EXIT_USAGE;
    std::cout << format_key_id(key_id(*key)) << '\n';
    return flush_stdout(p.command);
}

} // namespace dstor
