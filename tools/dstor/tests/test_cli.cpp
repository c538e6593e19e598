// Argument parsing of every verb into the data model; nothing here opens a socket.
#include <gtest/gtest.h>

#include <linux/dstor.h>

#include "commands.hpp"

using namespace dstor;
using Args = std::vector<std::string>;

namespace {

template <class T>
void expect_usage_error(const Parsed<T>& p, const std::string& command, const std::string& what) {
    EXPECT_FALSE(p.cmd.has_value());
    EXPECT_EQ(p.exit_code, EXIT_USAGE);
    EXPECT_EQ(p.command, command);
    EXPECT_NE(p.output.find(what), std::string::npos) << p.output;
}

template <class T>
void expect_help(const Parsed<T>& p, const std::string& usage_line) {
    EXPECT_FALSE(p.cmd.has_value());
    EXPECT_EQ(p.exit_code, EXIT_OK);
    EXPECT_NE(p.output.find(usage_line), std::string::npos) << p.output;
}

} // namespace

TEST(ExportArgs, AddMinimal) {
    auto p = parse_export_args({"add", "disk1", "--device", "/dev/vdb", "--listen", "192.0.2.1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "export add");
    auto* add = std::get_if<ExportAdd>(&*p.cmd);
    ASSERT_NE(add, nullptr);
    EXPECT_EQ(add->spec.name, "disk1");
    EXPECT_EQ(add->spec.device, "/dev/vdb");
    EXPECT_EQ(format_endpoint(add->spec.listen), "192.0.2.1:7420");
    EXPECT_FALSE(add->spec.read_only);
}

TEST(ExportArgs, AddFullAnyOrder) {
    auto p = parse_export_args(
        {"add", "--read-only", "--listen=[2001:db8::1]:9000", "disk.2", "--device=/dev/vdc"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& spec = std::get<ExportAdd>(*p.cmd).spec;
    EXPECT_EQ(spec.name, "disk.2");
    EXPECT_EQ(spec.device, "/dev/vdc");
    EXPECT_EQ(format_endpoint(spec.listen), "[2001:db8::1]:9000");
    EXPECT_TRUE(spec.read_only);
}

TEST(ExportArgs, AddDoesNotTouchTheDevice) {
    // Existence is checked when the command runs, not while parsing.
    auto p = parse_export_args({"add", "x", "--device", "/nonexistent", "--listen", "::"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
}

TEST(ExportArgs, AddErrors) {
    expect_usage_error(parse_export_args({"add"}), "export add", "NAME is required");
    expect_usage_error(parse_export_args({"add", "x", "--listen", "192.0.2.1"}), "export add",
                       "--device is required");
    expect_usage_error(parse_export_args({"add", "x", "--device", "/dev/vdb"}), "export add",
                       "--listen is required");
    expect_usage_error(
        parse_export_args({"add", "x", "--device", "/dev/vdb", "--listen", "host.example:1"}),
        "export add", "--listen 'host.example:1': 'host.example' is not a numeric");
    expect_usage_error(
        parse_export_args({"add", "x", "--device", "/dev/vdb", "--listen", "192.0.2.1:0"}),
        "export add", "port 0");
    expect_usage_error(
        parse_export_args({"add", "bad/name", "--device", "/dev/vdb", "--listen", "192.0.2.1"}),
        "export add", "'/'");
    expect_usage_error(
        parse_export_args({"add", std::string(64, 'n'), "--device", "/d", "--listen", "::"}),
        "export add", "at most 63");
    expect_usage_error(parse_export_args({"add", "x", "--device", "", "--listen", "192.0.2.1"}),
                       "export add", "--device is empty");
    expect_usage_error(
        parse_export_args({"add", "x", "y", "--device", "/d", "--listen", "192.0.2.1"}),
        "export add", "not expected: y");
    expect_usage_error(
        parse_export_args({"add", "x", "--device", "/d", "--listen", "192.0.2.1", "--bogus"}),
        "export add", "--bogus");
    expect_usage_error(parse_export_args({"add", "x", "--device"}), "export add", "--device");
}

TEST(ExportArgs, Del) {
    auto p = parse_export_args({"del", "disk1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "export del");
    EXPECT_EQ(std::get<ExportDel>(*p.cmd).name, "disk1");
    expect_usage_error(parse_export_args({"del"}), "export del", "NAME is required");
    expect_usage_error(parse_export_args({"del", "a", "b"}), "export del", "not expected: b");
    expect_usage_error(parse_export_args({"del", "a b"}), "export del", "a space");
}

TEST(ExportArgs, Verbs) {
    expect_usage_error(parse_export_args({}), "export", "missing verb: expected add or del");
    expect_usage_error(parse_export_args({"frob"}), "export", "unknown verb 'frob'");
    expect_usage_error(parse_export_args({""}), "export", "unknown verb ''");
    expect_usage_error(parse_export_args({"--frob"}), "export", "--frob");
}

TEST(ExportArgs, Help) {
    expect_help(parse_export_args({"--help"}), "Usage: dstor export [OPTIONS] SUBCOMMAND");
    expect_help(parse_export_args({"-h"}), "Usage: dstor export");
    auto p = parse_export_args({"add", "--help"});
    expect_help(p, "Usage: dstor export add [OPTIONS] NAME");
    EXPECT_NE(p.output.find("--listen"), std::string::npos);
    EXPECT_NE(p.output.find("--read-only"), std::string::npos);
    expect_help(parse_export_args({"del", "--help"}), "Usage: dstor export del");
    // Help wins over missing required options.
    expect_help(parse_export_args({"add", "x", "--help"}), "Usage: dstor export add");
}

TEST(ImportArgs, AddMinimal) {
    auto p = parse_import_args({"add", "disk1", "--peer", "192.0.2.1:7421"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    EXPECT_EQ(p.command, "import add");
    const auto& spec = std::get<ImportAdd>(*p.cmd).spec;
    EXPECT_EQ(spec.name, "disk1");
    EXPECT_EQ(format_endpoint(spec.peer), "192.0.2.1:7421");
    EXPECT_FALSE(spec.read_only);
    EXPECT_EQ(spec.connections, 0u); // the kernel's default
}

TEST(ImportArgs, AddFull) {
    auto p = parse_import_args(
        {"add", "disk1", "--peer", "2001:db8::1", "--read-only", "--connections", "8"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& spec = std::get<ImportAdd>(*p.cmd).spec;
    EXPECT_EQ(format_endpoint(spec.peer), "[2001:db8::1]:7420");
    EXPECT_TRUE(spec.read_only);
    EXPECT_EQ(spec.connections, 8u);
}

TEST(ImportArgs, AddErrors) {
    expect_usage_error(parse_import_args({"add", "x"}), "import add", "--peer is required");
    expect_usage_error(parse_import_args({"add", "--peer", "192.0.2.1"}), "import add",
                       "NAME is required");
    expect_usage_error(parse_import_args({"add", "x", "--peer", "nas.local"}), "import add",
                       "--peer 'nas.local'");
    expect_usage_error(parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", "0"}),
                       "import add", "from 1 to 16");
    expect_usage_error(
        parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", "17"}), "import add",
        "from 1 to 16");
    expect_usage_error(
        parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", "four"}),
        "import add", "from 1 to 16");
    expect_usage_error(parse_import_args({"add", "x", "--peer", "192.0.2.1", "--connections", ""}),
                       "import add", "from 1 to 16");
    expect_usage_error(parse_import_args({"add", "a b", "--peer", "192.0.2.1"}), "import add",
                       "a space");
}

TEST(ImportArgs, DelByDevice) {
    for (const char* t : {"/dev/dstor3", "dstor3"}) {
        auto p = parse_import_args({"del", t});
        ASSERT_TRUE(p.cmd.has_value()) << p.output;
        EXPECT_EQ(p.command, "import del");
        const auto& target = std::get<ImportDel>(*p.cmd).target;
        ASSERT_TRUE(std::holds_alternative<std::uint32_t>(target)) << t;
        EXPECT_EQ(std::get<std::uint32_t>(target), 3u);
    }
}

TEST(ImportArgs, DelByName) {
    auto p = parse_import_args({"del", "disk1"});
    ASSERT_TRUE(p.cmd.has_value()) << p.output;
    const auto& target = std::get<ImportDel>(*p.cmd).target;
    ASSERT_TRUE(std::holds_alternative<std::string>(target));
    EXPECT_EQ(std::get<std::string>(target), "disk1");

    expect_usage_error(parse_import_args({"del", "/dev/sda"}), "import del",
                       "neither a device (/dev/dstorN) nor an export name");
    expect_usage_error(parse_import_args({"del"}), "import del", "TARGET is required");
}

TEST(ImportArgs, VerbsAndHelp) {
    expect_usage_error(parse_import_args({}), "import", "missing verb");
    expect_usage_error(parse_import_args({"show"}), "import", "unknown verb 'show'");
    expect_help(parse_import_args({"--help"}), "Usage: dstor import [OPTIONS] SUBCOMMAND");
    auto p = parse_import_args({"add", "--help"});
    expect_help(p, "Usage: dstor import add [OPTIONS] NAME");
    EXPECT_NE(p.output.find("--connections"), std::string::npos);
    expect_help(parse_import_args({"del", "-h"}), "Usage: dstor import del [OPTIONS] TARGET");
}

TEST(ShowArgs, Parses) {
    auto p = parse_show_args({});
    ASSERT_TRUE(p.cmd.has_value());
    EXPECT_FALSE(p.cmd->json);
    EXPECT_EQ(p.command, "show");
    p = parse_show_args({"--json"});
    ASSERT_TRUE(p.cmd.has_value());
    EXPECT_TRUE(p.cmd->json);
    expect_usage_error(parse_show_args({"--jsn"}), "show", "--jsn");
    expect_usage_error(parse_show_args({"exports"}), "show", "exports");
    expect_help(parse_show_args({"--help"}), "Usage: dstor show [OPTIONS]");
}
