// The configuration file is input from outside: every key must be one the
// tool knows, every error must say where, and a file that is not a plain
// file (a FIFO, a link to /dev/zero) must be refused at once.

#include "cli/config_file.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <doctest/doctest.h>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace virtsnap;
namespace po = boost::program_options;

namespace {

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << text;
    return path;
}

struct Tool {
    std::string output, keep;
    std::vector<std::string> excluded;
    bool no_verify = false;
    po::options_description options;
    Tool() {
        options.add_options()("output,o", po::value(&output))("keep", po::value(&keep))(
            "exclude-domain", po::value(&excluded))("no-verify", po::bool_switch(&no_verify));
    }
};

std::string nothing_refused(const std::string&) {
    return "";
}

} // namespace

TEST_CASE("config file: global keys and domain sections, each with its line") {
    test::TempDir dir;
    const std::string path = write(dir, "v.conf",
                                   "# comment\n"
                                   "output = /backup   # trailing comment\n"
                                   "\n"
                                   "exclude-domain = a\n"
                                   "exclude-domain = b\n"
                                   "[domain:web.example.com]\n"
                                   "keep = 30\n");
    const std::optional<cli::ConfigFile> file = cli::ConfigFile::load(path, true);
    REQUIRE(file);
    REQUIRE(file->global().size() == 3);
    CHECK(file->global()[0].key == "output");
    CHECK(file->global()[0].value == "/backup");
    CHECK(file->global()[0].line == 2);
    CHECK(file->global()[2].line == 5);
    REQUIRE(file->domain("web.example.com").size() == 1);
    CHECK(file->domain("web.example.com")[0].key == "keep");
    CHECK(file->domain("web.example.com")[0].line == 7);
    CHECK(file->domain("other").empty());

    Tool tool;
    po::variables_map vm;
    cli::store_config_entries(*file, file->domain("web.example.com"), tool.options, vm, nothing_refused);
    cli::store_config_entries(*file, file->global(), tool.options, vm, nothing_refused);
    po::notify(vm);
    CHECK(tool.output == "/backup");
    CHECK(tool.keep == "30");
    CHECK(tool.excluded == std::vector<std::string>{"a", "b"});
}

TEST_CASE("config file: what the command line set stays; a section wins over the defaults") {
    test::TempDir dir;
    const std::string path =
        write(dir, "v.conf", "keep = 1\noutput = /file\nno-verify = true\n[domain:db]\nkeep = 9\n");
    const std::optional<cli::ConfigFile> file = cli::ConfigFile::load(path, true);
    Tool tool;
    po::variables_map vm;
    const char* argv[] = {"tool", "--output", "/cli"};
    po::store(po::parse_command_line(3, argv, tool.options), vm);
    cli::store_config_entries(*file, file->domain("db"), tool.options, vm, nothing_refused);
    cli::store_config_entries(*file, file->global(), tool.options, vm, nothing_refused);
    po::notify(vm);
    CHECK(tool.output == "/cli");
    CHECK(tool.keep == "9");
    CHECK(tool.no_verify);
}

TEST_CASE("config file: unknown keys, refused keys, repeats and foreign sections name file and line") {
    test::TempDir dir;
    Tool tool;
    auto fails = [&](const std::string& text, const std::string& expected,
                     const std::function<std::string(const std::string&)>& refused = nothing_refused) {
        CAPTURE(text);
        const std::string path = write(dir, "bad.conf", text);
        try {
            const std::optional<cli::ConfigFile> file = cli::ConfigFile::load(path, true);
            po::variables_map vm;
            cli::store_config_entries(*file, file->global(), tool.options, vm, refused);
            FAIL("accepted");
        } catch (const util::UsageError& error) {
            CHECK(std::string(error.what()).find(path + expected) == 0);
        }
    };
    fails("output = /b\nspeling = 1\n", ":2: 'speling' is not an option of this tool");
    fails("o = /b\n", ":1: 'o' is not an option of this tool"); // short names are for the command line
    fails("keep = 1\nkeep = 2\n", ":2: 'keep': ");
    fails("[hooks]\nkeep = 1\n", ":2: section 'hooks' is not one this file may have");
    fails("[domain:]\nkeep = 1\n", ":2: section 'domain:' is not one this file may have");
    fails("no-verify = perhaps\n", ":1: 'no-verify': ");
    fails("keep = 1\n", ":1: 'keep': not here", [](const std::string&) { return std::string("not here"); });
}

TEST_CASE("config file: missing, a link, a FIFO, a link to /dev/zero and a directory") {
    test::TempDir dir;
    CHECK_FALSE(cli::ConfigFile::load((dir / "none.conf").string(), false));
    CHECK_THROWS_WITH_AS(cli::ConfigFile::load((dir / "none.conf").string(), true),
                         doctest::Contains("does not exist"), util::UsageError);
    const std::string real = write(dir, "real.conf", "keep = 3\n");
    const std::string link = (dir / "link.conf").string();
    REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
    for (bool named : {true, false}) {
        const std::optional<cli::ConfigFile> file = cli::ConfigFile::load(link, named);
        REQUIRE(file);
        CHECK(file->global().at(0).value == "3");
    }
    // Where nobody named it, a FIFO would hang the run: refused at once.
    const std::string fifo = (dir / "fifo.conf").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(cli::ConfigFile::load(fifo, false), doctest::Contains("not a regular file"),
                         util::UsageError);
    const std::string zero = (dir / "zero.conf").string();
    REQUIRE(::symlink("/dev/zero", zero.c_str()) == 0);
    CHECK_THROWS_AS(cli::ConfigFile::load(zero, false), util::UsageError);
    CHECK_THROWS_AS(cli::ConfigFile::load(zero, true), util::UsageError); // bounded: 1 MiB
    CHECK_THROWS_AS(cli::ConfigFile::load(dir.path().string(), true), util::UsageError);
}

TEST_CASE("config file: what Boost would read otherwise or report without a line is refused with its line") {
    test::TempDir dir;
    auto refused = [&](const std::string& text, const std::string& expected) {
        CAPTURE(text);
        const std::string path = write(dir, "odd.conf", text);
        try {
            cli::ConfigFile::load(path, true);
            FAIL("accepted");
        } catch (const util::UsageError& error) {
            CHECK(std::string(error.what()).rfind(path + expected, 0) == 0);
        }
    };
    refused("keep = 1\n[domain:db.]\nkeep = 2\n", ":2: '[domain:db.]' is not a section header");
    refused("[ domain:db ]\nkeep = 2\n", ":1: '[ domain:db ]' is not a section header");
    refused("keep = 1\n[]\n", ":2: '[]' is not a section header");
    refused("[domain:db\nkeep = 2\n", ":1: '[domain:db' is not a section header");
    refused("keep = 1\n= 3\n", ":2: a value without a key");
    refused("keep\n", ":1: 'keep' is neither KEY = VALUE nor a [section]");
    refused(std::string("keep = 1\nab\0cd = 2\n", 18), ":2: a NUL byte");
}
