#include "store/set_pin.hpp"

#include "store/set_chain.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>

namespace virtsnap::store {

using util::quoted;

namespace {

// follow: a reader pins what it reads, also through a link the user named;
// a removal never follows one.
util::UniqueFd open_set_dir(const std::string& set_dir, bool follow) {
    util::UniqueFd fd(
        ::open(set_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
    if (!fd) {
        // Read a moment ago: removed since by a retention or a --force run.
        if (follow && errno == ENOENT)
            throw util::RefusedError("the backup set " + quoted(set_dir) +
                                     " was removed while it was being opened");
        throw util::SystemError("cannot open the backup set " + quoted(set_dir), errno);
    }
    return fd;
}

// flock without waiting; false when another holder conflicts. A file
// system that cannot take the lock at all counts as no conflict: NFS
// emulates flock with byte-range locks, and an exclusive one needs a file
// open for writing, which a directory never is (EBADF). Pins are not seen
// there (virtsnap-backup(1) says so); failing instead would stop every
// retention on such a destination.
bool try_lock(int fd, int operation, const std::string& set_dir) {
    while (::flock(fd, operation | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return false;
        if (errno == EBADF || errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP)
            return true;
        throw util::SystemError("cannot lock the backup set " + quoted(set_dir), errno);
    }
    return true;
}

// "/a/b/" is "/a/b": with a trailing slash, lstat and O_NOFOLLOW look
// through a link.
std::string without_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path;
}

} // namespace

SetPin::SetPin(const std::vector<std::string>& set_dirs) {
    for (const std::string& set_dir : set_dirs)
        add(set_dir);
}

void SetPin::add(const std::string& set_dir) {
    util::UniqueFd fd = open_set_dir(set_dir, true);
    // set_pinned probes with the exclusive lock for an instant: a reader
    // waits a little before it takes a conflict for a removal.
    bool locked = false;
    for (int attempt = 0; attempt < 100 && !(locked = try_lock(fd.get(), LOCK_SH, set_dir)); ++attempt)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!locked)
        throw util::RefusedError("the backup set " + quoted(set_dir) + " is being removed or replaced");
    // The directory locked must still be the one the name leads to: removed
    // (unlinked) or replaced (a synthetic full swapped in) while this was
    // opening it, it is not what a reader will read by name.
    struct stat held {};
    struct stat named {};
    if (::fstat(fd.get(), &held) != 0)
        throw util::SystemError("cannot read the backup set " + quoted(set_dir), errno);
    if (held.st_nlink == 0 || ::stat(set_dir.c_str(), &named) != 0 || named.st_dev != held.st_dev ||
        named.st_ino != held.st_ino)
        throw util::RefusedError("the backup set " + quoted(set_dir) +
                                 " was removed or replaced while it was being opened");
    dirs_.push_back(std::move(fd));
}

SetPin pin_chain(const std::string& set_dir, const xml::Manifest& manifest) {
    SetPin pin({set_dir});
    // What was read before the pin must be what is pinned: a synthetic full
    // may have replaced the set (same id, now a full) in between. Only a
    // complete set is ever replaced; a virtsnap-copy backup directory has
    // no marker and is pinned as it is.
    if (has_marker(set_dir)) {
        const BackupSet now = read_set(set_dir);
        if (now.manifest->snapshot_id != manifest.snapshot_id || now.manifest->level != manifest.level ||
            now.manifest->parent != manifest.parent)
            throw util::RefusedError("the backup set " + quoted(set_dir) +
                                     " was replaced while it was being opened (--synthetic-full made it a "
                                     "full); run the command again");
    }
    // Read after the set is pinned: a parent removed meanwhile is missing
    // here, and one being removed refuses its pin.
    for (const BackupSet& parent : parent_sets(set_dir, manifest))
        pin.add(parent.path);
    return pin;
}

std::string pinned_reason(const std::string& set_dir) {
    return "the backup set " + quoted(set_dir) +
           " is in use (read by virtsnap-restore or virtsnap-verify, mounted or exported by virtsnap-mount, "
           "or "
           "backing an instant restore); it is left as it is";
}

util::UniqueFd lock_set_exclusively(const std::string& set_dir) {
    const std::string path = without_trailing_slashes(set_dir);
    util::UniqueFd fd = open_set_dir(path, false);
    if (!try_lock(fd.get(), LOCK_EX, path))
        throw util::RefusedError(pinned_reason(path));
    return fd;
}

bool set_pinned(const std::string& set_dir) {
    util::UniqueFd fd(::open(set_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return false;
    return !try_lock(fd.get(), LOCK_EX, set_dir);
}

} // namespace virtsnap::store
