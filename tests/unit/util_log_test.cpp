// virtsnap-backup --log-file: the file holds every line the run's Logs write
// while the LogCopy lives, with the same escaping as stderr, and nothing
// after it is gone.

#include "temp_dir.hpp"
#include "util/log.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>

using namespace virtsnap;

TEST_CASE("LogCopy: every Log line goes to the file while it lives, escaped as on stderr") {
    test::TempDir dir;
    const std::string path = (dir / "run.log").string();
    const util::Log log("virtsnap-test", util::Verbosity::quiet);
    log.warn("before the copy");
    {
        util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        REQUIRE(fd);
        util::LogCopy copy(std::move(fd));
        log.warn("a warning\nwith a forged line");
        log.info("hidden by --quiet");
        const util::Log other("virtsnap-other", util::Verbosity::verbose);
        other.debug("from another Log");
        copy.append("virtsnap-test: error: the last line\n");
        copy.sync();
    }
    log.warn("after the copy");
    CHECK(test::read_file(path) == "virtsnap-test: warning: a warning\\nwith a forged line\n"
                                   "virtsnap-other: debug: from another Log\n"
                                   "virtsnap-test: error: the last line\n");
}
