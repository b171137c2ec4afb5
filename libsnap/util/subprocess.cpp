#include "util/subprocess.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace virtsnap::util {

namespace {

// posix_spawn's file actions, released on every path.
class SpawnActions {
  public:
    SpawnActions() { posix_spawn_file_actions_init(&actions_); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

  private:
    posix_spawn_file_actions_t actions_;
};

// posix_spawn's attributes: every child starts with no signal blocked and
// the handled signals at their defaults, whatever the thread that starts it
// blocks (util::start_thread blocks SIGINT, SIGTERM and SIGHUP; a child
// inheriting that ignored the SIGTERM meant to stop it), and in a process
// group of its own, so a Ctrl-C on the terminal reaches virtsnap alone and
// virtsnap decides what each child does: one that changes an image (an
// offline commit) finishes, one that may be abandoned is stopped.
class SpawnAttributes {
  public:
    SpawnAttributes() {
        posix_spawnattr_init(&attributes_);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attributes_, &none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
            sigaddset(&defaults, signal);
        posix_spawnattr_setsigdefault(&attributes_, &defaults);
        posix_spawnattr_setpgroup(&attributes_, 0);
        posix_spawnattr_setflags(&attributes_,
                                 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    }
    ~SpawnAttributes() { posix_spawnattr_destroy(&attributes_); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
    posix_spawnattr_t* get() { return &attributes_; }

  private:
    posix_spawnattr_t attributes_;
};

// Reads both pipes until both reach end of file; polling both avoids the
// deadlock of a child blocked on a full stderr while we wait on stdout.
// With stop_child, an interrupt sends the child SIGTERM (once).
void drain(UniqueFd& out_fd, UniqueFd& err_fd, ProcessResult& result, pid_t pid, OnInterrupt on_interrupt) {
    std::array<char, 65536> buffer;
    const bool watch = on_interrupt == OnInterrupt::stop_child;
    bool stopped = false;
    while (out_fd || err_fd) {
        if (watch && !stopped && interrupted()) {
            ::kill(pid, SIGTERM);
            stopped = true;
        }
        std::array<pollfd, 2> fds{{{out_fd.get(), POLLIN, 0}, {err_fd.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), watch && !stopped ? 100 : -1) < 0) {
            if (errno == EINTR)
                continue;
            throw SystemError("poll on a child's output", errno);
        }
        for (int i = 0; i < 2; ++i) {
            UniqueFd& fd = i == 0 ? out_fd : err_fd;
            if (!fd || fds[i].revents == 0)
                continue;
            ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                fd.reset();
                continue;
            }
            (i == 0 ? result.out : result.err).append(buffer.data(), static_cast<size_t>(n));
        }
    }
}

// The NULL-terminated array of C strings exec wants; the strings must
// outlive it.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (const std::string& text : strings)
        pointers.push_back(const_cast<char*>(text.c_str()));
    pointers.push_back(nullptr);
    return pointers;
}

} // namespace

std::string ProcessResult::describe_failure() const {
    if (signal != 0)
        return "killed by signal " + std::to_string(signal);
    std::string text = "exited with status " + std::to_string(exit_status);
    std::string first = err.substr(0, err.find('\n'));
    // A tool's line can name a whole chain of files; its start and its end
    // (the cause) say what went wrong, and one error line stays readable.
    constexpr std::size_t head = 200;
    constexpr std::size_t tail = 400;
    if (first.size() > head + tail + 100)
        first = first.substr(0, head) + " [" + std::to_string(first.size() - head - tail) +
                " characters left out] " + first.substr(first.size() - tail);
    if (!first.empty())
        text += ": " + first;
    return text;
}

ProcessResult run_process(const std::vector<std::string>& argv, OnInterrupt on_interrupt) {
    if (argv.empty())
        throw Error("run_process: empty command");
    Pipe out = make_pipe();
    Pipe err = make_pipe();

    SpawnActions actions;
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(actions.get(), out.write_end.get(), 1);
    posix_spawn_file_actions_adddup2(actions.get(), err.write_end.get(), 2);

    std::vector<char*> args = c_strings(argv);
    SpawnAttributes attributes;
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, args[0], actions.get(), attributes.get(), args.data(), environ);
    if (rc != 0)
        throw SystemError("cannot run " + quoted(argv[0]), rc);
    out.write_end.reset();
    err.write_end.reset();

    ProcessResult result;
    try {
        drain(out.read_end, err.read_end, result, pid, on_interrupt);
    } catch (...) {
        ::waitpid(pid, nullptr, 0); // never leave a zombie behind
        throw;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw SystemError("waiting for " + quoted(argv[0]), errno);
    }
    if (WIFEXITED(status)) {
        result.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    if (on_interrupt == OnInterrupt::stop_child)
        throw_if_interrupted();
    return result;
}

ProcessResult run_checked(const std::vector<std::string>& argv) {
    ProcessResult result = run_process(argv);
    if (!result.succeeded()) {
        std::string command;
        for (const std::string& arg : argv)
            command += (command.empty() ? "" : " ") + arg;
        throw Error(quoted(command) + " " + result.describe_failure());
    }
    return result;
}

AttachedResult run_attached(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& environment,
                            std::chrono::milliseconds timeout) {
    if (argv.empty())
        throw Error("run_attached: empty command");
    SpawnActions actions;
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(actions.get(), 2, 1);

    std::vector<std::string> entries;
    for (char** variable = environ; *variable; ++variable) {
        const std::string entry = *variable;
        bool replaced = false;
        for (const auto& [name, value] : environment)
            replaced = replaced || entry.compare(0, name.size() + 1, name + "=") == 0;
        if (!replaced)
            entries.push_back(entry);
    }
    for (const auto& [name, value] : environment)
        entries.push_back(name + "=" + value);
    std::vector<char*> envp = c_strings(entries);
    std::vector<char*> args = c_strings(argv);

    SpawnAttributes attributes;
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0], actions.get(), attributes.get(), args.data(), envp.data());
    if (rc != 0)
        throw SystemError("cannot run " + quoted(argv[0]), rc);

    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    std::optional<Clock::time_point> terminated;
    AttachedResult result;
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            if (WIFEXITED(status))
                result.exit_status = WEXITSTATUS(status);
            else if (WIFSIGNALED(status))
                result.signal = WTERMSIG(status);
            break;
        }
        if (done < 0 && errno != EINTR)
            throw SystemError("waiting for " + quoted(argv[0]), errno);
        const Clock::time_point now = Clock::now();
        if (!terminated && ((timeout.count() > 0 && now - start >= timeout) || interrupted())) {
            result.timed_out = !interrupted();
            ::kill(-pid, SIGTERM);
            terminated = now;
        } else if (terminated && now - *terminated >= std::chrono::seconds(5)) {
            ::kill(-pid, SIGKILL);
        }
        ::usleep(20000);
    }
    // What the hook left running in its group goes with it.
    if (terminated)
        ::kill(-pid, SIGKILL);
    return result;
}

} // namespace virtsnap::util
