#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

using namespace virtsnap::util;

TEST_CASE("run_process collects stdout, stderr and the exit status") {
    ProcessResult r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
    CHECK(r.exit_status == 3);
    CHECK_FALSE(r.succeeded());
    CHECK(r.describe_failure() == "exited with status 3: err");
}

TEST_CASE("arguments reach the program unchanged, spaces and quotes included") {
    ProcessResult r = run_process({"printf", "%s|", "a b", "it's", "\"q\"", "é"});
    CHECK(r.succeeded());
    CHECK(r.out == "a b|it's|\"q\"|é|");
}

TEST_CASE("large output on both streams does not deadlock") {
    ProcessResult r =
        run_process({"sh", "-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2; echo done >&2"});
    CHECK(r.succeeded());
    CHECK(r.out.size() == 1000000);
    CHECK(r.err.size() == 1000005);
}

TEST_CASE("a program killed by a signal is reported as such") {
    ProcessResult r = run_process({"sh", "-c", "kill -9 $$"});
    CHECK(r.signal == 9);
    CHECK(r.describe_failure() == "killed by signal 9");
}

TEST_CASE("a missing program is a SystemError naming it") {
    CHECK_THROWS_WITH_AS(run_process({"virtsnap-no-such-program"}),
                         doctest::Contains("'virtsnap-no-such-program'"), SystemError);
}

TEST_CASE("run_checked throws with the command and its error") {
    CHECK_THROWS_WITH_AS(run_checked({"sh", "-c", "echo broken >&2; exit 1"}),
                         doctest::Contains("exited with status 1: broken"), Error);
    CHECK(run_checked({"true"}).succeeded());
}
