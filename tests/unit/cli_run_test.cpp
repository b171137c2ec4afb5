#include "cli/common_options.hpp"
#include "cli/run.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <boost/program_options.hpp>
#include <doctest/doctest.h>

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

using namespace virtsnap;
using cli::ExitStatus;

namespace {

// Runs cli::run with stderr captured; returns {exit status, stderr text}.
std::pair<int, std::string> run_capturing(const cli::ToolBody& body) {
    test::TempDir dir;
    std::fflush(stderr);
    int saved = ::dup(2);
    int file = ::open((dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(file, 2);
    ::close(file);
    char arg0[] = "virtsnap-test";
    char* argv[] = {arg0, nullptr};
    int status = cli::run(1, argv, "virtsnap-test", body);
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    return {status, test::read_file(dir / "stderr")};
}

template <typename E> std::pair<int, std::string> run_throwing(const std::string& message) {
    return run_capturing([&](int, char**) -> ExitStatus { throw E(message); });
}

} // namespace

TEST_CASE("a body's own status passes through") {
    auto [status, err] = run_capturing([](int, char**) { return ExitStatus::partial; });
    CHECK(status == 6);
    CHECK(err.empty());
}

TEST_CASE("each error type maps to its documented exit status with one line on stderr") {
    CHECK(run_throwing<util::UsageError>("bad").first == 2);
    CHECK(run_throwing<util::InputError>("bad").first == 3);
    CHECK(run_throwing<util::VerificationMismatch>("bad").first == 4);
    CHECK(run_throwing<util::RefusedError>("bad").first == 5);
    CHECK(run_throwing<util::Interrupted>("bad").first == 130);
    CHECK(run_capturing([](int, char**) -> ExitStatus { throw util::LibvirtError("bad", 42, 10); }).first ==
          1);
    CHECK(run_throwing<util::GuestfsError>("bad").first == 1);
    CHECK(run_throwing<std::runtime_error>("bad").first == 1);

    auto [status, err] = run_throwing<util::InputError>("manifest '/tmp/m' is truncated");
    CHECK(err == "virtsnap-test: error: manifest '/tmp/m' is truncated\n");
}

TEST_CASE("usage errors point at --help") {
    auto [status, err] = run_throwing<util::UsageError>("unknown option --frob");
    CHECK(status == 2);
    CHECK(err == "virtsnap-test: error: unknown option --frob (see 'virtsnap-test --help')\n");
}

TEST_CASE("Boost.Program_options errors are usage errors") {
    auto [status, err] = run_capturing([](int, char**) -> ExitStatus {
        namespace po = boost::program_options;
        po::options_description desc;
        cli::CommonOptions options;
        cli::add_common_options(desc, options, true);
        const char* args[] = {"x", "--no-such-option"};
        po::variables_map vm;
        po::store(po::parse_command_line(2, args, desc), vm);
        return ExitStatus::ok;
    });
    CHECK(status == 2);
    CHECK(err.find("no-such-option") != std::string::npos);
}

TEST_CASE("SystemError carries errno and its text") {
    util::SystemError e("cannot open '/x'", ENOENT);
    CHECK(e.error_number() == ENOENT);
    CHECK(std::string(e.what()) == "cannot open '/x': No such file or directory");
}

TEST_CASE("common options: --quiet with --verbose is a usage error") {
    cli::CommonOptions options;
    options.quiet = options.verbose = true;
    CHECK_THROWS_AS(cli::check_common_options(options), util::UsageError);
    options.verbose = false;
    CHECK(options.verbosity() == util::Verbosity::quiet);
}
