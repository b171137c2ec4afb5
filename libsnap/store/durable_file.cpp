#include "store/durable_file.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
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

void write_durable(const std::string& path, const std::string& text) {
    const std::string partial = path + ".partial";
    {
        UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd)
            throw SystemError("cannot create " + quoted(partial), errno);
        try {
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

std::optional<std::string> read_if_exists(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return std::nullopt;
        throw SystemError("cannot open " + quoted(path), errno);
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw SystemError("cannot read " + quoted(path), errno);
        if (n == 0)
            break;
        text.append(buffer, static_cast<size_t>(n));
    }
    return text;
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
