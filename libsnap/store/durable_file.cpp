#include "store/durable_file.hpp"

#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::store {

using util::quoted;
using util::SystemError;
using util::UniqueFd;

namespace {

std::string parent_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

void write_all(int fd, const std::string& text, const std::string& path) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw SystemError("cannot write " + quoted(path), errno);
        done += static_cast<size_t>(n);
    }
}

} // namespace

void sync_directory(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
        throw SystemError("cannot sync directory " + quoted(dir), errno);
}

UniqueFd create_fresh_private_file(const std::string& path) {
    // Whatever is at the name is a leftover of a run that died: removed, not
    // written through. O_TRUNC on it would write into whatever a planted
    // hard link or a file of another user leads to; unlink only ever drops
    // the name, and O_EXCL fails if someone makes the name again meanwhile.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        throw SystemError("cannot create " + quoted(path) +
                              ": a symbolic link is in its place, not a file virtsnap "
                              "left; remove it if it is yours",
                          ELOOP);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw SystemError("cannot remove the leftover " + quoted(path), errno);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        throw SystemError("cannot create " + quoted(path), errno);
    // The umask may leave less than 0600; nothing may leave more.
    if (::fchmod(fd.get(), 0600) != 0) {
        const int error = errno;
        ::unlink(path.c_str());
        throw SystemError("cannot set the mode of " + quoted(path), error);
    }
    return fd;
}

void write_durable(const std::string& path, const std::string& text, mode_t mode) {
    const std::string partial = partial_name(path);
    {
        UniqueFd fd = create_fresh_private_file(partial);
        try {
            if (mode != 0600 && ::fchmod(fd.get(), mode) != 0)
                throw SystemError("cannot set the mode of " + quoted(partial), errno);
            write_all(fd.get(), text, partial);
            if (::fsync(fd.get()) != 0)
                throw SystemError("cannot sync " + quoted(partial), errno);
        } catch (...) {
            ::unlink(partial.c_str());
            throw;
        }
    }
    if (::rename(partial.c_str(), path.c_str()) != 0) {
        int error = errno;
        ::unlink(partial.c_str());
        throw SystemError("cannot rename " + quoted(partial) + " to " + quoted(path), error);
    }
    sync_directory(parent_of(path));
}

std::optional<std::string> read_if_exists(const std::string& path, std::size_t limit) {
    return util::read_strict_file_if_exists(AT_FDCWD, path, limit, quoted(path));
}

void remove_durable(const std::string& path) {
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT)
            return;
        throw SystemError("cannot remove " + quoted(path), errno);
    }
    sync_directory(parent_of(path));
}

void ensure_private_directory(const std::string& dir) {
    ensure_directory(dir, 0700);
}

void ensure_directory(const std::string& dir, mode_t mode) {
    if (dir.empty())
        throw util::UsageError("a directory name must not be empty");
    // The whole name is checked before any of it is made: a name the system
    // cannot hold failed only after dozens of its directories existed.
    if (dir.size() >= PATH_MAX)
        throw util::UsageError("the directory name " + quoted(dir.substr(0, 60) + "...") + " is " +
                               std::to_string(dir.size()) + " bytes long, more than the system allows");
    for (size_t start = 0; start < dir.size();) {
        size_t end = dir.find('/', start);
        if (end == std::string::npos)
            end = dir.size();
        if (end - start > NAME_MAX)
            throw util::UsageError("the directory name " + quoted(dir.substr(0, 60) + "...") +
                                   " has a component longer than " + std::to_string(NAME_MAX) + " bytes");
        start = end + 1;
    }
    std::string prefix;
    size_t start = 0;
    while (start <= dir.size()) {
        size_t end = dir.find('/', start);
        if (end == std::string::npos)
            end = dir.size();
        prefix = dir.substr(0, end);
        start = end + 1;
        if (prefix.empty())
            continue;
        if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
            throw SystemError("cannot create directory " + quoted(prefix), errno);
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        throw SystemError("cannot use directory " + quoted(dir), errno);
    if (!S_ISDIR(st.st_mode))
        throw SystemError(quoted(dir) + " is not a directory", ENOTDIR);
}

} // namespace virtsnap::store
