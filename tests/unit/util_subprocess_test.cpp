#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"

#include <chrono>
#include <csignal>
#include <thread>
#include <unistd.h>

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

namespace {

// Sends this process SIGTERM after a delay, from a thread of its own (as a
// service manager would, while run_process waits).
class DelayedSignal {
  public:
    explicit DelayedSignal(std::chrono::milliseconds delay)
        : thread_([delay] {
              std::this_thread::sleep_for(delay);
              ::kill(::getpid(), SIGTERM);
          }) {}
    ~DelayedSignal() { thread_.join(); }
    DelayedSignal(const DelayedSignal&) = delete;
    DelayedSignal& operator=(const DelayedSignal&) = delete;

  private:
    std::thread thread_;
};

} // namespace

TEST_CASE("an interrupt stops a child that may be abandoned, and is reported as Interrupted") {
    InterruptGuard guard;
    const auto start = std::chrono::steady_clock::now();
    {
        DelayedSignal signal(std::chrono::milliseconds(200));
        CHECK_THROWS_AS(run_process({"sleep", "30"}, OnInterrupt::stop_child), Interrupted);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("by default a child runs to its end through an interrupt") {
    InterruptGuard guard;
    DelayedSignal signal(std::chrono::milliseconds(100));
    ProcessResult r = run_process({"sh", "-c", "sleep 0.5; echo finished"});
    CHECK(r.succeeded());
    CHECK(r.out == "finished\n");
    CHECK(interrupted());
}

TEST_CASE("the interrupt flag does not outlive its guard") {
    {
        InterruptGuard guard;
        ::kill(::getpid(), SIGTERM);
        CHECK(interrupted());
    }
    CHECK_FALSE(interrupted());
}
