#include "store/set_pin.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

namespace virtsnap::store {

using util::quoted;

namespace {

util::UniqueFd open_set_dir(const std::string& set_dir) {
    util::UniqueFd fd(::open(set_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw util::SystemError("cannot open the backup set " + quoted(set_dir), errno);
    return fd;
}

// flock without waiting; false when another holder conflicts.
bool try_lock(int fd, int operation, const std::string& set_dir) {
    while (::flock(fd, operation | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return false;
        throw util::SystemError("cannot lock the backup set " + quoted(set_dir), errno);
    }
    return true;
}

} // namespace

SetPin::SetPin(const std::vector<std::string>& set_dirs) {
    for (const std::string& set_dir : set_dirs) {
        util::UniqueFd fd = open_set_dir(set_dir);
        if (!try_lock(fd.get(), LOCK_SH, set_dir))
            throw util::RefusedError("the backup set " + quoted(set_dir) + " is being removed");
        dirs_.push_back(std::move(fd));
    }
}

std::string pinned_reason(const std::string& set_dir) {
    return "the backup set " + quoted(set_dir) +
           " is in use (mounted or exported by virtsnap-mount, or read by an instant restore); it is left as "
           "it is";
}

util::UniqueFd lock_set_for_removal(const std::string& set_dir) {
    util::UniqueFd fd = open_set_dir(set_dir);
    if (!try_lock(fd.get(), LOCK_EX, set_dir))
        throw util::RefusedError(pinned_reason(set_dir));
    return fd;
}

bool set_pinned(const std::string& set_dir) {
    util::UniqueFd fd(::open(set_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return false;
    return !try_lock(fd.get(), LOCK_EX, set_dir);
}

} // namespace virtsnap::store
