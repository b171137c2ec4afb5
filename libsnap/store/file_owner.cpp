#include "store/file_owner.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::store {

using util::quoted;

namespace {

// O_PATH is enough for fstat, fchownat and a chmod through /proc; an
// O_PATH descriptor needs no read permission and opens no device.
util::UniqueFd open_no_follow(const std::string& path) {
    util::UniqueFd fd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw util::SystemError("cannot open " + quoted(path), errno);
    return fd;
}

struct stat stat_of(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw util::SystemError("cannot read the owner of " + quoted(path), errno);
    if (S_ISLNK(st.st_mode))
        throw util::SystemError("cannot use " + quoted(path), ELOOP);
    return st;
}

} // namespace

FileOwner file_owner(const std::string& path) {
    const util::UniqueFd fd = open_no_follow(path);
    const struct stat st = stat_of(fd.get(), path);
    return {path, st.st_uid, st.st_gid, static_cast<mode_t>(st.st_mode & 07777)};
}

bool restore_owner(const FileOwner& owner) {
    const util::UniqueFd fd = open_no_follow(owner.path);
    const struct stat st = stat_of(fd.get(), owner.path);
    bool changed = false;
    if (st.st_uid != owner.uid || st.st_gid != owner.gid) {
        if (::fchownat(fd.get(), "", owner.uid, owner.gid, AT_EMPTY_PATH) != 0)
            throw util::SystemError("cannot give " + quoted(owner.path) + " back to its owner", errno);
        changed = true;
    }
    // chown clears set-id bits, so the mode comes after it. fchmod does not
    // take an O_PATH descriptor; its /proc link names exactly this file.
    if (changed || (st.st_mode & 07777) != owner.mode) {
        const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
        if (::chmod(proc.c_str(), owner.mode) != 0)
            throw util::SystemError("cannot give " + quoted(owner.path) + " back its mode", errno);
        changed = true;
    }
    return changed;
}

std::vector<std::string> restore_owners(const std::vector<FileOwner>& owners) {
    std::vector<std::string> changed;
    for (const FileOwner& owner : owners) {
        try {
            if (restore_owner(owner))
                changed.push_back(owner.path);
        } catch (const util::SystemError& error) {
            if (error.error_number() != ENOENT)
                throw;
        }
    }
    return changed;
}

namespace {

// Sets or clears S_IXOTH of dir; true when it changed.
bool set_search(const std::string& dir, bool on) {
    util::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw util::SystemError("cannot open directory " + quoted(dir), errno);
    const struct stat st = stat_of(fd.get(), dir);
    const mode_t mode = st.st_mode & 07777;
    const mode_t wanted = on ? (mode | S_IXOTH) : (mode & ~static_cast<mode_t>(S_IXOTH));
    if (wanted == mode)
        return false;
    if (::fchmod(fd.get(), wanted) != 0)
        throw util::SystemError("cannot change the permissions of directory " + quoted(dir), errno);
    return true;
}

} // namespace

bool grant_search(const std::string& dir) {
    return set_search(dir, true);
}

void revoke_search(const std::string& dir) {
    set_search(dir, false);
}

} // namespace virtsnap::store
