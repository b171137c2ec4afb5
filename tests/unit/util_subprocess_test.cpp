#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"

#include <chrono>
#include <csignal>
#include <string>
#include <sys/wait.h>
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

TEST_CASE("a tool's very long error line is shortened to its start and its end") {
    ProcessResult r;
    r.exit_status = 1;
    r.err = "qemu-img: Could not open '" + std::string(20000, 'a') + "': too many links\nsecond line\n";
    const std::string text = r.describe_failure();
    CHECK(text.size() < 1000);
    CHECK(text.rfind("exited with status 1: qemu-img: Could not open 'aaa", 0) == 0);
    CHECK(text.find("characters left out") != std::string::npos);
    const std::string cause = "': too many links";
    REQUIRE(text.size() > cause.size());
    CHECK(text.substr(text.size() - cause.size()) == cause);
    r.err = "short\n";
    CHECK(r.describe_failure() == "exited with status 1: short");
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

TEST_CASE("a child started from a thread that blocks the handled signals starts with none blocked") {
    ProcessResult r;
    start_thread([&r] { r = run_process({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}); }).join();
    INFO(r.out);
    REQUIRE(r.succeeded());
    CHECK(r.out.find("SigBlk:\t0000000000000000\n") != std::string::npos);
    // Nor are SIGINT, SIGTERM or SIGHUP ignored in it.
    const size_t ign = r.out.find("SigIgn:\t");
    REQUIRE(ign != std::string::npos);
    const unsigned long long ignored = std::stoull(r.out.substr(ign + 8, 16), nullptr, 16);
    for (int signal : {SIGINT, SIGTERM, SIGHUP})
        CHECK((ignored & (1ULL << (signal - 1))) == 0);
}

TEST_CASE("a child runs in a process group of its own, so a terminal's Ctrl-C does not reach it") {
    // Field 5 of /proc/PID/stat is the process group.
    ProcessResult r = run_process({"sh", "-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"});
    REQUIRE(r.succeeded());
    const size_t newline = r.out.find('\n');
    REQUIRE(newline != std::string::npos);
    const std::string group = r.out.substr(0, newline);
    const std::string pid = r.out.substr(newline + 1, r.out.size() - newline - 2);
    CHECK(group == pid);
    CHECK(group != std::to_string(::getpgrp()));
}

TEST_CASE("a SIGTERM stops a child that a helper thread runs with stop_child") {
    InterruptGuard guard;
    const auto start = std::chrono::steady_clock::now();
    bool stopped = false;
    {
        DelayedSignal signal(std::chrono::milliseconds(200));
        start_thread([&stopped] {
            try {
                run_process({"sleep", "30"}, OnInterrupt::stop_child);
            } catch (const Interrupted&) {
                stopped = true;
            }
        }).join();
    }
    CHECK(stopped);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("a process a library forks from a helper thread starts with no signal blocked") {
    int status = -1;
    start_thread([&status] {
        // What libnbd does to start qemu-nbd: fork, then exec in the child.
        const pid_t pid = ::fork();
        if (pid == 0) {
            sigset_t mask;
            sigemptyset(&mask);
            sigprocmask(SIG_BLOCK, nullptr, &mask);
            _exit(sigisemptyset(&mask) ? 0 : 1);
        }
        if (pid > 0)
            ::waitpid(pid, &status, 0);
    }).join();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("run_attached: the environment added, stdout on virtsnap's stderr, the status returned") {
    char path[] = "/tmp/virtsnap-attached-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    const std::string out = path;
    AttachedResult r = run_attached(
        {"/bin/sh", "-c",
         "echo \"$1 $VIRTSNAP_X $HOME\" >\"$OUT\"; "
         "[ \"$(readlink /proc/$$/fd/1)\" = \"$(readlink /proc/$$/fd/2)\" ] && echo same >>\"$OUT\"; exit 4",
         "sh", "phase"},
        {{"VIRTSNAP_X", "x y"}, {"OUT", out}, {"HOME", "/replaced"}}, std::chrono::seconds(30));
    CHECK(r.exit_status == 4);
    CHECK_FALSE(r.timed_out);
    CHECK(run_process({"cat", out}).out == "phase x y /replaced\nsame\n");
    ::unlink(path);
}

TEST_CASE("run_attached: a hang is stopped at the timeout, with what it started") {
    const auto start = std::chrono::steady_clock::now();
    // This run's own duration: a "sleep 300" elsewhere on the host is not
    // the one looked for.
    const std::string seconds = "300." + std::to_string(::getpid());
    AttachedResult r = run_attached({"/bin/sh", "-c", "sleep " + seconds + " & exec sleep 301"}, {},
                                    std::chrono::milliseconds(300));
    CHECK(r.timed_out);
    CHECK(r.signal == SIGTERM);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(run_process({"pgrep", "-f", "^sleep " + seconds + "$"}).exit_status ==
          1); // the child went with its group
}

TEST_CASE("run_attached: a program that cannot start is an error naming it") {
    CHECK_THROWS_WITH_AS(run_attached({"/nonexistent/hook"}, {}, std::chrono::seconds(1)),
                         doctest::Contains("/nonexistent/hook"), SystemError);
}
