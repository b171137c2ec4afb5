#pragma once
// Runs helper programs (qemu-img, ...) without a shell: arguments are passed
// as they are, so paths with spaces or quotes cannot be misread.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace virtsnap::util {

struct ProcessResult {
    int exit_status = -1; // exit code, or -1 when killed by a signal
    int signal = 0;       // the signal that ended it, or 0
    std::string out;
    std::string err;

    bool succeeded() const noexcept { return exit_status == 0; }
    // "exited with status 3: <first line of stderr>" or "killed by signal 9".
    std::string describe_failure() const;
};

// Whether a SIGINT/SIGTERM/SIGHUP received by virtsnap (util::interrupted())
// ends the child. Only for children whose work may be abandoned (a
// comparison, a check), never for one that changes an image.
enum class OnInterrupt { wait, stop_child };

// Runs argv[0] (looked up in PATH) with stdin from /dev/null, collecting its
// stdout and stderr. Throws SystemError when the program cannot be started
// (naming it); a non-zero exit is reported in the result, not thrown. The
// child starts with no signal blocked, whichever thread starts it, in a
// process group of its own (a Ctrl-C on the terminal does not reach it).
// With OnInterrupt::stop_child the child gets SIGTERM within 100 ms of an
// interrupt taken by any thread, and Interrupted is thrown once it has
// exited; with OnInterrupt::wait it runs to its end.
ProcessResult run_process(const std::vector<std::string>& argv, OnInterrupt on_interrupt = OnInterrupt::wait);

// Like run_process, but throws Error naming the command when it fails.
ProcessResult run_checked(const std::vector<std::string>& argv);

struct AttachedResult {
    int exit_status = -1; // exit code, or -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
};

// Runs a program of the user's (a hook) with stdin from /dev/null and its
// stdout and stderr on virtsnap's stderr (stdout carries virtsnap's data),
// environment added to (replacing variables of the same name) virtsnap's
// own, in a process group of its own. After timeout (0: none), or when
// virtsnap is interrupted, the whole group gets SIGTERM, and SIGKILL 5 s
// later. Throws SystemError when it cannot be started.
AttachedResult run_attached(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& environment,
                            std::chrono::milliseconds timeout);

} // namespace virtsnap::util
