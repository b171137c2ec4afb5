#include "copy/output_files.hpp"

#include "store/durable_file.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::copy {

using util::quoted;

namespace {

// Renames from to to unless to exists (errno EEXIST). The kernel refuses an
// existing name itself: checking first and renaming after would race
// whoever makes it meanwhile. NFS has no RENAME_NOREPLACE (EINVAL); there a
// hard link refuses an existing name as atomically. Only a filesystem with
// neither (no hard links: vfat) falls back to looking first.
int rename_no_replace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (::link(from.c_str(), to.c_str()) == 0)
        return ::unlink(from.c_str());
    if (errno != EPERM && errno != EOPNOTSUPP)
        return -1;
    struct stat st {};
    if (::lstat(to.c_str(), &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return ::rename(from.c_str(), to.c_str());
}

} // namespace

OutputFiles::~OutputFiles() {
    for (const std::string& name : pending_)
        ::unlink((dir_ + "/" + store::partial_name(name)).c_str());
}

util::UniqueFd OutputFiles::create(const std::string& name) {
    util::UniqueFd fd = store::create_fresh_private_file(dir_ + "/" + store::partial_name(name));
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(name);
    return fd;
}

void OutputFiles::create_with(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + store::partial_name(name);
    util::UniqueFd fd = create(name);
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw util::SystemError("cannot write " + quoted(path), errno);
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0)
        throw util::SystemError("cannot sync " + quoted(path), errno);
}

void OutputFiles::publish(const std::vector<std::string>& names, bool replace) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& name : names) {
        auto pending = std::find(pending_.begin(), pending_.end(), name);
        if (pending == pending_.end())
            throw util::Error("internal error: " + quoted(name) + " was not written in " + quoted(dir_));
        const std::string partial = dir_ + "/" + store::partial_name(name);
        const std::string final_path = dir_ + "/" + name;
        const int renamed =
            replace ? ::rename(partial.c_str(), final_path.c_str()) : rename_no_replace(partial, final_path);
        if (renamed != 0) {
            if (errno == EEXIST)
                throw util::RefusedError("backup file " + quoted(final_path) +
                                         " appeared meanwhile; it was left as it is (--force replaces it)");
            throw util::SystemError("cannot rename " + quoted(partial) + " to " + quoted(final_path), errno);
        }
        pending_.erase(pending);
    }
    store::sync_directory(dir_);
}

void OutputFiles::publish_all(bool replace) {
    std::vector<std::string> names;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        names = pending_;
    }
    publish(names, replace);
}

} // namespace virtsnap::copy
