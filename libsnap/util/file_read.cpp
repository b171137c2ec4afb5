#include "util/file_read.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::util {

namespace {

std::string kind_of(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a regular file";
}

[[noreturn]] void too_large(const std::string& what, std::size_t limit) {
    throw InputError(what + " is larger than " + format_size(limit) + ", more than virtsnap ever reads");
}

} // namespace

std::string read_bounded(int fd, std::size_t limit, const std::string& what) {
    std::string text;
    std::array<char, 65536> buffer;
    // A pipe may keep the reader waiting (a pipeline whose first tool is
    // slow): a signal must still end the wait.
    struct stat st {};
    const bool may_wait = ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
    for (;;) {
        if (may_wait) {
            pollfd ready{fd, POLLIN, 0};
            const int n = ::poll(&ready, 1, 100);
            throw_if_interrupted();
            if (n == 0 || (n < 0 && errno == EINTR))
                continue;
        }
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            throw SystemError("cannot read " + what, errno);
        if (n == 0)
            return text;
        if (text.size() + static_cast<std::size_t>(n) > limit)
            too_large(what, limit);
        text.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

std::optional<std::string> read_strict_file_if_exists(int dir_fd, const std::string& name, std::size_t limit,
                                                      const std::string& what) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return std::nullopt;
        if (errno == ELOOP)
            throw InputError(what + " is a symbolic link; virtsnap reads only the regular files it wrote");
        throw SystemError("cannot open " + what, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw SystemError("cannot inspect " + what, errno);
    if (!S_ISREG(st.st_mode))
        throw InputError(what + " is " + kind_of(st.st_mode) + ", not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > limit)
        too_large(what, limit);
    return read_bounded(fd.get(), limit, what);
}

std::string read_strict_file(int dir_fd, const std::string& name, std::size_t limit,
                             const std::string& what) {
    std::optional<std::string> text = read_strict_file_if_exists(dir_fd, name, limit, what);
    if (!text)
        throw InputError(what + " does not exist");
    return *text;
}

std::string read_named_file(const std::string& path, std::size_t limit, const std::string& what) {
    // Without blocking: opening a FIFO would wait for its writer, deaf to
    // signals; read_bounded waits for data in a way a signal ends.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    if (!fd)
        throw InputError("cannot read " + what + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw SystemError("cannot inspect " + what, errno);
    if (S_ISDIR(st.st_mode))
        throw InputError(what + " is a directory, not a file");
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > limit)
        too_large(what, limit);
    return read_bounded(fd.get(), limit, what);
}

} // namespace virtsnap::util
