#include "store/set_pin.hpp"

#include "store/set_chain.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

namespace virtsnap::store {

using util::quoted;

namespace {

// follow: a reader pins what it reads, also through a link the user named;
// a removal never follows one.
util::UniqueFd open_set_dir(const std::string& set_dir, bool follow) {
    util::UniqueFd fd(
        ::open(set_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
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
    for (const std::string& set_dir : set_dirs)
        add(set_dir);
}

void SetPin::add(const std::string& set_dir) {
    util::UniqueFd fd = open_set_dir(set_dir, true);
    if (!try_lock(fd.get(), LOCK_SH, set_dir))
        throw util::RefusedError("the backup set " + quoted(set_dir) + " is being removed");
    dirs_.push_back(std::move(fd));
}

SetPin pin_chain(const std::string& set_dir, const xml::Manifest& manifest) {
    SetPin pin({set_dir});
    // Read after the set is pinned: a parent removed meanwhile is missing
    // here, and one being removed refuses its pin.
    for (const BackupSet& parent : parent_sets(set_dir, manifest))
        pin.add(parent.path);
    return pin;
}

std::string pinned_reason(const std::string& set_dir) {
    return "the backup set " + quoted(set_dir) +
           " is in use (mounted or exported by virtsnap-mount, or read by an instant restore); it is left as "
           "it is";
}

util::UniqueFd lock_set_for_removal(const std::string& set_dir) {
    util::UniqueFd fd = open_set_dir(set_dir, false);
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
